"""Benchmark: a bounded load test of `heartbeat-serve` on 127.0.0.1: throughput, latency percentiles, errors, 503s and memory.

    python bench/serve_load.py [--model DIR] [--n 1000] [--concurrency 1,4,16] [--stream-s 300] [--speed 10] [--out FILE]

Starts `heartbeat-serve --model DIR` (default: a MobileNetV2 at 128 px with random weights, exported to ONNX: latency
does not depend on the weights) in a process of its own on a free loopback port, then, for each concurrency C, sends
`--n` POST /v1/predict requests of one 10 s synthetic recording (44.1 kHz WAV, 882 kB) from C client tasks (httpx,
asyncio, in this process: the client shares the machine's cores with the service). Reports recordings/s, p50 / p95 /
p99 latency of the answered requests, 503s (load shed, with Retry-After), other errors and time-outs, and the
service's resident memory (RSS, sampled every 0.1 s: at the start and end of each run and its peak).

Then one WebSocket stream of `--stream-s` seconds of audio (4 kHz int16, 100 ms chunks), sent `--speed` times
faster than real time: for each window, the delay from sending the chunk that holds its last sample (and from the
chunk that completes its 50 ms lookahead) to receiving its result, and the stream's pooled answer after `end`.
Raw results: bench/results/serve_load.json. The requests only go to 127.0.0.1 and stop after `--n` each.
"""
import argparse, asyncio, json, os, socket, statistics as st, subprocess, sys, tempfile, threading, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
from _common import save
import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument('--model'); ap.add_argument('--n', type=int, default=1000); ap.add_argument('--concurrency', default='1,4,16')
ap.add_argument('--stream-s', type=float, default=300.); ap.add_argument('--speed', type=float, default=10.)
ap.add_argument('--serve-args', default='', help='extra heartbeat-serve options, e.g. "--concurrency 2 --threads 1"')
ap.add_argument('--out')
a = ap.parse_args()
load0 = os.getloadavg()   # before this benchmark adds its own

import httpx, psutil, websockets
from heartbeat_nbdev.audio import synth_wav, synth_heartbeat
from heartbeat_nbdev.recipe import machine_info

tmp = Path(tempfile.mkdtemp(prefix='serve-load-'))
if a.model: model = Path(a.model)
else:
    from heartbeat_nbdev.model import body_head_model, write_model, export_onnx
    from heartbeat_nbdev.spectrogram import SpecConfig
    m, _ = body_head_model('mobilenet_v2', 5, pretrained=False)
    model = tmp/'mobilenet_v2-128'
    write_model(m, model, SpecConfig(), 'mobilenet_v2', ['artifact', 'extrahls', 'extrastole', 'murmur', 'normal'], 128); export_onnx(model)
wav = synth_wav(tmp/'ten.wav', 10.0, 44100, murmur=True).read_bytes()

with socket.socket() as s: s.bind(('127.0.0.1', 0)); port = s.getsockname()[1]
base = f'http://127.0.0.1:{port}'
env = {**os.environ, 'PYTHONPATH': str(Path(__file__).resolve().parents[1])}; env.pop('HEARTBEAT_API_TOKEN', None)
srv = subprocess.Popen([sys.executable, '-m', 'heartbeat_nbdev.serve', '--model', str(model), '--port', str(port), *a.serve_args.split()],
                       env=env, stderr=open(tmp/'serve.log', 'w'))
proc = psutil.Process(srv.pid)
for _ in range(600):
    try: health = httpx.get(base + '/v1/health', timeout=1).json(); break
    except httpx.HTTPError:
        if srv.poll() is not None: sys.exit(f"heartbeat-serve exited: {(tmp/'serve.log').read_text()[-2000:]}")
        time.sleep(0.1)
print(f"service: {health}; load average {os.getloadavg()[0]:.2f}")

class RSS:
    "The service's resident memory, sampled every 0.1 s in a thread."
    def __init__(self): self.vals, self.stop = [], threading.Event(); self.t = threading.Thread(target=self.run, daemon=True)
    def run(self):
        while not self.stop.is_set(): self.vals.append(proc.memory_info().rss/2**20); time.sleep(0.1)
    def __enter__(self): self.vals.append(proc.memory_info().rss/2**20); self.t.start(); return self
    def __exit__(self, *e): self.stop.set(); self.t.join(); self.vals.append(proc.memory_info().rss/2**20)
    def summary(self): return dict(rss_start_mb=round(self.vals[0]), rss_end_mb=round(self.vals[-1]), rss_peak_mb=round(max(self.vals)))

