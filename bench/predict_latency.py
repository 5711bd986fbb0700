"""Benchmark: end-to-end latency of one 10 s recording on the CPU (read WAV, resample/filter, spectrograms, model).

    python bench/predict_latency.py [MODEL_DIR ...] [--repeat 30] [--threads N]

With no model folder it times freshly initialised models of each architecture and image size (latency does not
depend on the weights). Prints median and 90th percentile in milliseconds, and the split between audio/spectrogram
and model time.
"""
import argparse, os, tempfile, time, platform, statistics as st
from pathlib import Path
import numpy as np, torch
from heartbeat_nbdev.data import synth_wav
from heartbeat_nbdev.spectrogram import SpecConfig, load_audio, spectrogram_images
from heartbeat_nbdev.train import body_head_model, write_model
from heartbeat_nbdev.inference import Predictor, predict

ap = argparse.ArgumentParser()
ap.add_argument('models', nargs='*')
ap.add_argument('--repeat', type=int, default=30)
ap.add_argument('--threads', type=int, default=None)
a = ap.parse_args()
if a.threads: torch.set_num_threads(a.threads)
tmp = Path(tempfile.mkdtemp())
wav = synth_wav(tmp/'ten_seconds.wav', 10.0, 44100)

def fresh(arch, size):
    "A saved, randomly initialised model folder (weights do not change latency)."
    m, _ = body_head_model(arch, 5, pretrained=False)
    write_model(m, tmp/f'{arch}-{size}', SpecConfig(), arch, ['artifact', 'extrahls', 'extrastole', 'murmur', 'normal'], size)
    return tmp/f'{arch}-{size}'

dirs = [Path(m) for m in a.models] or [fresh(arch, s) for arch in ('resnet50', 'mobilenet_v2') for s in (128, 224)]
print(f"10 s recording at 44.1 kHz; CPU: {os.cpu_count()} cores ({platform.machine()}), torch {torch.__version__}, "
      f"{torch.get_num_threads()} threads; median of {a.repeat} runs after 3 warm-up runs")
for d in dirs:
    P = Predictor(d, device='cpu')
    for _ in range(3): predict(P, wav)
    tot, pre = [], []
    for _ in range(a.repeat):
        t0 = time.perf_counter(); imgs, _, _ = spectrogram_images(load_audio(wav, P.cfg), P.cfg); t1 = time.perf_counter()
        P.window_probs(imgs); t2 = time.perf_counter()
        tot.append((t2 - t0)*1000); pre.append((t1 - t0)*1000)
    q90 = sorted(tot)[int(0.9*len(tot)) - 1]
    print(f"{P.meta['arch']:>12} {P.clf.img_size[0]}px: median {st.median(tot):6.1f} ms (p90 {q90:6.1f}; audio+spectrograms {st.median(pre):5.1f} ms, "
          f"model {st.median(tot) - st.median(pre):6.1f} ms) for {len(imgs)} windows")
