"""The page of `heartbeat-serve` in a real browser: upload a recording and see its answer, upload a text file and see its error.

    python tools/check_serve_page.py [--model DIR] [--shots DIR] [--chromium /usr/bin/chromium]

Starts `heartbeat-serve` on 127.0.0.1 (a free port) with `--model`, or with a MobileNetV2 64 px of random weights
exported to ONNX when none is given (the page is checked, not the model), and drives one headless Chromium over the
DevTools protocol (`check_docs_site.Chromium`: no extra packages). The recording and the text file go through the
page's own file input (`DOM.setFileInputFiles`, as a person choosing a file), and the page's script posts them to
`/v1/predict`; the record button records 3 s from Chromium's fake microphone (a test tone) and sends it. Screenshots go to `--shots` (`serve-answer.png`, `serve-error.png`). One line per check, then
`N passed, M failed`; exit status 1 if any failed.
"""
import argparse, base64, json, os, shutil, socket, subprocess, sys, tempfile, time, urllib.request
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
import check_docs_site
from check_docs_site import Chromium
# a fake microphone (Chromium's test tone) that needs no permission prompt: the page's recorder is checked too
check_docs_site.CHROMIUM_FLAGS += ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', '--autoplay-policy=no-user-gesture-required']

ROOT = Path(__file__).resolve().parents[1]

def free_port() -> int:
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def random_model(d:Path) -> Path:
    from heartbeat_nbdev.model import body_head_model, write_model, export_onnx
    from heartbeat_nbdev.spectrogram import SpecConfig
    m, _ = body_head_model('mobilenet_v2', 5, pretrained=False)
    write_model(m, d, SpecConfig(), 'mobilenet_v2', ['artifact', 'extrahls', 'extrastole', 'murmur', 'normal'], 64)
    export_onnx(d); return d

def wait_until(browser, s, expr, timeout=30):
    "The value of `expr` once truthy (polled every 0.1 s), else TimeoutError."
    end = time.time() + timeout
    while time.time() < end:
        v = browser.evaluate(s, expr)
        if v: return v
        time.sleep(0.1)
    raise TimeoutError(f"page never got to: {expr}")

def shot(browser, s, path, height=1150):
    data = browser.call('Page.captureScreenshot', s, format='png', clip=dict(x=0, y=0, width=1000, height=height, scale=1))['data']
    Path(path).write_bytes(base64.b64decode(data))

