"""A small neural emission model for the learned segmenter: a 1-D CNN (dilated convolutions, torch, CPU) predicting
S1 / systole / S2 / diastole per frame from `springer_features`' four envelopes, its posteriors decoded exactly as the
logistic regression's are (`heartbeat_nbdev.cycles.decode_posteriors`: `cycle_candidates` + `hsmm_viterbi`, the same
duration model and "no rhythm" gates). Trained and scored on the folds of `bench/segmenter_springer.py` (CirCor 2022's
expert segmentations, 5 folds by patient, patient ids shuffled with seed 0), with its scoring (S1 / S2 F1 at 100 ms,
heart rate within 5 BPM of the expert's).

    python bench/segmenter_cnn.py                     # CV -> bench/results/segmenter-cnn.json (+ .csv per recording)
    python bench/segmenter_cnn.py --limit 40 --epochs 2 --name segmenter-cnn-smoke   # a smoke test

Nothing is shipped from here: the table row is a measurement beside the logistic regression's.
"""
import argparse, os, sys, time
from pathlib import Path
import numpy as np, pandas as pd
sys.path.insert(0, str(Path(__file__).parent))
from _common import save
from _segmentations import read_recordings, patient_fold_of, expert_rate, score
from heartbeat_nbdev.cycles import state_durations, decode_posteriors, cycle_summary
from heartbeat_nbdev.spectrogram import SpecConfig
from heartbeat_nbdev.data import have_database

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument('--channels', type=int, default=24)
ap.add_argument('--kernel', type=int, default=5)
ap.add_argument('--dilations', default='1,2,4,8,16', help='one convolution per dilation; the receptive field is 1 + (kernel-1)*sum(dilations) frames')
ap.add_argument('--epochs', type=int, default=20)
ap.add_argument('--crop', type=int, default=500, help='training crops of this many frames (10 s)')
ap.add_argument('--batch', type=int, default=16)
ap.add_argument('--lr', type=float, default=3e-3)
ap.add_argument('--threads', type=int, default=2)
ap.add_argument('--seed', type=int, default=0)
ap.add_argument('--folds', type=int, default=5)
ap.add_argument('--tol', type=float, default=0.1)
ap.add_argument('--name', default='segmenter-cnn')
ap.add_argument('--limit', type=int, default=0, help='only the first N recordings (a smoke test)')
a = ap.parse_args()
import torch
from torch import nn
torch.set_num_threads(a.threads); torch.manual_seed(a.seed)
t0 = time.perf_counter(); load0 = os.getloadavg()
if not have_database('circor2022'): sys.exit("error: CirCor 2022 not found (heartbeat-data list)")
cfg = SpecConfig(bandpass=None)
recs, skipped = read_recordings(cfg, a.limit, t0=t0)
fold_of = patient_fold_of(recs, a.folds)   # the folds of both segmenter benchmarks
dil = [int(d) for d in a.dilations.split(',')]

