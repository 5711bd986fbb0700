"""A small neural emission model for the learned segmenter: a 1-D CNN (dilated convolutions, torch, CPU) predicting
S1 / systole / S2 / diastole per frame from `springer_features`' four envelopes, its posteriors decoded exactly as the
logistic regression's are (`heartbeat_nbdev.cycles.decode_posteriors`: `cycle_candidates` + `hsmm_viterbi`, the same
duration model and "no rhythm" gates). Trained and scored on the folds of `bench/segmenter_springer.py` (CirCor 2022's
expert segmentations, 5 folds by patient, patient ids shuffled with seed 0), with its scoring (S1 / S2 F1 at 100 ms,
heart rate within 5 BPM of the expert's).

Each fold's net is decoded as the package decodes it: its weights (rounded to 6 significant digits) go into a
`SpringerSegmenter` parameter dict (`emission: 'conv1d'`) and `SpringerSegmenter.segment_features` runs the numpy
forward pass (`heartbeat_nbdev.emissions.conv1d_posteriors`); the largest difference from torch's posteriors is
recorded. The "no rhythm" periodicity gate (`cycle_summary`'s `min_periodicity`, 0.15 for the logistic regression) is
chosen on the fold models' answers to 24 noise recordings (white, pink, brown; bench/segmenter_springer.py's) only, the
smallest step of 0.05 above all of them, and stored in the parameter file; the table is scored at that gate (and, for
comparison, at the default gates). Also: the shipped model on other noise, and the time to segment a 20 s recording
on one core.

    python bench/segmenter_cnn.py --epochs 25           # CV -> bench/results/segmenter-cnn.json (+ .csv per recording)
    python bench/segmenter_cnn.py --epochs 25 --train   # the same, then fit on every patient -> heartbeat_nbdev/segmenter_cnn.json
    python bench/segmenter_cnn.py --limit 40 --epochs 2 --name segmenter-cnn-smoke   # a smoke test (nothing written but --name)
    python bench/segmenter_cnn.py --epochs 25 --stretch 0.4,3 --train --name segmenter-cnn-stretch --out segmenter_cnn_stretch.json   # diastoles stretched (tried, not kept)
"""
import argparse, os, sys, time
from pathlib import Path
import numpy as np, pandas as pd
sys.path.insert(0, str(Path(__file__).parent))
from _common import save
from _segmentations import read_recordings, patient_fold_of, expert_rate, score
from heartbeat_nbdev.cycles import state_durations, cycle_summary, heart_rate, SpringerSegmenter, MIN_PERIODICITY, MIN_CONFIDENCE
from heartbeat_nbdev.emissions import conv1d_spec, springer_features, SEG_FS
from heartbeat_nbdev.spectrogram import SpecConfig
from heartbeat_nbdev.data import have_database

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument('--channels', type=int, default=24)
ap.add_argument('--kernel', type=int, default=5)
ap.add_argument('--dilations', default='1,2,4,8,16', help='one convolution per dilation; the receptive field is 1 + (kernel-1)*sum(dilations) frames')
ap.add_argument('--epochs', type=int, default=20)
ap.add_argument('--crop', type=int, default=500, help='training crops of this many frames (10 s)')
ap.add_argument('--stretch', default='', help='LO,HI: each training recording (each epoch, with probability 0.7) has its diastoles stretched by one factor drawn log-uniformly in LO..HI, its systoles by the square root of it: slower and faster hearts than CirCor holds (e.g. 0.4,3)')
ap.add_argument('--batch', type=int, default=16)
ap.add_argument('--lr', type=float, default=3e-3)
ap.add_argument('--train', action='store_true', help='after the CV, fit on every patient (same settings) and write heartbeat_nbdev/segmenter_cnn.json')
ap.add_argument('--threads', type=int, default=1)
ap.add_argument('--seed', type=int, default=0)
ap.add_argument('--folds', type=int, default=5)
ap.add_argument('--tol', type=float, default=0.1)
ap.add_argument('--name', default='segmenter-cnn')
ap.add_argument('--out', default='segmenter_cnn.json', help='--train writes heartbeat_nbdev/OUT')
ap.add_argument('--limit', type=int, default=0, help='only the first N recordings (a smoke test)')
a = ap.parse_args()
import torch
from torch import nn
torch.set_num_threads(a.threads); torch.manual_seed(a.seed)
t0 = time.perf_counter(); load0 = os.getloadavg()
if not have_database('circor2022'): sys.exit("error: CirCor 2022 not found (heartbeat-data list)")
cfg = SpecConfig(bandpass=None)
recs, skipped = read_recordings(cfg, a.limit, keep_audio=True, t0=t0)
fold_of = patient_fold_of(recs, a.folds)   # the folds of both segmenter benchmarks
dil = [int(d) for d in a.dilations.split(',')]

