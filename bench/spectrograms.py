"""Benchmark: log-mel spectrogram generation for the whole dataset, from WAV files to cached PNG windows.

    python bench/spectrograms.py [--workers N] [--repeat 3]

Each repeat writes into a fresh temporary cache (a cold run: nothing reused) and prints recordings per second.
"""
import argparse, os, tempfile, time, warnings, platform
from heartbeat_nbdev.data import get_recordings
from heartbeat_nbdev.spectrogram import SpecConfig, make_spectrograms

ap = argparse.ArgumentParser()
ap.add_argument('--workers', type=int, default=os.cpu_count())
ap.add_argument('--repeat', type=int, default=3)
a = ap.parse_args()
warnings.simplefilter('ignore')
recs = get_recordings()
cfg = SpecConfig()
print(f"{len(recs)} recordings, {os.cpu_count()} cores ({platform.processor() or platform.machine()}), workers={a.workers}, config {cfg.key}")
times = []
for r in range(a.repeat):
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        wins, skipped = make_spectrograms(recs, d, cfg, n_workers=a.workers, progress=False)
        times.append(time.perf_counter() - t0)
    print(f"run {r+1}: {wins.path.nunique()} recordings, {len(wins)} windows, {len(skipped)} skipped in {times[-1]:.2f} s "
          f"= {len(recs)/times[-1]:.1f} recordings/s")
best = min(times)
print(f"best of {a.repeat}: {best:.2f} s for {len(recs)} recordings ({len(recs)/best:.1f} recordings/s)")
