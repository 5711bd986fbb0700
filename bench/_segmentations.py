"""CirCor's expert segmentations as the segmenter benchmarks read and score them (bench/segmenter_springer.py, bench/segmenter_cnn.py)."""
import time
from pathlib import Path
import numpy as np
from heartbeat_nbdev.emissions import springer_features
from heartbeat_nbdev.cycles import read_states, frame_states, match_f1, read_circor_segmentation
from heartbeat_nbdev.spectrogram import load_audio
from heartbeat_nbdev.audio import AudioError
from heartbeat_nbdev.data import find_database

def read_recordings(cfg, limit=0, keep_audio=False, t0=None):
    "(recordings: name, patient, tsv, F (`springer_features`), lab (`frame_states`) and, with `keep_audio`, y; skipped errors) of every CirCor `.tsv` (the first `limit`)."
    t0 = time.perf_counter() if t0 is None else t0
    recs, skipped = [], []
    for tsv in sorted(Path(find_database('circor2022')).rglob('*.tsv'))[:limit or None]:
        try:
            seg = read_states(tsv); y = load_audio(tsv.with_suffix('.wav'), cfg)
        except (ValueError, AudioError) as e: skipped.append(str(e)); print(f"skipped: {e}"); continue
        F = springer_features(y, cfg.sr)
        recs.append(dict(name=tsv.stem, patient=tsv.name.split('_')[0], tsv=tsv, **(dict(y=y) if keep_audio else {}), F=F, lab=frame_states(seg, len(F))))
    print(f"{len(recs)} recordings ({len(skipped)} skipped), features in {time.perf_counter() - t0:.0f} s", flush=True)
    return recs, skipped

def patient_fold_of(recs, folds):
    "{patient: fold}: the patients shuffled with seed 0, dealt into `folds` folds."
    pats = np.array(sorted({r['patient'] for r in recs})); rng = np.random.default_rng(0)
    return dict(zip(rng.permutation(pats), np.arange(len(pats)) % folds))

def expert_rate(tsv):
    "Heart rate (BPM) from the expert S1 starts: the mean S1-to-S1 interval, pauses over 1.6 times the median left out."
    d = read_states(tsv); s1 = d.start[d.state == 1].to_numpy(); rr = np.diff(s1)
    rr = rr[rr < 1.6*np.median(rr)] if len(rr) else rr
    return 60/rr.mean() if len(rr) else np.nan

def score(sounds, tsv, tol):
    "S1 and S2 F1 (and counts) of found sounds against the expert ones, within the annotated span, at tolerance `tol` (s)."
    s1, s2, lo, hi = read_circor_segmentation(tsv)
    inside = (sounds.t >= lo - tol) & (sounds.t <= hi + tol)
    r1, r2 = match_f1(sounds.t[inside & (sounds.label == 'S1')], s1, tol), match_f1(sounds.t[inside & (sounds.label == 'S2')], s2, tol)
    return dict(s1_f1=r1['f1'], s2_f1=r2['f1'], s1_hits=round(r1['precision']*r1['n_pred']), s1_found=r1['n_pred'], s1_true=r1['n_true'],
                s2_hits=round(r2['precision']*r2['n_pred']), s2_found=r2['n_pred'], s2_true=r2['n_true'])
