#!/usr/bin/env bash
# The GPU rows of the ablation, in the same patient-grouped 5-fold CV (the same folds) as bench/results/ablation:
# the catalog card's recipe from random weights (`card-scratch`: ResNet50, 224 px; no ResNet50 ImageNet file here) and
# the chosen recipe (`base` with seeds 42, 43 and 44: what the `screening-ensemble` preset averages), each timed; last,
# `base` seed 42 again, to see whether the same seed on the same GPU gives the same predictions.
#
#   bash bench/device.sh [out] [budget_s]
#
# out: default bench/results/ablation-gpu. budget_s: no job starts after this many seconds (0: no limit).
# Needs the package installed, $HEARTBEAT_DATA and $HEARTBEAT_WEIGHTS (the MobileNetV2 file) as for bench/ablation.py.
# The post-hoc rows (seed average, calibration, operating point) need no GPU; on any machine, afterwards:
#   python bench/ablation.py --out bench/results/ablation-gpu --rows '' --seed-average base --posthoc card-scratch,base
set -u
out=${1:-bench/results/ablation-gpu}; budget=${2:-0}; t0=$SECONDS
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || echo "nvidia-smi: none"
python -c "import torch; print('torch', torch.__version__, '| GPU:', torch.cuda.is_available() and torch.cuda.get_device_name(0))"
for job in "card-scratch 42" "base 42" "base 43" "base 44" "base 42 --windows" "card-scratch 43" "card-scratch 44"; do
  set -- $job
  if (( budget > 0 && SECONDS - t0 > budget )); then echo "not started (past ${budget} s): $job"; continue; fi
  echo "== $job (at $((SECONDS - t0)) s)"
  python bench/ablation.py --out "$out" --rows "$1" --seeds "$2" ${3:-}
done
echo "== done at $((SECONDS - t0)) s"
