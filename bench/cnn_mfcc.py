"""The CNN beside the cycle-level MFCC features: a lever measured on the joint benchmark's own folds.

    flock /tmp/heavy.lock python bench/cnn_mfcc.py                       # from bench/results/joint/single-s42.csv.gz
    python bench/joint.py --table                                        # the rows join the joint table

For each database scored (PASCAL 5 classes, PhysioNet 2016 abnormal, CirCor murmur), on the folds of the CNN's
out-of-fold file (`bench/joint.py`, `joint.joint_folds`): the classical MFCC baseline with the cycle-level blocks that
`bench/cycle_levers.py` measured (`+all`: phase spectra relative to S1/S2, mean 2-cycle image, rhythm measures;
`fit_baseline`, balanced logistic regression, seed 42) is fitted on the other folds' labelled recordings and answers
the fold's recordings. Two rows are written beside the CNN's, in its format (so `joint.joint_scores`, the CirCor
patient decision included, scores them the same way):
- `mfcc-all`: the MFCC baseline with the cycle blocks alone;
- `<cnn row>+mfcc`: the mean of the two models' recording probabilities (equal weights, fixed before looking: nothing
  is chosen on the folds).
Features are cached in data/cycle-levers/ (git-ignored), computed by `bench/cycle_levers.py`'s worker.
-> bench/results/joint/mfcc-all-s<seed>.csv.gz, <row>+mfcc-s<seed>.csv.gz (+ .json: command, commit, machine, load, wall time)
"""
import argparse, json, os, sys, time, warnings
from pathlib import Path
import numpy as np, pandas as pd
sys.path.insert(0, str(Path(__file__).parent))
from cycle_levers import one, COLS, RHYTHM   # the cycle-level features, as that lever table measured them
from heartbeat_nbdev.baseline import feature_names, phase_names, cycle_names, fit_baseline
from heartbeat_nbdev.core import run_parallel
from heartbeat_nbdev.joint import head_oof
from heartbeat_nbdev.recipe import machine_info

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument('--cnn', default='bench/results/joint/single-s42.csv.gz', help="a `bench/joint.py` out-of-fold file")
ap.add_argument('--heads', default='pascal,physionet2016,circor2022')
ap.add_argument('--workers', type=int, default=2)
ap.add_argument('--cache', default='data/cycle-levers')
a = ap.parse_args()
warnings.simplefilter('ignore')
root = os.environ.get('HEARTBEAT_DATA_ROOT')
if not root: sys.exit("error: set HEARTBEAT_DATA_ROOT (the folder the out-of-fold paths are relative to)")
cnn_file = Path(a.cnn); cnn_row, seed = cnn_file.name.replace('.csv.gz', '').rsplit('-s', 1)
cnn = pd.read_csv(cnn_file, dtype={'patient': str})
t0, load = time.perf_counter(), os.getloadavg()
FEATS = feature_names() + phase_names() + cycle_names(2) + RHYTHM   # `bench/cycle_levers.py`'s '+all'
mfcc_parts, both_parts = [], []
for h in a.heads.split(','):
    g = head_oof(cnn, h)
    if not len(g): sys.exit(f"error: {cnn_file} has no rows of head {h!r}")
    cf = Path(a.cache)/f'{h}-joint.pkl'
    F = pd.read_pickle(cf) if cf.exists() else pd.DataFrame(columns=COLS)
    todo = [(p,) for p in dict.fromkeys(g.path) if p not in F.index]
    res = run_parallel(one, [(os.path.join(root, p),) for (p,) in todo], a.workers, 'cycle features', False)
    new = {os.path.relpath(p, root): v for p, (v, e) in res.items() if e is None}
    for p, (v, e) in res.items():
        if e is not None: print(f"skipped {e}", flush=True)
    if new:
        new = pd.DataFrame.from_dict(new, orient='index', columns=COLS)
        F = pd.concat([F, new]) if len(F) else new
        cf.parent.mkdir(parents=True, exist_ok=True); F.to_pickle(cf)
    g = g[g.path.isin(F.index)].reset_index(drop=True)
    classes = [c[2:] for c in g.columns if c.startswith('p_')]; pc = [f'p_{c}' for c in classes]
    Z = F.loc[g.path, FEATS].astype(float).reset_index(drop=True)
    P = np.full((len(g), len(classes)), np.nan)
    for f in sorted(g.fold.unique()):
        tr, va = ((g.fold != f) & g.label.notna()).to_numpy(), (g.fold == f).to_numpy()
        Zi = Z.fillna(Z[tr].median()).fillna(0).to_numpy()   # no rhythm found (NaN): the training folds' median
        m = fit_baseline(Zi[tr], g.label[tr].to_numpy(), 'logreg', 42)
        P[np.ix_(va, [classes.index(c) for c in m.classes_])] = m.predict_proba(Zi[va])
    P = np.nan_to_num(P)
    for parts, Q in ((mfcc_parts, P), (both_parts, (P + g[pc].to_numpy(float))/2)):
        o = g.copy(); o[pc] = Q.round(6); o['pred'] = np.array(classes)[Q.argmax(1)]; o['prob'] = Q.max(1).round(6)
        if parts is mfcc_parts: o['train_seconds'], o['trained_with'] = np.nan, h   # seconds, not minutes: not the CNN's
        parts.append(o)
    print(f"{h}: {len(g)} recordings, {g.fold.nunique()} folds, MFCC+cycles fitted ({time.perf_counter() - t0:.0f} s)", flush=True)
wall = time.perf_counter() - t0
for row, parts in (('mfcc-all', mfcc_parts), (f'{cnn_row}+mfcc', both_parts)):
    f = cnn_file.parent/f'{row}-s{seed}.csv.gz'
    pd.concat(parts, ignore_index=True).to_csv(f, index=False)
    Path(str(f).replace('.csv.gz', '.json')).write_text(json.dumps(dict(row=row, seed=int(seed), cnn=str(cnn_file), heads=a.heads,
        what=('MFCC baseline + phases + 2-cycle image + rhythm (bench/cycle_levers.py +all), logistic regression, on the CNN file\'s folds'
              if row == 'mfcc-all' else 'mean of the CNN\'s and the MFCC+cycles model\'s recording probabilities (equal weights)'),
        command=' '.join(['python'] + sys.argv), wall_seconds=wall, load_average_at_start=load, **machine_info()), indent=1))
    print(f"-> {f}", flush=True)
