"""Benchmark: how long each command takes to answer `--help` (start-up cost: imports before the first line prints).

    python bench/startup.py [--repeat 5] [--out bench/results/startup.json]

Runs each installed command (`heartbeat-<name> --help`, from the environment of this Python) in fresh processes and prints
the median seconds per command.
"""
import argparse, os, resource, subprocess, sys, time, statistics as st
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
from _common import save

CMDS = ['heartbeat-predict', 'heartbeat-export', 'heartbeat-train', 'heartbeat-spectrograms', 'heartbeat-data', 'heartbeat-eval', 'heartbeat-baseline']
ap = argparse.ArgumentParser(); ap.add_argument('--repeat', type=int, default=5); ap.add_argument('--out'); a = ap.parse_args()
bindir = Path(sys.executable).parent
res = {}
for name in CMDS:
    ts, cpu = [], []
    for _ in range(a.repeat + 1):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN); t0 = time.perf_counter()
        r = subprocess.run([str(bindir/name), '--help'], capture_output=True, text=True)
        ts.append(time.perf_counter() - t0); r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime)
        assert r.returncode == 0 and 'usage' in r.stdout, r.stderr[-500:]
    res[name] = dict(median_s=round(st.median(ts[1:]), 3), median_cpu_s=round(st.median(cpu[1:]), 3), runs_s=[round(t, 3) for t in ts[1:]])
    print(f"{name:>24} --help: median {res[name]['median_s']:.2f} s wall, {res[name]['median_cpu_s']:.2f} s CPU over {a.repeat} runs (after one warm-up)")
save('startup', dict(results=res), a.out)
