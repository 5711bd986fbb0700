"""Benchmark: `heartbeat-predict` on a folder of recordings: recordings per second and peak memory of the whole command.

    python bench/predict_folder.py MODEL_DIR [--n 100] [--data DIR] [--backends onnx,torch] [--out FILE]

Runs the real command (`python -m heartbeat_nbdev.inference FOLDER --model MODEL_DIR --backend B --csv ...`) in a
fresh process on `--n` recordings: synthetic 10 s recordings at 44.1 kHz, or the first `--n` WAV files under
`--data`. Reports wall time (start-up included), recordings/s and the peak resident memory (max RSS) of the process.
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
    from heartbeat_nbdev.data import synth_wav
    for i in range(a.n): synth_wav(folder/f'r{i:04d}.wav', 10.0, 44100, murmur=bool(i % 2), seed=i)
    src = f'{a.n} synthetic 10 s recordings at 44.1 kHz'
env = {**os.environ, 'PYTHONPATH': str(Path(__file__).resolve().parents[1])}
rows = []
for be in a.backends.split(','):
    for _ in range(a.repeat):
        t0 = time.perf_counter()
        r = subprocess.run(['/usr/bin/time', '-f', '%M', sys.executable, '-m', 'heartbeat_nbdev.inference', str(folder), '--model', a.model,
                            '--backend', be, '--quiet', '--csv', str(tmp/'out.csv')], capture_output=True, text=True, env=env)
        dt = time.perf_counter() - t0
        rss_mb = int(r.stderr.strip().splitlines()[-1])/1024
        n_ok = sum(1 for _ in open(tmp/'out.csv')) - 1 if (tmp/'out.csv').exists() else 0
        row = dict(backend=be, rc=r.returncode, n=a.n, predicted=n_ok, seconds=round(dt, 2), recordings_per_s=round(a.n/dt, 1), peak_rss_mb=round(rss_mb))
        rows.append(row)
        print(f"{be:>5}: {n_ok}/{a.n} recordings in {dt:.1f} s = {a.n/dt:.1f} recordings/s (start-up included), peak RSS {rss_mb:.0f} MB, exit {r.returncode}")
save('predict_folder', dict(model=a.model, recordings=src, load_average_after=os.getloadavg(), results=rows), a.out)
