"""Benchmark: spectrogram caching for every recording of a database (default: the shared PhysioNet 2016 copy, 690 records
of 5 to 122 s), measuring wall time and peak memory, to show caching stays within bounded memory on long recordings.

    python bench/cache_memory.py [--dataset physionet2016] [--workers 2] [--out bench/results/cache_memory.json]

It caches into a fresh temporary folder (a cold run). Peak memory: the largest resident set of this process and of any
worker (getrusage ru_maxrss), and the largest sum over the process tree sampled every 0.2 s (psutil). Writes a JSON
with the command, commit, machine and figures, and prints them. A benchmark, not a test.
"""
import argparse, json, os, platform, resource, subprocess, sys, tempfile, threading, time, warnings
from pathlib import Path
import psutil
from heartbeat_nbdev.data import get_datasets
from heartbeat_nbdev.spectrogram import SpecConfig, make_spectrograms

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument('--dataset', default='physionet2016')
ap.add_argument('--workers', type=int, default=os.cpu_count())
ap.add_argument('--out', default='bench/results/cache_memory.json')
a = ap.parse_args()
warnings.simplefilter('ignore')
recs = get_datasets(a.dataset)
cfg = SpecConfig()
me, peak_tree, stop = psutil.Process(), [0], threading.Event()

def sample():
    while not stop.is_set():
        try: rss = me.memory_info().rss + sum(c.memory_info().rss for c in me.children(recursive=True))
        except psutil.Error: rss = 0
        peak_tree[0] = max(peak_tree[0], rss); time.sleep(0.2)

th = threading.Thread(target=sample, daemon=True); th.start()
rss0 = me.memory_info().rss
with tempfile.TemporaryDirectory() as d:
    t0 = time.perf_counter()
    wins, skipped = make_spectrograms(recs, d, cfg, n_workers=a.workers, progress=False)
    wall = time.perf_counter() - t0
    disk = sum(f.stat().st_size for f in Path(d).rglob('*') if f.is_file())
stop.set(); th.join()
kb = 1024   # ru_maxrss is in KiB on Linux
res = dict(command=' '.join([Path(sys.executable).name] + sys.argv), dataset=a.dataset,
           commit=subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True).stdout.strip(),
           machine=f"{platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f} at the end" + (' (shared with other jobs)' if os.getloadavg()[0] > os.cpu_count() else ''),
           python=platform.python_version(), workers=a.workers, spec_config=cfg.key,
           recordings=int(len(recs)), recordings_cached=int(wins.path.nunique()), skipped=int(len(skipped)), windows=int(len(wins)),
           audio_hours=round(float(recs.duration.sum())/3600, 2), longest_recording_s=round(float(recs.duration.max()), 1),
           wall_s=round(wall, 1), recordings_per_s=round(len(recs)/wall, 2), cache_mb=round(disk/1e6, 1),
           rss_before_mb=round(rss0/2**20, 1), peak_rss_main_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss*kb/2**20, 1),
           peak_rss_largest_worker_mb=round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss*kb/2**20, 1),
           peak_rss_process_tree_mb=round(peak_tree[0]/2**20, 1))
Path(a.out).parent.mkdir(parents=True, exist_ok=True)
Path(a.out).write_text(json.dumps(res, indent=1))
for k, v in res.items(): print(f"{k}: {v}")
