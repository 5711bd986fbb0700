"""Build the static HTML docs site from the notebooks in nbs/, without Quarto.

    python tools/build_docs.py [--out _site] [--no-exec] [--workers N]

For every notebook in nbs/ whose name does not start with `_` or `.` (index.ipynb first, then the others by name):

1. execute it the way `nbdev-test` does (execnb's `CaptureShell`, cwd = nbs/, `IN_TEST=1`, skipping the cells nbdev-test
   skips: the `tst_flags` from pyproject.toml, `#| eval: false`, `skip_exec` frontmatter), keeping the outputs;
   a cell that raises stops the build, naming the notebook and the cell. Cells that are not run keep the outputs
   saved in the notebook, as nbdev with Quarto renders them: in particular the `#| real` cells, whose outputs
   `tools/run_real_results.py` made on the real data with a trained model (they are marked `celltag_real` in the page);
2. process it with nbdev's own docs processors (`nbdev.processors.FilterDefaults`, what `nbdev-proc-nbs` runs before
   Quarto): frontmatter from the `# Title` / `> description` cell, `show_doc` cells for exported functions and classes,
   `#| hide` and `#| export` cells removed, directives stripped, links to the package's symbols;
3. render it with nbconvert (`basic` template) inside a small page with a sidebar and prev/next links.

Pages are named as nbdev names them (`02_data.ipynb` -> `data.html`), so nbdev's symbol links (`_modidx.py`) resolve.
`api.html` lists every public function and class of the package (nbdev's `show_doc`: signature, docstring, docments
parameters) with a link to the notebook that defines it. Tables sit in a `.table-wrap` box that scrolls sideways when
they are wider than the page. `site.json` records each page's title, figure count, the figures saved in its notebook
(`saved_figures`: a build without the data must not lose them) and real-result figure count for
`tools/check_docs_site.py`. With `--no-exec` nothing is executed except what `show_doc` needs (as `nbdev-docs` does).
"""
import argparse, html, json, os, re, shutil, sys, time, traceback, importlib, pkgutil, inspect
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import multiprocessing
from concurrent.futures import ProcessPoolExecutor, as_completed

from fastcore.basics import AttrDict, first
from fastcore.xtras import working_directory
from fastcore.nbio import read_nb, nb2dict, cell_frontmatter, md_frontmatter
import nbformat
from traitlets.config import Config
from nbconvert import HTMLExporter
from nbconvert.filters.markdown_mistune import markdown2html_mistune
from pygments.formatters import HtmlFormatter
from nbdev.config import get_config, nbpath2html
from nbdev.process import NBProcessor
from nbdev.processors import FilterDefaults, populate_language, add_show_docs, exec_show_docs, _do_eval
from nbdev.test import _skip_cell  # the very predicate nbdev-test uses to leave cells out
from nbdev.doclinks import NbdevLookup
from execnb.shell import CaptureShell
sys.path.insert(0, str(ROOT/'tools'))
from make_readme import expand_includes

CELL_KEYS = ('cell_type', 'id', 'metadata', 'source', 'outputs', 'execution_count', 'attachments')
IMG_MIMES = ('image/png', 'image/jpeg', 'image/gif', 'image/svg+xml')


class NotebookError(Exception): pass


def notebooks(nbs_path):
    "Notebooks to publish: index.ipynb first, then the rest by name; `_`/`.` names are skipped, as nbdev does."
    fns = [p for p in nbs_path.glob('*.ipynb') if not p.name.startswith(('_', '.'))]
    return sorted(fns, key=lambda p: (p.name != 'index.ipynb', p.name))


