"""Build bench/results/speed.md (the README's speed table) from the JSON files the speed benchmarks write.

    python bench/predict_latency.py && python bench/predict_folder.py MODEL --n 100 && python bench/startup.py
    python bench/speed_table.py
"""
import json
from pathlib import Path
res = Path(__file__).parent/'results'
load = lambda n: json.loads((res/f'{n}.json').read_text())
def quiet(d):
    la = d['machine'].get('load_average_at_start', [None])[0]
    return f"load {la:.1f} at start" + (' (shared: not quiet)' if la is not None and la > 1.5 else '')
rows = []
lat = load('predict_latency')
targets = {('mobilenet_v2', 128): '≤ 50 ms', ('resnet50', 224): '≤ 150 ms'}
for r in lat['results']:
    rows.append((f"one 10 s recording end to end, {r['arch']} {r['img_size']} px, {r['backend']}", f"`{lat['command']}`",
                 f"median {r['median_ms']:.0f} ms (audio+spectrograms {r['audio_spectrograms_ms']:.0f} ms, model {r['model_ms']:.0f} ms; CPU {r['median_cpu_ms']:.0f} ms)",
                 targets.get((r['arch'], r['img_size']), '-'), f"{lat['commit']}, {quiet(lat)}"))
fol = load('predict_folder')
for r in fol['results']:
    rows.append((f"folder of {r['n']} 10 s recordings, MobileNetV2 128 px, {r['backend']}", f"`{fol['command']}`",
                 f"{r['recordings_per_s']:.1f} recordings/s, peak RSS {r['peak_rss_mb']} MB", '≥ 20 rec/s, ≤ 500 MB', f"{fol['commit']}, {quiet(fol)}"))
st = load('startup')
for k, v in st['results'].items():
    rows.append((f"`{k} --help`", f"`{st['command']}`", f"median {v['median_s']:.2f} s", '< 1 s' if k == 'heartbeat-predict' else '-', f"{st['commit']}, {quiet(st)}"))
md = '| benchmark | command | result | target | commit, machine load |\n|---|---|---|---|---|\n' + '\n'.join('| ' + ' | '.join(r) + ' |' for r in rows)
(res/'speed.md').write_text(md + '\n'); print(md)
