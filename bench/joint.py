"""The joint model against single-database models on the same patient-grouped folds, each database scored on its own protocol.

    flock /tmp/heavy.lock python bench/joint.py --rows single,joint --seeds 42       # 5-fold CV of each database alone, then of all four together
    flock /tmp/heavy.lock python bench/joint.py --rows loso-single,loso-joint         # PhysioNet 2016 leave-one-site-out (b, c, d, f)
    flock /tmp/heavy.lock python bench/joint.py --rows single-cyc2                    # the cycle lever: windows of 2 heart cycles from S1
    flock /tmp/heavy.lock python bench/joint.py --rows loso-single-dev                # the site lever: device augmentation
    python bench/joint.py --table                                                     # only rebuild the table from the saved files

Rows: `single` trains one model per database (`joint.joint_cv(train_heads=[db])`), `joint` one model over all four
(`HEADS`: PASCAL 5 classes, PhysioNet abnormal, CirCor murmur, Yaseen 5 classes), database-balanced batches; both on
`joint.joint_folds(k, seed)`. `loso-single` is PhysioNet alone with its sites as folds (train on three, score the fourth);
`loso-joint` adds every labelled recording of the other three databases to the training side of each fold (PhysioNet is
the only head scored). A row name ending in `-cyc<k>` (e.g. `single-cyc2`) is that row with windows of k heart cycles
starting at S1 (`SpecConfig(cycles=k)`, the learned segmenter; fixed windows where no rhythm is found) instead of 3 s
windows, on the same folds; one ending in `-dev` (e.g. `loso-single-dev`) trains with device augmentation
(`train_joint(augment=True)`: each training batch through `pretrain.device_augment`, a random noise floor and EQ).
Recipe: `joint.train_joint` defaults (light_cnn from scratch, 64 x 128 px, 10 epochs, lr 3e-3,
batch 32, class weights within each head), each epoch drawing --per-head windows (2,000) for every head trained: a
joint model (4 heads, 8,000 a epoch) costs what the four single-database models together cost. Out-of-fold
recording predictions go to bench/results/joint/<row>-s<seed>.csv.gz with a .json beside it (command, commit, machine,
load, wall time); the table (bench/results/joint.md/.json) is `joint.joint_scores` of those files. Development figures.
"""
import argparse, json, os, re, sys, time, warnings
from pathlib import Path
import pandas as pd
from heartbeat_nbdev.joint import ALL_DATABASES, joint_table, joint_folds, joint_windows, joint_cv, joint_scores
from heartbeat_nbdev.recipe import machine_info, markdown_table
from heartbeat_nbdev.spectrogram import SpecConfig

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument('--rows', default='single,joint')
ap.add_argument('--seeds', default='42')
ap.add_argument('--k', type=int, default=5)
ap.add_argument('--fold-seed', type=int, default=42, help='seed of the folds (fixed: every row and seed on the same folds)')
ap.add_argument('--epochs', type=int, default=10)
ap.add_argument('--per-head', type=int, default=2000, help='windows drawn per epoch for each head trained (the same budget for a joint and a single-database model; 0: every training window once per epoch)')
ap.add_argument('--heads', default=','.join(ALL_DATABASES), help="the databases a `single` row trains one model each for (default all four)")
ap.add_argument('--out', default='bench/results/joint')
ap.add_argument('--spec-out', default='data/spectrograms')
ap.add_argument('--table', action='store_true')
a = ap.parse_args()
out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
ROWS = ('single', 'joint', 'loso-single', 'loso-joint')

def rel(p):   # paths relative to the data root (no machine's folders in bench/results)
    root = os.environ.get('HEARTBEAT_DATA_ROOT')
    return os.path.relpath(p, root) if root and str(p).startswith(root) else str(p)

