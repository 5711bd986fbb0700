"""Benchmark: the transfer table. Train on each database and on their union, test on each of the others; plus
leave-one-database-out inside PhysioNet 2016 (train on three of b, c, d, f, test on the fourth).

    python bench/transfer.py [--task abnormal] [--epochs 1] [--img-size 64] [--max-test 200] [--only pascal,physionet2016]

A SMALL, FAST setting, not the reference recipe: MobileNetV2 from torchvision's ImageNet file in $HEARTBEAT_WEIGHTS,
64 px, class-weighted loss, 1 epoch, batch 32, lr 1e-3, on the shared copies found as `heartbeat-data list` shows.
"In-database" rows are scored on the model's own patient-safe validation fold (fold 0 of 5); cross-database rows on up
to --max-test random usable recordings of the other database (all of them with --max-test 0). Task `abnormal` is the one
all four databases share. PhysioNet 2016 and Yaseen publish no patient ids (record/clip = group): their in-database
figures are optimistic. Development figures only: the hidden test sets were never used.
Writes bench/results/transfer.json (after every row, so a stopped run keeps what it finished) and transfer.md.
"""
import argparse, json, os, platform, subprocess, sys, time, warnings
from pathlib import Path
import pandas as pd
from heartbeat_nbdev.data import DATABASES, NO_PATIENT_IDS, have_database
from heartbeat_nbdev.tasks import load_task
from heartbeat_nbdev.evaluate import score_model
from heartbeat_nbdev.spectrogram import SpecConfig
from heartbeat_nbdev.train_cli import run_training
from heartbeat_nbdev.train import training_windows, train, save_model
from heartbeat_nbdev.backbones import shared_weights_file

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument('--task', default='abnormal')
ap.add_argument('--epochs', type=int, default=1)
ap.add_argument('--img-size', type=int, default=64)
ap.add_argument('--max-test', type=int, default=200)
ap.add_argument('--only', default=','.join(DATABASES), help='databases to include')
ap.add_argument('--no-lodo', action='store_true', help='skip leave-one-database-out inside PhysioNet 2016')
ap.add_argument('--models', default='models/transfer')
ap.add_argument('--spec-out', default='data/spectrograms')
ap.add_argument('--out', default='bench/results')
ap.add_argument('--workers', type=int, default=os.cpu_count())
ap.add_argument('--md-only', action='store_true', help='only write transfer.md from an existing transfer.json')
ap.add_argument('--stopped', default=None, help='with --md-only: why the run stopped early')
a = ap.parse_args()
warnings.simplefilter('ignore')
w = shared_weights_file()
if w is None: sys.exit("error: mobilenet_v2-b0353104.pth not found: set $HEARTBEAT_WEIGHTS to the folder holding it")
dbs = [n for n in a.only.split(',') if have_database(n)]
small = dict(arch='mobilenet_v2', weights=str(w), img_size=a.img_size, epochs=a.epochs, class_weights=True, workers=a.workers, spec_out=a.spec_out)
meta = dict(command=' '.join(['python'] + sys.argv), task=a.task,
            commit=subprocess.run(['git', '-C', str(Path(__file__).parent), 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True).stdout.strip(),
            machine=f"{platform.machine()}, {os.cpu_count()} cores, no GPU, 5-minute load average {os.getloadavg()[1]:.1f} at start",
            setting=f"mobilenet_v2 ImageNet, {a.img_size} px, class-weighted, {a.epochs} epochs, batch 32, lr 1e-3; cross-database tests on up to {a.max_test or 'all'} recordings",
            databases=dbs, rows=[])
out = Path(a.out); out.mkdir(parents=True, exist_ok=True)

def write_md(meta):
    "transfer.md from the rows so far; a run stopped before the end (no wall_seconds) is marked partial."
    df = pd.DataFrame(meta['rows'])
    done = f"total wall time {meta['wall_seconds']} s" if 'wall_seconds' in meta else \
           f"PARTIAL RUN: stopped before the end ({meta.get('stopped', 'time ran out')}); the rows below are all that finished"
    md = [f"# Transfer table ({meta['task']})", '', f"Command: `{meta['command']}` at commit {meta['commit']} on {meta['machine']}; {done}.",
          f"Setting: {meta['setting']}. Development figures on the shared copies (the hidden test sets were never used).", '',
          '| ' + ' | '.join(df.columns) + ' |', '|' + '---|'*len(df.columns)]
    md += ['| ' + ' | '.join('' if v is None or v != v else str(v) for v in r) + ' |' for r in df.itertuples(index=False)]
    (out/'transfer.md').write_text('\n'.join(md) + '\n')
    print('\n'.join(md))

if a.md_only:   # e.g. after stopping a run: render what transfer.json holds
    m = json.loads((out/'transfer.json').read_text())
    if a.stopped: m['stopped'] = a.stopped
    write_md(m); sys.exit(0)

def row(train_on, test_on, s, train_s, test_s, kind):
    db = s['by_database'].get(test_on, s) if test_on in s.get('by_database', {}) else s
    r = dict(kind=kind, train=train_on, test=test_on, n=db['n'], balanced_accuracy=round(db['balanced_accuracy'], 3),
             macc=round(db['macc'], 3) if 'macc' in db else None,
             recall_abnormal=round(db['recall'].get('abnormal', float('nan')), 3) if 'abnormal' in db['recall'] else None,
             recall_normal=round(db['recall'].get('normal', float('nan')), 3) if 'normal' in db['recall'] else None,
             train_seconds=round(train_s), test_seconds=round(test_s),
             note='no patient ids: optimistic' if kind != 'cross-database' and test_on in NO_PATIENT_IDS else '')
    meta['rows'].append(r); (out/'transfer.json').write_text(json.dumps(meta, indent=1))
    print(r, flush=True)

def fit(dataset, name):
    t0 = time.perf_counter()
    res = run_training(dataset=dataset, task=a.task, out=f'{a.models}/{name}', **small)
    return res, time.perf_counter() - t0

t_all = time.perf_counter()
for ds in dbs + (['union'] if len(dbs) > 1 else []):
    dataset = ','.join(dbs) if ds == 'union' else ds
    res, tr_s = fit(dataset, ds)
    ts = res['task_scores']
    for te in (dbs if ds == 'union' else [ds]):
        row(ds, te, ts, tr_s, 0, 'in-database' if ds != 'union' else 'union, own validation fold')
    if ds == 'union': continue
    for te in dbs:
        if te == ds: continue
        t0 = time.perf_counter()
        s = score_model(f'{a.models}/{ds}', load_task(te, a.task), a.task, out=f'{a.models}/{ds}/eval-{te}', max_recordings=a.max_test or None, progress=False, name=te)
        row(ds, te, s, tr_s, time.perf_counter() - t0, 'cross-database')

if 'physionet2016' in dbs and not a.no_lodo:
    recs = load_task('physionet2016', a.task); cfg = SpecConfig()
    for x in sorted(recs.set.dropna().unique()):
        t0 = time.perf_counter()
        wins, _ = training_windows(recs[recs.set != x], a.spec_out, cfg, n_workers=a.workers, progress=False)
        learn, res = train(wins, arch='mobilenet_v2', pretrained=str(w), epochs=a.epochs, img_size=a.img_size, class_weights=True, progress=False)
        save_model(learn, f'{a.models}/physionet2016-no-{x}', cfg, res); tr_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        s = score_model(f'{a.models}/physionet2016-no-{x}', recs[recs.set == x], a.task, progress=False, name=f'training-{x}')
        row(f'physionet2016 without training-{x}', f'physionet2016 training-{x}', s, tr_s, time.perf_counter() - t0, 'leave-one-database-out')
meta['wall_seconds'] = round(time.perf_counter() - t_all)
(out/'transfer.json').write_text(json.dumps(meta, indent=1))

write_md(meta)
