"""Replay hostile model folders and inputs against `heartbeat-predict` (issue #12): one line per case with exit code and message.

    python tools/hostile_predict.py [--keep DIR]

Builds a small untrained model (the checks do not depend on its weights) and breaks copies of it: NaN weights,
reordered/renamed/duplicate classes, out-of-range model.json fields, a weights path outside the folder, truncated,
empty and garbage weights, list-valued JSON, unknown arch; and hostile inputs: missing output folder, empty folder,
FLAC and symlinks inside a folder, a truncated WAV, bad --threshold and --device; and (issue #23) outputs that are an
input or a special file, an operating point or model.onnx changed after the model was written, self-cycling, bloated
and escaping ensembles, huge, truncated and mislabelled recordings, FIFOs, devices and over-long names as inputs, a
1,500-deep folder, SIGTERM in the middle of a batch (rows kept, --resume) and a reader gone away. Each case runs the real command
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
# issue #23: outputs, digests, ensembles, inputs
import stat
def edit_op(m): m['operating_point'] = {'weights': {'murmur': 1e308}}   # the digest (answer_sha256) is kept: only it sees the change
def keep_digest(name, edit):
    d = Path(model_copy(name)); js = json.loads((d/'model.json').read_text()); edit(js); (d/'model.json').write_text(json.dumps(js)); return str(d)
graft = Path(model_copy('graft', onnx=True))
import onnx
from onnx import numpy_helper
om = onnx.load(str(graft/'model.onnx')); t = om.graph.initializer[0]; arr = numpy_helper.to_array(t)
t.CopyFrom(numpy_helper.from_array(np.random.default_rng(1).standard_normal(arr.shape).astype(arr.dtype), t.name)); onnx.save(om, str(graft/'model.onnx'))
def ensemble(name, members, links=()):
    e = tmp/name; shutil.rmtree(e, ignore_errors=True); e.mkdir()
    shutil.copytree(good, e/'a'); (e/'a'/'model.onnx').unlink()
    for n, t in links: os.symlink(t, e/n)
    (e/'ensemble.json').write_text(json.dumps(dict(format='heartbeat_nbdev-ensemble/1', members=members))); return str(e)
x4 = sf.read(one, dtype='float32')[0]
sf.write(str(tmp/'huge.wav'), x4*2e37, 4000, subtype='FLOAT')
sf.write(str(tmp/'cut.aiff'), x4, 4000, format='AIFF'); b = (tmp/'cut.aiff').read_bytes(); (tmp/'cut.aiff').write_bytes(b[:len(b)//2])
b = bytearray((wavs/'r1.wav').read_bytes()); b[34:36] = (7).to_bytes(2, 'little'); (tmp/'bits7.wav').write_bytes(b)
if not (tmp/'in.fifo').exists(): os.mkfifo(tmp/'in.fifo')
deep = tmp/'deep'; p = deep; deep.mkdir(exist_ok=True)
for _ in range(1500): p = p/'d'; p.mkdir(exist_ok=True)   # one level at a time (`mkdir(parents=True)` recurses too)
shutil.copy(one, p/'bottom.wav')
victim = tmp/'victim.wav'; shutil.copy(one, victim); vbytes = victim.read_bytes()
def unchanged(r): return None if victim.read_bytes() == vbytes else 'the input was overwritten'
def devnull_kept(r): return None if stat.S_ISCHR(os.stat('/dev/null').st_mode) else '/dev/null was replaced'
def said(text): return lambda r: None if text in r.stderr else f'no {text!r} in stderr'
cases = [
 ('good model, one file', [one], dict(model=M), 0),
 ('--csv is one of the inputs', [str(victim), one], dict(model=M, csv=str(victim)), 2, unchanged),
 ('--json-out is a file inside an input folder', [str(wavs)], dict(model=M, json_out=one), 2),
 ('--csv /dev/null, --json-out /dev/null', [one], dict(model=M, csv='/dev/null', json_out='/dev/null'), 0, devnull_kept),
 ('--threads 0', [one], dict(model=M, threads='0'), 2),
 ('--resume without --csv', [one], dict(model=M, resume=None), 2),
 ('murmur weight 1e308, digest kept', [one], dict(model=keep_digest('op1e308', edit_op)), 2),
 ('grafted random model.onnx, --backend auto', [one], dict(model=str(graft), backend='auto', device='cpu'), 0, said('using PyTorch')),
 ('grafted random model.onnx, --backend onnx', [one], dict(model=str(graft), backend='onnx'), 2),
 ('ensemble member "."', [one], dict(model=ensemble('cycle', ['a', '.'])), 2),
 ('ensemble of 200 copies', [one], dict(model=ensemble('many', ['a']*200)), 2),
 ('ensemble member linked outside', [one], dict(model=ensemble('escape', ['a', 'out'], [('out', good)])), 2),
 ('float WAV with peak 1e37', [str(tmp/'huge.wav')], dict(model=M), 1, said('resampling gives NaN')),
 ('truncated AIFF', [str(tmp/'cut.aiff')], dict(model=M), 0, said('truncated')),
 ('bits_per_sample 7 in a 16-bit WAV', [str(tmp/'bits7.wav')], dict(model=M), 1, said('7 bits per sample')),
 ('a FIFO as input', [str(tmp/'in.fifo')], dict(model=M), 1, said('named pipe')),
 ('/dev/zero as input', ['/dev/zero'], dict(model=M), 1, said('character device')),
 ('a name over 255 bytes, then a good file', [str(tmp/('n'*300 + '.wav')), one], dict(model=M), 1, said('1 predicted, 1 failed')),
 ('a folder 1,500 deep (libsndfile opens no path that long)', [str(deep)], dict(model=M), 1, said('filename too long')),
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
CLI.write_text('import sys\nfrom heartbeat_nbdev.predict_cli import predict_cli\nsys.exit(predict_cli())\n')
n_bad = 0
for name, inputs, kw, expect, *check in cases:
    args = [sys.executable, str(CLI), *inputs, '--quiet']
    for k, v in kw.items(): args += [f"--{k.replace('_', '-')}"] + ([] if v is None else [v])
    r = subprocess.run(args, capture_output=True, text=True, env=env)
    lines = [l for l in r.stderr.splitlines() if l.strip() and 'Warning' not in l and not l.startswith(' ')]
    msg = ' | '.join(l for l in lines if l.startswith(('error', 'failed', 'skipped', 'warning')) or 'predicted' in l) or (lines[-1] if lines else '')
    tb = 'Traceback' in r.stderr
    why = check[0](r) if check else None
    ok = r.returncode == expect and not tb and not why
    n_bad += not ok
    print(f"{'ok  ' if ok else 'FAIL'} exit {r.returncode} (expect {expect}) {name}: {msg.replace(str(tmp), '<tmp>')[:300]}{' [TRACEBACK]' if tb else ''}{f' [{why}]' if why else ''}")

# Ctrl-C (SIGINT) then SIGTERM in the middle of a batch: exit 130, 143, the rows done stay in --csv, --resume does only the rest (issue #23)
import signal, time
many = tmp/'batch'; many.mkdir(exist_ok=True)   # 120 recordings of 60 s (links to one): seconds of work, so the signals land in the middle
synth_wav(tmp/'long60.wav', 60.0, 4000, murmur=True)
for i in range(120): (many/f'm{i:03d}.wav').unlink(missing_ok=True); os.link(tmp/'long60.wav', many/f'm{i:03d}.wav')
out_csv = tmp/'batch.csv'; out_csv.unlink(missing_ok=True)
def stopped_run(sig, resume):
    n0 = out_csv.read_text().count('\n') if out_csv.exists() else 0
    p = subprocess.Popen([sys.executable, str(CLI), str(many), '--model', M, '--quiet', '--csv', str(out_csv)] + ['--resume']*resume, stderr=subprocess.PIPE, text=True, env=env,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))   # a background job's shell ignores SIGINT for its children
    t0 = time.time()
    while time.time() - t0 < 300 and p.poll() is None and (not out_csv.exists() or out_csv.read_text().count('\n') < max(n0, 1) + 2): time.sleep(0.02)
    p.send_signal(sig); _, e = p.communicate()
    return p.returncode, e, out_csv.read_text().count('\n') - 1
rc1, e1, k1 = stopped_run(signal.SIGINT, False)
rc2, e2, k2 = stopped_run(signal.SIGTERM, True)
r = subprocess.run([sys.executable, str(CLI), str(many), '--model', M, '--quiet', '--csv', str(out_csv), '--resume'], capture_output=True, text=True, env=env)
rows = out_csv.read_text().splitlines()[1:]
ok = (rc1, rc2, r.returncode) == (130, 143, 0) and 'interrupted:' in e1 + e2 and 0 < k1 < k2 < 120 and len(rows) == 120 == len({l.split(',')[0] for l in rows}) and 'Traceback' not in e1 + e2 + r.stderr
n_bad += not ok; cases.append('signals')
print(f"{'ok  ' if ok else 'FAIL'} exit {rc1}, {rc2}, {r.returncode} (expect 130, 143, 0) Ctrl-C, then SIGTERM, then --resume: {k1}, then {k2} rows kept, then {len(rows)}, none twice: {e1.strip().splitlines()[-1][:120] if e1.strip() else ''}")
# the reader goes away (`| head -1`): exit 141, no traceback
r = subprocess.run(['bash', '-c', f'"{sys.executable}" "{CLI}" "{wavs}" --model "{M}" --quiet | true; echo "rc=${{PIPESTATUS[0]}}"'], capture_output=True, text=True, env=env)
ok = 'rc=141' in r.stdout and 'Traceback' not in r.stderr and 'Exception ignored' not in r.stderr
n_bad += not ok; cases.append('pipe')
print(f"{'ok  ' if ok else 'FAIL'} {r.stdout.strip()} (expect rc=141) the reader of the table goes away: {r.stderr.strip()[-150:]}")
subprocess.run(['rm', '-rf', str(deep)])   # `shutil.rmtree` recurses: 1,500 levels are too deep for it
print(f"{len(cases) - n_bad}/{len(cases)} cases as expected")
sys.exit(1 if n_bad else 0)
