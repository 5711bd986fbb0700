"""Write README.md from nbs/index.ipynb (nbdev-readme needs Quarto, which these machines lack).

    python tools/make_readme.py          # write README.md
    python tools/make_readme.py --check  # exit 1 if README.md is out of step with nbs/index.ipynb

Markdown cells are copied as they are, except that a line `<!-- include: PATH -->` (PATH relative to the repository
root, e.g. a table under bench/results/) is replaced by that file's text (`<!-- include: PATH narrow -->`: the table
made to fit a page, see `narrow`), so README's tables are generated from the
committed results (tools/build_docs.py expands the same lines), and images and links relative to nbs/ (`images/x.png`,
`model_card.html`-style page links are left alone) are rewritten relative to the repository root (`nbs/images/x.png`);
code cells become fenced Python blocks with their
`#|` directive lines removed; cells flagged `#| hide` or `#| echo: false` are left out. A line `<!-- readme: end -->`
ends README there: what follows it (the notebook table for developers) is on the docs' home page only.
"""
import json, sys, re
from pathlib import Path

root = Path(__file__).resolve().parents[1]

_re_include = re.compile(r'^<!-- include: (\S+)( narrow)? -->$', re.M)
_SHORT = {'balanced_accuracy': 'balanced accuracy', 'macro_f1': 'macro-F1', 'ece': 'ECE', 'lever': 'row'}
_DROP = ('runs', 'setA_balanced_accuracy', 'setB_balanced_accuracy', 'min_per_fold', 'test_seconds')

def narrow(table:str) -> str:
    "A Markdown table made to fit a page: the columns of `_DROP` and those that repeat an earlier one left out, short headers, each 'mean ± std' on two lines; text after the table is kept as it is."
    lines = table.strip().splitlines()
    is_row = lambda l: l.lstrip().startswith('|')
    a = next((i for i, l in enumerate(lines) if is_row(l)), len(lines))   # the first table: text before and after it is kept as it is
    n = next((i for i in range(a, len(lines)) if not is_row(lines[i])), len(lines))
    before = '\n'.join(re.sub(r'^#+\s+(.*)$', r'**\1**', l) for l in lines[:a])   # a file's own title is not a heading of the page that includes it
    before, lines, rest = before, lines[a:n], '\n'.join(lines[n:])
    if not lines: return table
    cells = lambda l: [c.strip() for c in l.strip().strip('|').split('|')]
    head, rows = cells(lines[0]), [cells(l) for l in lines[2:]]
    col = lambda i: [r[i] if i < len(r) else '' for r in rows]
    keep = [i for i, h in enumerate(head) if h not in _DROP and not any(col(j) == col(i) for j in range(i))]   # and a column that repeats an earlier one (MAcc is balanced accuracy for two classes)
    two = lambda v: v.replace(' ± ', '<br><small>± ') + '</small>' if ' ± ' in v else v
    name = lambda h: _SHORT.get(h, h.replace('recall_', '').replace('_', ' '))
    out = '\n'.join(['| ' + ' | '.join(name(head[i]) for i in keep) + ' |', '|' + '---|'*len(keep)] +
                    ['| ' + ' | '.join(two(r[i]) if i < len(r) else '' for i in keep) + ' |' for r in rows]) + ('\n' + rest if rest else '')
    return (before + '\n' if before else '') + out

def expand_includes(md:str) -> str:
    "Markdown with every `<!-- include: PATH -->` line replaced by the text of PATH (relative to the repository root); `<!-- include: PATH narrow -->` includes a table `narrow`ed to fit a page."
    def sub(m):
        f = root/m.group(1)
        if not f.is_file(): sys.exit(f"{m.group(0)}: {f} not found")
        txt = f.read_text().strip()
        return narrow(txt) + f"\n\n<small>The table of `{m.group(1)}`, some columns left out.</small>" if m.group(2) else txt
    return _re_include.sub(sub, md)

_END = '<!-- readme: end -->'
_re_img = re.compile(r'(!\[[^\]]*\]\()(images/)')

def render(nb_path=root/'nbs'/'index.ipynb') -> str:
    nb = json.loads(Path(nb_path).read_text())
    parts = ['<!-- Generated from nbs/index.ipynb by tools/make_readme.py: edit the notebook, not this file. -->']
    for c in nb['cells']:
        src = ''.join(c['source'])
        if c['cell_type'] == 'markdown' and _END in src:
            parts.append(_re_img.sub(r'\1nbs/\2', expand_includes(src[:src.index(_END)].strip()))); break
        if c['cell_type'] == 'markdown': parts.append(_re_img.sub(r'\1nbs/\2', expand_includes(src.strip())))
        elif c['cell_type'] == 'code':
            lines = src.splitlines()
            if any(re.match(r'#\|\s*(hide\b|echo:\s*false)', l) for l in lines): continue
            code = '\n'.join(l for l in lines if not l.startswith('#|')).strip()
            if code: parts.append(f'```python\n{code}\n```')
    return '\n\n'.join(parts) + '\n'

if __name__ == '__main__':
    txt, readme = render(), root/'README.md'
    if '--check' in sys.argv:
        if not readme.exists() or readme.read_text() != txt:
            sys.exit('README.md is out of step with nbs/index.ipynb: run `python tools/make_readme.py`')
        print('README.md is in step with nbs/index.ipynb')
    else: readme.write_text(txt); print(f'wrote {readme}')
