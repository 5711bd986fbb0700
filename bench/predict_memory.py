"""Benchmark: peak memory of `heartbeat-predict` on the largest inputs it accepts (issue #23).

    python bench/predict_memory.py [--old DIR] [--out FILE]

Runs the real command in a fresh process under `/usr/bin/time` and reports its peak resident memory (max RSS) for:
- a 10-minute recording at the highest accepted rate (384 kHz, `MAX_SR`) with 6 channels (16-bit WAV, 2.8 GB), on a
  224 px model: the longest, widest input a reader accepts;
- a 48 s recording at 4 kHz on a model with `img_size` 1024 (the largest `model.json` allows);
- with `--long-1024`, a 10-minute recording at 4 kHz on that 1024 px model (399 windows of 1024 x 1024: about
  half an hour on 2 CPU cores, one window per model call).
The models are untrained MobileNetV2s (the weights do not change the memory) on the torch backend. With `--old DIR`
(a copy of an earlier commit's tree, e.g. `git archive bc4ab89 | tar -x -C DIR`) each case also runs there, for the
figure before. Memory, not time, is the measure: figures hold on a shared machine.
"""
import argparse, os, subprocess, sys, tempfile, time
from pathlib import Path
import numpy as np, soundfile as sf
sys.path.insert(0, str(Path(__file__).parent))
from _common import save
root = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(root))
from heartbeat_nbdev.audio import synth_heartbeat, MAX_SR
from heartbeat_nbdev.spectrogram import SpecConfig
from heartbeat_nbdev.model import body_head_model, write_model

ap = argparse.ArgumentParser(); ap.add_argument('--old'); ap.add_argument('--out'); ap.add_argument('--keep'); ap.add_argument('--long-1024', action='store_true')
a = ap.parse_args()
tmp = Path(a.keep or tempfile.mkdtemp()); tmp.mkdir(parents=True, exist_ok=True)
CL = ['artifact', 'extrahls', 'extrastole', 'murmur', 'normal']
for size in (224, 1024):
    if not (tmp/f'm{size}'/'model.json').exists():
        net, _ = body_head_model('mobilenet_v2', 5, pretrained=False); write_model(net, tmp/f'm{size}', SpecConfig(), 'mobilenet_v2', CL, size, True)
big = tmp/'384k-6ch-600s.wav'
if not big.exists():   # written 10 s at a time: never whole in memory here either
    block = (synth_heartbeat(10.0, MAX_SR)*32767).astype(np.int16)
    with sf.SoundFile(str(big), 'w', MAX_SR, 6, 'PCM_16') as f:
        for _ in range(60): f.write(np.repeat(block[:, None], 6, 1))
for name, dur in (('4k-48s.wav', 48.0), ('4k-600s.wav', 600.0)):
    if not (tmp/name).exists(): sf.write(str(tmp/name), synth_heartbeat(dur, 4000), 4000, subtype='PCM_16')
cases = [('10 min at 384 kHz, 6 channels, 224 px model', big, 'm224'), ('48 s at 4 kHz, 1024 px model', tmp/'4k-48s.wav', 'm1024'),
         ('10 min at 4 kHz, 1024 px model', tmp/'4k-600s.wav', 'm1024')][:3 if a.long_1024 else 2]
cli = tmp/'heartbeat_predict.py'   # what the installed heartbeat-predict script runs
cli.write_text('import sys\nfrom heartbeat_nbdev.predict_cli import predict_cli\nsys.exit(predict_cli())\n')
trees = [('this commit', root)] + ([('old', Path(a.old).resolve())] if a.old else [])
rows = []
for case, wav, model in cases:
    for label, tree in trees:
        t0 = time.perf_counter()
        r = subprocess.run(['/usr/bin/time', '-f', '%M', sys.executable, str(cli), str(wav), '--model', str(tmp/model), '--backend', 'torch',
                            '--device', 'cpu', '--quiet', '--csv', str(tmp/'out.csv')], capture_output=True, text=True,
                           env={**os.environ, 'PYTHONPATH': str(tree)})
        dt = time.perf_counter() - t0
        rss_mb = int(r.stderr.strip().splitlines()[-1])/1024
        row = dict(case=case, tree=label, file_mb=round(wav.stat().st_size/2**20), peak_rss_mb=round(rss_mb), exit=r.returncode, wall_s=round(dt, 1))
        if r.returncode: row['stderr'] = r.stderr.strip()[-300:]
        rows.append(row); print(row, flush=True)
        save('predict_memory', dict(cases=rows, note='peak RSS of the whole command (Python, PyTorch, the model and one recording); '
                                    'untrained MobileNetV2 on the torch backend, --threads default'), a.out)   # after each case: a stopped run keeps them
save('predict_memory', dict(cases=rows, note='peak RSS of the whole command (Python, PyTorch, the model and one recording); '
                            'untrained MobileNetV2 on the torch backend, --threads default'), a.out)
