"""The learned patient decision against the any-recording rule on CirCor, on the MFCC baseline's out-of-fold recording predictions.

    flock /tmp/heavy.lock python bench/patient_decision.py [--seeds 42,43,44] [--k 5]

For each fold seed: patient folds stratified by murmur status, the baseline's recording predictions for every readable
recording (Unknown patients' included) from a model that never saw the patient, then the cross-fitted patient decision
(`patient.crossfit_patients`) and the any-recording rule on the same predictions, scored per patient as the 2022 challenge
scores it (weighted accuracy, Unknown counted). Writes bench/results/patient_decision.json (and the decision fitted on all
patients of the first seed, bench/results/patient_decision_params.json). Development figures (patient-grouped CV).
"""
import argparse, json, sys, time, warnings
from pathlib import Path
import numpy as np, pandas as pd
sys.path.insert(0, str(Path(__file__).parent))
from _common import save
from heartbeat_nbdev.data import read_circor2022
from heartbeat_nbdev.baseline import features_table
from heartbeat_nbdev.metrics import classification_metrics
from heartbeat_nbdev.patient import circor_oof_baseline, compare_rules, crossfit_patients, fit_patient_decision, patient_features

ap = argparse.ArgumentParser(); ap.add_argument('--seeds', default='42,43,44'); ap.add_argument('--k', type=int, default=5)
ap.add_argument('--cache', default='data/features')
a = ap.parse_args(); seeds = [int(s) for s in a.seeds.split(',')]
t0 = time.time()
with warnings.catch_warnings():
    warnings.simplefilter('ignore'); recs = read_circor2022()
ok = recs[recs.error.isna()]
feats, skipped = features_table(ok, progress=False, cache=a.cache)
t_feat = time.time() - t0
rows, pats, rec_scores, first, chosen_C = [], [], [], None, []
for s in seeds:
    oof = circor_oof_baseline(recs, k=a.k, seed=s, feats=feats)
    out = recs.drop_duplicates('patient').set_index('patient').patient_outcome
    lab = oof[oof.label.isin(['Present', 'Absent'])]
    m = classification_metrics(np.where(lab.label == 'Present', 'murmur', 'no_murmur'), np.where(lab.p_murmur >= .5, 'murmur', 'no_murmur'), ['murmur', 'no_murmur'])
    rec_scores.append(dict(seed=s, n=m['n'], balanced_accuracy=m['balanced_accuracy'], recall_murmur=m['per_class']['murmur']['recall']))
    for name, kw in (('learned decision (C 0.3)', dict(C=0.3)), ('learned decision (C chosen on inner folds)', dict(C=None)),
                     ('learned decision, no Unknown answer (C 0.3)', dict(C=0.3, allow_unknown=False))):
        p = crossfit_patients(oof, seed=0, **kw).assign(seed=s)
        p['patient_outcome'] = out.loc[p.index].values
        c = compare_rules(p)
        rows.append(c[c.rule == 'learned decision'].assign(rule=name))
        if kw == dict(C=0.3): rows.append(c[c.rule != 'learned decision']); pats.append(p)
        if kw.get('C', 0) is None: chosen_C += p.drop_duplicates('fold').C.tolist()
    if first is None: first = oof
res = pd.concat(rows, ignore_index=True)
metrics = ['weighted_accuracy', 'recall_Present', 'recall_Unknown', 'recall_Absent', 'outcome_cost']
table = []
for rule, g in res.groupby('rule', sort=False):
    table.append(dict(rule=rule, **{k: f"{g[k].mean():.3f} ± {g[k].std(ddof=1):.3f}" if k != 'outcome_cost' else f"{g[k].mean():.0f} ± {g[k].std(ddof=1):.0f}" for k in metrics},
                      seeds=len(g), patients=int(g.n.iloc[0])))
params = fit_patient_decision(patient_features(first), first.groupby('patient').patient_label.first().loc[patient_features(first).index])
Path(__file__).parent.joinpath('results', 'patient_decision_params.json').write_text(json.dumps(params, indent=1) + '\n')
pall = pd.concat(pats)
conf = {s: pd.crosstab(g.decision, g.patient_label).to_dict() for s, g in pall.groupby('seed')}
save('patient_decision', dict(
    what='CirCor patient-level murmur (murmur_patient): learned patient decision vs the any-recording rule on the same out-of-fold MFCC-baseline recording predictions',
    k=a.k, fold_seeds=seeds, n_recordings=int(len(ok)), n_features_skipped=int(len(skipped)),
    n_patients_one_location=int((ok.groupby('patient').location.nunique() == 1).sum()),
    cpu_model=next((l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name')), None),
    chosen_C_counts={str(k): int(v) for k, v in pd.Series(chosen_C).value_counts().items()},
    any_thresholds_chosen=sorted(set(float(t) for t in pd.concat(pats).any_threshold)),
    patients={k: int(v) for k, v in recs.drop_duplicates('patient').patient_label.value_counts().items()},
    table=table, per_seed=res.to_dict('records'), recording_level=rec_scores, decision_confusion_labels_by_decision=conf,
    note=('weighted accuracy as the challenge counts it (Unknown counted); each patient pooled over the 5 folds of a seed, mean ± std over the fold seeds; '
          'recording model: MFCC + logistic regression (16_baseline), not a CNN; recording predictions of the training folds come from models that saw the '
          'held-out fold (stacking shortcut); outcome_cost: murmur outputs against the outcome labels (lower is better)'),
    wall_seconds=dict(features=round(t_feat, 1), total=round(time.time() - t0, 1))))
from heartbeat_nbdev.recipe import markdown_table
md = markdown_table(pd.DataFrame(table).rename(columns=dict(weighted_accuracy='weighted accuracy (Unknown counted)', outcome_cost='outcome cost (murmur outputs)')))
Path(__file__).parent.joinpath('results', 'patient_decision.md').write_text(
    md + f"\n\nCirCor, {sum(int(v) for v in pd.Series(recs.drop_duplicates('patient').patient_label).value_counts())} patients, patient-grouped {a.k}-fold CV, "
    f"fold seeds {', '.join(map(str, seeds))} (mean ± std over seeds); recording model: the MFCC baseline. Development figures; "
    "`bench/results/patient_decision.json` has the command, commit and machine.\n")
print(pd.DataFrame(table).to_string(index=False))
print(pd.DataFrame(rec_scores).to_string(index=False))
