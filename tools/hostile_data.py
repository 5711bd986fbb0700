#!/usr/bin/env python
"""Replay the data- and training-side hostile cases of issue #12 and print one line per case: case | outcome | message.

    python tools/hostile_data.py            # the package on PYTHONPATH (run from the repository root: export PYTHONPATH=$PWD)
    python tools/hostile_data.py --quick    # skip the cases that start heartbeat-train/heartbeat-spectrograms subprocesses

Everything happens in a temporary folder with small synthetic recordings; nothing is downloaded or trained.
Outcome is `ok` when the case is handled as issue #12 asks, `FAIL` otherwise; the script exits 1 if any case fails.
It only uses functions that existed before the fixes, so it can be pointed at an older checkout to see the difference."""
import argparse, contextlib, io, json, os, shutil, signal, subprocess, sys, tempfile, time, warnings
from pathlib import Path
import numpy as np, pandas as pd, soundfile as sf
from PIL import Image

from heartbeat_nbdev.audio import synth_wav, synth_heartbeat, audio_info, AudioError
from heartbeat_nbdev.fixtures import synth_dataset
from heartbeat_nbdev.data import get_recordings
from heartbeat_nbdev.spectrogram import SpecConfig, make_spectrograms, load_audio
from heartbeat_nbdev.baseline import features_table

CFG = SpecConfig()
results = []

def report(case, ok, msg):
    msg = ' '.join(str(msg).split())
    results.append(ok)
    print(f"{case:<28} | {'ok' if ok else 'FAIL':<4} | {msg[:220]}", flush=True)

def case(name):
    "Run the decorated function now; it returns (ok, message); an exception is a FAIL that names it."
    def deco(f):
        try: ok, msg = f()
        except BaseException as e:
            if isinstance(e, KeyboardInterrupt): raise
            ok, msg = False, f"{type(e).__name__}: {e}"
        report(name, ok, msg)
    return deco

def spec(recs, out, workers=1):
    "make_spectrograms quietly; (windows, skipped, stderr text)."
    err = io.StringIO()
    if 'error' not in recs: recs = recs.assign(error=None)   # older versions needed the column
    with warnings.catch_warnings(), contextlib.redirect_stderr(err):
        warnings.simplefilter('ignore')
        wins, skipped = make_spectrograms(recs, out, CFG, n_workers=workers, progress=False)
    return wins, skipped, err.getvalue().strip()

def cli(module, *args, timeout=300, env=None):
    "Run `python -m heartbeat_nbdev.<module> args`; (exit code, stderr lines)."
    p = subprocess.run([sys.executable, '-m', f'heartbeat_nbdev.{module}', *map(str, args)], capture_output=True, text=True,
                       timeout=timeout, env={**os.environ, **(env or {})})
    return p.returncode, p.stdout, [l for l in p.stderr.splitlines() if l.strip()]

def proc_children(pid):
    kids = []
    for st in Path('/proc').glob('[0-9]*/stat'):
        try: f = st.read_text().rsplit(')', 1)[1].split()
        except OSError: continue
        if int(f[1]) == pid and f[0] != 'Z': kids.append(int(st.parent.name))
    return kids

