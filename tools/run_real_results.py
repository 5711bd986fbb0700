"""Run every notebook, `#| real` cells included, on the real data and a trained model; save the outputs in the notebooks.

    python tools/run_real_results.py [--model models/best] [--train-missing] [--only 12_train 13_analysis]
    python tools/run_real_results.py --check     # only check the committed notebooks' outputs (sizes, junk, paths)

Cells that need the real data or a trained model are flagged `#| real` (in `tst_flags`, so `nbdev-test` skips them and
the docs show their saved outputs). This command is how those outputs are made:

1. the model: `--model` (default `DEFAULT_MODEL`, relative to the repository root) must hold a `heartbeat-train`
   folder (`model.json`, `metrics.json`, `valid_*.csv`); with `--train-missing` a missing one is trained first, with
   `RECIPES[model]` (or `--train-args`);
2. every notebook in `nbs/` (not `_*`), in order, is executed in a fresh process as `nbdev-test` runs it (cwd `nbs/`,
   `IN_TEST=1`), skipping the `tst_flags` except `real` (so `slow` cells stay skipped), with `$HEARTBEAT_MODEL` pointing
   the notebooks at the model; a cell that raises stops everything and nothing is written;
3. the outputs are cleaned: progress bars (fastai's HTML, tqdm's `\\r` lines), ANSI colour codes and widget views and
   state are dropped; absolute paths become relative (`<data>`, `<weights>`, `<tmp>`, `~` for the rest); figures are
   PNG at their own dpi (72-90 here, not doubled), and a large one is re-encoded with a 256-colour palette; cells
   flagged `#| hide` (checks on synthetic fixtures, left out of the docs) keep no outputs, so GitHub does not show
   them as results either;
4. a notebook with `#| real` cells gets a short markdown note (its own cell, replaced on every run; the full record is
   a JSON comment in it): which commit and which model (folder, settings, metrics, weights digest) produced the outputs;
5. the notebooks are written, then `nbdev-clean`ed (so the CI's clean check passes with outputs), and their sizes
   checked: each notebook under 1 MB and all under 5 MB, or the command fails.

Running it twice on the same commit and model gives the same notebooks. Needs `$HEARTBEAT_DATA` (or
`data/heartbeat-sounds`); the default model's recipe (the `screening` preset, `light_cnn` from random weights) needs
no weights file.
"""
import argparse, hashlib, json, os, re, shlex, subprocess, sys, tempfile, time, traceback
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT/'nbs'

# The model the notebooks show: change it here (or pass --model). Paths are relative to the repository root.
DEFAULT_MODEL = 'models/best'
# How --train-missing trains a model folder: heartbeat-train options ({weights} is $HEARTBEAT_WEIGHTS).
RECIPES = {
    'models/best': '--preset screening',   # the recipe chosen in 18_recipe (light_cnn from random weights)
}
REAL_FLAG = 'real'
MAX_NB_BYTES, MAX_ALL_BYTES = 1_000_000, 5_000_000
NOTE_MARK = '<!-- real-results: written by tools/run_real_results.py; edit the tool, not this cell -->'
WIDGET_MIMES = ('application/vnd.jupyter.widget-view+json', 'application/vnd.jupyter.widget-state+json')


def notebooks(only=None):
    fns = sorted(p for p in NBS.glob('*.ipynb') if not p.name.startswith(('_', '.')))
    fns = sorted(fns, key=lambda p: (p.name != 'index.ipynb', p.name))
    if only: fns = [p for p in fns if any(p.stem == o or p.stem.startswith(o) or p.name == o for o in only)]
    return fns


def directives(src):
    "The `#| name` flags at the top of a cell's source."
    out = set()
    for l in src.splitlines():
        m = re.match(r'\s*#\|\s*([\w-]+)', l)
        if m: out.add(m.group(1))
        elif l.strip(): break
    return out

def src_of(c): return ''.join(c['source']) if isinstance(c['source'], list) else c['source']
def is_real(c): return c['cell_type'] == 'code' and REAL_FLAG in directives(src_of(c))


