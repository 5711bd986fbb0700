"""The heart-sound segmenter (`heartbeat_nbdev.cycles`) on CirCor 2022's hand-checked segmentations, and its rhythm
measures on PASCAL's classes.

    python bench/segmenter.py            # CirCor scores -> bench/results/segmenter.json (+ segmenter-circor.csv per recording)
                                         # PASCAL rhythm -> bench/results/rhythm-pascal.json (+ rhythm-pascal.csv per recording)
    python bench/segmenter.py --sweep    # first, the search that chose `prominence` and `min_gap` -> segmenter-sweep.json
    python bench/segmenter.py --train    # the learned segmenter instead: bench/segmenter_springer.py --train (CV table, shipped parameters)

CirCor patients are split by id: the search looks at even ids only; odd ids are scored with the settings fixed. A sound's
reference time is the middle of its annotated segment; F1 counts a detection within the tolerance of an unused reference.
The databases are found as `heartbeat-data` finds them ($HEARTBEAT_DATA_ROOT, $HEARTBEAT_DATA).
"""
import argparse, itertools, json, os, sys, time
from pathlib import Path
import numpy as np, pandas as pd
from sklearn.metrics import roc_auc_score
from heartbeat_nbdev.cycles import segment, score_segmentation, rhythm_features, RHYTHM_FEATURES
from heartbeat_nbdev.spectrogram import load_audio, SpecConfig
from heartbeat_nbdev.audio import AudioError
from heartbeat_nbdev.data import find_database, have_database
from heartbeat_nbdev.data import get_recordings, find_data_path
from heartbeat_nbdev.recipe import machine_info

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument('--sweep', action='store_true', help='search prominence x min_gap on the even-id CirCor patients first')
ap.add_argument('--prominence', type=float, default=0.1)
ap.add_argument('--min-gap', type=float, default=0.2)
ap.add_argument('--out', default='bench/results')
ap.add_argument('--train', action='store_true', help='run bench/segmenter_springer.py --train: CV of the learned segmenter, then fit heartbeat_nbdev/segmenter.json')
a = ap.parse_args()
if a.train:
    import subprocess; sys.exit(subprocess.call([sys.executable, str(Path(__file__).with_name('segmenter_springer.py')), '--train']))
out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
cfg = SpecConfig(bandpass=None)   # the envelope band-passes 25-400 Hz itself
command = ' '.join(['python'] + sys.argv)
t0 = time.perf_counter()

if not have_database('circor2022'): sys.exit("error: CirCor 2022 not found (heartbeat-data list)")
tsvs = sorted(Path(find_database('circor2022')).rglob('*.tsv'))
audio = {}
for tsv in tsvs:
    try: audio[tsv] = load_audio(tsv.with_suffix('.wav'), cfg)
    except AudioError as e: print(f"skipped: {e}")
half = lambda tsv: 'even ids (settings chosen here)' if int(tsv.name.split('_')[0]) % 2 == 0 else 'odd ids (held out)'

def circor_scores(prominence, min_gap, tols=(0.06, 0.1), which=None):
    rows = []
    for tsv, y in audio.items():
        if which and half(tsv) != which: continue
        s = segment(y, prominence=prominence, min_gap=min_gap)
        for tol in tols: rows.append(dict(recording=tsv.stem, patients=half(tsv), tol_s=tol, **score_segmentation(s, tsv, tol)))
    return pd.DataFrame(rows)

if a.sweep:
    grid = []
    for p, g in itertools.product((0.05, 0.1, 0.15, 0.2, 0.3, 0.4), (0.1, 0.15, 0.2, 0.25)):
        r = circor_scores(p, g, tols=(0.1,), which='even ids (settings chosen here)')
        grid.append(dict(prominence=p, min_gap=g, s1_f1=r.s1_f1.mean(), s2_f1=r.s2_f1.mean(), sound_f1=r.sound_f1.mean()))
        print(grid[-1], flush=True)
    best = max(grid, key=lambda d: d['s1_f1'])
    (out/'segmenter-sweep.json').write_text(json.dumps(dict(grid=grid, best=best, criterion='mean S1 F1 at 0.1 s, even-id patients',
        command=command, wall_seconds=time.perf_counter() - t0, **machine_info()), indent=1))
    print(f"best: {best}")

r = circor_scores(a.prominence, a.min_gap)
r.round(4).to_csv(out/'segmenter-circor.csv', index=False)
summ = r.groupby(['patients', 'tol_s']).agg(recordings=('recording', 'size'), s1_f1=('s1_f1', 'mean'), s2_f1=('s2_f1', 'mean'),
                                            sound_f1=('sound_f1', 'mean'), s1_f1_median=('s1_f1', 'median'),
                                            cycle_within_10pct=('cycle_error', lambda e: float((e < 0.1).mean()))).reset_index()
(out/'segmenter.json').write_text(json.dumps(dict(settings=dict(prominence=a.prominence, min_gap=a.min_gap), n_recordings=len(audio),
    summary=summ.to_dict('records'), command=command, wall_seconds=time.perf_counter() - t0, **machine_info()), indent=1))
print(summ.round(3).to_string())

# PASCAL: rhythm measures of every labelled, readable recording; each class against the normal recordings of its own sets
t1 = time.perf_counter()
root = find_data_path(); recs = get_recordings(root); recs = recs[recs.error.isna() & recs.label.notna()]
rows = []
for p, lbl, st in zip(recs.path, recs.label, recs.set):
    try: y = load_audio(p, cfg)
    except AudioError as e: print(f"skipped: {e}"); continue
    rows.append(dict(path=os.path.relpath(p, root), label=lbl, set=st, **rhythm_features(segment(y, prominence=a.prominence, min_gap=a.min_gap))))
rh = pd.DataFrame(rows); rh.round(4).to_csv(out/'rhythm-pascal.csv', index=False)
auc, med = [], []
for c in sorted(set(rh.label) - {'normal'}):
    sets = sorted(rh[rh.label == c].set.unique())
    d = rh[rh.set.isin(sets) & rh.label.isin([c, 'normal'])]
    auc.append({'class': c, 'sets': '+'.join(sets), 'n': int((d.label == c).sum()), 'n_normal': int((d.label == 'normal').sum()),
                **{f: float(roc_auc_score(d.label == c, d[f])) for f in RHYTHM_FEATURES}})
for c, g in rh.groupby('label'): med.append({'class': c, 'n': len(g), **{f: float(g[f].median()) for f in RHYTHM_FEATURES}})
(out/'rhythm-pascal.json').write_text(json.dumps(dict(auc=auc, medians=med, settings=dict(prominence=a.prominence, min_gap=a.min_gap),
    note='ROC AUC of each rhythm measure alone, the class against the normal recordings of the same PASCAL sets; medians per class',
    command=command, wall_seconds=time.perf_counter() - t1, **machine_info()), indent=1))
print(pd.DataFrame(auc).round(2).to_string()); print(pd.DataFrame(med).round(2).to_string())
