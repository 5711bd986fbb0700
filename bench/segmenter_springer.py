"""The learned segmenter (`heartbeat_nbdev.cycles.SpringerSegmenter`, Springer's LR-HSMM) on CirCor 2022's expert
segmentations: patient-grouped cross-validation beside the envelope segmenter, the noise that sets the "no rhythm"
thresholds, the time to segment a 20 s recording on one core, and the shipped parameters.

    python bench/segmenter_springer.py            # CV + noise + timing -> bench/results/segmenter-springer.json (+ .csv per recording)
    python bench/segmenter_springer.py --train    # the same, then fit on every patient -> heartbeat_nbdev/segmenter.json
    (python bench/segmenter.py --train runs this with --train)

Scoring as Springer et al. (IEEE TBME 2016): a detected S1 (S2) is a hit when its centre lies within 100 ms of the
centre of an annotated S1 (S2) not matched yet; F1 per recording (mean over recordings) and pooled (hits, detections
and annotated sounds summed over all recordings); detections are counted inside the annotated span (+-100 ms) only.
Heart rate: 60 / the mean S1-to-S1 interval, the expert's from the .tsv S1 starts (intervals under 1.6 times their median:
a gap in the annotation is not a beat), ours (`cycle_summary`) from the complete decoded cycles of the whole recording
(what `heart_rate` answers: hr_within_5bpm) and, like for like, of the expert's annotated span only (hr_within_5bpm_span);
a recording where no rhythm was found counts as a miss.
Folds: 5, by patient (patient ids shuffled with seed 0); each fold's model never saw the fold's patients.
"""
import argparse, dataclasses, os, sys, time
from pathlib import Path
import numpy as np, pandas as pd
sys.path.insert(0, str(Path(__file__).parent))
from _common import save
from _segmentations import read_recordings, patient_fold_of, expert_rate, score
from heartbeat_nbdev.cycles import MIN_PERIODICITY, MIN_CONFIDENCE, SEARCH_BPM, fit_segmenter, cycle_summary, heart_rate, segment, rhythm_features, read_circor_segmentation
from heartbeat_nbdev.emissions import springer_features, SEG_FS
from heartbeat_nbdev.spectrogram import SpecConfig
from heartbeat_nbdev.data import have_database

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument('--train', action='store_true', help='also fit on every patient and write heartbeat_nbdev/segmenter.json')
ap.add_argument('--context', default='3,5,8', help='frames on each side the logistic regression sees; several (comma-separated): each is cross-validated and the best mean S1+S2 F1 is reported and trained')
ap.add_argument('--C', type=float, default=1.0)
ap.add_argument('--folds', type=int, default=5)
ap.add_argument('--tol', type=float, default=0.1, help='Springer 2016: 100 ms around the centre of the sound')
ap.add_argument('--name', default='segmenter-springer')
ap.add_argument('--limit', type=int, default=0, help='only the first N recordings (a smoke test; nothing is trained or written but --name)')
a = ap.parse_args()
t0 = time.perf_counter(); load0 = os.getloadavg()
if not have_database('circor2022'): sys.exit("error: CirCor 2022 not found (heartbeat-data list)")
cfg = SpecConfig(bandpass=None)
recs, skipped = read_recordings(cfg, a.limit, keep_audio=True, t0=t0)
fold_of = patient_fold_of(recs, a.folds)   # the folds of both segmenter benchmarks

def crossval(context):
    rows, models = [], []
    for f in range(a.folds):
        tr = [r for r in recs if fold_of[r['patient']] != f]
        m = fit_segmenter([(r['F'], r['lab']) for r in tr], context=context, C=a.C); models.append(m)
        for r in (r for r in recs if fold_of[r['patient']] == f):
            seg = m.segment_features(r['F']); hr_true = expert_rate(r['tsv'])
            s = cycle_summary(seg, m.bpm); raw = cycle_summary(seg, m.bpm, -np.inf, -np.inf)   # raw: no periodicity / confidence gate
            _, _, lo, hi = read_circor_segmentation(r['tsv'])
            span = cycle_summary(dataclasses.replace(seg, states=seg.states[max(0, int(np.floor(lo*SEG_FS))):int(np.ceil(hi*SEG_FS))]), m.bpm)   # the cycles inside the expert's span only
            env = segment(r['y']); ef = rhythm_features(env)
            base = dict(recording=r['name'], patient=r['patient'], fold=f, expert_rate=hr_true, annotated_frames=int((r['lab'] >= 0).sum()))
            rows.append(dict(base, segmenter='springer', **score(seg.sounds(), r['tsv'], a.tol), heart_rate=s['heart_rate'], rhythm_warning=s['rhythm_warning'], heart_rate_ungated=raw['heart_rate'], heart_rate_span=span['heart_rate'],
                             confidence=seg.confidence, periodicity=seg.periodicity, repeat_s=seg.repeat_s, cycle_s=seg.cycle_s, n_cycles=s['n_cycles'], sounds_per_cycle=seg.sounds_per_cycle, doubled=seg.doubled,
                             frame_accuracy=float((seg.states == r['lab'])[r['lab'] >= 0].mean())))
            rows.append(dict(base, segmenter='envelope', **score(env, r['tsv'], a.tol), heart_rate=ef['heart_rate'] if ef['n_beats'] else np.nan))
        print(f"context {context}, fold {f}: {len(tr)} training recordings, {time.perf_counter() - t0:.0f} s", flush=True)
    R = pd.DataFrame(rows)
    R['hr_within_5'] = (R.heart_rate - R.expert_rate).abs() <= 5
    def summarise(g):
        p = lambda k: 2*g[f'{k}_hits'].sum()/(g[f'{k}_found'].sum() + g[f'{k}_true'].sum())
        return pd.Series(dict(recordings=len(g), s1_f1=g.s1_f1.mean(), s2_f1=g.s2_f1.mean(), s1_f1_pooled=p('s1'), s2_f1_pooled=p('s2'),
                              s1_f1_median=g.s1_f1.median(), hr_within_5bpm=g.hr_within_5.mean(), no_rate=g.heart_rate.isna().mean(),
                              hr_within_5bpm_span=((g.heart_rate_span - g.expert_rate).abs() <= 5).mean() if 'heart_rate_span' in g and g.heart_rate_span.notna().any() else np.nan,
                              hr_within_5bpm_ungated=((g.heart_rate_ungated - g.expert_rate).abs() <= 5).mean() if g.get('heart_rate_ungated') is not None and g.heart_rate_ungated.notna().any() else np.nan))
    table = R.groupby('segmenter').apply(summarise, include_groups=False)
    per_fold = R.groupby(['segmenter', 'fold']).apply(summarise, include_groups=False).reset_index()
    return R, table, per_fold, models

