"""Levers: cycle-level inputs for the classical MFCC baseline (`heartbeat_nbdev.baseline`), each against the same folds' baseline.

    python bench/cycle_levers.py                                   # PASCAL, 5 classes
    python bench/cycle_levers.py --dataset physionet2016            # PhysioNet 2016, abnormal (its usual task)
    python bench/cycle_levers.py --dataset circor2022               # CirCor 2022, murmur (its usual task)

Variants (all `fit_baseline`: scaler + balanced logistic regression, seed 42), on the patient-grouped folds of
`patient_folds` (k=5) with the fold seeds given (`--seeds 42 43 44`; seed 42 gives `crossval_baseline`'s and
`bench/rhythm_lever.py`'s folds):
- `baseline`: the MFCC baseline's features (`recording_features`);
- `+phases`: `phase_features` (mean systolic and diastolic spectra relative to S1/S2, 8 bands each, and a found flag);
- `+cycles2`, `+cycles3`: `cycle_features` (mean image of the windows of k heart cycles, `SpecConfig(cycles=k)`);
- `+rhythm`: the rhythm measures of `bench/rhythm_lever.py` (heart rate, spread, intervals, confidence...);
- `+all`: phases, cycles2 and rhythm together.
The learned segmenter runs once per recording (its answer is reused by every block, here only: a memo on the samples).
Features are cached in data/cycle-levers/<dataset>.pkl (git-ignored). Per-fold gain: variant minus baseline on the same
fold (balanced accuracy), over all folds of all seeds; a lever is "kept" only where its mean gain is above the
spread (s.d.) of those per-fold gains.
-> bench/results/cycle-levers-<dataset>.json

    python bench/cycle_levers.py --table     # the three results as one table: bench/results/cycle-levers.md (results.ipynb includes it)
"""
import argparse, hashlib, json, sys, time, warnings
from pathlib import Path
import numpy as np, pandas as pd
sys.path.insert(0, str(Path(__file__).parent))
from _common import save
import heartbeat_nbdev.baseline as B, heartbeat_nbdev.spectrogram as S, heartbeat_nbdev.cycles as C
from heartbeat_nbdev.baseline import recording_features, feature_names, phase_names, cycle_names, cycle_features, fit_baseline
from heartbeat_nbdev.tasks import labelled, patient_folds, load_task, default_task
from heartbeat_nbdev.audio import AudioError
from heartbeat_nbdev.spectrogram import load_audio, SpecConfig
from heartbeat_nbdev.metrics import classification_metrics, task_scores
from heartbeat_nbdev.core import run_parallel

_memo = {}
def _heart_rate(y, sr=2000, segmenter=None, return_segmentation=False):
    "`cycles.heart_rate`, computed once per recording's samples (both feature blocks ask for it)."
    k = (hashlib.sha1(np.ascontiguousarray(y).tobytes()).hexdigest(), sr)
    if k not in _memo: _memo.clear(); _memo[k] = C.heart_rate(y, sr, segmenter, return_segmentation=True)
    return _memo[k] if return_segmentation else _memo[k][0]
B.heart_rate = S.heart_rate = _heart_rate

CFG = SpecConfig()
def one(args):
    "Worker: (values, None) or (None, error) for one path: base + phases + cycles2 features, cycles3 features, rhythm measures."
    path = args[0]
    try:
        y = load_audio(path, CFG)
        f = recording_features(y, CFG, phases=True, cycles=2).values
        h = _heart_rate(y, CFG.sr)
        r = [h['heart_rate'], h['heart_rate_spread'], h['systole_s'], h['diastole_s'],
             h['systole_s']/(h['systole_s'] + h['diastole_s']), h['n_cycles']/(len(y)/CFG.sr), h['seg_confidence'], float(np.isnan(h['heart_rate']))]
        return np.r_[f, cycle_features(y, CFG, 3), r], None
    except AudioError as e: return None, str(e)
    except Exception as e: return None, f"{path}: {type(e).__name__}: {e}"

RHYTHM = ['hr', 'hr_spread', 'systole', 'diastole', 'systole_share', 'cycles_per_s', 'confidence', 'no_rhythm']
C3 = [f'c3_{n}' for n in cycle_names(3)]
COLS = feature_names(phases=True, cycles=2) + C3 + RHYTHM

