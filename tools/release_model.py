#!/usr/bin/env python
"""Rebuild the model that ships with the package (heartbeat_nbdev/released/): the `screening` preset, its operating point
chosen on its own patient-grouped cross-validation, then trained on every labelled PASCAL recording.

    flock /tmp/heavy.lock python tools/release_model.py          # every stage: 45-60 min on 2 CPU cores
    python tools/release_model.py --stages write                  # only rewrite heartbeat_nbdev/released/ from the saved CV and fit

Stages (each writes into --work, default models/release, git-ignored):
  cv     5-fold patient-grouped CV of the preset's recipe (one training seed, 42; folds drawn with seed 42, the folds of
         bench/results/ablation): out-of-fold recording predictions -> WORK/oof.csv, WORK/cv.json
  fit    the same recipe trained on all labelled recordings (`heartbeat-train --preset screening --all-data`, seed 42)
         -> WORK/model (safetensors + model.json), exported to ONNX (ONNX Runtime vs PyTorch checked on real windows)
  quantise  float16 weights (the model must fit 10 MB): rounded on all weight tensors, and if that moves a probability
         by more than 1e-3 from PyTorch (256 real windows), the most sensitive tensors (`release.fp16_sensitivity`)
         stay float32 until it does not, within 9.9 MB; every CV fold's model is rounded the same way and scored
         again on its fold (WORK/oof-onnx16.csv, WORK/quant.json)
  write  temperature and class weights chosen on WORK/oof.csv (`recipe.fit_temperature`, `recipe.choose_operating_point`
         with `recipe.OPERATING_TARGET`), their cross-fitted figures (`recipe.crossfit`: each fold decided with settings
         chosen on the other four), then heartbeat_nbdev/released/: model.onnx, model.json (the operating point and where it
         came from), SHA256SUMS, predictions.json (the bundled recordings as this model answers them), MODEL_CARD.md;
         (the docs page nbs/model_card.ipynb includes the card).
The model ships as ONNX only: float32 weights when they fit the 10 MB limit (the `screening` preset's light_cnn is about
1 MB), float16 weights otherwise (MobileNetV2 with fastai's head is 14 MB in float32), within the rules of the `write` stage.
"""
import argparse, json, os, sys, time, shutil, datetime, warnings
from pathlib import Path
import numpy as np, pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from heartbeat_nbdev import __version__
from heartbeat_nbdev.data import get_recordings, find_data_path
from heartbeat_nbdev.spectrogram import SpecConfig
from heartbeat_nbdev.train_cli import PRESETS, resolve_preset
from heartbeat_nbdev.train import training_windows, train, save_model
from heartbeat_nbdev.recipe import cv_predictions, machine_info, oof_classes, summarise, fmt_summary, oof_metrics, fit_temperature, choose_operating_point, crossfit, OPERATING_TARGET
from heartbeat_nbdev.model import temperature_scale, export_onnx, load_model, read_model_meta, TorchRunner, OnnxRunner, window_batch
from heartbeat_nbdev.core import file_sha256

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument('--stages', default='cv,fit,quantise,write', help='comma-separated: cv, fit, quantise, write')
ap.add_argument('--data', default=None, help='PASCAL folder (default $HEARTBEAT_DATA, then data/heartbeat-sounds)')
ap.add_argument('--weights', default=None, help='ImageNet MobileNetV2 state dict, for a preset that starts from ImageNet (default $HEARTBEAT_WEIGHTS/mobilenet_v2-b0353104.pth, else torchvision\'s cache)')
ap.add_argument('--work', default='models/release', help='working folder (CV predictions, the trained model)')
ap.add_argument('--out', default=str(ROOT/'heartbeat_nbdev'/'released'), help='the released folder (package data)')
ap.add_argument("--card-page", default="", help="also write the card here (the docs page nbs/model_card.ipynb includes heartbeat_nbdev/released/MODEL_CARD.md itself)")
ap.add_argument('--spec-out', default='data/spectrograms')
ap.add_argument('--preset', default='screening')
ap.add_argument('--seed', type=int, default=42)
ap.add_argument('--k', type=int, default=5)
ap.add_argument('--epochs', type=int, default=None, help='override the preset (only for a quick trial of this tool)')
ap.add_argument('--img-size', type=int, default=None, help='override the preset (only for a quick trial of this tool)')
ap.add_argument('--version', default=None, help='release version (default: <package version>+<date>)')
a = ap.parse_args()
stages = [s for s in a.stages.split(',') if s]
if bad := set(stages) - {'cv', 'fit', 'quantise', 'write'}: sys.exit(f"error: unknown stage(s) {sorted(bad)}")
work = Path(a.work); work.mkdir(parents=True, exist_ok=True)
warnings.simplefilter('ignore')