def net():
    layers, cin = [], 4
    for d in dil: layers += [nn.Conv1d(cin, a.channels, a.kernel, padding=d*(a.kernel - 1)//2, dilation=d), nn.ReLU()]; cin = a.channels
    return nn.Sequential(*layers, nn.Conv1d(cin, 4, 1))

def stretched(F, lab, g):
    "`F`, `lab` with every diastole run resampled by a factor u (log-uniform in --stretch) and every systole run by sqrt(u): a slower or faster heart, S1 and S2 unchanged."
    if not a.stretch or g.random() > 0.7: return F, lab
    lo, hi = (float(v) for v in a.stretch.split(',')); u = float(np.exp(g.uniform(np.log(lo), np.log(hi))))
    ch = np.flatnonzero(np.diff(np.r_[-9, lab, -9]) != 0); Fs, ls = [], []
    for b, e in zip(ch[:-1], ch[1:]):
        f = {3: u, 1: np.sqrt(u)}.get(int(lab[b]), 1.); m = max(1, int(round((e - b)*f)))
        x = np.linspace(b, e - 1, m) if m > 1 else np.array([(b + e - 1)/2])
        Fs.append(np.stack([np.interp(x, np.arange(b, e), F[b:e, c]) for c in range(F.shape[1])], 1)); ls.append(np.full(m, lab[b], lab.dtype))
    return np.concatenate(Fs), np.concatenate(ls)

def crops(tr, g):
    "One epoch of (batch, 4, crop) features and (batch, crop) labels: a random crop of every training recording (short ones padded, label -1)."
    order = g.permutation(len(tr))
    for i in range(0, len(order), a.batch):
        X = np.zeros((len(order[i:i + a.batch]), 4, a.crop), np.float32); Y = np.full((len(X), a.crop), -1, np.int64)
        for j, k in enumerate(order[i:i + a.batch]):
            F, lab = stretched(tr[k]['F'], tr[k]['lab'], g); s = int(g.integers(0, max(1, len(F) - a.crop + 1))); n = min(a.crop, len(F) - s)
            X[j, :, :n] = F[s:s + n].T; Y[j, :n] = lab[s:s + n]
        yield torch.from_numpy(X), torch.from_numpy(Y)

def fit(tr, seed, log, tag):
    "A net trained on recordings `tr` (one random crop of each per step), as a `SpringerSegmenter` with conv1d emissions."
    torch.manual_seed(seed); m = net()
    opt = torch.optim.AdamW(m.parameters(), lr=a.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=a.lr, total_steps=a.epochs*((len(tr) + a.batch - 1)//a.batch))
    lossf = nn.CrossEntropyLoss(ignore_index=-1); g = np.random.default_rng(seed)
    for ep in range(a.epochs):
        m.train(); tot = cnt = 0
        for X, Y in crops(tr, g):
            loss = lossf(m(X), Y); opt.zero_grad(); loss.backward(); opt.step(); sched.step(); tot += loss.item()*len(X); cnt += len(X)
        log.append(dict(fold=tag, epoch=ep, loss=tot/cnt, s=time.perf_counter() - t0))
    print(f"{tag}: {len(tr)} training recordings, loss {tot/cnt:.3f}, {time.perf_counter() - t0:.0f} s", flush=True)
    labs = np.concatenate([r['lab'][r['lab'] >= 0] for r in tr]); m.eval()
    params = dict(format='heartbeat_nbdev springer segmenter 2', emission='conv1d', fs=SEG_FS, bpm=[30, 250], layers=conv1d_spec(m),
                  prior=(np.bincount(labs, minlength=4)/len(labs)).round(6).tolist(), durations=state_durations([r['lab'] for r in tr]), n_frames=int(len(labs)),
                  training=dict(channels=a.channels, kernel=a.kernel, dilations=dil, stretch=a.stretch, epochs=a.epochs, crop_frames=a.crop, batch=a.batch, lr=a.lr, weight_decay=1e-4, seed=seed, threads=a.threads))
    return m, SpringerSegmenter(params)

rows, segs, train_log, n_weights, models, torch_gap = [], [], [], sum(p.numel() for p in net().parameters()), [], 0.
for f in range(a.folds):
    tr = [r for r in recs if fold_of[r['patient']] != f]; te = [r for r in recs if fold_of[r['patient']] == f]
    m, sg = fit(tr, a.seed + f, train_log, f"fold {f}"); models.append(sg)
    for r in te:
        with torch.no_grad(): Pt = torch.softmax(m(torch.from_numpy(r['F'].T[None].astype(np.float32)))[0], 0).T.double().numpy()
        P = sg.posteriors(r['F']); torch_gap = max(torch_gap, float(np.abs(P - Pt).max()))   # numpy (6 digits, float64) vs torch (float32)
        seg = sg.segment_features(r['F']); segs.append(seg)
        s = cycle_summary(seg, sg.bpm); raw = cycle_summary(seg, (30, 250), -np.inf, -np.inf)
        rows.append(dict(recording=r['name'], patient=r['patient'], fold=f, expert_rate=expert_rate(r['tsv']), segmenter='springer-cnn', **score(seg.sounds(), r['tsv'], a.tol),
                         heart_rate_default_gates=s['heart_rate'], heart_rate_ungated=raw['heart_rate'], confidence=seg.confidence, periodicity=seg.periodicity,
                         cycle_s=seg.cycle_s, doubled=seg.doubled, frame_accuracy=float((seg.states == r['lab'])[r['lab'] >= 0].mean()),
                         frame_accuracy_argmax=float((P.argmax(1) == r['lab'])[r['lab'] >= 0].mean())))
print(f"numpy vs torch posteriors: largest difference {torch_gap:.2e}", flush=True)

def noise_rows(sgs, seeds):
    "The segmenters `sgs` (in turn) on white, pink and brown noise, 20 s each: periodicity, confidence, and the rate given at each one's gates."
    out = []
    for kind in ('white', 'pink', 'brown'):
        for i, seed in enumerate(seeds):
            g = np.random.default_rng(seed); w = g.standard_normal(40000)
            spec = np.fft.rfft(w); fr = np.fft.rfftfreq(len(w), 1/2000); fr[0] = fr[1]
            y = np.fft.irfft(spec/(fr**{'white': 0, 'pink': 0.5, 'brown': 1.}[kind]), len(w)); y = (y/np.abs(y).max()).astype(np.float32)
            sg = sgs[i % len(sgs)]; seg = sg.segment(y); h = heart_rate(y, segmenter=sg)
            out.append(dict(kind=kind, seed=seed, periodicity=seg.periodicity, confidence=seg.confidence, heart_rate=h['heart_rate'], warning=h['rhythm_warning']))
    return pd.DataFrame(out)

# the "no rhythm" gates: MIN_PERIODICITY / MIN_CONFIDENCE were set for the logistic regression. The fold models on 24 noise
# recordings (bench/segmenter_springer.py's: white, pink, brown, seeds 100-107); the periodicity gate becomes the smallest
# step of 0.05 above every noise recording's periodicity (no noise passes the gate, whatever the later checks do), the
# confidence gate stays (the CNN is as confident on noise as on many heart recordings: it does not separate them).
# Chosen on the fold models and synthetic noise only, not on the CirCor scores below.
noise = noise_rows(models, range(100, 108))
print(noise.groupby('kind')[['periodicity', 'confidence']].describe().round(3).to_string())
gates = (round(max(MIN_PERIODICITY, float(np.floor(noise.periodicity.max()/0.05) + 1)*0.05), 2), MIN_CONFIDENCE)
for sg in models: sg.gates = gates
noise['heart_rate_chosen_gates'] = noise_rows(models, range(100, 108)).heart_rate   # by construction none: the gate is above them all
R = pd.DataFrame(rows)
gated = [cycle_summary(sg_, (30, 250), *gates) for sg_ in segs]; R['heart_rate'] = [g_['heart_rate'] for g_ in gated]; R['rhythm_warning'] = [g_['rhythm_warning'] for g_ in gated]
R['hr_within_5'] = (R.heart_rate - R.expert_rate).abs() <= 5
def summarise(g):
    p = lambda k: 2*g[f'{k}_hits'].sum()/(g[f'{k}_found'].sum() + g[f'{k}_true'].sum())
    return pd.Series(dict(recordings=len(g), s1_f1=g.s1_f1.mean(), s2_f1=g.s2_f1.mean(), s1_f1_pooled=p('s1'), s2_f1_pooled=p('s2'), s1_f1_median=g.s1_f1.median(),
                          hr_within_5bpm=g.hr_within_5.mean(), no_rate=g.heart_rate.isna().mean(), hr_within_5bpm_ungated=((g.heart_rate_ungated - g.expert_rate).abs() <= 5).mean(),
                          hr_within_5bpm_default_gates=((g.heart_rate_default_gates - g.expert_rate).abs() <= 5).mean(), no_rate_default_gates=g.heart_rate_default_gates.isna().mean(),
                          frame_accuracy=g.frame_accuracy.mean()))
table = R.groupby('segmenter').apply(summarise, include_groups=False); per_fold = R.groupby(['segmenter', 'fold']).apply(summarise, include_groups=False).reset_index()
print(f"gates: min_periodicity {gates[0]}, min_confidence {gates[1]}")
print(table.round(4).to_string(), flush=True)
calib = dict(gates_chosen=dict(min_periodicity=gates[0], min_confidence=gates[1], rule="min_periodicity: the smallest step of 0.05 above the largest periodicity the fold models give the 24 noise recordings (and at least MIN_PERIODICITY); min_confidence: MIN_CONFIDENCE (noise confidence overlaps CirCor's)"),
             noise_max_periodicity=float(noise.periodicity.max()), noise_max_confidence=float(noise.confidence.max()), noise_rates_given_default_gates=int(noise.heart_rate.notna().sum()),
             noise_rates_given_default_gates_values=noise.heart_rate.dropna().round(1).tolist(),
             circor_periodicity_pct=dict(zip(['1', '5', '50'], np.percentile(R.periodicity, [1, 5, 50]).round(3).tolist())),
             circor_confidence_pct=dict(zip(['1', '5', '50'], np.percentile(R.confidence, [1, 5, 50]).round(3).tolist())),
             circor_gated_out=int((R.heart_rate.isna() & R.rhythm_warning.str.contains('no regular heart sounds')).sum()),
             circor_no_rate=int(R.heart_rate.isna().sum()), circor_no_rate_reasons=R.rhythm_warning[R.heart_rate.isna()].str.replace(r'[\d.]+', '#', regex=True).value_counts().to_dict())
print(calib, flush=True)

# time to segment a 20 s recording on one core (median of 20), as bench/segmenter_springer.py times the logistic regression
from threadpoolctl import threadpool_limits
try: os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
except (AttributeError, OSError): pass
y20 = next(r['y'][:40000] for r in recs if len(r['y']) >= 40000); sm = models[0]; F20 = springer_features(y20)
def timeit(fn, n=20):
    fn(); ts = []
    for _ in range(n): t = time.perf_counter(); fn(); ts.append(time.perf_counter() - t)
    return float(np.median(ts))
with threadpool_limits(1):
    timing = dict(cnn_segment_s=timeit(lambda: sm.segment(y20)), cnn_posteriors_s=timeit(lambda: sm.posteriors(F20)), springer_features_s=timeit(lambda: springer_features(y20)),
                  heart_rate_s=timeit(lambda: heart_rate(y20, segmenter=sm)))
print({k: f"{1000*v:.1f} ms" for k, v in timing.items()}, flush=True)
trained = {}
if a.train and not a.limit:   # every patient, the same settings, seed 0
    _, sg = fit(recs, a.seed, train_log, 'all patients')
    sg.params.update(min_periodicity=gates[0], min_confidence=gates[1], gates_note="bench/segmenter_cnn.py: " + calib['gates_chosen']['rule']); sg.gates = gates
    shipped_noise = noise_rows([sg], range(200, 216))   # other noise than the gate was chosen on
    print(f"shipped model on {len(shipped_noise)} noise recordings (seeds 200-215): {shipped_noise.heart_rate.notna().sum()} given a rate, periodicity at most {shipped_noise.periodicity.max():.3f}", flush=True)
    sg.params['note'] = f"CirCor 2022 shared copy: {len(recs)} recordings of {len(fold_of)} patients, every annotated frame; bench/segmenter_cnn.py --epochs {a.epochs} --train"
    dest = Path(__file__).parents[1]/'heartbeat_nbdev'/a.out; sg.save(dest)
    trained = dict(trained=dict(file=dest.name, bytes=dest.stat().st_size, n_frames=sg.params['n_frames'], durations=sg.params['durations'], seed=a.seed, gates=list(gates),
                                 noise=dict(seeds='200-215', recordings=len(shipped_noise), rates_given=int(shipped_noise.heart_rate.notna().sum()), max_periodicity=float(shipped_noise.periodicity.max()), max_confidence=float(shipped_noise.confidence.max()))))
    print(f"wrote {dest} ({dest.stat().st_size} bytes)", flush=True)
out = Path(__file__).parent/'results'
R.round(4).to_csv(out/f'{a.name}.csv', index=False)
save(a.name, dict(model=dict(kind='1-D CNN, ReLU, no normalisation layers', channels=a.channels, kernel=a.kernel, dilations=dil, weights=n_weights,
                             receptive_field_frames=1 + (a.kernel - 1)*sum(dil), input='springer_features (4 envelopes, 50 frames/s)'),
                  numpy_vs_torch_max_abs=torch_gap, gate=dict(min_periodicity=gates[0], min_confidence=gates[1], default_min_periodicity=MIN_PERIODICITY, default_min_confidence=MIN_CONFIDENCE), noise=noise.to_dict('records'), calibration=calib,
                  timing_20s_one_core=timing, timing_note=f"median of 20 runs, one CPU (sched_setaffinity), one BLAS thread, numpy forward pass; load average before the run {load0}",
                  training=dict(epochs=a.epochs, stretch=a.stretch, crop_frames=a.crop, batch=a.batch, optimiser='AdamW, one-cycle', lr=a.lr, weight_decay=1e-4, seed=a.seed, threads=a.threads, device='cpu', torch=torch.__version__),
                  decoding='heartbeat_nbdev.cycles.SpringerSegmenter (emission conv1d, numpy forward) -> decode_posteriors, as the logistic regression: log posterior - log prior of the training frames, durations from the training folds (state_durations); cycle_summary checks, its periodicity gate chosen on noise (calibration.gates_chosen)',
                  settings=dict(folds=a.folds, tol_s=a.tol, fold_seed=0), n_recordings=len(recs), n_patients=len(fold_of), skipped=skipped,
                  table=table.reset_index().to_dict('records'), per_fold=per_fold.to_dict('records'), train_log=train_log,
                  note=f"load average before the run {load0}; CPU only", wall_seconds=time.perf_counter() - t0, **trained))