if not a.table:
    warnings.simplefilter('ignore')
    t0 = time.perf_counter(); tab = joint_table(ALL_DATABASES)
    cache = {}
    def windows(kind, cycles=0):
        "Windows and images of the table with the folds of `kind` ('cv' or 'loso'), windows of `cycles` heart cycles if > 0, made once."
        if (kind, cycles) not in cache:
            f = joint_folds(tab, a.k, a.fold_seed) if kind == 'cv' else joint_folds(tab, by_site=('physionet2016',), always=tuple(d for d in ALL_DATABASES if d != 'physionet2016'))
            t = tab.assign(fold=f)
            wins, X, skipped = joint_windows(t[t.fold != -1], a.spec_out, SpecConfig(cycles=cycles))
            print(f"{kind}{f' ({cycles} cycles)' if cycles else ''}: {len(wins)} windows of {wins.path.nunique()} recordings ({len(skipped)} skipped) in {time.perf_counter() - t0:.0f} s", flush=True)
            cache[kind, cycles] = (wins.reset_index(drop=True), X, skipped)
        return cache[kind, cycles]
    def budget(n_heads): return a.per_head*n_heads or None   # windows per epoch
    for row in filter(None, a.rows.split(',')):
        m = re.fullmatch(r'(' + '|'.join(ROWS) + r')(?:-cyc(\d+))?(-dev)?', row)
        if not m: sys.exit(f"unknown row {row!r}; rows: {', '.join(ROWS)}, each optionally with -cyc<k> and then -dev")
        base, cycles, dev = m[1], int(m[2] or 0), bool(m[3])
        for seed in map(int, a.seeds.split(',')):
            f = out/f"{row}-s{seed}.csv.gz"
            if f.exists(): print(f"{f} exists: reused"); continue
            wins, X, skipped = windows('loso' if base.startswith('loso') else 'cv', cycles)
            load = os.getloadavg(); t1 = time.perf_counter()
            if base == 'single': oof = pd.concat([joint_cv(wins, X, train_heads=[db], seed=seed, epochs=a.epochs, samples_per_epoch=budget(1), augment=dev) for db in a.heads.split(',')], ignore_index=True)
            elif base == 'joint': oof = joint_cv(wins, X, seed=seed, epochs=a.epochs, samples_per_epoch=budget(4), augment=dev)
            elif base == 'loso-single': oof = joint_cv(wins, X, train_heads=['physionet2016'], seed=seed, epochs=a.epochs, samples_per_epoch=budget(1), augment=dev)
            else:
                oof = joint_cv(wins, X, seed=seed, epochs=a.epochs, samples_per_epoch=budget(4), augment=dev)
                oof = oof[oof['head'] == 'physionet2016']
            wall = time.perf_counter() - t1
            oof = oof.assign(path=[rel(p) for p in oof.path])
            oof.round(6).to_csv(f, index=False)
            Path(str(f).replace('.csv.gz', '.json')).write_text(json.dumps(dict(row=row, seed=seed, k=a.k, fold_seed=a.fold_seed, epochs=a.epochs, per_head=a.per_head, cycles=cycles, device_augmentation=dev, **(dict(heads=a.heads) if base == 'single' else {}),
                folds='PhysioNet 2016 sites b, c, d, f (leave-one-site-out)' if base.startswith('loso') else f'joint.joint_folds(k={a.k}, seed={a.fold_seed})',
                n_windows=int(len(wins)), n_skipped=int(len(skipped)), command=' '.join(['python'] + sys.argv), wall_seconds=wall,
                load_average_at_start=load, **machine_info()), indent=1))
            print(f"{row} seed {seed}: {wall/60:.1f} min -> {f}", flush=True)

files = sorted(out.glob('*-s*.csv.gz'))
if files:
    oofs = []
    for f in files:
        o = pd.read_csv(f, dtype={'patient': str}); o['row'] = f.name.rsplit('-s', 1)[0]; oofs.append(o)
    from heartbeat_nbdev.joint import head_oof
    from heartbeat_nbdev.recipe import crossfit, OPERATING_TARGET
    # + op: the operating point chosen on the other folds (cross-fitted, as bench/ablation.py does): PASCAL's murmur
    # screening target, PhysioNet's two recalls both >= 0.80 (then the best MAcc)
    TARGETS = dict(pascal=OPERATING_TARGET, physionet2016=dict(target='abnormal', min_recall=0.80, keep='normal', keep_recall=0.80, free=()))
    for o in list(oofs):
        for h, t in TARGETS.items():
            if (o['head'] == h).any(): oofs.append(crossfit(head_oof(o, h), operating_point=t).assign(row=o.row.iloc[0] + '+op'))
    sc = pd.concat([joint_scores(o).assign(row=o.row.iloc[0]) for o in oofs], ignore_index=True)
    cols = ['balanced_accuracy', 'macro_f1', 'recall_murmur', 'recall_normal', 'recall_abnormal', 'weighted_accuracy', 'recall_Present',
            'weighted_accuracy_any_recording', 'train_minutes']
    rows = []
    for (h, r), g in sc.groupby(['head', 'row'], sort=False):
        d = dict(database=h, model=r, seeds=len(g), recordings=int(g.recordings.iloc[0]))
        for c in cols:
            if c in g and g[c].notna().any():
                v = g[c].dropna(); d[c] = f"{v.mean():.3f}" + (f" ± {v.std(ddof=1):.3f}" if len(v) > 1 else '') if c != 'train_minutes' else f"{v.mean():.1f}"
        if 'balanced_accuracy_fold_std' in g: d['fold_spread'] = f"{g.balanced_accuracy_fold_std.mean():.3f}"
        rows.append(d)
    table = pd.DataFrame(rows).sort_values(['database', 'model']).fillna('–')
    # headers that wrap (the Results page's tables must fit 1280 px): words, not column names
    table = table.drop(columns=[c for c in ('seeds', 'macro_f1', 'recall_murmur', 'recall_normal', 'recall_abnormal') if c in table]).rename(columns=dict(
        recordings='recordings', balanced_accuracy='balanced accuracy (MAcc)', fold_spread='fold spread', recall_murmur='murmur recall',
        recall_normal='normal recall', recall_abnormal='abnormal recall', weighted_accuracy='patients: weighted accuracy',
        recall_Present='patients: Present recall', weighted_accuracy_any_recording='patients: any-recording rule', train_minutes='train min'))
    (out.parent/'joint.json').write_text(json.dumps(dict(scores=sc.to_dict('records'), table=table.to_dict('records'),
        what='joint model vs single-database models, patient-grouped CV on the shared data (development figures); '
             'balanced_accuracy is MAcc for PhysioNet 2016; weighted_accuracy is CirCor patient-level (learned decision, cross-fitted, Unknown counted)'), indent=1, default=str))
    (out.parent/'joint.md').write_text(markdown_table(table) + '\n')
    print(markdown_table(table))