# ---- 2. execute one notebook (in a fresh process) --------------------------------------------------------------------
def execute(fn, model_env):
    "Run notebook `fn` as nbdev-test does, `real` cells included; {cell id: outputs} of the cells that ran, or an error."
    from nbdev.config import get_config
    from nbdev.process import NBProcessor
    from nbdev.test import _skip_cell
    from fastcore.xtras import working_directory
    from execnb.shell import CaptureShell
    from fastcore.xtras import obj2dict
    fn = Path(fn)
    cfg = get_config()
    flags = cfg.tst_flags.split() if isinstance(cfg.tst_flags, str) else list(cfg.tst_flags or [])
    flags = [f for f in flags if f != REAL_FLAG]
    os.environ['IN_TEST'] = '1'              # as nbdev-test: `nbdev_export()` in a notebook does nothing
    os.environ['HEARTBEAT_MODEL'] = model_env
    sys.path.insert(0, str(cfg.config_path))
    multiprocessing.set_start_method('fork', force=True)   # as under nbdev-test, for process pools inside notebooks
    nb = NBProcessor(fn, rm_directives=False, process=True).nb
    skip = _skip_cell(nb, flags)
    ran, t0 = [], time.time()
    k = CaptureShell(fn, mpl_format='png', profile=bool(cfg.exec_profile))   # PNG at the figure's dpi, not 2x 'retina'
    try:
        with working_directory(fn.parent):
            k.run_all(nb, exc_stop=True, preproc=skip, postproc=ran.append, cell_timeout=cfg.cell_timeout or None)
    except BaseException as e:
        c = ran[-1] if ran else None
        return dict(error=f"{fn.name}: cell {getattr(c, 'id', '?')} raised {type(e).__name__}: {e}\n"
                          f"--- cell source ---\n{c.source if c is not None else ''}\n--- traceback ---\n"
                          + (k.prettytb(fname=fn) or ''.join(traceback.format_exception(e))))
    finally: k.close()
    outs = {}
    for c in ran:
        res = []
        for o in c.get('outputs', []):
            o = json.loads(json.dumps(obj2dict(o)))
            if isinstance(o.get('text'), list): o['text'] = ''.join(o['text'])
            for m, v in o.get('data', {}).items():
                if isinstance(v, list): o['data'][m] = ''.join(v)
            res.append(o)
        outs[c.id] = res
    return dict(outputs=outs, secs=time.time() - t0)


# ---- 3. clean the outputs ----------------------------------------------------------------------------------------------
_ansi = re.compile(r'\x1b\[[0-9;?]*[ -/]*[@-~]')
_bar = re.compile(r'(\d+%\|.*\|)|(\|[-█▏▎▍▌▋▊▉ ]{5,}\|)|(^\s*\d+(\.\d+)?% \[\d+/\d+)')

def path_subs():
    "(old, new) replacements that turn this machine's absolute paths into portable ones, longest first."
    subs = []
    for var, tag in (('HEARTBEAT_DATA', '<data>'), ('HEARTBEAT_WEIGHTS', '<weights>')):
        v = os.environ.get(var)
        if v:
            subs += [(str(Path(v).resolve()), tag), (str(Path(v)), tag)]
    subs += [(str(NBS) + '/', ''), (str(ROOT) + '/', '../'), (str(ROOT), '..'), (tempfile.gettempdir() + '/', '<tmp>/'),
             (str(Path.home()), '~')]
    return sorted(set(subs), key=lambda s: -len(s[0]))

_tmp = re.compile(r'<tmp>/[\w.-]+')

def scrub(t, subs):
    for old, new in subs: t = t.replace(old, new)
    return _tmp.sub('<tmp>', t)

def clean_stream(t, subs):
    lines = []
    for l in _ansi.sub('', t).split('\n'):
        l = l.rsplit('\r', 1)[-1]               # what a terminal would show after the carriage returns
        if _bar.search(l): continue
        lines.append(l)
    return scrub('\n'.join(lines), subs)

def shrink_png(b64, min_bytes=60_000):
    "A large PNG re-encoded with a 256-colour palette (plots and spectrograms barely change), if that is smaller."
    import base64, io
    from PIL import Image
    raw = base64.b64decode(b64)
    if len(raw) < min_bytes: return b64
    im = Image.open(io.BytesIO(raw))
    buf = io.BytesIO()
    im.convert('RGB').quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(buf, 'PNG', optimize=True)
    return base64.b64encode(buf.getvalue()).decode() + '\n' if buf.tell() < len(raw) else b64

