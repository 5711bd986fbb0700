"""Benchmark: `heartbeat-predict` on a folder of recordings: recordings per second and peak memory of the whole command.

    python bench/predict_folder.py MODEL_DIR [--n 100] [--data DIR] [--backends onnx,torch] [--out FILE]

Runs the real command (what `heartbeat-predict FOLDER --model MODEL_DIR --backend B --csv ...` runs) in a
fresh process on `--n` recordings: synthetic 10 s recordings at 44.1 kHz, or the first `--n` WAV files under
`--data`. Reports wall time (start-up included), recordings/s, CPU time per recording (less sensitive to other jobs on a
shared machine than wall time) and the peak resident memory (max RSS) of the process.
"""
import argparse, os, resource, subprocess, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
from _common import save

ap = argparse.ArgumentParser()
ap.add_argument('model'); ap.add_argument('--n', type=int, default=100); ap.add_argument('--data')
ap.add_argument('--backends', default='onnx,torch'); ap.add_argument('--repeat', type=int, default=1); ap.add_argument('--out')
a = ap.parse_args()
tmp = Path(tempfile.mkdtemp()); folder = tmp/'recs'; folder.mkdir()
if a.data:
    for i, f in enumerate(sorted(Path(a.data).rglob('*.wav'))[:a.n]): os.symlink(f.resolve(), folder/f'{i:04d}_{f.name}')
    src = f'first {a.n} WAV files under {a.data}'
else:
    from heartbeat_nbdev.audio import synth_wav
    for i in range(a.n): synth_wav(folder/f'r{i:04d}.wav', 10.0, 44100, murmur=bool(i % 2), seed=i)
    src = f'{a.n} synthetic 10 s recordings at 44.1 kHz'
cli = tmp/'heartbeat_predict.py'   # what the installed heartbeat-predict script runs
cli.write_text('import sys\nfrom heartbeat_nbdev.predict_cli import predict_cli\nsys.exit(predict_cli())\n')
env = {**os.environ, 'PYTHONPATH': str(Path(__file__).resolve().parents[1])}
rows = []
for be in a.backends.split(','):
    for _ in range(a.repeat):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN); t0 = time.perf_counter()
        r = subprocess.run(['/usr/bin/time', '-f', '%M', sys.executable, str(cli), str(folder), '--model', a.model,
                            '--backend', be, '--quiet', '--csv', str(tmp/'out.csv')], capture_output=True, text=True, env=env)
        dt = time.perf_counter() - t0; r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime
        rss_mb = int(r.stderr.strip().splitlines()[-1])/1024
        if r.returncode: print(r.stderr[-1000:])
        n_ok = sum(1 for _ in open(tmp/'out.csv')) - 1 if (tmp/'out.csv').exists() else 0
        row = dict(backend=be, rc=r.returncode, n=a.n, predicted=n_ok, seconds=round(dt, 2), recordings_per_s=round(a.n/dt, 1), cpu_seconds=round(cpu, 2),
                   cpu_ms_per_recording=round(cpu/a.n*1000, 1), peak_rss_mb=round(rss_mb))
        rows.append(row)
        print(f"{be:>5}: {n_ok}/{a.n} recordings in {dt:.1f} s = {a.n/dt:.1f} recordings/s (start-up included; {cpu:.1f} CPU-s, {cpu/a.n*1000:.0f} CPU-ms per recording), "
              f"peak RSS {rss_mb:.0f} MB, exit {r.returncode}")
save('predict_folder', dict(model=a.model, recordings=src, load_average_after=os.getloadavg(), results=rows), a.out)
