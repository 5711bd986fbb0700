"""pyPCG-toolbox's segmenter on CirCor 2022's expert segmentations, scored as `bench/segmenter_springer.py` scores ours
(Springer's 100 ms around the annotated centre; detections inside the annotated span +-100 ms; F1 per recording and pooled;
heart rate within 5 BPM of the expert's 60 / mean S1-to-S1 interval). An optional, bench-only reference: neither the package
nor CI needs pyPCG. Install it outside the project's environment:

    python -m venv --system-site-packages /tmp/pypcg-venv && /tmp/pypcg-venv/bin/pip install pyPCG-toolbox
    PYTHONPATH=$PWD /tmp/pypcg-venv/bin/python bench/segmenter_pypcg.py      # -> bench/results/segmenter-pypcg.json (+ .csv)

Note the names: the index's `pyPCG` (v0.0.4) is an unrelated random-number generator (a binding of the PCG family of
generators, 2015); the phonocardiogram toolbox (Mueller, Goda et al.) is `pyPCG-toolbox` and imports as `pyPCG`.
Its learned segmenter (`pyPCG.lr_hsmm`, Springer's LR-HSMM) needs `hsmmlearn`, which is not on the index (the toolbox's
README says to install it from GitHub); where it cannot be imported, this script puts a placeholder module in its place so
that `pyPCG.segment` imports at all, and scores only the toolbox's training-free segmenter, the pipeline of its
tutorial: 20-100 Hz Butterworth band (order 6), wavelet denoising, homomorphic envelope, `adv_peak` (5% drop) and
`peak_sort_diff` (a short interval is systole). No parameter was tuned on CirCor; folds are not needed (nothing is trained).
"""
import importlib.util, sys, time, types
from pathlib import Path
import numpy as np, pandas as pd
from scipy.io import wavfile
from scipy.signal import resample_poly
sys.path.insert(0, str(Path(__file__).parent))
from _common import save

def _import_pypcg():
    "pyPCG's modules, and why its LR-HSMM cannot be scored ('' if it can)."
    why = ''
    if importlib.util.find_spec('hsmmlearn') is None:
        why = "hsmmlearn (needed by pyPCG.lr_hsmm, Springer's LR-HSMM) is not on the package index and could not be installed from GitHub here"
        stub = types.ModuleType('hsmmlearn'); em = types.ModuleType('hsmmlearn.emissions'); hm = types.ModuleType('hsmmlearn.hsmm')
        em.AbstractEmissions = type('AbstractEmissions', (), {}); hm.HSMMModel = type('HSMMModel', (), {})
        sys.modules.update({'hsmmlearn': stub, 'hsmmlearn.emissions': em, 'hsmmlearn.hsmm': hm})
    import pyPCG, pyPCG.preprocessing as pre, pyPCG.segment as seg
    return pyPCG, pre, seg, why

def pypcg_sounds(x, fs, pyPCG, pre, seg):
    "S1 and S2 peak times (s): the toolbox tutorial's peak segmenter."
    sig = pyPCG.normalize(pyPCG.pcg_signal(x, fs))
    bp = pre.filter(pre.filter(sig, 6, 100, 'LP'), 6, 20, 'HP')
    env = pre.homomorphic(pre.wt_denoise(bp))
    _, peaks = seg.adv_peak(env, percent_th=0.05)
    s1, s2 = seg.peak_sort_diff(peaks)
    return np.asarray(s1)/fs, np.asarray(s2)/fs

if __name__ == '__main__':
    import os
    from heartbeat_nbdev.cycles import read_states, read_circor_segmentation, match_f1
    t0 = time.perf_counter(); tol = 0.1
    pyPCG, pre, seg, why = _import_pypcg()
    root = Path(os.environ.get('HEARTBEAT_CIRCOR2022', ''))
    tsvs = sorted(root.rglob('*.tsv')) if root.name else []
    if not tsvs: sys.exit("error: no CirCor .tsv files (set HEARTBEAT_CIRCOR2022)")
    rows, failed = [], []
    for tsv in tsvs:
        try:
            fs, x = wavfile.read(tsv.with_suffix('.wav')); x = x.astype(float)
            if x.ndim > 1: x = x.mean(1)
            if fs > 2000: x, fs = resample_poly(x, 2000, fs), 2000   # as our segmenter sees it
            p1, p2 = pypcg_sounds(x, fs, pyPCG, pre, seg)
        except Exception as e: failed.append(f"{tsv.name}: {type(e).__name__}: {e}"); p1 = p2 = np.array([])   # scored as finding nothing
        s1, s2, lo, hi = read_circor_segmentation(tsv)
        inside = lambda t: t[(t >= lo - tol) & (t <= hi + tol)]
        r1, r2 = match_f1(inside(p1), s1, tol), match_f1(inside(p2), s2, tol)
        d = read_states(tsv); e1 = d.start[d.state == 1].to_numpy(); rr = np.diff(e1); rr = rr[rr < 1.6*np.median(rr)] if len(rr) else rr
        ours = np.diff(np.sort(p1)); ours = ours[ours < 2.5]
        rows.append(dict(recording=tsv.stem, patient=tsv.name.split('_')[0], s1_f1=r1['f1'], s2_f1=r2['f1'],
                         s1_hits=round(r1['precision']*r1['n_pred']), s1_found=r1['n_pred'], s1_true=r1['n_true'],
                         s2_hits=round(r2['precision']*r2['n_pred']), s2_found=r2['n_pred'], s2_true=r2['n_true'],
                         expert_rate=60/rr.mean() if len(rr) else np.nan, heart_rate=60/np.median(ours) if len(ours) else np.nan))
    R = pd.DataFrame(rows); R['hr_within_5'] = (R.heart_rate - R.expert_rate).abs() <= 5
    p = lambda k: float(2*R[f'{k}_hits'].sum()/(R[f'{k}_found'].sum() + R[f'{k}_true'].sum()))
    row = dict(segmenter='pypcg-peaks', recordings=len(R), s1_f1=R.s1_f1.mean(), s2_f1=R.s2_f1.mean(), s1_f1_pooled=p('s1'), s2_f1_pooled=p('s2'),
               s1_f1_median=R.s1_f1.median(), hr_within_5bpm=R.hr_within_5.mean() if len(R) else np.nan, no_rate=R.heart_rate.isna().mean() if len(R) else np.nan)
    print(pd.Series(row).to_string())
    R.round(4).to_csv(Path(__file__).parent/'results'/'segmenter-pypcg.csv', index=False)
    save('segmenter-pypcg', dict(package=f"pyPCG-toolbox {pyPCG.__version__}", scored='training-free peak segmenter (adv_peak + peak_sort_diff on the homomorphic envelope)',
                                 lr_hsmm_not_scored=why or None, table=[row], failed=failed, n_failed=len(failed), tol_s=tol,
                                 heart_rate_rule='60 / the median S1-to-S1 interval (under 2.5 s) of the S1 it finds: pyPCG gives no rate of its own',
                                 wall_seconds=time.perf_counter() - t0))
