"""Lever-by-lever ablation of the CNN recipe on patient-grouped 5-fold CV, over one or more training seeds.

    python bench/ablation.py --rows base,specaug --seeds 42            # train what is missing, reuse saved OOF files
    python bench/ablation.py --rows specaug-mixup --seeds 42,43,44
    python bench/ablation.py --baselines logreg,hgb                     # the MFCC baselines' out-of-fold predictions
    python bench/ablation.py --posthoc specaug                          # + calibration, + MFCC ensemble, + operating point
    python bench/ablation.py --table                                    # only rebuild the table from saved files

Every row is `heartbeat_nbdev.recipe.LEVERS[row]` on top of `recipe.BASE` (MobileNetV2 with torchvision's ImageNet
file, 128 px, class-weighted loss, batch 32, lr 1e-3, AdamW, one-cycle, wd 0). Out-of-fold recording predictions go to
bench/results/ablation/<row>-s<seed>.csv (paths relative to the data folder) with a .json beside it (command, commit,
machine, wall time); the table (bench/results/ablation.md/.json) is rebuilt from those files by `recipe.ablation_table`.
ImageNet weights: torchvision's cache, else --weights-dir (a folder holding mobilenet_v2-b0353104.pth).
"""
import argparse, json, os, sys, time, warnings
from pathlib import Path
from heartbeat_nbdev.data import get_recordings, find_data_path
import pandas as pd
from heartbeat_nbdev.recipe import BASE, LEVERS, cv_predictions, ablation_table, machine_info, crossfit, ensemble, OPERATING_TARGET, markdown_table
from heartbeat_nbdev.baseline import crossval_baseline

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument('--rows', default='base,specaug,specaug-mixup')
ap.add_argument('--seeds', default='42')
ap.add_argument('--k', type=int, default=5)
ap.add_argument('--weights-dir', default=os.environ.get('HEARTBEAT_WEIGHTS'))
ap.add_argument('--out', default='bench/results/ablation')
ap.add_argument('--table', action='store_true', help='only rebuild the table from the saved files')
ap.add_argument('--baselines', default='', help='MFCC baselines to cross-validate (logreg,hgb)')
ap.add_argument('--posthoc', default='', help='rows to derive cross-fitted calibration / ensemble / operating-point rows from')
ap.add_argument('--ensemble-with', default='mfcc-logreg')
a = ap.parse_args()
out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
if not a.table:
    warnings.simplefilter('ignore')
    root = find_data_path(); recs = get_recordings(root)
    wf = Path(a.weights_dir)/'mobilenet_v2-b0353104.pth' if a.weights_dir else None
    pretrained = str(wf) if wf is not None and wf.exists() else True
    for row in filter(None, a.rows.split(',')):
        for seed in map(int, a.seeds.split(',')):
            f = out/f"{row}-s{seed}.csv"
            if f.exists(): print(f"{f} exists: reused"); continue
            kw = {**BASE, **LEVERS[row]}
            t0 = time.perf_counter()
            oof = cv_predictions(recs, k=a.k, seed=seed, pretrained=pretrained, **kw)
            wall = time.perf_counter() - t0
            oof['path'] = [os.path.relpath(p, root) for p in oof.path]
            oof.to_csv(f, index=False)
            f.with_suffix('.json').write_text(json.dumps(dict(row=row, seed=seed, k=a.k, settings={**kw, 'pretrained': 'ImageNet' if pretrained else False},
                command=' '.join(['python'] + sys.argv), wall_seconds=wall, **machine_info()), indent=1))
            print(f"{row} seed {seed}: {wall/60:.1f} min -> {f}", flush=True)
    for b in filter(None, a.baselines.split(',')):
        f = out/f"mfcc-{b}-s42.csv"
        if f.exists(): print(f"{f} exists: reused"); continue
        t0 = time.perf_counter()
        rp = crossval_baseline(recs, k=a.k, model=b, seed=42, progress=False)['recording_preds']
        rp = rp.assign(seed=42, path=[os.path.relpath(p, root) for p in rp.path])
        rp.to_csv(f, index=False)
        f.with_suffix('.json').write_text(json.dumps(dict(row=f"mfcc-{b}", seed=42, k=a.k, settings=dict(model=b, features='MFCC+spectral, heartbeat_nbdev.baseline'),
            command=' '.join(['python'] + sys.argv), wall_seconds=time.perf_counter() - t0, **machine_info()), indent=1))
        print(f"mfcc-{b}: -> {f}", flush=True)

def load_row(name): return pd.concat([pd.read_csv(f) for f in sorted(out.glob(f"{name}-s*.csv"))], ignore_index=True)
def save_derived(name, df, src):
    for s_, g in df.groupby('seed'):
        f = out/f"{name}-s{s_}.csv"; g.to_csv(f, index=False)
        f.with_suffix('.json').write_text(json.dumps(dict(row=name, seed=int(s_), k=a.k, derived_from=src, wall_seconds=0.,
            command=' '.join(['python'] + sys.argv), **machine_info()), indent=1))
for row in filter(None, a.posthoc.split(',')):
    oof = load_row(row)
    save_derived(f"{row}+cal", crossfit(oof), [row])
    ens = ensemble(oof, load_row(a.ensemble_with))
    save_derived(f"{row}+{a.ensemble_with}", ens, [row, a.ensemble_with])
    save_derived(f"{row}+{a.ensemble_with}+cal", crossfit(ens), [row, a.ensemble_with])
    save_derived(f"{row}+op", crossfit(oof, operating_point=OPERATING_TARGET), [row])
    save_derived(f"{row}+{a.ensemble_with}+op", crossfit(ens, operating_point=OPERATING_TARGET), [row, a.ensemble_with])
    print(f"post-hoc rows of {row} written", flush=True)
tab = ablation_table(out)
(out.parent/'ablation.md').write_text(markdown_table(tab) + '\n')
tab.to_json(out.parent/'ablation.json', orient='records', indent=1)
print(tab.to_string())