def pct(xs, q): return round(float(np.percentile(xs, q)), 1) if xs else None

async def load(c:int, n:int) -> dict:
    lat, codes, errors = [], {}, []
    todo = iter(range(n))
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=httpx.Limits(max_connections=c)) as cl:
        async def worker():
            for _ in todo:
                t0 = time.perf_counter()
                try:
                    r = await cl.post('/v1/predict', files={'file': ('ten.wav', wav, 'audio/wav')})
                    codes[r.status_code] = codes.get(r.status_code, 0) + 1
                    if r.status_code == 200: lat.append((time.perf_counter() - t0)*1000)
                    elif r.status_code != 503: errors.append(f"{r.status_code}: {r.text[:100]}")
                except httpx.HTTPError as e: errors.append(f"{type(e).__name__}: {e}"); codes['exception'] = codes.get('exception', 0) + 1
        c0 = proc.cpu_times(); t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(c)))
        dt = time.perf_counter() - t0; c1 = proc.cpu_times()
    cpu = (c1.user + c1.system) - (c0.user + c0.system)
    ok = codes.get(200, 0)
    return dict(concurrency=c, requests=n, ok=ok, shed_503=codes.get(503, 0), errors=len(errors), error_examples=errors[:3], seconds=round(dt, 2),
                recordings_per_s=round(ok/dt, 1), p50_ms=pct(lat, 50), p95_ms=pct(lat, 95), p99_ms=pct(lat, 99), max_ms=round(max(lat), 1) if lat else None,
                service_cpu_ms_per_recording=round(cpu/max(ok, 1)*1000, 1), status_codes={str(k): v for k, v in codes.items()})

async def stream(seconds:float, speed:float) -> dict:
    sr, chunk = 4000, 400   # 100 ms chunks
    x = (np.concatenate([synth_heartbeat(60.0, sr, murmur=i % 2 == 1, seed=i) for i in range(int(np.ceil(seconds/60)))])[:int(seconds*sr)]*32767).astype('<i2')
    sent, lat_last, lat_ahead, got, hop, win = [], [], [], [], None, None
    async with websockets.connect(f'ws://127.0.0.1:{port}/v1/stream?sr={sr}', max_size=2**22) as ws:
        ready = json.loads(await ws.recv()); hop, win = ready['hop_s'], ready['window_s']
        async def reader():
            while True:
                m = json.loads(await ws.recv()); now = time.perf_counter()
                if m['type'] == 'window':
                    end = m['end']; i_last = int(np.ceil(end*sr/chunk)) - 1; i_ahead = int(np.ceil((end + 0.05)*sr/chunk)) - 1
                    lat_last.append((now - sent[i_last])*1000); lat_ahead.append((now - sent[min(i_ahead, len(sent) - 1)])*1000); got.append(m)
                else: return m
        rd = asyncio.create_task(reader())
        t0 = time.perf_counter()
        for i in range(0, len(x), chunk):
            due = t0 + (i/sr)/speed
            if (w := due - time.perf_counter()) > 0: await asyncio.sleep(w)
            sent.append(time.perf_counter()); await ws.send(x[i:i+chunk].tobytes())
        t_end = time.perf_counter(); await ws.send('end')
        res = await rd
    return dict(seconds_of_audio=seconds, speed=speed, chunk_ms=1000*chunk/sr, windows=len(got) + len(res.get('windows', [])),
                window_latency_after_last_sample_ms=dict(p50=pct(lat_last, 50), p95=pct(lat_last, 95), p99=pct(lat_last, 99), max=round(max(lat_last), 1)),
                window_latency_after_lookahead_ms=dict(p50=pct(lat_ahead, 50), p95=pct(lat_ahead, 95), p99=pct(lat_ahead, 99), max=round(max(lat_ahead), 1)),
                result_after_end_ms=round((time.perf_counter() - t_end)*1000, 1), answer=res.get('answer'), error=res.get('error'))

