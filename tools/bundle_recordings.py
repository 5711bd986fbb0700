#!/usr/bin/env python
"""Cut the recordings bundled with the package (heartbeat_nbdev/recordings/) from the shared PASCAL copy.

    python tools/bundle_recordings.py            # reads $HEARTBEAT_DATA (the PASCAL folder)

The rule, fixed before any model saw them: for each of the five labels, the first recording by file name that is not a
`noisy` one and lasts at least 6 s; its first 6 s, mono, 4 kHz, written as 16-bit PCM (set A's copy here is 24-bit).
Every labelled recording of the shared copy belongs to the part this project trains on (the held-aside test recordings are
not in it, MANIFEST.md), so these were in the released model's training data: they show that the tools work, not how well.
PASCAL Classifying Heart Sounds Challenge (Bentley, Nordehn, Coimbra, Mannor, 2011), CC0 via Kaggle "Heartbeat Sounds".
"""
import sys, hashlib, warnings
from pathlib import Path
import soundfile as sf
ROOT = Path(__file__).resolve().parents[1]; sys.path.insert(0, str(ROOT))
from heartbeat_nbdev.data import get_recordings, find_data_path

SECONDS = 6.0
out = ROOT/'heartbeat_nbdev'/'recordings'; out.mkdir(exist_ok=True)
for f in out.glob('*.wav'): f.unlink()
with warnings.catch_warnings():
    warnings.simplefilter('ignore'); recs = get_recordings(find_data_path())
recs = recs[recs.label.notna() & recs.error.isna() & ~recs.noisy.astype(bool) & (recs.duration >= SECONDS)]
rows = []
for lbl, g in recs.groupby('label'):
    r = g.sort_values('fname').iloc[0]
    y, sr = sf.read(r.path, dtype='float64', always_2d=True)
    if sr != 4000 or y.shape[1] != 1: sys.exit(f"error: {r.path}: expected mono 4 kHz, got {y.shape[1]} channels at {sr} Hz")
    dst = out/r.fname
    sf.write(dst, y[:int(SECONDS*sr), 0], sr, subtype='PCM_16')
    rows.append((lbl, r.fname, r.set, f"{r.duration:.2f}", dst.stat().st_size, hashlib.sha256(dst.read_bytes()).hexdigest()))
total = sum(r[4] for r in rows)
if total > 300_000: sys.exit(f"error: {total} bytes in all (more than 300 KB)")
lines = ["# Bundled recordings", "",
         "Five recordings of the PASCAL Classifying Heart Sounds Challenge 2011 (Bentley, Nordehn, Coimbra and Mannor; set A",
         "from the iStethoscope Pro iPhone app, set B from a DigiScope digital stethoscope), republished on Kaggle as",
         "\"Heartbeat Sounds\" under CC0 1.0 (public domain). One per label, for the quickstart, `heartbeat-predict --demo` and",
         "the tests; made by `tools/bundle_recordings.py`: for each label the first recording by file name that is not a",
         f"`noisy` one and lasts at least {SECONDS:g} s, its first {SECONDS:g} s, mono, 4 kHz, 16-bit PCM.", "",
         "They are part of the data the released model was trained on: its answers on them show that the tools work, not how",
         "well the model does (the model card gives the cross-validated figures).", "",
         "| label | file | set | original length (s) | bytes | SHA-256 |", "|---|---|---|---|---|---|"]
lines += [f"| {l} | `{f}` | {s} | {d} | {b:,} | `{h}` |" for l, f, s, d, b, h in rows]
lines += ["", f"{total:,} bytes in all."]
(out/'README.md').write_text('\n'.join(lines) + '\n')
print('\n'.join(lines))
