"Shared helpers of the benchmarks: machine description, commit, writing a raw result file."
import os, sys, json, platform, subprocess, datetime
from pathlib import Path

def machine() -> dict:
    "What the figures were measured on (the development machine is shared: timings are not from quiet cores)."
    try: load = os.getloadavg()
    except OSError: load = None
    return dict(cpus=os.cpu_count(), machine=platform.machine(), processor=platform.processor() or None, python=platform.python_version(),
                load_average_at_start=load, note="shared machine: other jobs ran at the same time unless load_average_at_start is near 0")

def commit() -> str:
    try: return subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True, cwd=Path(__file__).parent).stdout.strip() + \
                (' (dirty)' if subprocess.run(['git', 'status', '--porcelain', '--', 'heartbeat_nbdev'], capture_output=True, text=True, cwd=Path(__file__).parent).stdout.strip() else '')
    except OSError: return 'unknown'

def save(name:str, result:dict, out:str|None=None) -> Path:
    "Write `result` with command, commit, machine and time to bench/results/<name>.json (or `out`)."
    p = Path(out) if out else Path(__file__).parent/'results'/f'{name}.json'
    p.parent.mkdir(parents=True, exist_ok=True)
    doc = dict(command=' '.join([Path(sys.executable).name] + sys.argv), commit=commit(), when=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
               machine=machine(), **result)
    p.write_text(json.dumps(doc, indent=1) + '\n')
    print(f"wrote {p}")
    return p
