"""Open every page of the built docs site in headless Chromium and check that it really renders.

    python tools/check_docs_site.py _site [--chromium /usr/bin/chromium]

`_site` is served on 127.0.0.1 (python's http.server, in a thread, on a free port). One headless Chromium, driven over
the DevTools protocol on a pipe (`--remote-debugging-pipe`: no extra packages), loads each page at 1280x2000 and checks:

- the title: `<title>` starts with the page's title and the first `<h1>` on the page is exactly that text; the
  expected title (the notebook's `# Title`) and figure count come from `site.json`, written by `tools/build_docs.py`;
- the figures: every `<img>` decoded to a non-empty image (naturalWidth/Height > 0), and the page shows at least as
  many figures (decoded `<img>` plus visible inline `<svg>`) as its notebook has image outputs once executed (a page
  whose notebook draws nothing, such as a command's, needs none; a site built with --no-exec is not checked for them);
- the saved figures: every page shows at least as many figures as its notebook holds saved image outputs (built
  without the data, a cell that needs it must keep its saved figure: flag it `#| real`), executed or not;
- the real results: each page of `REAL_PAGES`, and every page whose notebook has `#| real` cells (site.json), shows at
  least the given number of decoded figures inside those cells (`.celltag_real`: outputs saved by
  `tools/run_real_results.py` from the real data and a trained model), whether or not the site was executed;
- the width: nothing pushes the page sideways (the document is no wider than the 1280 px window; wide tables must
  scroll inside their own box), and on the pages of `FIT_PAGES` (Results, the home page) no table scrolls at all.

A screenshot of each page (its top 1280x2000) goes to `_site/_screenshots/<page>.png`, and, when the first figure is
further down, one of the area from that figure to `<page>-figure.png`. One line per page, then `N passed, M failed`;
the exit status is 1 if any page failed.
"""
import argparse, base64, fcntl, functools, http.server, json, os, select, shutil, subprocess, sys, tempfile, threading, time
from pathlib import Path

CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                  '--disable-background-networking', '--disable-component-update', '--disable-sync',
                  '--hide-scrollbars', '--window-size=1280,2000']
WIDTH, HEIGHT = 1280, 2000
# Pages that must show real results (figures from the real data / the trained model), and how many at least
# Pages whose tables must fit the 1280 px window without scrolling sideways even inside their own box
FIT_PAGES = ('results.html', 'index.html')
REAL_PAGES = {'explore.html': 3, 'spectrograms.html': 2, 'train.html': 2, 'analysis.html': 5, 'baseline.html': 1}

# What the page reports about itself, once every <img> has finished loading and decoding
PROBE = """(async () => {
  const imgs = [...document.images];
  await Promise.all(imgs.map(i => i.decode().catch(() => null)));
  const svgs = [...document.querySelectorAll('main svg')].filter(s => !s.parentElement.closest('svg'))
                 .filter(s => { const r = s.getBoundingClientRect(); return r.width > 0 && r.height > 0; });
  return {title: document.title, h1: [...document.querySelectorAll('h1')].map(h => h.textContent.trim()),
          imgs: imgs.map(i => ({src: i.getAttribute('src').slice(0, 40), w: i.naturalWidth, h: i.naturalHeight})),
          svgs: svgs.length,
          real_figs: [...document.querySelectorAll('.celltag_real img')].filter(i => i.naturalWidth > 0 && i.naturalHeight > 0).length,
          overflow: Math.max(document.documentElement.scrollWidth, document.body.scrollWidth) - window.innerWidth,
          scroll_tables: [...document.querySelectorAll('.table-wrap')].filter(e => e.scrollWidth > e.clientWidth + 1)
                  .map(e => ({over: e.scrollWidth - e.clientWidth, head: [...e.querySelectorAll('th')].slice(0, 3).map(h => h.textContent.trim()).join(' | ')})),
          wide: [...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
                  .filter(e => !e.closest('.table-wrap, pre, .output_area, .input_area'))
                  .slice(0, 3).map(e => e.tagName.toLowerCase() + (e.className ? '.' + String(e.className).split(' ')[0] : '')),
          first_fig: (() => { const f = imgs.find(i => i.naturalWidth > 0) || svgs[0];
                              return f ? f.getBoundingClientRect().top + window.scrollY : null; })()};
})()"""