p = resolve_preset(a.preset, {})
if a.epochs is not None: p['epochs'] = a.epochs
if a.img_size is not None: p['img_size'] = a.img_size
trial = a.epochs is not None or a.img_size is not None
kw = {k: p[k] for k in ('arch', 'epochs', 'bs', 'lr', 'wd', 'img_size', 'freeze_epochs', 'class_weights', 'augment', 'mixup')}
wf = Path(a.weights) if a.weights else (Path(os.environ['HEARTBEAT_WEIGHTS'])/'mobilenet_v2-b0353104.pth' if os.environ.get('HEARTBEAT_WEIGHTS') else None)
pretrained = False if PRESETS[a.preset].get('pretrained') is False else (str(wf) if wf is not None and wf.is_file() else True)   # a from-scratch preset (light_cnn) starts from random weights
cfg = SpecConfig()
root = find_data_path(a.data) if {'cv', 'fit', 'quantise'} & set(stages) else None
cmd = ' '.join(['python'] + [os.path.relpath(sys.argv[0], ROOT)] + sys.argv[1:])

def recordings():
    recs = get_recordings(root)
    print(f"{root}: {len(recs)} recordings, {recs.label.notna().sum()} labelled, {recs.error.notna().sum()} unreadable", flush=True)
    return recs

def _onnx_oof(files:dict, v:pd.DataFrame, classes:list, meta:dict, extra:pd.DataFrame) -> dict:
    "Recording probabilities of the validation windows `v` from each ONNX file of `files` (fed as `heartbeat-predict` feeds them)."
    from heartbeat_nbdev.train import pool_windows
    x = window_batch(list(v.img), (meta['img_size'],)*2 if isinstance(meta['img_size'], int) else tuple(meta['img_size']))
    out = {}
    for name, f in files.items():
        run = OnnxRunner(f, meta, check_sha=False)   # the float16 copy is not the file model.json's digest names
        pw = np.concatenate([run(x[i:i+64]) for i in range(0, len(x), 64)])
        out[name] = pool_windows(v, pw, classes).rename(columns={c: f'p_{c}' for c in classes}).join(extra, on='path')
    return out

