"""One table of the measured levers of the benchmarks issue: the light CNN, pretraining, the HearHeart ingredients, the
seed vote, cycle windows, the joint model, the MFCC cycle features beside the CNN and device augmentation, each against
its reference on the same folds, with the command, the training time and the machine of its raw record.

    python bench/levers.py          # -> bench/results/levers.md, levers.json (read from the saved out-of-fold files only)

Sources: `bench/ablation.py` (PASCAL, patient-grouped 5 folds, bench/results/ablation*/), `bench/joint.py` and
`bench/cnn_mfcc.py` (the joint benchmark's folds, bench/results/joint/). Score: each database's protocol (PASCAL
balanced accuracy over 5 classes; PhysioNet 2016 MAcc; CirCor recording balanced accuracy and, per patient, the
challenge's weighted accuracy with Unknown counted), pooled over the folds' out-of-fold answers, mean ± s.d. over seeds. Gain: the lever minus its reference, fold by fold on the same
folds and seeds (mean ± s.d., folds better); a lever is `kept` only where the mean gain is above that s.d.
Development figures (choose on CV, report as such).
"""
import json, sys
from pathlib import Path
import numpy as np, pandas as pd
R = Path(__file__).parent/'results'
sys.path.insert(0, str(R.parents[1]))
from heartbeat_nbdev.metrics import classification_metrics
from heartbeat_nbdev.recipe import markdown_table

def _cmd(rec): return (rec.get('command') or '').replace('python bench/', '').replace('--rows  ', "--rows '' ")

def ablation_runs(row, folder='ablation'):
    "{seed: (oof, record)} of an `bench/ablation.py` row."
    out = {}
    for f in sorted((R/folder).glob(f'{row}-s*.csv')):
        name, s = f.stem.rsplit('-s', 1)
        if name != row or not s.isdigit(): continue   # 'light-s*' also matches light-ssl-s42
        j = f.with_suffix('.json'); out[int(s)] = (pd.read_csv(f), json.loads(j.read_text()) if j.exists() else {})
    return out

def joint_runs(row, head):
    "{seed: (oof rows of `head`, record)} of a `bench/joint.py` / `bench/cnn_mfcc.py` row."
    from heartbeat_nbdev.joint import head_oof
    out = {}
    for f in sorted((R/'joint').glob(f'{row}-s*.csv.gz')):
        s = f.name[:-len('.csv.gz')].rsplit('-s', 1)[1]
        if f.name[:-len('.csv.gz')].rsplit('-s', 1)[0] != row or not s.isdigit(): continue
        o = pd.read_csv(f, dtype={'patient': str})
        if (o['head'] == head).any():
            j = Path(str(f).replace('.csv.gz', '.json'))
            out[int(s)] = (head_oof(o, head), json.loads(j.read_text()) if j.exists() else {})
    return out

def per_fold(oof):
    lab = oof[oof.label.notna()]; classes = [c[2:] for c in oof.columns if c.startswith('p_')]
    return {f: classification_metrics(g.label, g.pred, classes)['balanced_accuracy'] for f, g in lab.groupby('fold')}

def pooled(oof):
    lab = oof[oof.label.notna()]; classes = [c[2:] for c in oof.columns if c.startswith('p_')]
    return classification_metrics(lab.label, lab.pred, classes)['balanced_accuracy']

def patient_wa(oof):
    from heartbeat_nbdev.patient import crossfit_patients, compare_rules
    g = oof[oof.patient_label.isin(['Present', 'Unknown', 'Absent'])]
    c = compare_rules(crossfit_patients(g)).set_index('rule')
    return float(c.loc['learned decision', 'weighted_accuracy']), float(c.loc['learned decision', 'recall_Present'])

def _minutes(wall):
    "Mean wall minutes of the runs; a range where they differ by more than a tenth (runs that trained different heads)."
    if not wall: return '–'
    lo, hi = min(wall)/60, max(wall)/60
    return f"{np.mean(wall)/60:.1f}" if hi - lo <= 0.1*hi else f"{lo:.1f}-{hi:.1f}"

rows = []
def add(task, lever, what, runs, ref=None, circor=False, vote=False, extra=None):
    if not runs: return
    seeds = sorted(runs)
    ba = [pooled(runs[s][0]) for s in seeds]
    r = dict(task=task, lever=lever, change=what, score=f"{np.mean(ba):.3f}" + (f" ± {np.std(ba, ddof=1):.3f}" if len(ba) > 1 else ''))
    if circor:
        w = [patient_wa(runs[s][0]) for s in seeds]
        r['patients'] = f"{np.mean([a for a, _ in w]):.3f} (Present {np.mean([b for _, b in w]):.2f})"
    if ref and vote:   # a vote of the reference's seeds: against the mean of those seeds alone, fold by fold
        rf = pd.DataFrame([per_fold(ref[s][0]) for s in ref]).mean()
        d = np.array([v - rf[f] for s in seeds for f, v in per_fold(runs[s][0]).items()])
    elif ref:
        common = [s for s in seeds if s in ref]
        d = np.array([v - per_fold(ref[s][0])[f] for s in common for f, v in per_fold(runs[s][0]).items()])
    if ref:
        if len(d) > 1:
            r.update(gain=f"{d.mean():+.3f} ± {d.std(ddof=1):.3f} ({int((d > 0).sum())}/{len(d)})",
                     kept='yes' if d.mean() > d.std(ddof=1) else 'no')
    recs = [runs[s][1] for s in seeds]
    wall = [x.get('wall_seconds') for x in recs if x.get('wall_seconds')]
    r.update(seeds=len(seeds), seed_ids=','.join(map(str, seeds)), minutes=_minutes(wall), command=list(dict.fromkeys(_cmd(x) for x in recs + (extra or []) if _cmd(x))),
             machine=next((x['machine'] + (f" ({x['cpu']})" if x.get('cpu') else '') for x in recs if x.get('machine')), ''))
    rows.append(r)