class Chromium:
    "A headless Chromium driven over the DevTools protocol on fds 3 (commands in) and 4 (replies out)."
    def __init__(self, exe, profile_dir, log):
        cmd_r, self.wfd = os.pipe()
        self.rfd, res_w = os.pipe()
        def child():  # runs in the child before exec: put the pipe ends where Chromium expects them
            a, b = (fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (cmd_r, res_w))
            os.dup2(a, 3); os.dup2(b, 4)  # inheritable copies; every other fd Python opened is close-on-exec
        self.proc = subprocess.Popen([exe, *CHROMIUM_FLAGS, f'--user-data-dir={profile_dir}', '--remote-debugging-pipe',
                                      'about:blank'], stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                     preexec_fn=child, close_fds=False)
        os.close(cmd_r); os.close(res_w)
        self.buf, self.n, self.events = b'', 0, []

    def _recv(self, deadline):
        while b'\0' not in self.buf:
            if not select.select([self.rfd], [], [], max(0, deadline - time.time()))[0]:
                raise TimeoutError('no reply from Chromium')
            chunk = os.read(self.rfd, 1 << 20)
            if not chunk: raise RuntimeError(f'Chromium exited (status {self.proc.poll()})')
            self.buf += chunk
        msg, self.buf = self.buf.split(b'\0', 1)
        return json.loads(msg)

    def call(self, method, session=None, timeout=60, **params):
        self.n += 1
        msg = dict(id=self.n, method=method, params=params, **({'sessionId': session} if session else {}))
        data = json.dumps(msg).encode() + b'\0'
        while data: data = data[os.write(self.wfd, data):]
        deadline = time.time() + timeout
        while True:
            m = self._recv(deadline)
            if m.get('id') == self.n:
                if 'error' in m: raise RuntimeError(f"{method}: {m['error'].get('message')}")
                return m.get('result', {})
            self.events.append(m)

    def wait_event(self, method, session, timeout=60):
        deadline = time.time() + timeout
        while True:
            for m in self.events:
                if m.get('method') == method and m.get('sessionId') == session:
                    self.events.remove(m); return m
            self.events.append(self._recv(deadline))

    def new_page(self):
        tid = self.call('Target.createTarget', url='about:blank')['targetId']
        s = self.call('Target.attachToTarget', targetId=tid, flatten=True)['sessionId']
        self.call('Page.enable', s)
        self.call('Emulation.setDeviceMetricsOverride', s, width=WIDTH, height=HEIGHT, deviceScaleFactor=1, mobile=False)
        return s

    def load(self, s, url, timeout=60):
        self.events.clear()
        nav = self.call('Page.navigate', s, url=url)
        if nav.get('errorText'): raise RuntimeError(f"navigation failed: {nav['errorText']}")
        self.wait_event('Page.loadEventFired', s, timeout)

    def evaluate(self, s, expr):
        r = self.call('Runtime.evaluate', s, expression=expr, returnByValue=True, awaitPromise=True)
        if 'exceptionDetails' in r: raise RuntimeError(f"page script failed: {r['exceptionDetails'].get('text')}")
        return r['result']['value']

    def screenshot(self, s, path, top=0):
        "Save 1280x2000 of the page, from `top` (CSS pixels) down."
        clip = dict(x=0, y=top, width=WIDTH, height=HEIGHT, scale=1)
        data = self.call('Page.captureScreenshot', s, format='png', clip=clip, captureBeyondViewport=True)['data']
        Path(path).write_bytes(base64.b64decode(data))

    def close(self):
        try: self.call('Browser.close', timeout=10)
        except Exception: pass
        try: self.proc.wait(10)
        except subprocess.TimeoutExpired: self.proc.kill(); self.proc.wait()
        os.close(self.rfd); os.close(self.wfd)


