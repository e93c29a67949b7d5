#!/usr/bin/env bash
# Data-parallel scaling of configs/cpu-tiny.yaml on this machine: samples/s with 1 rank and with
# 2 ranks (one thread each, batch_size 4 per rank), timed from metrics.csv between steps 20 and STEPS.
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${STEPS:-120}
swift build -c release --product fmboost >/dev/null
./scripts/fetch-photos.sh
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
rate() {  # samples/s of a run folder with $1 ranks
  awk -F, -v ranks="$1" -v last="$steps" '$6 != "" && $1 == 20 { t0 = $6 } $6 != "" && $1 == last { t1 = $6 } END { printf "%.2f", (last - 20) * 4 * ranks / (t1 - t0) }' "$2/metrics.csv"
}
common=(--config configs/cpu-tiny.yaml --data data/photos --max-steps "$steps" --threads 1 train.log_every_n_steps=20
        train.val_check_interval=100000 train.checkpoint_every_n_train_steps=100000)
.build/release/fmboost train "${common[@]}" --name one --logs "$logs/one" >/dev/null
.build/release/fmboost train "${common[@]}" --name two --logs "$logs/two" --nproc 2 >/dev/null
one=$(rate 1 "$(ls -d "$logs"/one/*/)") two=$(rate 2 "$(ls -d "$logs"/two/*/)")
awk -v a="$one" -v b="$two" 'BEGIN { printf "cpu-tiny, batch 4 per rank, 1 thread per rank: 1 rank %.2f samples/s, 2 ranks %.2f samples/s, speed-up %.2f, scaling efficiency %.0f%%\n", a, b, b / a, 50 * b / a }'
