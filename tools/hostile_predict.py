"""Replay hostile model folders and inputs against `heartbeat-predict` (issue #12): one line per case with exit code and message.

    python tools/hostile_predict.py [--keep DIR]

Builds a small untrained model (the checks do not depend on its weights) and breaks copies of it: NaN weights,
reordered/renamed/duplicate classes, out-of-range model.json fields, a weights path outside the folder, truncated,
empty and garbage weights, list-valued JSON, unknown arch; and hostile inputs: missing output folder, empty folder,
FLAC and symlinks inside a folder, a truncated WAV, bad --threshold and --device. Each case runs the real command
(what the installed `heartbeat-predict` runs) in a fresh process. `expect` is the exit code the case should give; a line
starting with FAIL means it did not.
"""
import argparse, json, os, shutil, subprocess, sys, tempfile
from pathlib import Path
import numpy as np, soundfile as sf
root = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(root))
from heartbeat_nbdev.audio import synth_wav
from heartbeat_nbdev.spectrogram import SpecConfig
from heartbeat_nbdev.model import body_head_model, write_model, export_onnx

ap = argparse.ArgumentParser(); ap.add_argument('--keep'); a = ap.parse_args()
tmp = Path(a.keep or tempfile.mkdtemp()); tmp.mkdir(parents=True, exist_ok=True)
CL = ['artifact', 'extrahls', 'extrastole', 'murmur', 'normal']
net, _ = body_head_model('mobilenet_v2', 5, pretrained=False)
good = tmp/'good'; write_model(net, good, SpecConfig(), 'mobilenet_v2', CL, 64, True); export_onnx(good)
wavs = tmp/'wavs'; [synth_wav(wavs/f'r{i}.wav', 6.0, 4000, murmur=bool(i), seed=i) for i in range(2)]
one = str(wavs/'r0.wav')

def model_copy(name, edit=None, weights=None, onnx=False):
    d = tmp/name; shutil.rmtree(d, ignore_errors=True); shutil.copytree(good, d)
    if not onnx: (d/'model.onnx').unlink()
    if edit:
        js = json.loads((d/'model.json').read_text()); r = edit(js)
        if isinstance(r, list): js = r
        (d/'model.json').write_text(json.dumps(js))
    if weights: (d/'model.safetensors').write_bytes(weights((d/'model.safetensors').read_bytes()))
    return str(d)

def nan_weights(b):
    import safetensors.torch
    sd = safetensors.torch.load(b); k = next(k for k, v in sd.items() if v.is_floating_point()); sd[k].view(-1)[0] = float('nan')
    return safetensors.torch.save(sd)

def spec(**kw): return lambda m: m['spec_config'].update(**kw)

# inputs
(tmp/'empty_folder').mkdir(exist_ok=True)
mixed = tmp/'mixed'; mixed.mkdir(exist_ok=True)
x, sr = sf.read(one); sf.write(str(mixed/'a.flac'), x, sr); sf.write(str(mixed/'b.ogg'), x, sr)
for n, t in [('link.wav', wavs/'r1.wav'), ('dangling.wav', tmp/'nowhere.wav')]:
    if not (mixed/n).is_symlink(): os.symlink(t, mixed/n)