contexts = [int(c) for c in str(a.context).split(',')]
runs = {c: crossval(c) for c in contexts}
search = [dict(context=c, **runs[c][1].loc['springer'].to_dict()) for c in contexts]
best = max(contexts, key=lambda c: runs[c][1].loc['springer', 's1_f1'] + runs[c][1].loc['springer', 's2_f1'])
R, table, per_fold, models = runs[best]; a.context = best
print(pd.DataFrame(search).round(4).to_string(), f"-> context {best}", flush=True)
print(table.round(4).to_string(), flush=True)

# noise: what periodicity and confidence the fold models give recordings with no heart in them
noise = []
for kind in ('white', 'pink', 'brown'):
    for seed in range(8):
        g = np.random.default_rng(100 + seed); w = g.standard_normal(40000)
        spec = np.fft.rfft(w); fr = np.fft.rfftfreq(len(w), 1/2000); fr[0] = fr[1]
        y = np.fft.irfft(spec/(fr**{'white': 0, 'pink': 0.5, 'brown': 1.}[kind]), len(w)); y = (y/np.abs(y).max()).astype(np.float32)
        seg = models[seed % a.folds].segment(y)
        s = cycle_summary(seg, models[0].bpm)
        noise.append(dict(kind=kind, seed=seed, periodicity=seg.periodicity, confidence=seg.confidence, heart_rate=s['heart_rate'], warning=s['rhythm_warning']))
noise = pd.DataFrame(noise)
print(noise.groupby('kind')[['periodicity', 'confidence']].describe().round(3).to_string())
sp = R[R.segmenter == 'springer']
calib = dict(noise_max_periodicity=float(noise.periodicity.max()), noise_max_confidence=float(noise.confidence.max()), noise_rates_given=int(noise.heart_rate.notna().sum()),
             circor_periodicity_pct=dict(zip(['1', '5', '50'], np.percentile(sp.periodicity, [1, 5, 50]).round(3).tolist())),
             circor_confidence_pct=dict(zip(['1', '5', '50'], np.percentile(sp.confidence, [1, 5, 50]).round(3).tolist())))
print(calib)

# time to segment a 20 s recording on one core (median of 20), both segmenters
from threadpoolctl import threadpool_limits
try: os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
except (AttributeError, OSError): pass
y20 = next(r['y'][:40000] for r in recs if len(r['y']) >= 40000); sm = models[0]
def timeit(fn, n=20):
    fn(); ts = []
    for _ in range(n): t = time.perf_counter(); fn(); ts.append(time.perf_counter() - t)
    return float(np.median(ts))
with threadpool_limits(1):
    timing = dict(springer_s=timeit(lambda: sm.segment(y20)), springer_features_s=timeit(lambda: springer_features(y20)),
                  heart_rate_s=timeit(lambda: heart_rate(y20, segmenter=sm)), envelope_s=timeit(lambda: segment(y20)))
print({k: f"{1000*v:.1f} ms" for k, v in timing.items()})

out = Path(__file__).parent/'results'
R.round(4).drop(columns=[]).to_csv(out/f'{a.name}.csv', index=False)
res = dict(gate=dict(min_periodicity=MIN_PERIODICITY, min_confidence=MIN_CONFIDENCE), search_bpm=list(SEARCH_BPM), context_search=search, context_criterion='mean per-recording S1 F1 + S2 F1 on the same CV folds (the table is the chosen context: a development figure, chosen on these folds)',
           settings=dict(context=a.context, C=a.C, folds=a.folds, tol_s=a.tol, fold_seed=0), n_recordings=len(recs), n_patients=len(fold_of), skipped=skipped,
           tolerance_source="Springer, Tarassenko & Clifford, IEEE TBME 63(4) 2016: S1/S2 correct when within 100 ms of the annotated sound's centre",
           table=table.reset_index().to_dict('records'), per_fold=per_fold.to_dict('records'), noise=noise.to_dict('records'), calibration=calib,
           timing_20s_one_core=timing, timing_note=f"median of 20 runs, one CPU (sched_setaffinity), one BLAS thread; load average before the run {load0}",
           wall_seconds=time.perf_counter() - t0)
if a.train and not a.limit:
    m = fit_segmenter([(r['F'], r['lab']) for r in recs], context=a.context, C=a.C,
                      note=f"CirCor 2022 shared copy: {len(recs)} recordings of {len(fold_of)} patients, every annotated frame; bench/segmenter_springer.py --train")
    m.save(Path(__file__).parents[1]/'heartbeat_nbdev'/'segmenter.json'); res['trained'] = dict(n_frames=m.params['n_frames'], durations=m.params['durations'])
    print("wrote heartbeat_nbdev/segmenter.json")
save(a.name, res)
