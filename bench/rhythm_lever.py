"""Lever: the learned segmenter's rhythm measures beside the classical MFCC baseline (`heartbeat_nbdev.baseline`),
on the same patient-grouped folds (`patient_folds`, k=5, seed 42: `crossval_baseline`'s), one seed.

    python bench/rhythm_lever.py                              # PASCAL, 5 classes
    python bench/rhythm_lever.py --dataset circor2022          # CirCor murmur (its usual task)

Rhythm measures per recording (`cycles.heart_rate` with the shipped segmenter): heart rate, its spread, systolic and
diastolic intervals, their share of the cycle, cycles per second, segmentation confidence, "no rhythm found" (0/1; the
missing values then take the training folds' median). Both variants: `fit_baseline` (scaler + balanced logistic regression).
-> bench/results/rhythm-lever-<dataset>.json
"""
import argparse, json, sys, time, warnings
from pathlib import Path
import numpy as np, pandas as pd
sys.path.insert(0, str(Path(__file__).parent))
from _common import save
from heartbeat_nbdev.baseline import features_table, feature_names, fit_baseline, _n_mfcc
from heartbeat_nbdev.tasks import labelled, patient_folds
from heartbeat_nbdev.audio import AudioError
from heartbeat_nbdev.spectrogram import load_audio, SpecConfig
from heartbeat_nbdev.metrics import classification_metrics
from heartbeat_nbdev.cycles import heart_rate, RHYTHM_FIELDS

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument('--dataset', default=None); ap.add_argument('--task', default=None)
ap.add_argument('--k', type=int, default=5); ap.add_argument('--seed', type=int, default=42)
ap.add_argument('--cache', default='data/features')
a = ap.parse_args(); t0 = time.perf_counter()
from heartbeat_nbdev.tasks import load_task, default_task
from heartbeat_nbdev.metrics import task_scores
with warnings.catch_warnings():
    warnings.simplefilter('ignore'); recs = load_task(a.dataset, a.task)
cfg = SpecConfig()
lab = labelled(recs).assign(fold=patient_folds(recs, a.k, a.seed).values)
feats, _ = features_table(lab, cfg, 1, False, a.cache)
names = feature_names(_n_mfcc(feats)); fx = feats.drop_duplicates('path').set_index('path')[names]
lab = lab[lab.path.isin(fx.index)].reset_index(drop=True)
rows = []
for p in lab.path:
    try: y = load_audio(p, cfg); h = dict(heart_rate(y, cfg.sr), duration=len(y)/cfg.sr)
    except (AudioError, ValueError) as e: h = dict(rhythm_warning=f'no rhythm found: {e}')
    rows.append(h)
rh = pd.DataFrame(rows).reindex(columns=list(RHYTHM_FIELDS) + ['rhythm_warning', 'duration'])
R = pd.DataFrame(dict(hr=rh.heart_rate, hr_spread=rh.heart_rate_spread, systole=rh.systole_s, diastole=rh.diastole_s,
                      systole_share=rh.systole_s/(rh.systole_s + rh.diastole_s), cycles_per_s=rh.n_cycles/rh.duration,
                      confidence=rh.seg_confidence, no_rhythm=rh.heart_rate.isna().astype(float)))
print(f"{len(lab)} recordings, features and rhythm in {time.perf_counter() - t0:.0f} s; no rhythm found in {R.no_rhythm.mean():.1%}", flush=True)
classes = sorted(lab.label.unique()); X = fx.loc[lab.path].values
preds = {v: np.empty(len(lab), object) for v in ('baseline', 'baseline+rhythm')}
for i in range(a.k):
    tr, va = (lab.fold != i).values, (lab.fold == i).values
    Rt = R.fillna(R[tr].median()).fillna(0).values
    for v, Z in (('baseline', X), ('baseline+rhythm', np.hstack([X, Rt]))):
        preds[v][va] = fit_baseline(Z[tr], lab.label[tr].values, 'logreg', a.seed).predict(Z[va])
res = {}
for v, p in preds.items():
    m = classification_metrics(lab.label, p, classes)
    res[v] = dict(balanced_accuracy=m['balanced_accuracy'], macro_f1=m['macro_f1'], recall={c: d['recall'] for c, d in m['per_class'].items()},
                  per_fold_balanced_accuracy=[classification_metrics(lab.label[lab.fold == i], p[(lab.fold == i).values], classes)['balanced_accuracy'] for i in range(a.k)])
    if a.dataset:
        pp = lab.assign(pred=p)
        if 'database' not in pp: pp['database'] = a.dataset
        try: res[v]['task_scores'] = {k: w for k, w in task_scores(pp, a.task or default_task(a.dataset)).items() if not isinstance(w, (dict, list))}
        except (KeyError, ValueError) as e: res[v]['task_scores_error'] = str(e)
    print(v, {k: (round(w, 4) if isinstance(w, float) else w) for k, w in res[v].items() if k != 'per_fold_balanced_accuracy'})
d = np.array(res['baseline+rhythm']['per_fold_balanced_accuracy']) - np.array(res['baseline']['per_fold_balanced_accuracy'])
save(f"rhythm-lever-{a.dataset or 'pascal'}", dict(dataset=a.dataset or 'pascal', task=a.task, k=a.k, seed=a.seed, n=len(lab), results=res,
     per_fold_gain=dict(mean=float(d.mean()), std=float(d.std(ddof=1)), folds_better=int((d > 0).sum())),
     no_rhythm_share=float(R.no_rhythm.mean()), rhythm_columns=list(R.columns), wall_seconds=time.perf_counter() - t0))