# ---- 1. execute (as nbdev.test.test_nb does) -------------------------------------------------------------------------
def execute(nb, fn, cfg, docs_only=False):
    """Run `nb`'s cells in a `CaptureShell`, skipping what nbdev-test skips; outputs stay in the cells.
    With `docs_only`, run only what nbdev's `exec_show_docs` would (imports, exported code, `show_doc`)."""
    flags = cfg.tst_flags.split() if isinstance(cfg.tst_flags, str) else list(cfg.tst_flags or [])
    skip_test = _skip_cell(nb, flags)
    skip = (lambda c: skip_test(c) or not _do_eval(c)) if docs_only else skip_test
    k = CaptureShell(fn, profile=bool(cfg.exec_profile))
    k.run('from nbdev.showdoc import show_doc')
    ran = []
    try: k.run_all(nb, exc_stop=True, preproc=skip, postproc=ran.append, cell_timeout=cfg.cell_timeout or None)
    except BaseException as e:
        cell = ran[-1] if ran else None
        where = f"cell {cell.nbidx_ + 1} (id {cell.get('id', '?')})" if cell is not None and hasattr(cell, 'nbidx_') \
            else 'a show_doc cell added by nbdev' if cell is not None else 'before the first cell'
        src = cell.source if cell is not None else ''
        tb = ''.join(traceback.format_exception(e))
        hint = ("\n(--no-exec runs only what nbdev's `exec_show_docs` runs: imports, exported code and show_doc cells, "
                "so a cell that mixes an import with other code runs without the cells before it; `nbdev-docs` "
                "fails the same way. Put the import in a cell of its own.)") if docs_only and isinstance(e, NameError) else ''
        raise NotebookError(f"{fn.name}: {where} raised {type(e).__name__}: {e}{hint}\n"
                            f"--- cell source ---\n{src}\n--- traceback ---\n{tb}") from None
    finally: k.close()
    for c in nb.cells:  # CaptureShell stores texts as lists of lines; nbdev's processors expect strings
        for o in c.get('outputs', []):
            if isinstance(o.get('text'), list): o['text'] = ''.join(o['text'])
            for m, v in o.get('data', {}).items():
                if isinstance(v, list): o['data'][m] = ''.join(v)


# ---- 2. nbdev's docs processing --------------------------------------------------------------------------------------
class DocProcs(FilterDefaults):
    "nbdev's docs processors, less `exec_show_docs`: `execute` has already run the cells (and the `show_doc`s)."
    def base_procs(self): return [p for p in super().base_procs() if p is not exec_show_docs]


_re_link_attrs = re.compile(r'\[([^\]]*)\]\(([^)\s]*)\)\{([^}]*)\}')  # [txt](url){target="_blank" ...}: pandoc attributes
_re_fdiv_open = re.compile(r'^:::+\s*\{?([^}]*)\}?\s*$', re.M)  # ::: {.callout-note}: a Quarto fenced div
_re_fdiv_close = re.compile(r'^:::+\s*$', re.M)

def _link(m):
    txt, url, attrs = m.groups()
    cls = ' class="source-link"' if 'float:right' in attrs.replace(' ', '') else ''
    tgt = ' target="_blank" rel="noopener"' if '_blank' in attrs else ''
    return f'<a href="{html.escape(url)}"{cls}{tgt}>{txt}</a>'

def clean_md(md):
    "Turn the bits of Quarto markdown that nbdev emits into plain markdown/HTML."
    md = _re_link_attrs.sub(_link, md)
    md = _re_fdiv_close.sub('\n</div>\n', md)
    cls = lambda m: ' '.join(c.lstrip('.') for c in m.group(1).split() if c.startswith('.'))
    return _re_fdiv_open.sub(lambda m: f'\n<div class="{cls(m)}">\n', md)


def doc_box(md, extra=''):
    "A `show_doc` output as a boxed entry (nbdev starts it with a `---` rule)."
    md = re.sub(r'^\s*---\s*\n', '', md)
    return f'<div class="api-entry">\n\n{md}\n\n{extra}\n\n</div>'


def quarto_cells(nb):
    "Apply the Quarto cell options left in the sources (`include`, `echo`, `output`), then strip all `#|` lines."
    cells = []
    for c in nb.cells:
        if c.cell_type == 'raw' and c.source.lstrip().startswith('---'): continue  # frontmatter: goes in the page header
        c.get('metadata', {}).pop('execution', None)  # CaptureShell's timings (not valid nbformat)
        if c.cell_type == 'code':
            d = {k: str(v).lower() for k, v in c.directives.items()}
            c.remove_directives()
            if d.get('include') == 'false': continue
            if d.get('output') == 'false': c.outputs = []
            if d.get('echo') == 'false' or not c.source.strip():
                c.setdefault('metadata', {}).setdefault('transient', {})['remove_source'] = True
            if not c.source.strip() and not c.get('outputs'): continue
            for o in c.get('outputs', []):
                md = o.get('data', {}).get('text/markdown')
                if md is None: continue
                md = clean_md(''.join(md))
                o['data']['text/markdown'] = doc_box(md) if c.source.lstrip().startswith('show_doc') else md
        elif c.cell_type == 'markdown': c.source = clean_md(c.source)
        cells.append(c)
    nb.cells = cells


