"""Compare the classical baseline and CNN variants on the same patient-safe split and metrics, in one table.

    python bench/compare.py                       # train whatever is missing, reuse models/<name>/ that exist
    python bench/compare.py --retrain             # train every CNN variant again
    python bench/compare.py --cv 5                # add patient-grouped 5-fold CV rows (baseline + a small CNN)
    python bench/compare.py --variants mobilenet_v2-imagenet-128,resnet50-scratch-128

CNN variants are named <arch>-<imagenet|scratch>-<img_size>[-cw] (-cw: class-weighted loss), trained with the reference recipe otherwise
(batch 32, 5 epochs, lr 1e-3, AdamW, one-cycle, wd 0) into models/<name>/. ImageNet weights come from torchvision's
cache, or from --weights-dir (a folder holding torchvision's files, e.g. ../shared/weights). Metrics are at recording
level (windows pooled); inference time is per recording from its WAV file, on the CPU, averaged over 20 validation
recordings. Writes bench/results/compare.md and .json and prints the table.
"""
import argparse, json, os, platform, time, warnings
from pathlib import Path
import numpy as np, pandas as pd, torch
from heartbeat_nbdev.data import get_recordings, patient_split, LABELS
from heartbeat_nbdev.spectrogram import SpecConfig
from heartbeat_nbdev.train import run_training, cross_validate, ARCHS, _imagenet_weights
from heartbeat_nbdev.inference import Predictor, predict
from heartbeat_nbdev.baseline import evaluate_baseline, crossval_baseline
from heartbeat_nbdev.recipe import markdown_table

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument('--variants', default='resnet50-scratch-224,resnet50-scratch-128,mobilenet_v2-imagenet-128,mobilenet_v2-scratch-128,mobilenet_v2-imagenet-128-cw')
ap.add_argument('--baselines', default='logreg,hgb')
ap.add_argument('--epochs', type=int, default=5)
ap.add_argument('--retrain', action='store_true')
ap.add_argument('--weights-dir', default=os.environ.get('HEARTBEAT_WEIGHTS', '../shared/weights'))
ap.add_argument('--cv', type=int, default=0, help='folds for cross-validation rows (0: none)')
ap.add_argument('--cv-variant', default='mobilenet_v2-imagenet-64', help='the small CNN cross-validated')
ap.add_argument('--cv-epochs', type=int, default=3)
ap.add_argument('--models', default='models')
ap.add_argument('--out', default='bench/results')
a = ap.parse_args()
warnings.simplefilter('ignore')
recs = get_recordings()
split = patient_split(recs)
classes = sorted(split.label.unique())

def parse_variant(name):
    cw = name.endswith('-cw')   # '-cw': loss weighted by inverse class frequency
    arch, pre, size = name.removesuffix('-cw').rsplit('-', 2)
    assert arch in ARCHS and pre in ('imagenet', 'scratch'), f"bad variant {name}: <arch>-<imagenet|scratch>-<size>"
    weights = None
    if pre == 'imagenet':
        files = [Path(a.weights_dir)/Path(w.url).name for w in _imagenet_weights(arch)]
        weights = next((str(f) for f in files if f.exists()), None)   # else: torchvision's cache (or a clear error)
    return arch, pre == 'imagenet', weights, int(size), cw

def cnn_row(name):
    arch, pre, weights, size, cw = parse_variant(name)
    out = Path(a.models)/name
    if a.retrain or not (out/'metrics.json').exists():
        run_training(out=str(out), arch=arch, weights=weights, no_pretrained=not pre, img_size=size, epochs=a.epochs, class_weights=cw)
    m = json.loads((out/'metrics.json').read_text())
    P = Predictor(out, device='cpu')
    va = split[split.is_valid].path.iloc[:20]
    predict(P, va.iloc[0])
    t0 = time.perf_counter()
    for p in va: predict(P, p)
    ms = (time.perf_counter() - t0)/len(va)*1000
    s, r = m['settings'], m['recording']
    return dict(model=f"{arch} (CNN{', class-weighted loss' if s.get('class_weights') else ''})", pretrained='ImageNet' if s['pretrained'] else 'no',
                image=f"{size}px", epochs=s['epochs'],
                balanced_accuracy=r['balanced_accuracy'], macro_f1=r['macro_f1'], accuracy=r['accuracy'],
                **{f"recall_{c}": r['per_class'][c]['recall'] for c in classes},
                train_min=m['train_seconds']/60, infer_ms=ms, device=s['device'])

