"""Check the package's layout: every import points down, no circle, no private name taken across modules, no big module.

    python tools/check_layers.py [--max-lines 450]

The layers are the notebooks' order: `nbs/NN_name.ipynb` (or `NNa_name.ipynb`, between NN and NN+1) with `#| default_exp module` puts `module` at position NN, and
a module may import only modules of lower positions (the data's path runs down the notebook numbers). Every import in
`heartbeat_nbdev/*.py` counts, also one inside a function: an import kept inside a function to keep a command's start-up
light must still point down. Exits 1 with one line per problem, 0 with a one-line summary.
"""
from __future__ import annotations
import argparse, ast, json, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PKG = 'heartbeat_nbdev'

def positions(nbs:Path) -> dict:
    "{module: (notebook number, notebook name)} from each numbered notebook's `#| default_exp`."
    out = {}
    for nb in sorted(nbs.glob('[0-9]*.ipynb')):
        m = re.match(r'(\d+)([a-z]?)_', nb.name); num = (int(m.group(1)), m.group(2))   # 14a sits between 14 and 15
        for c in json.loads(nb.read_text())['cells']:
            m = re.search(r'^#\|\s*default_exp\s+([\w.]+)', ''.join(c['source']), re.M)
            if m: out[m.group(1)] = (num, nb.stem); break
    return out

def imports(py:Path) -> list[tuple[int, str, list[str]]]:
    "(line, imported module of the package, names taken) for every import of the package in `py`, at any depth."
    out = []
    for n in ast.walk(ast.parse(py.read_text(), str(py))):
        if isinstance(n, ast.ImportFrom):
            if n.level == 1 and n.module: mod = n.module
            elif n.level == 0 and n.module and n.module.startswith(PKG + '.'): mod = n.module[len(PKG) + 1:]
            else: continue
            out.append((n.lineno, mod.split('.')[0], [a.name for a in n.names]))
        elif isinstance(n, ast.Import):
            for a in n.names:
                if a.name.startswith(PKG + '.'): out.append((n.lineno, a.name.split('.')[1], []))
    return out

def cycles(graph:dict) -> list[list[str]]:
    "The import circles of `graph` ({module: set of modules it imports}), each as a path that comes back to its start."
    found, state = [], {}
    def visit(m, path):
        state[m] = 1
        for d in sorted(graph.get(m, ())):
            if state.get(d) == 1: found.append(path[path.index(d):] + [d])
            elif d not in state: visit(d, path + [d])
        state[m] = 2
    for m in sorted(graph):
        if m not in state: visit(m, [m])
    return found

def check(root:Path=ROOT, max_lines:int=450) -> list[str]:
    pos, problems, graph = positions(root/'nbs'), [], {}
    for py in sorted((root/PKG).glob('*.py')):
        mod = py.stem
        if mod.startswith('_'): continue   # __init__, the generated _modidx
        if mod not in pos: problems.append(f"{py.name}: no numbered notebook exports it"); continue
        n_lines = len(py.read_text().splitlines())
        if n_lines > max_lines: problems.append(f"{py.name}: {n_lines} lines (at most {max_lines})")
        for line, dep, names in imports(py):
            graph.setdefault(mod, set()).add(dep)
            where = f"{py.name}:{line}"
            if dep not in pos: problems.append(f"{where}: imports {dep!r}, which no notebook exports"); continue
            if dep == mod: continue
            if pos[dep][0] >= pos[mod][0]:
                problems.append(f"{where}: {mod} ({pos[mod][1]}) imports {dep} ({pos[dep][1]}), a layer above it")
            private = [x for x in names if x.startswith('_')]
            if private: problems.append(f"{where}: takes private names {', '.join(private)} from {dep}")
    for c in cycles(graph): problems.append("import circle: " + ' -> '.join(c))
    return problems

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--max-lines', type=int, default=450, help='longest module allowed')
    a = ap.parse_args()
    problems = check(ROOT, a.max_lines)
    for p in problems: print(p)
    if problems: sys.exit(1)
    print(f"layers: {len(positions(ROOT/'nbs'))} modules, every import points down, no circle, no private import, none over {a.max_lines} lines")