if 'cv' in stages:   # `recipe.cv_predictions`, keeping each fold's model to measure its ONNX and float16 forms on the same fold
    from heartbeat_nbdev import release
    recs = recordings(); t0 = time.perf_counter()
    oofs = {'torch': [], 'onnx32': [], 'onnx16': []}
    for f in range(a.k):
        wins, _ = training_windows(recs, a.spec_out, cfg, valid_pct=1/a.k, fold=f, seed=a.seed, progress=False)
        learn, res = train(wins, seed=a.seed, progress=False, pretrained=pretrained, **kw)
        classes = res['recording']['classes']
        v = wins[wins.is_valid].reset_index(drop=True)
        extra = v.drop_duplicates('path').set_index('path')[[c for c in ('set', 'group') if c in v]]
        d = work/'cv'/f'fold{f}'
        if d.exists(): shutil.rmtree(d)
        save_model(learn, d, cfg, res); export_onnx(d); release.onnx_fp16_weights(d/'model.onnx', d/'model-fp16.onnx')
        rps = dict(torch=res['recording_preds'].rename(columns={c: f'p_{c}' for c in classes}).join(extra, on='path'),
                   **_onnx_oof(dict(onnx32=d/'model.onnx', onnx16=d/'model-fp16.onnx'), v, classes, read_model_meta(d), extra))
        for n, rp in rps.items(): oofs[n].append(rp.assign(fold=f, seed=a.seed, train_seconds=res['train_seconds']))
        print(f"cv fold {f}: {len(v.path.unique())} recordings, trained in {res['train_seconds']:.0f} s", flush=True)
    wall = time.perf_counter() - t0
    for n, parts in oofs.items():
        oof = pd.concat(parts, ignore_index=True); oof['path'] = [os.path.relpath(x, root) for x in oof.path]
        oof.to_csv(work/f'oof-{n}.csv', index=False)
    (work/'cv.json').write_text(json.dumps(dict(preset=a.preset, k=a.k, seed=a.seed, split_seed=a.seed, settings=kw, trial=trial,
        pretrained='ImageNet' if pretrained is not False else False, n_recordings=int(len(oof)), wall_seconds=wall,
        load_average_at_start=os.getloadavg()[0], command=cmd, **machine_info()), indent=1))
    print(f"cv: {len(oof)} out-of-fold recordings in {wall/60:.1f} min -> {work}/oof-*.csv; balanced accuracy (argmax) " +
          ', '.join(f"{n} {oof_metrics(pd.read_csv(work/f'oof-{n}.csv'))['balanced_accuracy']:.3f}" for n in oofs), flush=True)