def clean_outputs(outs, subs):
    res = []
    for o in outs:
        o = dict(o); o.pop('execution_count', None) if o.get('output_type') == 'stream' else None
        if o.get('output_type') == 'error': raise RuntimeError(f"error output: {o.get('ename')}: {o.get('evalue')}")
        if o.get('output_type') == 'stream':
            o['text'] = clean_stream(o.get('text', ''), subs)
            if not o['text'].strip(): continue
        else:
            d = dict(o.get('data', {}))
            if any(m in d for m in WIDGET_MIMES): continue       # a widget: live in Jupyter only, no state saved
            h = d.get('text/html', '')
            if '<progress' in h or 'progress-bar' in h: continue   # fastai's progress bar
            if isinstance(d.get('image/png'), str): d['image/png'] = shrink_png(d['image/png'])
            for m, v in d.items():
                if m.startswith('text/') or m in ('image/svg+xml', 'application/json'):
                    d[m] = scrub(v, subs) if isinstance(v, str) else v
            o['data'] = d
            o['metadata'] = {}
            if o.get('output_type') == 'execute_result': o['execution_count'] = None
        res.append(o)
    return res


# ---- 4. provenance -----------------------------------------------------------------------------------------------------
def git(*args):
    return subprocess.run(['git', *args], cwd=ROOT, capture_output=True, text=True).stdout.rstrip()

def source_changes():
    "Files whose source differs from HEAD; notebooks count only if a cell's source (not its outputs) changed."
    changed = []
    for l in git('status', '--porcelain', '--untracked-files=no').splitlines():
        p = l[3:].strip()
        if not p.endswith('.ipynb'): changed.append(p); continue
        try: old = json.loads(git('show', f'HEAD:{p}'))
        except json.JSONDecodeError: changed.append(p); continue
        new = json.loads((ROOT/p).read_text())
        srcs = lambda nb: [(c['cell_type'], src_of(c)) for c in nb['cells'] if NOTE_MARK not in src_of(c)]
        if srcs(old) != srcs(new): changed.append(p)
    return changed

def sha(p, n=12):
    h = hashlib.sha256()
    with open(p, 'rb') as f:
        for b in iter(lambda: f.read(1 << 20), b''): h.update(b)
    return h.hexdigest()[:n]

def model_record(model):
    m = json.loads((model/'metrics.json').read_text()); meta = json.loads((model/'model.json').read_text())
    s = m.get('settings', {})
    keep = ('arch', 'pretrained', 'img_size', 'epochs', 'freeze_epochs', 'bs', 'lr', 'wd', 'class_weights', 'merge', 'fold', 'seed', 'spec_config')
    return dict(folder=model.name, path=str(model.relative_to(ROOT)) if model.is_relative_to(ROOT) else model.name,
                settings={k: s[k] for k in keep if k in s},
                metrics={lvl: {k: round(m[lvl][k], 4) for k in ('balanced_accuracy', 'macro_f1', 'accuracy')} | {'n': m[lvl]['n']}
                         for lvl in ('window', 'recording') if lvl in m},
                weights_sha256=sha(model/meta.get('weights', 'model.safetensors')), metrics_sha256=sha(model/'metrics.json'))

def describe_model(r):
    s = r['settings']
    bits = [s.get('arch', '?'), f"{s['img_size']} px" if 'img_size' in s else None,
            'ImageNet-pretrained' if s.get('pretrained') else 'from scratch', 'class-weighted loss' if s.get('class_weights') else None,
            f"{s['epochs']} epochs" if 'epochs' in s else None, f"validation fold {s.get('fold', 0)}"]
    rec = r['metrics'].get('recording', {})
    perf = (f": recording balanced accuracy {rec['balanced_accuracy']:.3f}, macro-F1 {rec['macro_f1']:.3f} on {rec['n']} "
            f"validation recordings") if rec else ''
    return f"`{r['path']}` ({', '.join(b for b in bits if b)}{perf}; weights sha256 `{r['weights_sha256']}`)"

