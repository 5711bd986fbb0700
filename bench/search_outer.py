"""The optuna search's best setting (`LEVERS['search']`) against `base`, outer fold by outer fold.

    python bench/search_outer.py            # after: python bench/ablation.py --rows search --seeds 42,43,44
    python bench/search_outer.py --rows base,search,base@mean

bench/search.py chose the setting on inner folds of outer fold 0's *training* side (bench/results/search.json), so
the recordings of outer folds 1-4 were inside the search: only outer fold 0 scores the setting on recordings the
search never saw. This prints and saves (bench/results/search-outer.json) recording-level balanced accuracy, macro-F1
and the murmur/normal/extrastole recalls of each row on fold 0 and on folds 1-4, mean over that row's seeds.
`base@mean` is `base` seed 42 rerun on the machine that ran `search` (the saved `base` seeds ran on another CPU).
"""
import argparse, json, sys
from pathlib import Path
import pandas as pd
from heartbeat_nbdev.recipe import run_metrics, machine_info

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument('--rows', default='base,search')
a = ap.parse_args()
res_dir = Path('bench/results/ablation'); search = json.loads(Path('bench/results/search.json').read_text())
clean = int(search['outer_fold'])
rows = {r: pd.concat([pd.read_csv(f) for f in sorted(res_dir.glob(f'{r}-s*.csv'))], ignore_index=True) for r in a.rows.split(',')}
cols = ['balanced_accuracy', 'macro_f1', 'recall_murmur', 'recall_normal', 'recall_extrastole']
out = dict(clean_fold=clean, command=' '.join(['python'] + sys.argv), **machine_info())
for r, oof in rows.items():
    rm = run_metrics(oof); out[f'{r}_seeds'] = sorted(int(s) for s in oof.seed.unique())
    for name, part in (('fold0_unseen', rm[rm.fold == clean]), ('folds1to4_inside_search', rm[rm.fold != clean])):
        out[f'{r}_{name}'] = {c: round(float(part[c].mean()), 4) for c in cols} | {'runs': len(part)}
        print(f"{r:7s} {name:24s} " + '  '.join(f"{c} {part[c].mean():.3f}" for c in cols) + f"  ({len(part)} runs, seeds {out[f'{r}_seeds']})")
Path('bench/results/search-outer.json').write_text(json.dumps(out, indent=1) + '\n')