def serve(site):
    "Serve `site` on 127.0.0.1 on a free port, in a daemon thread."
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args): pass
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(Quiet, directory=str(site)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def check_page(info, expect, executed=True, page=''):
    "List of problems with a page, given what the probe found and what site.json expects."
    probs = []
    title = expect.get('title') or (info['h1'][0] if info['h1'] else '')
    if not title: probs.append('no <h1> title')
    else:
        if not info['title'].startswith(title): probs.append(f"<title> is {info['title']!r}, expected {title!r}")
        if info['h1'][:1] != [title]: probs.append(f"first <h1> is {info['h1'][:1]}, expected [{title!r}]")
    broken = [i['src'] for i in info['imgs'] if not (i['w'] > 0 and i['h'] > 0)]
    if broken: probs.append(f"{len(broken)} <img> did not decode: {broken[:3]}")
    figs = sum(1 for i in info['imgs'] if i['w'] > 0 and i['h'] > 0) + info['svgs']
    want = expect.get('figures', 0) if executed else 0  # an executed build shows every figure its notebook draws
    if want and figs < want: probs.append(f"{figs} figure(s) rendered, expected {want} or more")
    saved = expect.get('saved_figures', 0)   # executed or not, with or without the data: the notebook's saved figures stay
    if figs < saved: probs.append(f"{figs} figure(s) rendered but its notebook holds {saved} saved figure(s): a cell that needs the data "
                                  "replaced its saved output (flag it `#| real`)")
    want_real = max(REAL_PAGES.get(page, 0), 1 if expect.get('real') else 0)
    if info['real_figs'] < want_real:
        probs.append(f"{info['real_figs']} real-result figure(s) in `#| real` cells, expected {want_real} or more "
                     "(run `python tools/run_real_results.py` and commit the notebooks)")
    if page in FIT_PAGES and info.get('scroll_tables'):
        probs.append(f"{len(info['scroll_tables'])} table(s) scroll sideways at {WIDTH} px (this page's tables must fit): " +
                     '; '.join(f"'{t['head']} ...' by {t['over']} px" for t in info['scroll_tables']))
    if info['overflow'] > 0:
        probs.append(f"the page is {info['overflow']} px wider than the window (sideways scrolling): {info['wide']}")
    return probs, figs, want


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('site', nargs='?', default='_site', help='the built site (default: _site)')
    ap.add_argument('--chromium', default=os.environ.get('CHROMIUM', '/usr/bin/chromium'))
    ap.add_argument('--timeout', type=float, default=60, help='seconds allowed for each page to load')
    a = ap.parse_args()
    site = Path(a.site).resolve()
    if not site.is_dir(): sys.exit(f"check_docs_site: {site} is not a folder; build it with tools/build_docs.py")
    if not shutil.which(a.chromium): sys.exit(f"check_docs_site: {a.chromium} not found (apt-get install -y chromium)")
    manifest = json.loads((site/'site.json').read_text()) if (site/'site.json').exists() else {}
    expected = {p['page']: p for p in manifest.get('pages', [])}
    pages = sorted((p.relative_to(site).as_posix() for p in site.rglob('*.html') if '_screenshots' not in p.parts),
                   key=lambda p: (list(expected).index(p) if p in expected else len(expected), p))
    missing = [p for p in expected if p not in pages]
    if manifest and not manifest.get('executed', True):
        print("note: site was built with --no-exec, so its pages have no figures to check")
    shots = site/'_screenshots'
    shutil.rmtree(shots, ignore_errors=True); shots.mkdir()

    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix='chromium-profile-') as prof, open(shots/'chromium.log', 'w') as log:
        browser = Chromium(a.chromium, prof, log)  # started before the server thread: it forks
        httpd = serve(site)
        base = f'http://127.0.0.1:{httpd.server_address[1]}/'
        try:
            session = browser.new_page()
            for page in pages:
                info = {}
                try:
                    browser.load(session, base + page, a.timeout)
                    info = browser.evaluate(session, PROBE)
                    name = page.replace('/', '__')[:-5]
                    browser.screenshot(session, shots/f'{name}.png')
                    if info['first_fig'] is not None and info['first_fig'] > HEIGHT - 300:  # and where its first figure is
                        browser.screenshot(session, shots/f'{name}-figure.png', max(0, int(info['first_fig']) - 150))
                    probs, figs, want = check_page(info, expected.get(page, {}), manifest.get('executed', True), page)
                except Exception as e: probs, figs, want = [f'{type(e).__name__}: {e}'], 0, 0
                what = f"{figs} figure(s)" + ('' if want else ' (not executed: figures not checked)') \
                       + (f", {info['real_figs']} from real results" if info.get('real_figs') else '')
                if probs: failed += 1; print(f"FAIL {page}: " + '; '.join(probs), flush=True)
                else: passed += 1; print(f"ok   {page}: {expected.get(page, {}).get('title', '')!r}, {what}", flush=True)
        finally:
            browser.close()
            httpd.shutdown()
    for p in missing: failed += 1; print(f"FAIL {p}: listed in site.json but missing")
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed or not passed else 0)


if __name__ == '__main__': main()
