"""A small, time-boxed hyper-parameter search with optuna, on inner folds only.

    pip install -e ".[bench]"     # optuna
    python bench/search.py --minutes 40

The PASCAL recordings are split into the same patient-grouped 5 folds as bench/ablation.py (split seed 42). The search
sees only the training side of one outer fold (--outer-fold, default 0): it splits those patients again into 4 inner
folds and scores a setting by its mean recording-level balanced accuracy on the first --inner-folds of them (trained on
the other three quarters each time). The first trial is `recipe.BASE` itself, so the search is compared with it on the
same inner folds. Searched, on top of BASE (MobileNetV2, ImageNet file, 128 px, batch 32, class-weighted loss):
lr, epochs, mixup, a frozen first epoch, weight decay. Optuna's TPE sampler (seed 42) proposes, its median pruner stops a trial
whose first inner fold is below the median of earlier trials. Every trial goes to bench/results/search.json with the
command, commit, machine and wall time; the best setting is then cross-validated like any lever
(`recipe.LEVERS['search']`, bench/ablation.py --rows search).
"""
import argparse, json, os, sys, time, warnings
from pathlib import Path
import optuna
from heartbeat_nbdev.data import get_recordings, find_data_path
from heartbeat_nbdev.tasks import labelled, patient_folds
from heartbeat_nbdev.spectrogram import SpecConfig
from heartbeat_nbdev.train import training_windows, train
from heartbeat_nbdev.recipe import BASE, machine_info

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument('--minutes', type=float, default=40, help='time box: no trial starts after it')
ap.add_argument('--trials', type=int, default=40, help='most trials')
ap.add_argument('--outer-fold', type=int, default=0)
ap.add_argument('--inner-folds', type=int, default=2, help='inner folds scored per trial (of 4)')
ap.add_argument('--weights-dir', default=os.environ.get('HEARTBEAT_WEIGHTS'))
ap.add_argument('--out', default='bench/results/search.json')
a = ap.parse_args()
warnings.simplefilter('ignore')
wf = Path(a.weights_dir)/'mobilenet_v2-b0353104.pth' if a.weights_dir else None
pretrained = str(wf) if wf is not None and wf.exists() else True
recs = labelled(get_recordings(find_data_path()))
outer = patient_folds(recs, k=5, seed=42)
inner = recs[(outer != a.outer_fold).values]
print(f"search data: {len(inner)} recordings ({inner.group.nunique()} patients), outer fold {a.outer_fold} ({(outer == a.outer_fold).sum()} recordings) never seen", flush=True)
wins = [training_windows(inner, 'data/spectrograms', SpecConfig(), valid_pct=1/4, fold=i, seed=42, progress=False)[0] for i in range(a.inner_folds)]
t0 = time.perf_counter()

def objective(trial):
    p = dict(lr=trial.suggest_float('lr', 3e-4, 3e-3, log=True), epochs=trial.suggest_int('epochs', 3, 10),
             mixup=trial.suggest_categorical('mixup', [0., 0.2, 0.4]), freeze_epochs=trial.suggest_categorical('freeze_epochs', [0, 1]),
             wd=trial.suggest_categorical('wd', [0., 0.01, 0.1]))
    kw = {**BASE, **p}; scores = []
    for i, w in enumerate(wins):
        _, res = train(w, pretrained=pretrained, seed=42, progress=False, **kw)
        scores.append(res['recording']['balanced_accuracy'])
        trial.set_user_attr('inner_scores', scores)
        trial.report(sum(scores)/len(scores), i)
        if trial.should_prune(): raise optuna.TrialPruned()
    return sum(scores)/len(scores)

optuna.logging.set_verbosity(optuna.logging.WARNING)
study = optuna.create_study(direction='maximize', sampler=optuna.samplers.TPESampler(seed=42),
                            pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=0))
study.enqueue_trial(dict(lr=BASE['lr'], epochs=BASE['epochs'], mixup=0., freeze_epochs=0, wd=BASE['wd']))   # BASE first
def log(study, t):
    print(f"trial {t.number}: {t.state.name} {t.params} inner scores {[round(s, 3) for s in t.user_attrs.get('inner_scores', [])]} "
          f"({(t.datetime_complete - t.datetime_start).total_seconds()/60:.1f} min)", flush=True)
study.optimize(objective, n_trials=a.trials, timeout=a.minutes*60, callbacks=[log])
trials = [dict(number=t.number, state=t.state.name, params=t.params, value=t.value, inner_scores=t.user_attrs.get('inner_scores'),
               minutes=(t.datetime_complete - t.datetime_start).total_seconds()/60) for t in study.trials]
best = study.best_trial
Path(a.out).write_text(json.dumps(dict(best=dict(params=best.params, value=best.value, number=best.number), base_trial=trials[0], trials=trials,
    base=BASE, outer_fold=a.outer_fold, inner_folds=f"{a.inner_folds} of 4", n_search_recordings=len(inner),
    objective='mean recording-level balanced accuracy over the inner validation folds', sampler='TPE (seed 42), median pruner',
    command=' '.join(['python'] + sys.argv), wall_seconds=time.perf_counter() - t0, **machine_info()), indent=1))
print(f"best trial {best.number}: {best.params} -> {best.value:.3f} (BASE: {trials[0]['value']})")