def title_cell_warning(nb, fn):
    "nbdev turns the first `# Title` markdown cell into frontmatter and drops the rest of it: say so if there is a rest."
    if any('title' in cell_frontmatter(c.source) for c in nb.cells if c.cell_type == 'raw'): return None
    c = first(c for c in nb.cells if c.cell_type == 'markdown' and md_frontmatter(c.source))
    if c is None: return f"{fn.name}: no `# Title` markdown cell; the page is titled {fn.stem!r}"
    rest = [l for l in c.source.splitlines() if l.strip() and not re.match(r'^(#\s|>\s|-\s+\S.*:)', l)]
    if rest: return (f"{fn.name}: its title cell also holds text that nbdev leaves out of the docs (move it to a cell "
                     f"of its own): {rest[0][:70]!r}...")


REAL_FLAG = 'real'  # cells that need the real data or a trained model: their saved outputs are shown

def n_figures(nb, real_only=False):
    return sum(1 for c in nb.cells if c.cell_type == 'code' for o in c.get('outputs', [])
               if any(m in o.get('data', {}) for m in IMG_MIMES) and (not real_only or REAL_FLAG in c.metadata.get('tags', [])))


def tag_real_cells(nb):
    "Tag the `#| real` cells (nbconvert makes the tag a `celltag_real` class), so that their figures can be checked."
    for c in nb.cells:
        if c.cell_type == 'code' and REAL_FLAG in (getattr(c, 'directives_', None) or {}):
            c.metadata['tags'] = list(dict.fromkeys([*c.metadata.get('tags', []), REAL_FLAG]))


_re_table = re.compile(r'<table\b.*?</table>', re.S)

def wrap_tables(body):
    "Put every table in a box that scrolls sideways instead of widening the page."
    return _re_table.sub(lambda m: f'<div class="table-wrap">{m.group(0)}</div>', body)


# nbconvert's HTML priority, less widget views and JavaScript: the pages load nothing from a CDN, so show the fallback
PRIORITY = ['text/html', 'text/markdown', 'image/svg+xml', 'text/latex', 'image/png', 'image/jpeg', 'text/plain']

def exporter():
    return HTMLExporter(template_name='basic', exclude_input_prompt=True, exclude_output_prompt=True,
                        config=Config({'NbConvertBase': {'display_data_priority': PRIORITY}}))


def render_notebook(fn, execute_nb=True, start_method='fork'):
    "Execute (optionally), nbdev-process and render notebook `fn`; returns the page's parts."
    fn, t0, cfg = Path(fn).resolve(), time.time(), get_config()
    # this worker was spawned; code in the notebook gets the platform's default (fork on Linux) as under nbdev-test,
    # so that a process pool in a notebook can run functions the notebook defines
    multiprocessing.set_start_method(start_method, force=True)
    old_in_test = os.environ.get('IN_TEST')
    os.environ['IN_TEST'] = '1'  # as nbdev-test and nbdev-docs: `nbdev_export()` in a notebook does nothing
    sys.path.insert(0, str(cfg.config_path))
    try:
        with working_directory(fn.parent):
            nb = read_nb(fn)
            nb.path_ = str(fn)
            for c in nb.cells:   # README's `<!-- include: PATH -->` lines: the committed result tables
                if c.cell_type == 'markdown': c.source = expand_includes(c.source)
            for i, c in enumerate(nb.cells): c.nbidx_ = i  # position in the notebook, for error messages
            # add nbdev's show_doc cells first, so that running the notebook also renders the exported symbols' docs
            NBProcessor(nb=nb, procs=[populate_language, add_show_docs], rm_directives=False, process=True)
            for c in nb.cells: c.metadata = AttrDict(c.get('metadata', {}))  # the added cells' metadata is a plain dict
            warning = title_cell_warning(nb, fn)
            saved = n_figures(nb)   # the figures committed in the notebook: the page must show at least as many
            execute(nb, fn, cfg, docs_only=not execute_nb)
            tag_real_cells(nb)
            has_real = any(REAL_FLAG in c.metadata.get('tags', []) for c in nb.cells)
            DocProcs()(nb)
        fm = getattr(nb, 'frontmatter_', {}) or {}
        quarto_cells(nb)
        title = fm.get('title') or fn.stem
        d = nb2dict(nb)
        d['cells'] = [{k: v for k, v in c.items() if k in CELL_KEYS} for c in d['cells']]  # drop nbdev's extra keys
        nbf = nbformat.reads(json.dumps(d), as_version=4)
        nbf.metadata.pop('widgets', None)
        body, _ = exporter().from_notebook_node(nbf)
        return dict(page=nbpath2html(fn).name, src=fn.name, title=str(title), description=str(fm.get('description', '')),
                    body=body, figures=n_figures(nb), saved_figures=saved, real=has_real, real_figures=n_figures(nb, real_only=True),
                    secs=time.time() - t0, error=None, warning=warning)
    except NotebookError as e: return dict(src=fn.name, error=str(e))
    except Exception: return dict(src=fn.name, error=f"{fn.name}: docs processing failed\n{traceback.format_exc()}")
    finally:
        if old_in_test is None: os.environ.pop('IN_TEST', None)
        else: os.environ['IN_TEST'] = old_in_test