NAMES = dict(pascal='PASCAL, 5 classes', physionet2016='PhysioNet 2016, abnormal', circor2022='CirCor 2022, murmur')
def table(results=Path(__file__).parent/'results') -> str:
    "The lever table of every `cycle-levers-<dataset>.json` there is, as Markdown (numbers read from the files)."
    rows = ['| task | lever | balanced accuracy | gain per fold | folds better | challenge score | rhythm found | kept |', '|---|---|---|---|---|---|---|---|']
    for name, title in NAMES.items():
        f = results/f'cycle-levers-{name}.json'
        if not f.exists(): rows.append(f'| {title} | not measured | | | | | | |'); continue
        r = json.loads(f.read_text()); found = r['rhythm_found_share']
        for v, x in r['results'].items():
            g = x['per_fold_gain']; ba = np.array(x['pooled_balanced_accuracy'])
            share = {'+phases': found['phases'], '+cycles2': found['cycles2'], '+cycles3': found['cycles3'], '+rhythm': found['rhythm'], '+all': found['rhythm']}.get(v)
            ts = f"{x.get('task_score_name', '')} {np.mean(x['task_score']):.3f}" if x['task_score'] else ''
            rows.append(f"| {title} | {v} | {ba.mean():.3f} ± {ba.std(ddof=1) if len(ba) > 1 else 0:.3f} | "
                        + ('' if v == 'baseline' else f"{g['mean']:+.3f} ± {g['std']:.3f}") + ' | '
                        + ('' if v == 'baseline' else f"{g['folds_better']}/{g['folds']}") + f" | {ts} | "
                        + ('' if share is None else f'{share:.0%}') + ' | ' + ('' if v == 'baseline' else 'yes' if x['kept'] else 'no') + ' |')
    cnn, ref = results/'ablation-cycles', results/'ablation'   # `bench/ablation.py --rows light-cyc2 --out bench/results/ablation-cycles`; the `light` row's files (the same folds)
    seeds = sorted({f.stem.rsplit('-s', 1)[1] for f in cnn.glob('light-cyc2-s*.csv')} & {f.stem.rsplit('-s', 1)[1] for f in ref.glob('light-s*.csv')})
    if seeds:
        from heartbeat_nbdev.recipe import run_metrics   # here: only the CNN rows need it (torch-free, but a larger import)
        m = {v: pd.concat([run_metrics(pd.read_csv((cnn if v == 'light-cyc2' else ref)/f'{v}-s{sd}.csv')) for sd in seeds], ignore_index=True) for v in ('light', 'light-cyc2')}
        d = m['light-cyc2'].balanced_accuracy.values - m['light'].balanced_accuracy.values
        rows += ['', f"The light CNN (`recipe.LEVERS['light']`, from scratch, 64x128 px) on fixed 3 s windows and on windows of 2 heart cycles "
                 f"(`light-cyc2`), PASCAL 5 classes, training seed(s) {', '.join(seeds)}, the same 5 folds; balanced accuracy mean ± s.d. over the folds:", '',
                 '| row | balanced accuracy | macro-F1 | gain per fold | folds better | kept |', '|---|---|---|---|---|---|']
        for v in ('light', 'light-cyc2'):
            r = m[v]
            rows.append(f"| {v} | {r.balanced_accuracy.mean():.3f} ± {r.balanced_accuracy.std(ddof=1):.3f} | {r.macro_f1.mean():.3f} ± {r.macro_f1.std(ddof=1):.3f} | "
                        + ('| | |' if v == 'light' else f"{d.mean():+.3f} ± {d.std(ddof=1):.3f} | {int((d > 0).sum())}/{len(d)} | {'yes' if d.mean() > max(0, d.std(ddof=1)) else 'no'} |"))
    return '\n'.join(rows) + '\n'

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--table', action='store_true', help='only write bench/results/cycle-levers.md from the result files')
    ap.add_argument('--dataset', default=None); ap.add_argument('--task', default=None)
    ap.add_argument('--k', type=int, default=5); ap.add_argument('--seeds', type=int, nargs='+', default=[42, 43, 44])
    ap.add_argument('--workers', type=int, default=2); ap.add_argument('--cache', default='data/cycle-levers')
    a = ap.parse_args(); t0 = time.perf_counter(); name = a.dataset or 'pascal'
    if a.table:
        out = Path(__file__).parent/'results'/'cycle-levers.md'; out.write_text(table()); print(out.read_text()); sys.exit(0)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore'); recs = load_task(a.dataset, a.task)
    lab0 = labelled(recs).reset_index(drop=True)
    cf = Path(a.cache)/f'{name}-{a.task or "default"}.pkl'
    F = pd.read_pickle(cf) if cf.exists() else pd.DataFrame(columns=COLS)
    todo = [(p,) for p in dict.fromkeys(lab0.path) if p not in F.index]
    res = run_parallel(one, todo, a.workers, 'cycle features', False)
    new = {p: v for p, (v, e) in res.items() if e is None}
    errors = {p: e for p, (v, e) in res.items() if e is not None}
    if new:
        F = pd.concat([F, pd.DataFrame.from_dict(new, orient='index', columns=COLS)]) if len(F) else pd.DataFrame.from_dict(new, orient='index', columns=COLS)
        cf.parent.mkdir(parents=True, exist_ok=True); F.to_pickle(cf)
    feat_s = time.perf_counter() - t0
    lab0 = lab0[lab0.path.isin(F.index)].reset_index(drop=True)
    X = F.loc[lab0.path]
    found = dict(phases=float(X.phases_found.mean()), cycles2=float(X.cycles_found.mean()), cycles3=float(X['c3_cycles_found'].mean()),
                 rhythm=float(1 - X.no_rhythm.mean()))
    print(f"{name}: {len(lab0)} recordings ({len(errors)} skipped), features in {feat_s:.0f} s; share with a rhythm found: {found}", flush=True)
    base = feature_names()
    variants = {'baseline': base, '+phases': base + phase_names(), '+cycles2': base + cycle_names(2), '+cycles3': base + C3,
                '+rhythm': base + RHYTHM, '+all': base + phase_names() + cycle_names(2) + RHYTHM}
    classes = sorted(lab0.label.unique()); task = a.task or (default_task(a.dataset) if a.dataset else None)
    out = {v: dict(per_fold_balanced_accuracy=[], pooled_balanced_accuracy=[], macro_f1=[], task_score=[]) for v in variants}
    for seed in a.seeds:
        lab = labelled(recs).assign(fold=patient_folds(recs, a.k, seed).values)
        lab = lab[lab.path.isin(F.index)].reset_index(drop=True)
        for v, cols in variants.items():
            Z = F.loc[lab.path, cols].astype(float)
            pred = np.empty(len(lab), object)
            for i in range(a.k):
                tr, va = (lab.fold != i).values, (lab.fold == i).values
                Zi = Z.fillna(Z[tr].median()).fillna(0).values   # the rhythm's NaN (no rhythm found): the training folds' median
                pred[va] = fit_baseline(Zi[tr], lab.label[tr].values, 'logreg', 42).predict(Zi[va])
                out[v]['per_fold_balanced_accuracy'].append(classification_metrics(lab.label[va], pred[va], classes)['balanced_accuracy'])
            m = classification_metrics(lab.label, pred, classes)
            out[v]['pooled_balanced_accuracy'].append(m['balanced_accuracy']); out[v]['macro_f1'].append(m['macro_f1'])
            if a.dataset:
                pp = lab.assign(pred=pred)
                if 'database' not in pp: pp['database'] = a.dataset
                ts = task_scores(pp, task)
                dbs = ts['by_database'].get(a.dataset, {})
                key, val = ('macc', ts['macc']) if 'macc' in ts else ('weighted_accuracy', dbs['weighted_accuracy']) if 'weighted_accuracy' in dbs else ('balanced_accuracy', ts['balanced_accuracy'])
                out[v]['task_score'].append(float(val)); out[v]['task_score_name'] = key
            print(seed, v, f"pooled balanced accuracy {m['balanced_accuracy']:.4f}", flush=True)
    b = np.array(out['baseline']['per_fold_balanced_accuracy'])
    for v, r in out.items():
        d = np.array(r['per_fold_balanced_accuracy']) - b
        r['balanced_accuracy_mean'] = float(np.mean(r['pooled_balanced_accuracy']))
        r['per_fold_gain'] = dict(mean=float(d.mean()), std=float(d.std(ddof=1)) if len(d) > 1 else None, folds_better=int((d > 0).sum()), folds=len(d))
        r['kept'] = v != 'baseline' and bool(d.mean() > 0 and d.mean() > d.std(ddof=1))
    cpu = next((l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name')), None)
    save(f"cycle-levers-{name}", dict(dataset=name, task=task, k=a.k, seeds=a.seeds, n=len(lab0), n_skipped=len(errors),
         skipped=dict(list(errors.items())[:20]), rhythm_found_share=found, results=out, cpu_model=cpu,
         feature_seconds=feat_s, wall_seconds=time.perf_counter() - t0))