def note_cell(nb_name, record):
    uses_model = record.get('model') is not None
    what = f"the real recordings and the model {describe_model(record['model'])}" if uses_model else "the real recordings"
    txt = (f"{NOTE_MARK}\n<!-- {json.dumps(record, sort_keys=True)} -->\n**Real results.** The saved outputs of the cells flagged `#| real` come from {what}, "
           f"produced by `python tools/run_real_results.py` at commit `{record['commit']}`. `nbdev-test` skips those cells; "
           f"the other cells run on small synthetic fixtures.")
    return dict(cell_type='markdown', id=hashlib.sha1(f'real-results {nb_name}'.encode()).hexdigest()[:8], metadata={},
                source=txt.splitlines(keepends=True))


# ---- 5. checks ---------------------------------------------------------------------------------------------------------
def check_notebooks(fns):
    "Problems with the saved outputs of `fns`: size, progress bars, widget state, local paths, library warnings, execution counts."
    probs, total = [], 0
    local = [str(ROOT), str(Path.home()) + '/'] + [os.environ[v] for v in ('HEARTBEAT_DATA', 'HEARTBEAT_WEIGHTS') if os.environ.get(v)]
    for fn in fns:
        raw = fn.read_bytes(); total += len(raw)
        if len(raw) > MAX_NB_BYTES: probs.append(f"{fn.name}: {len(raw)/1e6:.2f} MB (limit {MAX_NB_BYTES/1e6:g} MB): make its figures smaller")
        nb = json.loads(raw)
        if 'widgets' in nb.get('metadata', {}): probs.append(f"{fn.name}: widget state in the notebook metadata")
        for c in nb['cells']:
            if c.get('execution_count') is not None: probs.append(f"{fn.name}: cell {c['id']} has an execution count"); break
            for o in c.get('outputs', []):
                txt = o.get('text', '') if isinstance(o.get('text', ''), str) else ''.join(o['text'])
                txt += ''.join(''.join(v) if isinstance(v, list) else str(v) for m, v in o.get('data', {}).items() if m.startswith('text/'))
                if any(m in o.get('data', {}) for m in WIDGET_MIMES): probs.append(f"{fn.name}: cell {c['id']}: a widget output")
                if '<progress' in txt or '\r' in txt or '\x1b[' in txt: probs.append(f"{fn.name}: cell {c['id']}: progress bar or terminal codes in an output")
                bad = [p for p in local if p and p in txt] + _abs_path.findall(txt)
                if bad: probs.append(f"{fn.name}: cell {c['id']}: a local path in an output ({bad[0]})")
                if 'site-packages/' in txt: probs.append(f"{fn.name}: cell {c['id']}: a library's warning or traceback in an output (fix its cause, or silence it where it is expected)")
    if total > MAX_ALL_BYTES: probs.append(f"the notebooks hold {total/1e6:.2f} MB (limit {MAX_ALL_BYTES/1e6:g} MB)")
    return probs, total


# an absolute path of a machine (another's too): /home/..., /Users/..., /tmp/..., /work/..., C:\\Users\\...
_abs_path = re.compile(r'(?<![\w.<>~-])(?:/(?:home|Users|root|work|tmp|mnt|private|opt|srv)/[\w.-]+|[A-Z]:\\Users\\)')


