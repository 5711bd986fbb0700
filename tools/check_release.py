#!/usr/bin/env python
"""Check the model that ships with the package (CI, `.ci/run`): `model.onnx`, `model.json`, `predictions.json` and
`MODEL_CARD.md` match `SHA256SUMS`; the card names the version and both digests; the model loads with the current code
and gives the recorded answers on the bundled recordings (every probability within --tol).

    python tools/check_release.py [--path heartbeat_nbdev/released] [--tol 1e-4]
"""
import argparse, sys, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from heartbeat_nbdev.release import check_release
from heartbeat_nbdev.inference import released_dir
from heartbeat_nbdev.model import ModelError

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument('--path', default=None, help='a released folder (default: the installed package\'s)')
ap.add_argument('--tol', type=float, default=1e-4)
a = ap.parse_args()
t0 = time.perf_counter()
try: r = check_release(a.path, a.tol)
except (ModelError, AssertionError, OSError, ValueError) as e: sys.exit(f"FAIL: released model {a.path or released_dir()}: {e}")
print(f"released model OK: {r['version']}, model.onnx {r['bytes']/1e6:.1f} MB sha256 {r['onnx_sha256']}; the {r['n_recordings']} bundled "
      f"recordings give the recorded answers (max |dp| {r['max_abs_diff']:.1e}); {time.perf_counter() - t0:.1f} s")
