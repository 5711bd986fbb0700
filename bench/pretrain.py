"""Self-supervised pretraining of light_cnn for a CV (`recipe.PRETRAIN[name]`, `method='ssl'`), on its own: the first half of
`bench/ablation.py --rows light-ssl`, which reuses the file this writes.

    flock /tmp/heavy.lock python bench/pretrain.py --name ssl-pascal
    python bench/pretrain.py --table          # bench/results/pretrain.md from the saved CV rows (`pretrain.pretrain_table`)

Writes --models/pretrain-<name>.pth (keys of `backbones.light_cnn()`) with its record beside it, copied to
bench/results/pretrain-<name>.json: what audio (recordings and windows per database, what was left out), epochs,
seconds, machine, NT-Xent by epoch.
"""
import argparse, json, os, sys, warnings
from pathlib import Path
from heartbeat_nbdev.recipe import PRETRAIN
from heartbeat_nbdev.pretrain import pretrain_for, pretrain_table

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument('--name', default='ssl-pascal')
ap.add_argument('--models', default='models')
ap.add_argument('--img-size', default='64,128', help="height,width: the fine-tuning row's img_size")
ap.add_argument('--table', action='store_true', help='only write bench/results/pretrain.md from the saved rows')
ap.add_argument('--epochs', type=int, default=None, help="instead of PRETRAIN[name]'s (recorded): to fit the time a shared machine leaves")
ap.add_argument('--time-limit', type=float, default=None, help="seconds, instead of PRETRAIN[name]'s (recorded)")
a = ap.parse_args()
if a.table:
    from heartbeat_nbdev.recipe import markdown_table
    tab = pretrain_table('bench/results')
    Path('bench/results/pretrain.md').write_text(markdown_table(tab.drop(columns=['machine', 'command'])) + '\n\n' +
                                                 markdown_table(tab[['row', 'machine', 'command']]) + '\n')
    print(markdown_table(tab)); sys.exit(0)
kw = dict(PRETRAIN[a.name])
if a.epochs is not None: kw['epochs'] = a.epochs
if a.time_limit is not None: kw['time_limit'] = a.time_limit
if kw.get('method') != 'ssl': sys.exit(f"PRETRAIN[{a.name!r}] is not self-supervised (method='ssl'): bench/ablation.py trains it")
f = Path(a.models)/f'pretrain-{a.name}.pth'
if f.exists(): sys.exit(f"{f} exists: remove it to pretrain again")
warnings.simplefilter('ignore')
rec = pretrain_for(**{k: v for k, v in kw.items() if k != 'method'}, out=f, img_size=tuple(int(v) for v in a.img_size.split(',')), seed=42,
                   record=dict(name=a.name, recipe_pretrain=PRETRAIN[a.name], command=' '.join(['python'] + sys.argv), load_average_at_start=os.getloadavg()))
Path(f'bench/results/pretrain-{a.name}.json').write_text(json.dumps(rec, indent=1))
print(f"{f}: {rec['n_windows']} windows, {rec['epochs_run']} epochs, NT-Xent {rec['history'][0]['loss']:.3f} -> "
      f"{rec['history'][-1]['loss']:.3f} (chance {rec['chance_loss']:.3f}); {rec['wall_seconds']/60:.1f} min")
