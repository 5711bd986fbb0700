"""Run the notebook tests (`nbdev-test`) and say what ran: per notebook, the code cells run and the ones skipped, and why.

    python tools/test_report.py [NOTEBOOK ...] [--flags "slow real"] [--n_workers N]

nbdev-test skips a cell marked with one of the project's test flags (`tst_flags` in pyproject.toml: `notest`, `slow`,
`real`) unless `--flags` names it, a cell marked `#| eval: false`, and a whole notebook whose front matter says
`skip_exec: true`. This prints one line per notebook (passed or FAILED, cells run, cells skipped by reason), nbdev-test's
own output, and closes with `cells: R run, S skipped (...)` and `notebooks: N passed, M failed` (the line `.ci/run` has
always printed). Exits with nbdev-test's code.
"""
from __future__ import annotations
import argparse, json, re, subprocess, sys, tomllib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_DIRECTIVE = re.compile(r'^\s*#\|\s*([\w-]+)\s*:?\s*(.*?)\s*$')

def directives(src:str) -> dict:
    "{directive: value} of a cell's leading `#|` lines."
    out = {}
    for line in src.splitlines():
        if not line.strip(): continue
        m = _DIRECTIVE.match(line)
        if not m: break
        out[m.group(1)] = m.group(2)
    return out

def skip_exec(nb:dict) -> bool:
    "True if the notebook's front matter (a raw or markdown first cell) says `skip_exec: true`."
    if not nb['cells']: return False
    c = nb['cells'][0]
    return c['cell_type'] in ('raw', 'markdown') and bool(re.search(r'^\s*skip_exec\s*:\s*true\s*$', ''.join(c['source']), re.M | re.I))

def cell_plan(nb_path:Path, skip_flags:set) -> Counter:
    "Counter of the notebook's code cells: 'run', or the reason nbdev-test skips them ('slow', 'real', 'notest', 'eval: false', 'skip_exec')."
    nb = json.loads(nb_path.read_text())
    code = [c for c in nb['cells'] if c['cell_type'] == 'code']
    if skip_exec(nb): return Counter({'skip_exec': len(code)})
    n = Counter()
    for c in code:
        d = directives(''.join(c['source']))
        hit = sorted(skip_flags & set(d))
        if hit: n[hit[0]] += 1
        elif d.get('eval', '').lower() in ('false', 'no', '0'): n['eval: false'] += 1
        else: n['run'] += 1
    return n

def failed_notebooks(log:str) -> set:
    "Names of the notebooks nbdev-test lists as failed."
    part = log.split('nbdev Tests Failed On The Following Notebooks', 1)
    return set(re.findall(r'([\w.-]+\.ipynb)', part[1])) if len(part) == 2 else set()

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('notebooks', nargs='*', help='notebooks to test (default: every one in nbs/)')
    ap.add_argument('--flags', default='', help="test flags to run that are normally skipped, e.g. 'slow'")
    ap.add_argument('--n_workers', default=None, help="nbdev-test's --n_workers")
    a = ap.parse_args(argv)
    cfg = tomllib.loads((ROOT/'pyproject.toml').read_text()).get('tool', {}).get('nbdev', {})
    skip = set(str(cfg.get('tst_flags', '')).split()) - set(a.flags.split())
    nbs = [Path(p).resolve() for p in a.notebooks] or sorted(p for p in (ROOT/'nbs').glob('*.ipynb') if not p.name.startswith('_'))
    plans = {p.name: cell_plan(p, skip) for p in nbs}
    rcs, logs = [], []
    for target in (a.notebooks or [None]):   # one nbdev-test over the folder, or one per named notebook
        cmd = ['nbdev-test'] + ([str(Path(target).resolve())] if target else []) + (['--flags', a.flags] if a.flags else []) + \
              (['--n_workers', a.n_workers] if a.n_workers else [])
        p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        sys.stdout.write(p.stdout); sys.stderr.write(p.stderr); sys.stdout.flush()
        rcs.append(p.returncode); logs.append(p.stdout + p.stderr)
    failed = set().union(*(failed_notebooks(l) for l in logs))
    rc = next((r for r in rcs if r), 0)
    if rc and not failed: failed = {'(nbdev-test itself)'}
    total = Counter()
    print('== what ran (code cells)')
    for name, n in plans.items():
        total += n
        why = ', '.join(f"{k} {v}" for k, v in sorted(n.items()) if k != 'run')
        print(f"{'FAILED' if name in failed else 'passed'} {name}: {n['run']} run" + (f", skipped: {why}" if why else ''))
    skipped = sum(v for k, v in total.items() if k != 'run')
    print(f"cells: {total['run']} run, {skipped} skipped (" + (', '.join(f"{k} {v}" for k, v in sorted(total.items()) if k != 'run') or 'none') +
          f"; flags skipped: {' '.join(sorted(skip)) or 'none'})")
    n_fail = len(failed)
    print(f"notebooks: {len(plans) - min(n_fail, len(plans))} passed, {n_fail} failed")
    return rc

if __name__ == '__main__': sys.exit(main())