# ---- API page --------------------------------------------------------------------------------------------------------
def api_entries(cfg, pages):
    "(module, name, show_doc markdown, page link) for each public function/class in the package's modules."
    from nbdev.showdoc import show_doc
    lib = cfg.lib_name
    pkg = importlib.import_module(lib)
    modidx = importlib.import_module(f'{lib}._modidx').d.get('syms', {})
    res = []
    for m in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if m.name.startswith('_'): continue
        modname = f'{lib}.{m.name}'
        mod = importlib.import_module(modname)
        names = getattr(mod, '__all__', [n for n in dir(mod) if not n.startswith('_')])
        for nm in names:
            obj = getattr(mod, nm, None)
            if not (inspect.isfunction(obj) or inspect.isclass(obj)): continue
            if getattr(obj, '__module__', modname) != modname: continue  # re-exported from elsewhere
            link = modidx.get(modname, {}).get(f'{modname}.{nm}', (None,))[0]
            if link and link.split('#')[0] not in pages: link = None
            res.append((modname, nm, show_doc(obj, title_level=3)._repr_markdown_(), link))
    # modules in the order of the notebooks that define them; within a module, `__all__` order
    order = {p: i for i, p in enumerate(pages)}
    rank = lambda mod: min((order.get(l.split('#')[0], len(order)) for m, _, _, l in res if m == mod and l), default=len(order))
    return sorted(res, key=lambda e: (rank(e[0]), e[0]))


def module_diagram(mods, lib):
    "Inline SVG: the package's modules in notebook order, an arrow from each module to the modules that import it."
    import re
    src = {m: (Path(lib)/f"{m.split('.')[-1]}.py").read_text() for m in mods}
    imports = lambda a, b: re.search(rf"^from (?:{re.escape(a)}|\.{re.escape(a.split('.')[-1])}) import", src[b], re.M)  # nbdev exports relative imports
    deps = [(a, b) for b in mods for a in mods if a != b and imports(a, b)]
    w, h, gap, top = 130, 36, 22, 20 + 14*len(deps)
    x = {m: 10 + i*(w + gap) for i, m in enumerate(mods)}
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="figure" role="img" width="{10 + len(mods)*(w + gap)}" height="{top + h + 16}" '
             'font-family="sans-serif" font-size="13"><title>Modules and what imports what</title>'
             '<defs><marker id="arr" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto">'
             '<path d="M0,0L10,5L0,10z" fill="#57606a"/></marker></defs>']
    for i, (a, b) in enumerate(deps):
        xa, xb, y = x[a] + w/2 + 8, x[b] + w/2 - 8, top - 10 - 14*i
        parts.append(f'<path d="M{xa},{top} C{xa},{y} {xb},{y} {xb},{top}" fill="none" stroke="#57606a" marker-end="url(#arr)"/>')
    for m in mods:
        parts.append(f'<rect x="{x[m]}" y="{top}" width="{w}" height="{h}" rx="6" fill="#eef4fb" stroke="#0969da"/>'
                     f'<text x="{x[m] + w/2}" y="{top + h/2 + 5}" text-anchor="middle">{html.escape(m.split(".")[-1])}</text>')
    return ''.join(parts) + '</svg>'

