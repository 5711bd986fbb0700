"""Benchmark: end-to-end latency of one 10 s recording on the CPU (read WAV, resample/filter, spectrograms, model), per backend.

    python bench/predict_latency.py [MODEL_DIR ...] [--repeat 30] [--backends onnx,torch] [--out FILE]

With no model folder it times freshly initialised MobileNetV2 128 px and ResNet50 224 px models (latency does not
depend on the weights). A model without `model.onnx` gets one (`export_onnx`). Prints median and 90th percentile in
milliseconds and the split between audio/spectrograms and model, and writes bench/results/predict_latency.json.
"""
import argparse, os, sys, tempfile, time, platform, statistics as st
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
from _common import save
import numpy as np
from heartbeat_nbdev.audio import synth_wav
from heartbeat_nbdev.spectrogram import SpecConfig
from heartbeat_nbdev.inference import Predictor, predict, prepare_recording, one_blas_thread

ap = argparse.ArgumentParser()
ap.add_argument('models', nargs='*')
ap.add_argument('--repeat', type=int, default=30)
ap.add_argument('--backends', default='onnx,torch')
ap.add_argument('--out')
a = ap.parse_args()
tmp = Path(tempfile.mkdtemp())
wav = synth_wav(tmp/'ten_seconds.wav', 10.0, 44100)

def fresh(arch, size):
    "A saved, randomly initialised model folder (weights do not change latency)."
    from heartbeat_nbdev.model import body_head_model, write_model
    m, _ = body_head_model(arch, 5, pretrained=False)
    write_model(m, tmp/f'{arch}-{size}', SpecConfig(), arch, ['artifact', 'extrahls', 'extrastole', 'murmur', 'normal'], size)
    return tmp/f'{arch}-{size}'

dirs = [Path(m) for m in a.models] or [fresh('mobilenet_v2', 128), fresh('resnet50', 224)]
for d in dirs:
    if 'onnx' in a.backends and not (d/'model.onnx').exists():
        from heartbeat_nbdev.model import export_onnx; export_onnx(d)
print(f"10 s recording at 44.1 kHz; CPU: {os.cpu_count()} cores ({platform.machine()}); median of {a.repeat} runs after 3 warm-up runs; "
      f"load average {os.getloadavg()[0]:.1f} (shared machine: not quiet)")
rows = []
for d in dirs:
    for be in a.backends.split(','):
        P = Predictor(d, device='cpu', backend=be)
        for _ in range(3): predict(P, wav)
        tot, pre, cpu = [], [], []
        for _ in range(a.repeat):
            c0 = time.process_time(); t0 = time.perf_counter()
            with one_blas_thread(): r = prepare_recording(P, wav)
            t1 = time.perf_counter(); P.batch_probs(r['x']); t2 = time.perf_counter()
            tot.append((t2 - t0)*1000); pre.append((t1 - t0)*1000); cpu.append((time.process_time() - c0)*1000)
        q90 = sorted(tot)[int(0.9*len(tot)) - 1]
        row = dict(model=str(d), arch=P.meta['arch'], img_size=P.img_size[0], backend=be, n_windows=len(r['x']), median_ms=round(st.median(tot), 1),
                   p90_ms=round(q90, 1), audio_spectrograms_ms=round(st.median(pre), 1), model_ms=round(st.median(tot) - st.median(pre), 1), median_cpu_ms=round(st.median(cpu), 1))
        rows.append(row)
        print(f"{row['arch']:>12} {row['img_size']}px {be:>5}: median {row['median_ms']:6.1f} ms (p90 {q90:6.1f}; audio+spectrograms "
              f"{row['audio_spectrograms_ms']:5.1f} ms, model {row['model_ms']:6.1f} ms; CPU {row['median_cpu_ms']:6.1f} ms) for {row['n_windows']} windows")
save('predict_latency', dict(recording='synthetic 10 s, 44.1 kHz', repeat=a.repeat, results=rows), a.out)
