"""A small copy of the labelled PASCAL recordings for a GPU machine whose transfer is limited (bench/device.sh).

    python bench/device_data.py --out .gpu/data/heartbeat-sounds --check 12

Each labelled recording of $HEARTBEAT_DATA is made mono and resampled to the pipeline's rate (`SpecConfig().sr`, 2 kHz),
exactly as `prepare_audio` does first, then written peak-scaled as 16-bit WAV under the same folder and name (497
recordings: 14 MiB instead of 142). The pipeline's later steps (band-pass, peak normalisation, spectrogram) are then
the same; only the 16-bit rounding differs. `--check N` compares the spectrogram images of N random recordings made
from the copy and from the original (grey levels, 0-255) and prints the largest and the mean difference.
"""
import argparse, random
from pathlib import Path
import numpy as np, soundfile as sf
from heartbeat_nbdev.data import get_recordings, find_data_path
from heartbeat_nbdev.tasks import labelled
from heartbeat_nbdev.spectrogram import SpecConfig, load_audio, spectrogram_images, _resample

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument('--out', required=True)
ap.add_argument('--check', type=int, default=12)
a = ap.parse_args()
root, out, sr = Path(find_data_path()), Path(a.out), SpecConfig().sr
recs = labelled(get_recordings(root))
for p in map(Path, recs.path):
    x, r = sf.read(str(p), dtype='float32', always_2d=True); x = x.mean(1)
    y = _resample(x, r, sr) if r != sr else x
    q = out/p.relative_to(root); q.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(q), y/np.abs(y).max()*0.999, sr, subtype='PCM_16')
print(f"{len(recs)} recordings -> {out} ({sum(f.stat().st_size for f in out.rglob('*.wav'))/2**20:.1f} MiB)")
random.seed(0); diffs = []
for p in random.sample(list(map(Path, recs.path)), min(a.check, len(recs))):
    im0, im1 = (np.stack(spectrogram_images(load_audio(f))[0]).astype(float) for f in (p, out/p.relative_to(root)))
    diffs.append((np.abs(im0 - im1).max(), np.abs(im0 - im1).mean()))
if diffs: print(f"spectrogram images of {len(diffs)} recordings, copy against original: largest difference "
               f"{max(d[0] for d in diffs):.0f} grey levels, mean {np.mean([d[1] for d in diffs]):.3f}")