def nb_write(nb, fn):
    fn.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + '\n', encoding='utf-8')


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--model', default=DEFAULT_MODEL, help=f'model folder, relative to the repository root (default: {DEFAULT_MODEL})')
    ap.add_argument('--train-missing', action='store_true', help='train the model with heartbeat-train if its folder has no model')
    ap.add_argument('--train-args', default=None, help='heartbeat-train options for --train-missing (default: RECIPES[model])')
    ap.add_argument('--only', nargs='*', help='run only these notebooks (names or prefixes, e.g. 03 13_analysis)')
    ap.add_argument('--check', action='store_true', help='run nothing: check the saved outputs (sizes, junk, local paths)')
    a = ap.parse_args()
    os.chdir(ROOT)
    if a.check:
        probs, total = check_notebooks(notebooks())
        for p in probs: print('FAIL', p)
        print(f"run_real_results --check: {len(notebooks())} notebooks, {total/1e6:.2f} MB, {len(probs)} problem(s)")
        sys.exit(1 if probs else 0)

    sys.path.insert(0, str(ROOT))
    from heartbeat_nbdev.data import have_data, find_data_path
    if not have_data():
        try: find_data_path()
        except FileNotFoundError as e: sys.exit(f"run_real_results: the real data is needed: {e}")
    model = (ROOT/a.model).resolve()
    if not (model/'metrics.json').exists() or not (model/'model.json').exists():
        args = a.train_args or RECIPES.get(a.model.rstrip('/'))
        if not a.train_missing or args is None:
            how = f"`heartbeat-train {args} --out {a.model}`" if args else f"heartbeat-train ... --out {a.model}"
            sys.exit(f"run_real_results: no trained model in {a.model}; train it with {how}, or pass --train-missing"
                     + ('' if args else ' with --train-args'))
        weights = os.environ.get('HEARTBEAT_WEIGHTS', '')
        if '{weights}' in args and not weights: sys.exit("run_real_results: set $HEARTBEAT_WEIGHTS (the folder holding the pretrained file)")
        cmd = [sys.executable, '-m', 'heartbeat_nbdev.train_cli', *shlex.split(args.format(weights=weights)), '--out', a.model]
        print('training:', ' '.join(cmd), flush=True)
        t0 = time.time()
        subprocess.run(cmd, cwd=ROOT, check=True, env={**os.environ, 'PYTHONPATH': str(ROOT)})
        print(f"trained in {(time.time() - t0)/60:.1f} min", flush=True)
    model_env = os.path.relpath(model, NBS)   # as the notebooks see it from nbs/ (e.g. ../models/best)

    changed = source_changes()
    commit = git('rev-parse', '--short=10', 'HEAD') + (' (with uncommitted changes to ' + ', '.join(changed[:4])
                                                        + (', ...' if len(changed) > 4 else '') + ')' if changed else '')
    mrec = model_record(model)
    fns = notebooks(a.only)
    if not fns: sys.exit("run_real_results: no notebooks to run")
    print(f"run_real_results: {len(fns)} notebook(s), model {mrec['path']}, commit {commit}", flush=True)

    results = {}
    for fn in fns:   # in order, one fresh process each (IPython takes over the process it runs in)
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context('spawn')) as ex:
            r = ex.submit(execute, str(fn), model_env).result()
        if 'error' in r:
            sys.exit(f"\n{'=' * 78}\nrun_real_results: {fn.name} FAILED (no notebook written)\n{'=' * 78}\n{r['error']}")
        print(f"  {fn.name:<26} {r['secs']:6.1f}s  {len(r['outputs'])} cells run", flush=True)
        results[fn] = r['outputs']

    subs = path_subs()
    for fn, outs in results.items():
        nb = json.loads(fn.read_text())
        nb['cells'] = [c for c in nb['cells'] if not (c['cell_type'] == 'markdown' and NOTE_MARK in src_of(c))]
        for c in nb['cells']:
            if c['cell_type'] != 'code': continue
            c['execution_count'] = None
            if 'hide' in directives(src_of(c)): c['outputs'] = []; continue   # out of the docs: out of GitHub's view too
            try: c['outputs'] = clean_outputs(outs.get(c['id'], []), subs)
            except RuntimeError as e: sys.exit(f"run_real_results: {fn.name}, cell {c['id']}: {e}")
        nb.get('metadata', {}).pop('widgets', None)
        reals = [c for c in nb['cells'] if is_real(c)]
        if reals:
            uses_model = any('HEARTBEAT_MODEL' in src_of(c) for c in reals)
            record = dict(commit=commit, command='python tools/run_real_results.py', model=mrec if uses_model else None,
                          data=Path(os.environ.get('HEARTBEAT_DATA', 'data/heartbeat-sounds')).name)
            nb['cells'].insert(1, note_cell(fn.name, record))
        nb_write(nb, fn)
    subprocess.run([sys.executable, '-c', 'from nbdev.clean import nbdev_clean; nbdev_clean()'], cwd=ROOT, check=True)

    probs, total = check_notebooks(notebooks())
    for fn in fns: print(f"  {fn.name:<26} {fn.stat().st_size/1e3:7.0f} kB")
    if probs:
        for p in probs: print('FAIL', p)
        sys.exit(f"run_real_results: {len(probs)} problem(s) with the written notebooks")
    print(f"run_real_results: wrote {len(fns)} notebook(s); all notebooks {total/1e6:.2f} MB")


if __name__ == '__main__': main()