P = 'PASCAL'
base, light = ablation_runs('base'), ablation_runs('light')
add(P, 'base', 'MobileNetV2, ImageNet start, 128 px (reference)', base)
add(P, 'light', 'light_cnn from scratch, 64 x 128 px', light, base)
add(P, 'light+3seeds', 'vote of the 3 light seeds (gain: vs each seed)', ablation_runs('light+3seeds'), light, vote=True)
pre = json.loads((R/'pretrain-ssl-pascal.json').read_text()) if (R/'pretrain-ssl-pascal.json').exists() else {}
add(P, 'light-ssl', 'SimCLR pretraining on unlabelled audio' + (f" ({pre['train_seconds']/60:.0f} min, then fine-tuned)" if pre.get('train_seconds') else ''),
    ablation_runs('light-ssl'), light, extra=[pre] if pre else None)
add(P, 'light-specaug', 'HearHeart: noise + SpecAugment', ablation_runs('light-specaug'), light)
add(P, 'light-cyc2', 'windows of 2 heart cycles', ablation_runs('light-cyc2', 'ablation-cycles'), light)
for head, task in (('pascal', 'PASCAL, joint folds'), ('physionet2016', 'PhysioNet 2016'), ('circor2022', 'CirCor 2022')):
    cc = head == 'circor2022'; single = joint_runs('single', head)
    add(task, 'single', 'light_cnn, this database alone (reference)', single, circor=cc)
    add(task, 'joint', 'joint: all four databases, a head each', joint_runs('joint', head), single, circor=cc)
    add(task, 'single-cyc2', 'windows of 2 heart cycles', joint_runs('single-cyc2', head), single, circor=cc)
    add(task, 'mfcc-all', 'MFCC + cycle features, no CNN', joint_runs('mfcc-all', head), single, circor=cc)
    add(task, 'single+mfcc', 'CNN and mfcc-all averaged', joint_runs('single+mfcc', head), single, circor=cc)
L = 'PhysioNet 2016, one site out'
loso = joint_runs('loso-single', 'physionet2016')
add(L, 'loso-single', 'train on 3 of b, c, d, f, score the 4th (reference)', loso)
add(L, 'loso-single-dev', 'device augmentation: noise floor, EQ', joint_runs('loso-single-dev', 'physionet2016'), loso)
add(L, 'loso-joint', 'the other databases added', joint_runs('loso-joint', 'physionet2016'), loso)

tab = pd.DataFrame(rows).fillna('')
(R/'levers.json').write_text(json.dumps(dict(rows=tab.to_dict('records'), what=__doc__.strip()), indent=1))
machines = sorted(set(tab.pop('machine')) - {''}, key=len)[-1:]   # one machine; the longest name says the most (some records lack the CPU)
seed_sets = ' or '.join(dict.fromkeys(tab.pop('seed_ids')))
cmds = tab.pop('command'); order = list(dict.fromkeys(c for cs in cmds for c in cs))
tab['run'] = [', '.join(f"[{order.index(c) + 1}]" for c in cs) for cs in cmds]
cols = ['task', 'lever', 'change', 'score', 'patients', 'gain', 'kept', 'seeds', 'minutes', 'run']
tab = tab[[c for c in cols if c in tab]].rename(columns=dict(change='what changes', score='balanced accuracy', patients='patients: WA',
                                                            gain='gain per fold (folds better)', minutes='train min'))
note = (f"\n{len(tab)} rows, all on one machine: {'; '.join(machines)}. `seeds`: how many training seeds (seeds {seed_sets}). `balanced accuracy`: pooled out-of-fold, each database's protocol "
        "(PASCAL: 5 classes; PhysioNet 2016: MAcc; CirCor 2022: murmur per recording); `patients: WA`: CirCor's challenge weighted accuracy "
        "per patient (Unknown counted) and Present recall. `train min`: wall time of one training seed's whole 5-fold "
        "CV (the joint model: all four heads; a `single` run: every database it trained; `mfcc-all`, `single+mfcc`: the features "
        "and the logistic regressions). Development figures. The runs (`python bench/...`, from the repository root):\n\n"
        + ''.join(f"{i + 1}. `python bench/{c}`\n" for i, c in enumerate(order)))
(R/'levers.md').write_text(markdown_table(tab) + '\n' + note)
print(markdown_table(tab) + '\n' + note)