def api_body(entries, titles):
    lk, out = NbdevLookup(), []
    mods = list(dict.fromkeys(m for m, *_ in entries))
    out.append('<p>The modules, in notebook order; an arrow points from a module to each module that imports it.</p>'
               + module_diagram(mods, get_config().lib_path))
    mods = dict.fromkeys(m for m, *_ in entries)
    for mod in mods:
        mine = [e for e in entries if e[0] == mod]
        out.append(f'<h2 id="{html.escape(mod)}">{html.escape(mod)}</h2><p class="api-toc">'
                   + ' · '.join(f'<a href="#{html.escape(_pandoc_id(nm))}"><code>{html.escape(nm)}</code></a>' for _, nm, *_ in mine)
                   + '</p>')
        for _, nm, md, link in mine:
            where = ''
            if link:
                page = link.split('#')[0]
                where = f'<p class="defined-in">Defined in <a href="{link}">{html.escape(titles.get(page, page))}</a></p>'
            out.append(markdown2html_mistune(doc_box(clean_md(lk.linkify(md)), where)))
    return '\n'.join(out) or '<p>No exported functions or classes yet.</p>'


# ---- page assembly ---------------------------------------------------------------------------------------------------
CSS = """
*{box-sizing:border-box}
body{margin:0;font:16px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;background:#fff}
a{color:#0b5cad;text-decoration:none} a:hover{text-decoration:underline}
.sidebar{position:fixed;top:0;left:0;bottom:0;width:250px;overflow-y:auto;padding:1.2rem 1rem;background:#f6f8fa;
  border-right:1px solid #d8dee4;font-size:.93rem}
.sidebar .brand{display:block;font-weight:700;font-size:1.1rem;color:#1f2328;margin-bottom:1rem}
.sidebar ul{list-style:none;margin:0;padding:0} .sidebar li{margin:.15rem 0}
.sidebar li a{display:block;padding:.25rem .5rem;border-radius:6px;color:#1f2328}
.sidebar li a.current{background:#dde8f5;font-weight:600}
main{margin-left:250px;padding:2rem 3rem 4rem;max-width:1150px;min-width:0}
.table-wrap{overflow-x:auto;max-width:100%;margin:.6rem 0} .table-wrap>table{margin:0}
pre{overflow-x:auto} img,svg.figure,audio{max-width:100%}
header h1{margin:.2rem 0 .3rem;font-size:2.1rem} header .description{color:#57606a;font-size:1.1rem;margin:0 0 1.5rem}
h2{border-bottom:1px solid #d8dee4;padding-bottom:.2rem;margin-top:2rem} h3{margin-top:1.6rem}
.anchor-link{display:none}
pre,code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.88rem}
:not(pre)>code{background:#eff1f3;padding:.1em .3em;border-radius:4px}
.cell{margin:.6rem 0}
.input_area,.highlight{background:#f6f8fa;border-radius:6px}
.input_area pre,.highlight pre{margin:0;padding:.7rem .9rem;overflow-x:auto}
.output_area{margin:.3rem 0 .3rem 0;overflow-x:auto}
.output_area pre{margin:0;padding:.4rem .9rem;white-space:pre-wrap}
.output_stderr pre{background:#fff5f5;color:#6e2b2b}
.output_png img,.output_jpeg img,.output_area img{max-width:100%;height:auto}
table{border-collapse:collapse;margin:.6rem 0;font-size:.9rem}
th,td{border:1px solid #d8dee4;padding:.3rem .6rem;text-align:left} thead th{background:#f6f8fa}
blockquote{margin:.5rem 0;padding:.2rem 1rem;border-left:4px solid #d8dee4;color:#57606a}
.callout-note,.callout-tip,.callout-warning,.callout-important,.callout-caution{border-left:4px solid #0b5cad;
  background:#f1f6fc;padding:.5rem 1rem;margin:1rem 0;border-radius:4px}
.callout-warning,.callout-caution,.callout-important{border-left-color:#bf8700;background:#fff8e5}
.api-entry{border:1px solid #d8dee4;border-radius:8px;padding:.2rem 1.2rem .6rem;margin:1.2rem 0;
  box-shadow:0 1px 2px rgba(0,0,0,.04)}
.api-entry h3{margin-top:.8rem} .defined-in{color:#57606a;font-size:.9rem;margin-bottom:0}
.source-link{float:right;font-size:.85rem;margin-top:.9rem} .api-toc{line-height:2}
.pager{display:flex;justify-content:space-between;margin-top:3rem;padding-top:1rem;border-top:1px solid #d8dee4}
.toc li{margin:.4rem 0} .toc .desc{color:#57606a}
@media (max-width:800px){.sidebar{position:static;width:auto;border-right:0;border-bottom:1px solid #d8dee4}
  main{margin-left:0;padding:1rem}}
"""