def net():
    layers, cin = [], 4
    for d in dil: layers += [nn.Conv1d(cin, a.channels, a.kernel, padding=d*(a.kernel - 1)//2, dilation=d), nn.ReLU()]; cin = a.channels
    return nn.Sequential(*layers, nn.Conv1d(cin, 4, 1))

def crops(tr, g):
    "One epoch of (batch, 4, crop) features and (batch, crop) labels: a random crop of every training recording (short ones padded, label -1)."
    order = g.permutation(len(tr))
    for i in range(0, len(order), a.batch):
        X = np.zeros((len(order[i:i + a.batch]), 4, a.crop), np.float32); Y = np.full((len(X), a.crop), -1, np.int64)
        for j, k in enumerate(order[i:i + a.batch]):
            F, lab = tr[k]['F'], tr[k]['lab']; s = int(g.integers(0, max(1, len(F) - a.crop + 1))); n = min(a.crop, len(F) - s)
            X[j, :, :n] = F[s:s + n].T; Y[j, :n] = lab[s:s + n]
        yield torch.from_numpy(X), torch.from_numpy(Y)

rows, train_log, n_weights = [], [], None
for f in range(a.folds):
    tr = [r for r in recs if fold_of[r['patient']] != f]; te = [r for r in recs if fold_of[r['patient']] == f]
    m = net(); n_weights = sum(p.numel() for p in m.parameters())
    opt = torch.optim.AdamW(m.parameters(), lr=a.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=a.lr, total_steps=a.epochs*((len(tr) + a.batch - 1)//a.batch))
    lossf = nn.CrossEntropyLoss(ignore_index=-1); g = np.random.default_rng(a.seed + f)
    for ep in range(a.epochs):
        m.train(); tot = cnt = 0
        for X, Y in crops(tr, g):
            loss = lossf(m(X), Y); opt.zero_grad(); loss.backward(); opt.step(); sched.step(); tot += float(loss)*len(X); cnt += len(X)
        train_log.append(dict(fold=f, epoch=ep, loss=tot/cnt, s=time.perf_counter() - t0))
    print(f"fold {f}: {len(tr)} training recordings, loss {tot/cnt:.3f}, {time.perf_counter() - t0:.0f} s", flush=True)
    labs = np.concatenate([r['lab'][r['lab'] >= 0] for r in tr]); log_prior = np.log(np.bincount(labs, minlength=4)/len(labs))
    durations = state_durations([r['lab'] for r in tr]); m.eval()
    for r in te:
        with torch.no_grad(): P = torch.softmax(m(torch.from_numpy(r['F'].T[None].astype(np.float32)))[0], 0).T.double().numpy()
        seg = decode_posteriors(P, log_prior, durations, envelope=r['F'][:, 0])
        s = cycle_summary(seg); raw = cycle_summary(seg, (30, 250), -np.inf, -np.inf)
        rows.append(dict(recording=r['name'], patient=r['patient'], fold=f, expert_rate=expert_rate(r['tsv']), segmenter='springer-cnn', **score(seg.sounds(), r['tsv'], a.tol),
                         heart_rate=s['heart_rate'], rhythm_warning=s['rhythm_warning'], heart_rate_ungated=raw['heart_rate'], confidence=seg.confidence, periodicity=seg.periodicity,
                         cycle_s=seg.cycle_s, doubled=seg.doubled, frame_accuracy=float((seg.states == r['lab'])[r['lab'] >= 0].mean()),
                         frame_accuracy_argmax=float((P.argmax(1) == r['lab'])[r['lab'] >= 0].mean())))
R = pd.DataFrame(rows); R['hr_within_5'] = (R.heart_rate - R.expert_rate).abs() <= 5
def summarise(g):
    p = lambda k: 2*g[f'{k}_hits'].sum()/(g[f'{k}_found'].sum() + g[f'{k}_true'].sum())
    return pd.Series(dict(recordings=len(g), s1_f1=g.s1_f1.mean(), s2_f1=g.s2_f1.mean(), s1_f1_pooled=p('s1'), s2_f1_pooled=p('s2'), s1_f1_median=g.s1_f1.median(),
                          hr_within_5bpm=g.hr_within_5.mean(), no_rate=g.heart_rate.isna().mean(), hr_within_5bpm_ungated=((g.heart_rate_ungated - g.expert_rate).abs() <= 5).mean(),
                          frame_accuracy=g.frame_accuracy.mean()))
table = R.groupby('segmenter').apply(summarise, include_groups=False); per_fold = R.groupby(['segmenter', 'fold']).apply(summarise, include_groups=False).reset_index()
print(table.round(4).to_string(), flush=True)
out = Path(__file__).parent/'results'
R.round(4).to_csv(out/f'{a.name}.csv', index=False)
save(a.name, dict(model=dict(kind='1-D CNN, ReLU, no normalisation layers', channels=a.channels, kernel=a.kernel, dilations=dil, weights=n_weights,
                             receptive_field_frames=1 + (a.kernel - 1)*sum(dil), input='springer_features (4 envelopes, 50 frames/s)'),
                  training=dict(epochs=a.epochs, crop_frames=a.crop, batch=a.batch, optimiser='AdamW, one-cycle', lr=a.lr, weight_decay=1e-4, seed=a.seed, threads=a.threads, device='cpu', torch=torch.__version__),
                  decoding='heartbeat_nbdev.cycles.decode_posteriors (the logistic regression\'s): log posterior - log prior of the training frames, durations from the training folds (state_durations), the same gates',
                  settings=dict(folds=a.folds, tol_s=a.tol, fold_seed=0), n_recordings=len(recs), n_patients=len(fold_of), skipped=skipped,
                  table=table.reset_index().to_dict('records'), per_fold=per_fold.to_dict('records'), train_log=train_log,
                  note=f"load average before the run {load0}; CPU only", wall_seconds=time.perf_counter() - t0))