def choose_file(browser, s, path):
    "Put `path` in the page's file input, as a person choosing it does (the page's change handler posts it)."
    doc = browser.call('DOM.getDocument', s)['root']['nodeId']
    node = browser.call('DOM.querySelector', s, nodeId=doc, selector='#file')['nodeId']
    browser.evaluate(s, "document.body.dataset.state = 'ready'")
    browser.call('DOM.setFileInputFiles', s, files=[str(path)], nodeId=node)

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--model'); ap.add_argument('--shots', default='_serve_shots')
    ap.add_argument('--recording', help='audio file to upload (default: a synthetic 10 s recording)')
    ap.add_argument('--chromium', default=os.environ.get('CHROMIUM', '/usr/bin/chromium'))
    a = ap.parse_args()
    if not shutil.which(a.chromium): sys.exit(f"check_serve_page: {a.chromium} not found (apt-get install -y chromium)")
    tmp = Path(tempfile.mkdtemp(prefix='serve-page-'))
    model = Path(a.model) if a.model else random_model(tmp/'model')
    if a.recording: rec = Path(a.recording)
    else:
        from heartbeat_nbdev.audio import synth_wav
        rec = synth_wav(tmp/'recording.wav', 10.0, 4000, murmur=True)
    notes = tmp/'notes.txt'; notes.write_text('these are notes, not a recording\n')
    shots = Path(a.shots); shots.mkdir(parents=True, exist_ok=True)
    port = free_port(); base = f'http://127.0.0.1:{port}'
    env = {**os.environ, 'PYTHONPATH': str(ROOT)}; env.pop('HEARTBEAT_API_TOKEN', None)
    srv = subprocess.Popen([sys.executable, '-m', 'heartbeat_nbdev.serve', '--model', str(model), '--port', str(port)], env=env,
                           stderr=open(tmp/'serve.log', 'w'))
    passed = failed = 0
    def check(ok, what):
        nonlocal passed, failed
        if ok: passed += 1; print(f"ok   {what}", flush=True)
        else: failed += 1; print(f"FAIL {what}", flush=True)
    try:
        for _ in range(600):
            try: urllib.request.urlopen(base + '/v1/health', timeout=1).read(); break
            except OSError:
                if srv.poll() is not None: sys.exit(f"heartbeat-serve exited: {(tmp/'serve.log').read_text()[-1000:]}")
                time.sleep(0.1)
        with tempfile.TemporaryDirectory(prefix='chromium-profile-') as prof, open(tmp/'chromium.log', 'w') as log:
            browser = Chromium(a.chromium, prof, log)
            try:
                s = browser.new_page(); browser.call('DOM.enable', s)
                browser.call('Emulation.setDeviceMetricsOverride', s, width=1000, height=1150, deviceScaleFactor=1, mobile=False)
                browser.load(s, base + '/')
                model_line = wait_until(browser, s, "document.getElementById('model').textContent.startsWith('Model ') && document.getElementById('model').textContent")
                check('onnx' in model_line, f"the page shows the model: {model_line[:90]!r}")
                try:
                    choose_file(browser, s, rec)
                    state = wait_until(browser, s, "['done', 'error'].includes(document.body.dataset.state) && document.body.dataset.state", 60)
                    got = browser.evaluate(s, """({answer: document.getElementById('answer').textContent, summary: document.getElementById('summary').textContent,
                        points: document.querySelectorAll('#windows circle').length, error: document.getElementById('error').textContent})""")
                    import httpx
                    api = httpx.post(base + '/v1/predict', files={'file': (rec.name, rec.read_bytes())}, timeout=60).json()
                    want = f"uncertain (most likely {api['pred']})" if api['uncertain'] else api['answer']
                    check(state == 'done' and got['answer'] == want and got['points'] == len(api['probs'])*api['n_windows'],
                          f"a recording uploaded: answer {got['answer']!r} (the API says {want!r}), {got['summary']!r}, {got['points']} window points plotted" +
                          (f"; error {got['error']!r}" if state == 'error' else ''))
                    shot(browser, s, shots/'serve-answer.png')
                except Exception as e: check(False, f"a recording uploaded: {type(e).__name__}: {e}")
                try:   # the microphone (Chromium's fake device: a beeping tone), 3 s, then stop and send
                    browser.evaluate(s, "document.body.dataset.state = 'ready'; document.getElementById('record').click(); true")
                    wait_until(browser, s, "document.body.dataset.state === 'recording'", 20)
                    time.sleep(3)
                    browser.evaluate(s, "document.getElementById('record').click(); true")
                    state = wait_until(browser, s, "['done', 'error'].includes(document.body.dataset.state) && document.body.dataset.state", 60)
                    got = browser.evaluate(s, "({file: document.getElementById('fname').textContent, summary: document.getElementById('summary').textContent, "
                                              "error: document.getElementById('error').textContent})")
                    check(state == 'done' and got['file'] == 'recording.wav', f"a recording from the (fake) microphone: {got['summary'] or got['error']!r}")
                except Exception as e: check(False, f"a recording from the (fake) microphone: {type(e).__name__}: {e}")
                try:
                    choose_file(browser, s, notes)
                    state = wait_until(browser, s, "['done', 'error'].includes(document.body.dataset.state) && document.body.dataset.state", 60)
                    msg = browser.evaluate(s, "document.getElementById('error').textContent")
                    check(state == 'error' and 'notes.txt: not a readable audio file' in msg, f"a text file uploaded: error {msg[:90]!r}")
                    shot(browser, s, shots/'serve-error.png', 420)
                except Exception as e: check(False, f"a text file uploaded: {type(e).__name__}: {e}")
            finally: browser.close()
    finally:
        srv.terminate()
        try: srv.wait(10)
        except subprocess.TimeoutExpired: srv.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)

if __name__ == '__main__': main()
