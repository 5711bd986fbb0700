"""Benchmark: log-mel spectrogram generation for the whole dataset, from WAV files to cached PNG windows.

    python bench/spectrograms.py [--workers N] [--repeat 3] [--warm]

Each repeat writes into a fresh temporary cache (a cold run: nothing reused) and prints recordings per second; with
`--warm` each repeat then runs again on the cache it made (every recording a cache hit: the cost of checking the cache,
which reads and digests every recording and every cached image).
"""
import argparse, os, tempfile, time, warnings, platform
from heartbeat_nbdev.data import get_recordings
from heartbeat_nbdev.spectrogram import SpecConfig, make_spectrograms

ap = argparse.ArgumentParser()
ap.add_argument('--workers', type=int, default=os.cpu_count())
ap.add_argument('--repeat', type=int, default=3)
ap.add_argument('--warm', action='store_true', help='also time a second run on each cache (all hits)')
a = ap.parse_args()
warnings.simplefilter('ignore')
recs = get_recordings()
cfg = SpecConfig()
print(f"{len(recs)} recordings, {os.cpu_count()} cores ({platform.processor() or platform.machine()}), workers={a.workers}, config {cfg.key}")
times, warm = [], []
for r in range(a.repeat):
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        wins, skipped = make_spectrograms(recs, d, cfg, n_workers=a.workers, progress=False)
        times.append(time.perf_counter() - t0)
        if a.warm:
            t0 = time.perf_counter(); make_spectrograms(recs, d, cfg, n_workers=a.workers, progress=False); warm.append(time.perf_counter() - t0)
    print(f"run {r+1}: {wins.path.nunique()} recordings, {len(wins)} windows, {len(skipped)} skipped in {times[-1]:.2f} s "
          f"= {len(recs)/times[-1]:.1f} recordings/s" + (f"; warm (all cached) {warm[-1]:.2f} s" if a.warm else ''))
best = min(times)
print(f"best of {a.repeat}: {best:.2f} s for {len(recs)} recordings ({len(recs)/best:.1f} recordings/s)" +
      (f"; warm best {min(warm):.2f} s" if a.warm else ''))