def alive(pid):
    try: return Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1].split()[0] != 'Z'
    except OSError: return False

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--quick', action='store_true', help='skip the subprocess cases')
    quick = ap.parse_args().quick
    tmp = Path(tempfile.mkdtemp(prefix='hostile-'))
    print(f"{'case':<28} | outcome | message")

    @case('changed in place')
    def _():
        a = synth_wav(tmp/'c1'/'a.wav', 6.0)
        recs = pd.DataFrame(dict(path=[str(a)]))
        n1 = len(spec(recs, tmp/'c1spec')[0])
        synth_wav(a, 12.0, seed=3)
        wins, _, msg = spec(recs, tmp/'c1spec')
        return len(wins) == 7 and n1 == 3, f"6 s -> {n1} windows; rewritten as 12 s -> {len(wins)} windows (want 7); {msg or 'no message'}"

    @case('case collision x.wav/x.WAV')
    def _():
        a, b = synth_wav(tmp/'c2'/'x.wav', 6.0), synth_wav(tmp/'c2'/'x.WAV', 18.0, seed=1)
        wins, _, _ = spec(pd.DataFrame(dict(path=[str(a), str(b)])), tmp/'c2spec')
        n = wins.groupby('path').size().to_dict()
        imgs = set(wins.img[wins.path == str(a)]) & set(wins.img[wins.path == str(b)])
        return n == {str(a): 3, str(b): 11} and not imgs, f"windows {sorted(n.values())} (want [3, 11]), {len(imgs)} shared images"

    def damaged_png(sub, i, damage):
        "Cache a 6 s recording, damage its window `i` image with `damage(bytes)`, cache again: (rebuilt with a message?, message)."
        a = synth_wav(tmp/sub/'a.wav', 6.0)
        recs = pd.DataFrame(dict(path=[str(a)]))
        wins, _, _ = spec(recs, tmp/f'{sub}spec')
        Path(wins.img[i]).write_bytes(damage(Path(wins.img[i]).read_bytes()))
        wins, _, msg = spec(recs, tmp/f'{sub}spec')
        for p in wins.img: Image.open(p).load()
        return 'damaged' in msg, msg or 'no message (the damaged PNG was served)'

    @case('zero-byte cached PNG')
    def _(): return damaged_png('c3', 0, lambda b: b'')

    @case('truncated PNG')
    def _(): return damaged_png('c3b', 1, lambda b: b[:120])

    @case('truncated manifest')
    def _():
        a = synth_wav(tmp/'c4'/'a.wav', 6.0)
        recs = pd.DataFrame(dict(path=[str(a)]))
        spec(recs, tmp/'c4spec')
        man = next(m for m in (tmp/'c4spec'/CFG.key).glob('*.json') if m.name != 'config.json')
        man.write_text(man.read_text()[:30])
        wins, _, msg = spec(recs, tmp/'c4spec')
        json.loads(man.read_text())
        return len(wins) == 3 and 'damaged manifest' in msg, msg or 'no message'

    @case('truncated config.json')
    def _():
        a = synth_wav(tmp/'c4b'/'a.wav', 6.0)
        recs = pd.DataFrame(dict(path=[str(a)]))
        spec(recs, tmp/'c4bspec')
        (tmp/'c4bspec'/CFG.key/'config.json').write_text('{"sr": 2')
        wins, _, msg = spec(recs, tmp/'c4bspec')
        return len(wins) == 3 and 'damaged' in msg, msg or 'no message'

    @case('1 Hz header WAV')
    def _():
        p = tmp/'c5'/'one_hz.wav'; p.parent.mkdir()
        sf.write(str(p), synth_heartbeat(6.0, 4000), 1, subtype='PCM_16')
        t0 = time.perf_counter()
        try: load_audio(p, CFG); return False, f"accepted ({time.perf_counter() - t0:.1f} s)"
        except AudioError as e: return 'sample rate' in str(e) and p.name in str(e), f"{e} ({p.stat().st_size//1000} KB, {time.perf_counter() - t0:.2f} s)"

    @case('huge duration (11 min)')
    def _():
        p = tmp/'c6'/'long.wav'; p.parent.mkdir()
        sf.write(str(p), np.zeros(11*60*500, np.int16), 500, subtype='PCM_16')
        try: audio_info(p); return False, 'accepted by audio_info (get_recordings lists it as fine)'
        except AudioError as e: return 'too long' in str(e) and p.name in str(e), str(e)

    @case('tiny hop: window count')
    def _():
        from dataclasses import replace
        from heartbeat_nbdev.spectrogram import prepare_audio
        x = np.tile(synth_heartbeat(6., 2000), 100)   # 10 minutes
        t0 = time.perf_counter()
        try: replace(CFG, hop_s=0.001); return False, 'SpecConfig(hop_s=0.001) accepted'
        except ValueError as e: refused = str(e)   # below the bounds a model.json may hold: refused when the settings are made
        try: prepare_audio(x, 2000, replace(CFG, hop_s=0.05), name='ten_min.wav'); return False, 'accepted'   # the smallest hop allowed
        except AudioError as e: return 'windows' in str(e) and 'hop_s' in refused, f"{refused}; hop 0.05 s: {e} ({time.perf_counter() - t0:.1f} s)"

    @case('FLAC/OGG/MP3 in dataset')
    def _():
        d = tmp/'c7'/'normal'; d.mkdir(parents=True)
        x = synth_heartbeat(2.0, 8000)
        for ext, fmt in (('flac', 'FLAC'), ('ogg', 'OGG'), ('mp3', 'MP3')): sf.write(str(d/f'normal__{ext}.{ext}'), x, 8000, format=fmt)
        (d/'fake.ogg').write_text('not audio')
        with warnings.catch_warnings(): warnings.simplefilter('ignore'); df = get_recordings(tmp/'c7').set_index('fname')
        good = df.error[['normal__flac.flac', 'normal__ogg.ogg', 'normal__mp3.mp3']].isna().all()
        return bool(good and pd.notna(df.error['fake.ogg'])), '; '.join(f"{f}: {'read' if pd.isna(e) else e}" for f, e in df.error.items())

    @case('features_table path only')
    def _():
        a = synth_wav(tmp/'c8'/'a.wav', 3.0)
        tab, skipped = features_table(pd.DataFrame(dict(path=[str(a)])), CFG, n_workers=1, progress=False, cache=None)
        return len(tab) == 1 and len(skipped) == 0, f"{len(tab)} row, {tab.shape[1]} columns"

    @case('umask 022: cache files')
    def _():
        old = os.umask(0o022)
        try: wins, _, _ = spec(pd.DataFrame(dict(path=[str(synth_wav(tmp/'c9'/'a.wav', 4.0))])), tmp/'c9spec')
        finally: os.umask(old)
        modes = {oct(os.stat(p).st_mode & 0o777) for p in [*wins.img, *Path(wins.img[0]).parent.glob('*.json')]}
        return modes == {'0o644'}, f"modes {sorted(modes)} (want 0o644)"

    if quick: print('(subprocess cases skipped: --quick)')
    else:
        @case('heartbeat-train, no data')
        def _():
            rc, _, err = cli('train_cli', '--data', tmp/'nowhere', '--no-pretrained', '--out', tmp/'m', '--spec-out', tmp/'s')
            return rc != 0 and len(err) == 1, f"exit {rc}, {len(err)} stderr line(s); last: {err[-1] if err else ''}"

        @case('heartbeat-train, only bad')
        def _():
            root = synth_dataset(tmp/'bad', n_patients=2, n_a=1, duration=1.0)
            for p in root.rglob('*.wav'): p.write_bytes(b'RIFF....WAVEjunk')
            rc, out, err = cli('train_cli', '--data', root, '--no-pretrained', '--out', tmp/'m', '--spec-out', tmp/'s')
            named = sum(l.startswith('skipped ') for l in out.splitlines())
            return rc != 0 and len(err) == 1 and named == len(list(root.rglob('*.wav'))), \
                   f"exit {rc}, {named} files named on stdout, {len(err)} stderr line(s); last: {err[-1] if err else ''}"

        root = synth_dataset(tmp/'big', n_patients=2, n_a=1, duration=30.)
        for sig in (signal.SIGTERM, signal.SIGINT):
            @case(f'{sig.name} heartbeat-spectrograms')
            def _():
                out = tmp/f'sig{sig.name}'
                log = open(tmp/f'{sig.name}.log', 'w+')   # a file, not a pipe: workers left alive would hold a pipe open
                p = subprocess.Popen([sys.executable, '-m', 'heartbeat_nbdev.spectrogram', '--data', str(root), '--out', str(out), '--workers', '2'],
                                     stdout=subprocess.DEVNULL, stderr=log, text=True)
                t0 = time.time()
                while len(list(out.glob('*/*.json'))) < 3 and p.poll() is None and time.time() - t0 < 120: time.sleep(0.05)
                kids = proc_children(p.pid)
                if p.poll() is not None or not kids: return False, 'finished before the signal: dataset too small for this machine'
                p.send_signal(sig); p.wait(timeout=60); log.seek(0); err = log.read().replace('\r', '\n')
                t0 = time.time()
                while any(map(alive, kids)) and time.time() - t0 < 10: time.sleep(0.1)
                left = [k for k in kids if alive(k)]
                for k in left: os.kill(k, signal.SIGKILL)   # do not leave them running after the report
                recs = pd.DataFrame(dict(path=[str(p) for p in sorted(root.rglob('*.wav'))]))
                n_before = len([m for m in (out/CFG.key).glob('*.json') if m.name != 'config.json'])
                wins, skipped, msg = spec(recs, out, workers=1)
                sound = msg == '' and len(skipped) == 0 and wins.path.nunique() == len(recs)
                last = err.strip().splitlines()[-1] if err.strip() else ''
                return not left and sound, (f"exit {p.returncode}; {len(kids)} workers, {len(left)} left alive; {n_before} recordings cached, "
                                            f"cache {'sound, completed' if sound else 'NOT sound: ' + msg[:80]}; stderr: {last}")

    n_fail = results.count(False)
    print(f"{len(results) - n_fail} ok, {n_fail} FAIL")
    shutil.rmtree(tmp, ignore_errors=True)
    return 1 if n_fail else 0

if __name__ == '__main__': sys.exit(main())