rows = []
try:
    # warm-up (not counted): the first requests pay for lazy imports and ONNX Runtime's first runs
    asyncio.run(load(1, 10))
    for c in map(int, a.concurrency.split(',')):
        with RSS() as mem: row = asyncio.run(load(c, a.n))
        row.update(mem.summary()); rows.append(row)
        print(f"concurrency {c:>2}: {row['ok']}/{row['requests']} answered, {row['shed_503']} shed (503), {row['errors']} errors; "
              f"{row['recordings_per_s']} recordings/s; p50 {row['p50_ms']} ms, p95 {row['p95_ms']} ms, p99 {row['p99_ms']} ms; "
              f"service {row['service_cpu_ms_per_recording']} CPU-ms/recording; RSS {row['rss_start_mb']} -> {row['rss_end_mb']} MB (peak {row['rss_peak_mb']})", flush=True)
    with RSS() as mem: srow = asyncio.run(stream(a.stream_s, a.speed))
    srow.update(mem.summary())
    print(f"stream: {srow['seconds_of_audio']:.0f} s of audio at {srow['speed']}x real time, {srow['windows']} windows; window answered "
          f"{srow['window_latency_after_last_sample_ms']} ms after the chunk with its last sample was sent; pooled answer {srow['result_after_end_ms']} ms after 'end'; "
          f"RSS {srow['rss_start_mb']} -> {srow['rss_end_mb']} MB (peak {srow['rss_peak_mb']})", flush=True)
    alive = httpx.get(base + '/v1/health', timeout=5).json()['status']
finally:
    srv.terminate(); srv.wait(10)
out = save('serve_load', dict(model=str(model) if a.model else 'MobileNetV2 128 px, random weights, ONNX', serve_args=a.serve_args, service=health,
                        cpu=machine_info(), recording='synthetic 10 s, 44.1 kHz 16-bit WAV (882 kB)', load=rows, stream=srow,
                        service_alive_after=alive, load_average_after=os.getloadavg(),
                        note='client and service share the 2 cores; the client (httpx, asyncio) costs CPU too'), a.out)

# the table README and 21_serve include (<!-- include: bench/results/serve_load.md -->)
cpu = machine_info()
lines = [f"| concurrency | requests | answered | 503 (shed) | errors | recordings/s | p50 ms | p95 ms | p99 ms | service CPU-ms / recording | RSS start -> end (peak) MB |",
         "|---|---|---|---|---|---|---|---|---|---|---|"]
for r in rows:
    lines.append(f"| {r['concurrency']} | {r['requests']} | {r['ok']} | {r['shed_503']} | {r['errors']} | {r['recordings_per_s']} | {r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} | "
                 f"{r['service_cpu_ms_per_recording']} | {r['rss_start_mb']} -> {r['rss_end_mb']} ({r['rss_peak_mb']}) |")
sl = srow['window_latency_after_last_sample_ms']
lines += ['', f"Stream: {srow['seconds_of_audio']:.0f} s of audio in {srow['chunk_ms']:.0f} ms chunks at {srow['speed']:g}x real time, {srow['windows']} windows: "
          f"each window answered p50 {sl['p50']} ms, p95 {sl['p95']} ms, p99 {sl['p99']} ms, at most {sl['max']} ms after the chunk holding its last sample was sent "
          f"(the service waits for 50 ms after it, the filter's lookahead); pooled answer {srow['result_after_end_ms']} ms after `end`; service RSS "
          f"{srow['rss_start_mb']} -> {srow['rss_end_mb']} MB. Service {'up' if alive == 'ok' else 'DOWN'} afterwards.",
          '', f"`{' '.join(['python'] + sys.argv)}` ({cpu['cpu']}, {cpu['machine']}; load average {load0[0]:.1f} at the start: "
          f"{'quiet' if load0[0] < 0.5 else 'other jobs were running, not a quiet machine'}; client and service on the same cores; {health['backend']}, "
          f"{health['concurrency']} predictions at once, {health['capacity']} admitted); raw: `bench/results/{Path(out).name}`."]
Path(out).with_suffix('.md').write_text('\n'.join(lines) + '\n'); print('\n'.join(lines))