def inline_md(s):
    "Escaped text with `code` spans, for titles and descriptions."
    return re.sub(r'`([^`]+)`', r'<code>\1</code>', html.escape(s))


def page_html(cfg, nav, cur, title, description, body):
    esc = html.escape
    items = ''.join(f'<li><a href="{p}"{" class=current" if p == cur else ""}>{esc(t)}</a></li>' for p, t in nav)
    i = [p for p, _ in nav].index(cur)
    prev = f'<a href="{nav[i-1][0]}">&larr; {esc(nav[i-1][1])}</a>' if i > 0 else '<span></span>'
    nxt = f'<a href="{nav[i+1][0]}">{esc(nav[i+1][1])} &rarr;</a>' if i + 1 < len(nav) else '<span></span>'
    desc = f'<p class="description">{inline_md(description)}</p>' if description else ''
    # nbdev links symbols to the hosted docs; on this site they are sibling pages
    host = f"{cfg.get('doc_host', '')}{cfg.get('doc_baseurl', '')}".rstrip('/')
    if host: body = body.replace(f'href="{host}/', 'href="')
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)} – {esc(cfg.title)}</title>
<style>{CSS}{HtmlFormatter(style='default').get_style_defs('.highlight')}</style></head>
<body><nav class="sidebar"><a class="brand" href="index.html">{esc(cfg.title)}</a><ul>{items}</ul></nav>
<main><header><h1>{esc(title)}</h1>{desc}</header>
{body}
<nav class="pager">{prev}{nxt}</nav></main></body></html>
"""


def _pandoc_id(s):
    "Heading id as Quarto/pandoc makes it (what nbdev's symbol links point to)."
    s = re.sub(r'<[^>]+>', '', html.unescape(s)).strip().lower()
    s = re.sub(r'[^\w\s.-]', '', s)
    return re.sub(r'\s+', '-', s).lstrip('0123456789.-_') or 'section'

def pandoc_ids(body):
    "nbconvert keeps the heading's case in its ids; Quarto lowercases them. Add the Quarto id as an anchor too."
    def f(m):
        new = _pandoc_id(m.group(3))
        extra = f'<a id="{new}"></a>' if new != m.group(2) else ''
        return f'{m.group(1)}{extra}{m.group(3)}'
    return re.sub(r'(<h[1-6] id="([^"]*)"[^>]*>)(.*?)(?=<a class="anchor-link"|</h[1-6]>)', f, body)


def copy_local_assets(body, nbs_path, out):
    "Copy images that markdown cells reference by relative path (e.g. `images/x.png`) next to the pages."
    for src in re.findall(r'<img[^>]+src="([^"]+)"', body):
        if re.match(r'^(data:|[a-z]+://|/)', src): continue
        p = (nbs_path/src).resolve()
        if p.is_file() and nbs_path.resolve() in p.parents:
            (out/src).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(p, out/src)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--out', default='_site', help='output folder (default: _site)')
    ap.add_argument('--no-exec', action='store_true', help='render without executing the notebooks')
    ap.add_argument('--workers', type=int, default=None, help='notebooks run at once (default: number of CPUs, at most 8)')
    a = ap.parse_args()
    t0 = time.time()
    os.chdir(ROOT)
    cfg = get_config(ROOT)
    nbs_path = cfg.nbs_path
    out = (ROOT/a.out) if not Path(a.out).is_absolute() else Path(a.out)
    if out.exists() and not (out/'site.json').exists() and any(out.iterdir()):  # replace a previous build, nothing else
        sys.exit(f"build_docs: {out} is not empty and not a previous build; not touching it")
    fns = notebooks(nbs_path)
    if not fns: sys.exit(f"build_docs: no notebooks in {nbs_path}")
    n_workers = max(1, min(a.workers or os.cpu_count() or 1, 8, len(fns)))
    print(f"build_docs: {len(fns)} notebook(s), {'not ' if a.no_exec else ''}executing, {n_workers} worker(s)", flush=True)
    # one fresh process per notebook (IPython takes over `__main__` and global state in the process it runs in)
    with ProcessPoolExecutor(n_workers, mp_context=multiprocessing.get_context('spawn'), max_tasks_per_child=1) as ex:
        futs = [ex.submit(render_notebook, fn, not a.no_exec, multiprocessing.get_start_method()) for fn in fns]
        for f in as_completed(futs):
            r = f.result()
            if r['error']: print(f"  {r['src']:<28} FAILED", flush=True)
            else: print(f"  {r['src']:<28} -> {r['page']:<22} {r['secs']:6.1f}s  {r['figures']} figure(s)"
                        + (f", {r['real_figures']} from saved real results" if r['real'] else ''), flush=True)
            if r.get('warning'): print(f"  warning: {r['warning']}", flush=True)
        res = [f.result() for f in futs]
    errs = [r for r in res if r['error']]
    if errs:
        for r in errs: print(f"\n{'=' * 78}\nDOCS BUILD FAILED in {r['src']}\n{'=' * 78}\n{r['error']}", file=sys.stderr)
        sys.exit(f"build_docs: {len(errs)} notebook(s) failed: {', '.join(r['src'] for r in errs)}")

    pages = list(res)
    titles = {r['page']: r['title'] for r in pages}
    try: entries = api_entries(cfg, titles)
    except Exception: sys.exit(f"build_docs: could not import the package for the API page\n{traceback.format_exc()}")

    # index: index.ipynb if there is one, else a generated page; either way it ends with the contents
    toc = ''.join(f'<li><a href="{r["page"]}">{html.escape(r["title"])}</a>'
                  + (f' <span class="desc">– {inline_md(r["description"])}</span>' if r['description'] else '') + '</li>'
                  for r in pages if r['page'] != 'index.html')
    toc = f'<h2 id="contents">Contents</h2><ul class="toc">{toc}<li><a href="api.html">API reference</a> ' \
          f'<span class="desc">– every exported function and class</span></li></ul>'
    if 'index.html' not in titles:
        pages.insert(0, dict(page='index.html', src=None, title=cfg.title, description=cfg.get('description', ''),
                             body='', figures=0))
    idx = next(r for r in pages if r['page'] == 'index.html')
    idx['body'] += toc
    pages.append(dict(page='api.html', src=None, title='API reference', body=api_body(entries, titles), figures=1,
                      description=f'Every function and class exported by {cfg.lib_name}, with its signature, '
                                  'docstring and parameters.'))

    if out.exists(): shutil.rmtree(out)
    out.mkdir(parents=True)
    nav = [(r['page'], 'Home' if r['page'] == 'index.html' else r['title']) for r in pages]
    for r in pages:
        body = wrap_tables(pandoc_ids(r['body']))
        (out/r['page']).write_text(page_html(cfg, nav, r['page'], r['title'], r['description'], body), encoding='utf-8')
        copy_local_assets(body, nbs_path, out)
    manifest = dict(project=cfg.title, executed=not a.no_exec,
                    pages=[dict(page=r['page'], title=r['title'], source=r['src'] and f'{nbs_path.name}/{r["src"]}',
                                figures=r['figures'], saved_figures=r.get('saved_figures', 0), real=bool(r.get('real')), real_figures=r.get('real_figures', 0))
                           for r in pages])
    (out/'site.json').write_text(json.dumps(manifest, indent=1))
    print(f"build_docs: wrote {len(pages)} pages to {out} in {time.time() - t0:.1f}s")


if __name__ == '__main__': main()