if 'fit' in stages:
    recs = recordings(); t0 = time.perf_counter()
    wins, skipped = training_windows(recs, a.spec_out, cfg, fold=0, seed=a.seed, progress=False)
    wins['is_valid'] = False
    learn, res = train(wins, pretrained=pretrained, seed=a.seed, progress=False, **kw)
    res['settings'].update(merge=None, fold=None, all_data=True, preset=a.preset, spec_config=cfg.key, split_seed=a.seed, n_skipped=int(len(skipped)))
    md = work/'model'
    if md.exists(): shutil.rmtree(md)
    save_model(learn, md, cfg, res)
    # ONNX checked against PyTorch on real windows (the first 64 windows of the training set), not only on random ones
    model, meta = load_model(md)
    x = window_batch(list(wins.img.iloc[::max(1, len(wins)//256)]), (meta['img_size'],)*2 if isinstance(meta['img_size'], int) else tuple(meta['img_size']))
    export_onnx(md, check_windows=x[:8]); meta = read_model_meta(md)   # model.json now names the ONNX file's digest
    from heartbeat_nbdev import release
    release.onnx_fp16_weights(md/'model.onnx', md/'model-fp16.onnx')
    pt = TorchRunner(model, meta)(x)
    d = float(np.abs(OnnxRunner(md/'model.onnx', meta)(x) - pt).max()); d16 = float(np.abs(OnnxRunner(md/'model-fp16.onnx', meta, check_sha=False)(x) - pt).max())
    (work/'fit.json').write_text(json.dumps(dict(preset=a.preset, seed=a.seed, settings=res['settings'], trial=trial, train_seconds=res['train_seconds'],
        wall_seconds=time.perf_counter() - t0, n_recordings=int(wins.path.nunique()), n_windows=int(len(wins)), n_skipped=int(len(skipped)),
        onnx_vs_torch_max_abs_diff=d, onnx_fp16_vs_torch_max_abs_diff=d16, onnx_parity_windows=int(len(x)), onnx_bytes=(md/'model.onnx').stat().st_size,
        onnx_fp16_bytes=(md/'model-fp16.onnx').stat().st_size,
        load_average_at_start=os.getloadavg()[0], command=cmd, **machine_info()), indent=1))
    print(f"fit: {wins.path.nunique()} recordings, {len(wins)} windows, trained in {res['train_seconds']:.0f} s; model.onnx "
          f"{(md/'model.onnx').stat().st_size/1e6:.1f} MB (float16 weights {(md/'model-fp16.onnx').stat().st_size/1e6:.1f} MB), ONNX vs PyTorch "
          f"max |dp| {d:.1e} (float16 weights {d16:.1e}) on {len(x)} real windows", flush=True)

if 'quantise' in stages:   # float16 weights within 1e-3 of PyTorch: the tensors that move the probabilities most stay float32, within the size limit
    from heartbeat_nbdev import release
    from heartbeat_nbdev.train import pool_windows
    recs = recordings(); md = work/'model'; fitj = json.loads((work/'fit.json').read_text()); t0 = time.perf_counter()
    model, meta = load_model(md); sz = (meta['img_size'],)*2 if isinstance(meta['img_size'], int) else tuple(meta['img_size'])
    wins, _ = training_windows(recs, a.spec_out, cfg, fold=0, seed=a.seed, progress=False)
    x = window_batch(list(wins.img.iloc[::max(1, len(wins)//256)]), sz)
    pt = TorchRunner(model, meta)(x)
    def parity(keep):
        release.onnx_fp16_weights(md/'model.onnx', md/'model-fp16.onnx', keep=keep)
        return float(np.abs(OnnxRunner(md/'model-fp16.onnx', meta, check_sha=False)(x) - pt).max()), (md/'model-fp16.onnx').stat().st_size
    keep, (d, size) = [], parity(())
    ranking = release.fp16_sensitivity(md/'model.onnx', x[:64]) if d > 1e-3 else []
    print(f"quantise: all float16 {d:.1e} ({size/1e6:.2f} MB)", flush=True)
    for dd, name, saved in ranking:
        if d <= 1e-3 or size + saved > 9.9e6: break
        keep.append(name); d, size = parity(tuple(keep))
        print(f"  {name} kept float32 (alone it moved p by {dd:.1e}): {d:.1e}, {size/1e6:.2f} MB", flush=True)
    # the same tensors kept on every CV fold's model, scored again on its fold
    parts = []
    for f in range(a.k):
        fw, _ = training_windows(recs, a.spec_out, cfg, valid_pct=1/a.k, fold=f, seed=a.seed, progress=False)
        v = fw[fw.is_valid].reset_index(drop=True); fd = work/'cv'/f'fold{f}'; fm = read_model_meta(fd)
        release.onnx_fp16_weights(fd/'model.onnx', fd/'model-fp16.onnx', keep=tuple(keep))
        extra = v.drop_duplicates('path').set_index('path')[[c for c in ('set', 'group') if c in v]]
        rp = _onnx_oof(dict(onnx16=fd/'model-fp16.onnx'), v, fm['classes'], fm, extra)['onnx16']
        parts.append(rp.assign(fold=f, seed=a.seed))
    oof16 = pd.concat(parts, ignore_index=True); oof16['path'] = [os.path.relpath(p_, root) for p_ in oof16.path]
    oof16.to_csv(work/'oof-onnx16.csv', index=False)
    o32 = pd.read_csv(work/'oof-onnx32.csv').set_index('path').loc[oof16.path]; pc = [c for c in oof16 if c.startswith('p_')]
    dcv = float(np.abs(o32[pc].to_numpy() - oof16[pc].to_numpy()).max())
    (work/'quant.json').write_text(json.dumps(dict(keep_float32=keep, onnx_fp16_vs_torch_max_abs_diff=d, onnx_fp16_bytes=size, parity_windows=int(len(x)),
        sensitivity=ranking[:20], cv_recording_max_abs_diff_vs_float32=dcv, wall_seconds=time.perf_counter() - t0, command=cmd, **machine_info()), indent=1))
    fitj.update(onnx_fp16_vs_torch_max_abs_diff=d, onnx_fp16_bytes=size, onnx_fp16_keep_float32=keep)
    (work/'fit.json').write_text(json.dumps(fitj, indent=1))
    print(f"quantise: {len(keep)} tensor(s) kept float32; float16 model {size/1e6:.2f} MB, max |dp| vs PyTorch {d:.1e} on {len(x)} real windows; "
          f"CV recordings vs float32 ONNX {dcv:.1e}", flush=True)

if 'write' in stages:
    from heartbeat_nbdev import release
    from heartbeat_nbdev.recipe import weighted_pred
    cvj = json.loads((work/'cv.json').read_text()); fitj = json.loads((work/'fit.json').read_text())
    qj = json.loads((work/'quant.json').read_text()) if (work/'quant.json').exists() else {}
    oofs = {n: pd.read_csv(work/f'oof-{n}.csv') for n in ('torch', 'onnx32', 'onnx16')}
    xfs = {n: crossfit(o, calibrate=True, operating_point=OPERATING_TARGET) for n, o in oofs.items()}   # each fold decided with settings from the other four
    ba = lambda o: oof_metrics(o)['balanced_accuracy']
    # float32 weights when they fit 10 MB (nothing rounded); otherwise float16 weights, only if they cost at most 0.005 of CV
    # balanced accuracy (most probable class and cross-fitted operating point) and stay within 1e-3 of PyTorch
    cost = max(ba(oofs['onnx32']) - ba(oofs['onnx16']), ba(xfs['onnx32']) - ba(xfs['onnx16']))
    fits32 = fitj['onnx_bytes'] <= 10e6
    fp16_ok = not fits32 and cost <= 0.005 and fitj['onnx_fp16_vs_torch_max_abs_diff'] <= 1e-3
    if fits32: form, onnx_file = 'onnx32', work/'model'/'model.onnx'
    elif fp16_ok: form, onnx_file = 'onnx16', work/'model'/'model-fp16.onnx'
    else: sys.exit(f"error: float16 weights cost {cost:.4f} balanced accuracy (max |dp| {fitj['onnx_fp16_vs_torch_max_abs_diff']:.1e}) "
                   f"and float32 is {fitj['onnx_bytes']/1e6:.1f} MB: nothing fits the release rules")
    kept = fitj.get('onnx_fp16_keep_float32') or []; meta_arch = fitj['settings']['arch']
    decision = (f"Shipped: {'float16' if fp16_ok else 'float32'} weights" + (f" ({len(kept)} of the most sensitive tensors kept in float32, "
                f"`release.fp16_sensitivity`)" if fp16_ok and kept else '') + f". Rule (tools/release_model.py): float32 when it fits the 10 MB limit; "
                f"otherwise float16, only if it stays within 1e-3 of PyTorch and costs at most 0.005 CV balanced accuracy. This model "
                f"({meta_arch}) is {fitj['onnx_bytes']/1e6:.1f} MB in float32, {'within' if fits32 else 'over'} the limit. Measured cost of float16: "
                f"{cost:+.4f} (the larger of the two protocols' drops; each fold's own model was exported both ways and scored on its fold).")
    oof = oofs[form]; classes = oof_classes(oof); pc = [f'p_{c}' for c in classes]
    P = oof[pc].to_numpy(float)
    T = fit_temperature(P, oof.label, classes)
    opc = choose_operating_point(temperature_scale(P, T), oof.label, classes, **OPERATING_TARGET)
    thr = float(PRESETS[a.preset]['operating_point'].get('threshold', 0.5))
    cal = oof.copy(); cal[pc] = temperature_scale(P, T)
    cal['pred'] = weighted_pred(cal[pc].to_numpy(float), classes, opc['weights'])
    xf = xfs[form]
    fig = dict(argmax=summarise(oof), crossfit=summarise(xf), chosen_on_all=summarise(cal))
    pooled = dict(argmax=oof_metrics(oof), crossfit=oof_metrics(xf), chosen_on_all=oof_metrics(cal))
    uncertain = float((temperature_scale(P, T).max(1) < thr).mean())
    op = dict(weights=opc['weights'], temperature=T, threshold=thr,
              chosen_on=(f"this model's own {cvj['k']}-fold patient-grouped CV (training seed {cvj['seed']}, {len(oof)} out-of-fold recordings, "
                         f"the weights as shipped; tools/release_model.py): temperature by log-likelihood (recipe.fit_temperature), class "
                         f"weights by recipe.choose_operating_point (target {OPERATING_TARGET['target']} recall {OPERATING_TARGET['min_recall']} "
                         f"at {OPERATING_TARGET['keep']} recall {OPERATING_TARGET['keep_recall']}: {'met' if opc['met'] else 'not met'}; on the "
                         f"predictions it was chosen on {opc['target']} recall {opc['target_recall']:.2f} at {opc['keep']} recall "
                         f"{opc['keep_recall']:.2f}, cross-fitted {pooled['crossfit']['per_class'][opc['target']]['recall']:.2f} at "
                         f"{pooled['crossfit']['per_class'][opc['keep']]['recall']:.2f}); the threshold {thr:g} for 'uncertain' is the preset's"))
    storage = [dict(form=dict(torch='PyTorch (fastai pipeline, the reference)', onnx32='ONNX, float32 weights', onnx16='ONNX, float16 weights')[n],
                    bytes=dict(torch=0, onnx32=fitj['onnx_bytes'], onnx16=fitj['onnx_fp16_bytes'])[n],
                    max_abs_diff=dict(torch=0., onnx32=fitj['onnx_vs_torch_max_abs_diff'], onnx16=fitj['onnx_fp16_vs_torch_max_abs_diff'])[n],
                    ba_argmax=ba(oofs[n]), ba_crossfit=ba(xfs[n])) for n in ('onnx32', 'onnx16')]
    version = a.version or f"{__version__}+{datetime.date.today().strftime('%Y%m%d')}"
    fitj = {**fitj, 'shipped_form': 'ONNX, float16 weights, float32 arithmetic' if fp16_ok else 'ONNX, float32', 'shipped_bytes': onnx_file.stat().st_size}
    meta = release.write_release(work/'model', a.out, op, version=version, onnx_file=onnx_file,
        provenance=dict(preset=a.preset, trained_on=f"all {fitj['n_recordings']} labelled PASCAL recordings (heartbeat-sounds, the shared development copy)",
                        command=cmd, commands=list(dict.fromkeys(c for c in (cvj.get('command'), fitj.get('command'), qj.get('command'), cmd) if c)),
                        commit=f"{fitj.get('commit')} (trained), {machine_info()['commit']} (this card)", cv=cvj, fit=fitj, quantise=qj, operating_point_search=opc, uncertain_share_oof=uncertain,
                        float16_cost=cost, cv_figures={k: fmt_summary(v) for k, v in fig.items()},
                        cv_pooled_recalls={k: {c: m['per_class'][c]['recall'] for c in classes} for k, m in pooled.items()}),
        figures=dict(summary={k: fmt_summary(v) for k, v in fig.items()}, pooled=pooled, storage=storage, storage_decision=decision),
        card_page=a.card_page or None)
    res = release.check_release(a.out)
    print(f"write: {a.out} (version {version}, {res['bytes']/1e6:.1f} MB, sha256 {res['onnx_sha256'][:16]}...); temperature {T:.3f}, weights "
          f"{opc['weights']}; cross-fitted balanced accuracy {fig['crossfit']['balanced_accuracy'][0]:.3f} ± {fig['crossfit']['balanced_accuracy'][1]:.3f}; "
          f"float16 cost {cost:+.4f}; check_release: {res}", flush=True)