(mixed/'notes.txt').write_text('not audio')
b = (wavs/'r1.wav').read_bytes(); (tmp/'truncated.wav').write_bytes(b[:len(b)//2])

M = str(good)
other, _ = body_head_model('mobilenet_v2', 5, pretrained=False)    # other weights, good in themselves, with the first model's model.onnx
stale = tmp/'stale'; shutil.rmtree(stale, ignore_errors=True); write_model(other, stale, SpecConfig(), 'mobilenet_v2', CL, 64, True)
shutil.copy(good/'model.onnx', stale/'model.onnx'); stale = str(stale)
cases = [
 ('good model, one file', [one], dict(model=M), 0),
 ('NaN in model.safetensors', [one], dict(model=model_copy('nan', weights=nan_weights)), 2),
 ('NaN weights, checksum removed', [one], dict(model=model_copy('nan2', lambda m: m.pop('weights_sha256'), nan_weights)), 2),
 ('classes reordered', [one], dict(model=model_copy('reorder', lambda m: m.update(classes=CL[::-1]))), 2),
 ('class renamed', [one], dict(model=model_copy('rename', lambda m: m.update(classes=['art'] + CL[1:]))), 2),
 ('duplicate class', [one], dict(model=model_copy('dup', lambda m: m.update(classes=CL[:4] + ['murmur']))), 2),
 ('img_size 20000', [one], dict(model=model_copy('img', lambda m: m.update(img_size=20000))), 2),
 ('hop_s 0.001', [one], dict(model=model_copy('hop', spec(hop_s=0.001))), 2),
 ('window_s 1e6', [one], dict(model=model_copy('win', spec(window_s=1e6))), 2),
 ('n_mels 5000', [one], dict(model=model_copy('mels', spec(n_mels=5000))), 2),
 ('n_fft -1', [one], dict(model=model_copy('nfft', spec(n_fft=-1))), 2),
 ('sr 1', [one], dict(model=model_copy('sr', spec(sr=1))), 2),
 ('weights ../other', [one], dict(model=model_copy('path', lambda m: m.update(weights='../good/model.safetensors'))), 2),
 ('weights /etc/passwd', [one], dict(model=model_copy('abs', lambda m: m.update(weights='/etc/passwd'))), 2),
 ('truncated weights', [one], dict(model=model_copy('trunc', weights=lambda b: b[:len(b)//2])), 2),
 ('empty weights', [one], dict(model=model_copy('emptyw', weights=lambda b: b'')), 2),
 ('garbage weights', [one], dict(model=model_copy('garbage', weights=lambda b: os.urandom(4096))), 2),
 ('model.json is a list', [one], dict(model=model_copy('list', lambda m: [m])), 2),
 ('model.json truncated', [one], dict(model=(lambda d: (Path(d)/'model.json').write_text('{"format": "heart') and d)(model_copy('badjson'))), 2),
 ('unknown arch', [one], dict(model=model_copy('arch', lambda m: m.update(arch='vgg16'))), 2),
 ('operating_point threshold 7', [one], dict(model=model_copy('op', lambda m: m.update(operating_point={'threshold': 7}))), 2),
 ('stale model.onnx (other weights)', [one], dict(model=stale, backend='onnx'), 2),
 ('no model.onnx, --backend onnx', [one], dict(model=model_copy('noonnx'), backend='onnx'), 2),
 ('missing model folder', [one], dict(model=str(tmp/'nope')), 2),
 ('--csv into a missing folder', [one], dict(model=M, csv=str(tmp/'no'/'such'/'out.csv')), 2),
 ('--json-out into a missing folder', [one], dict(model=M, json_out=str(tmp/'no'/'out.json')), 2),
 ('--json-out is a folder', [one], dict(model=M, json_out=str(tmp)), 2),
 ('empty folder', [str(tmp/'empty_folder')], dict(model=M), 1),
 ('FLAC, OGG, symlinks, text in a folder', [str(mixed)], dict(model=M), 0),
 ('truncated WAV', [str(tmp/'truncated.wav')], dict(model=M), 0),
 ('--threshold nan', [one], dict(model=M, threshold='nan'), 2),
 ('--threshold -1', [one], dict(model=M, threshold='-1'), 2),
 ('--threshold abc', [one], dict(model=M, threshold='abc'), 2),
 ('--device foo', [one], dict(model=M, device='foo'), 2),
 ('--backend tf', [one], dict(model=M, backend='tf'), 2),
]
env = {**os.environ, 'PYTHONPATH': str(root)}
CLI = tmp/'heartbeat_predict.py'   # what the installed heartbeat-predict script runs
CLI.write_text('import sys\nfrom heartbeat_nbdev.inference import predict_cli\nsys.exit(predict_cli())\n')
n_bad = 0
for name, inputs, kw, expect in cases:
    args = [sys.executable, str(CLI), *inputs, '--quiet']
    for k, v in kw.items(): args += [f"--{k.replace('_', '-')}", v]
    r = subprocess.run(args, capture_output=True, text=True, env=env)
    lines = [l for l in r.stderr.splitlines() if l.strip() and 'Warning' not in l and not l.startswith(' ')]
    msg = ' | '.join(l for l in lines if l.startswith(('error', 'failed', 'skipped', 'warning')) or 'predicted' in l) or (lines[-1] if lines else '')
    tb = 'Traceback' in r.stderr
    ok = r.returncode == expect and not tb
    n_bad += not ok
    print(f"{'ok  ' if ok else 'FAIL'} exit {r.returncode} (expect {expect}) {name}: {msg.replace(str(tmp), '<tmp>')[:300]}{' [TRACEBACK]' if tb else ''}")
print(f"{len(cases) - n_bad}/{len(cases)} cases as expected")
sys.exit(1 if n_bad else 0)
