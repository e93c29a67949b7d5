#!/usr/bin/env bash
# `make bench`: every item of the issue's list in Swift (fmboost-bench item) and in PyTorch
# (benchmarks/items.py, its own re-statement of the networks; eager NCHW, and at its best with --best:
# channels-last, inference_mode), same thread count, random weights of
# the same shapes, each run in its own process, the two sides alternating; prints a Markdown table.
#   ITEMS="unet-64 ..." to run some; THREADS=N (default: every core); ROUNDS=N (default 1).
# PyTorch comes from its own virtual environment, .venv-bench: `pip install torch` (a CPU wheel from
# pip's find-links if one is there, else the registry's). BENCH_PYTHON=/usr/bin/python3 uses Debian's
# python3-torch instead (the same libtorch 1.13 as the Swift build).
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${THREADS:-$(nproc)}
rounds=${ROUNDS:-1}
# name reps warmup rounds(0 = $rounds)
all_items="unet-64 3 1 0
unet-128 3 1 0
vae-encode-512 3 1 0
vae-decode-512 2 1 0
vae-encode-1024 1 0 0
vae-decode-1024 1 0 1
train-cpu-tiny 10 2 0
train-default-2x 5 2 0
taef2-encode-1024 3 1 0
taef2-decode-1024 3 1 0
upsample-512 1 0 0
default2x-512 5 1 0
sd-unet-512 2 1 0"
python=${BENCH_PYTHON:-}
if [ -z "$python" ]; then
  # The SD UNet item runs diffusers' UNet2DConditionModel.
  ./benchmarks/venv.sh diffusers
  python=.venv-bench/bin/python
fi
swift build -c release --product fmboost-bench >/dev/null
benches=(.build/release/fmboost-bench)
# The Swift layer built a second time against the libtorch inside the PyTorch wheel (LIBTORCH=),
# so the comparison is also made on the same kernels: NEWER_LIBTORCH=none skips it.
newer=${NEWER_LIBTORCH:-$("$python" -c "import torch, os; print(os.path.dirname(torch.__file__))" 2>/dev/null || echo none)}
if [ "$newer" != none ] && [ -d "$newer/include/ATen" ]; then
  LIBTORCH="$newer" swift build -c release --scratch-path .build-libtorch --product fmboost-bench >/dev/null
  benches+=(.build-libtorch/release/fmboost-bench)
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $threads threads; $(date -u +%Y-%m-%d)" >&2
while read -r name reps warmup item_rounds; do
  if [ -n "${ITEMS:-}" ] && ! [[ " $ITEMS " == *" $name "* ]]; then continue; fi
  n=$item_rounds; [ "$n" = 0 ] && n=$rounds
  for round in $(seq "$n"); do
    sides=()
    for bench in "${benches[@]}"; do sides+=("$bench item $name --threads $threads --iterations $reps --warmup $warmup"); done
    sides+=("torch" "torch-best")
    # Rotate the order every round and every item, so no side always runs first.
    shift_by=$(( (round + ${#name}) % ${#sides[@]} ))
    for i in $(seq 0 $(( ${#sides[@]} - 1 ))); do
      side=${sides[$(( (i + shift_by) % ${#sides[@]} ))]}
      if [ "$side" = torch ] || [ "$side" = torch-best ]; then
        best=$([ "$side" = torch-best ] && echo --best || true)
        (cd benchmarks && "../$python" -W ignore items.py "$name" --threads "$threads" --reps "$reps" --warmup "$warmup" $best) >>"$out"
      else
        $side >>"$out"
      fi
    done
    echo "  $name round $round/$n done" >&2
  done
done <<<"$all_items"
"$python" benchmarks/summarize.py "$out"