def baseline_row(model):
    r = evaluate_baseline(recs, split, model=model, progress=False)
    m = r['recording']
    return dict(model=f"{model} (MFCC features)", pretrained='-', image='-', epochs='-', balanced_accuracy=m['balanced_accuracy'],
                macro_f1=m['macro_f1'], accuracy=m['accuracy'], **{f"recall_{c}": m['per_class'][c]['recall'] for c in classes},
                train_min=r['train_seconds']/60, infer_ms=r['predict_ms_per_recording'], device='cpu')

rows = [baseline_row(b) for b in a.baselines.split(',') if b] + [cnn_row(v) for v in a.variants.split(',') if v]
cv_rows = []
if a.cv:
    for b in a.baselines.split(','):
        s = crossval_baseline(recs, k=a.cv, model=b, progress=False)['summary']
        cv_rows.append(dict(model=f"{b} (MFCC features)", pretrained='-', image='-', epochs='-', folds=a.cv,
                            **{c: f"{s.loc[c, 'mean']:.3f} ± {s.loc[c, 'std']:.3f}" for c in ['balanced_accuracy', 'macro_f1'] + [f'recall_{c}' for c in classes]}))
    arch, pre, weights, size, cw = parse_variant(a.cv_variant)
    cache = Path(a.out)/f"cv-{a.cv_variant}-k{a.cv}-e{a.cv_epochs}.json"    # CNN cross-validation is slow on a CPU: reuse it
    if cache.exists() and not a.retrain: summ = json.loads(cache.read_text())
    else:
        df, summ = cross_validate(recs, k=a.cv, arch=arch, pretrained=(weights or True) if pre else False, img_size=size,
                                  epochs=a.cv_epochs, class_weights=cw, progress=False)
        cache.parent.mkdir(parents=True, exist_ok=True); cache.write_text(json.dumps(summ, indent=1))
        print(df.round(3).to_string(index=False))
    cv_rows.append(dict(model=f"{arch} (CNN{', class-weighted loss' if cw else ''})", pretrained='ImageNet' if pre else 'no', image=f"{size}px",
                        epochs=a.cv_epochs, folds=a.cv,
                        **{c: f"{summ[c]['mean']:.3f} ± {summ[c]['std']:.3f}" for c in ['balanced_accuracy', 'macro_f1'] + [f'recall_{c}' for c in classes]}))

tab = pd.DataFrame(rows)
hdr = (f"Validation split: {split.is_valid.sum()} recordings ({', '.join(f'{c} {n}' for c, n in split[split.is_valid].label.value_counts().sort_index().items())}), "
       f"patient-grouped fold 0 of 5, seed 42. Machine: {os.cpu_count()} CPU cores ({platform.machine()}), torch {torch.__version__}, "
       f"threads {torch.get_num_threads()}; CUDA {'yes' if torch.cuda.is_available() else 'no'}.")
fmt = {c: '{:.3f}'.format for c in tab.columns if c.startswith(('balanced', 'macro', 'accuracy', 'recall'))}
fmt.update(train_min='{:.1f}'.format, infer_ms='{:.0f}'.format)
md = hdr + '\n\n' + markdown_table(tab, fmt)
if cv_rows:
    md += f"\n\nPatient-grouped {a.cv}-fold cross-validation (mean ± std over folds, recording level):\n\n" + markdown_table(pd.DataFrame(cv_rows))
out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
(out/'compare.md').write_text(md + '\n')
(out/'compare.json').write_text(json.dumps(dict(split=rows, cv=cv_rows), indent=1, default=str))
print(md)
