#!/usr/bin/env bash
# Runs the conv2d micro-benchmark through the Swift layer and through PyTorch (when a `torch`
# Python package is importable), alternating rounds, same thread count, and prints the ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${FMBOOST_THREADS:-$(nproc)}
rounds=${ROUNDS:-3}
swift build -c release --product fmboost-bench >/dev/null
bench=.build/release/fmboost-bench
python=""
for candidate in python3 /usr/bin/python3; do
  if "$candidate" -c "import torch" 2>/dev/null; then python=$candidate; break; fi
done
[ -n "$python" ] || echo "(no importable torch package: PyTorch side skipped; 'apt-get install python3-torch' adds it)"
out=$(mktemp)
for _ in $(seq "$rounds"); do
  "$bench" conv2d --threads "$threads" | tee -a "$out"
  [ -z "$python" ] || "$python" benchmarks/conv2d.py 20 "$threads" | tee -a "$out"
done
median() { grep "^$1" "$out" | sed 's/.*median \([0-9.]*\) ms.*/\1/' | sort -n | awk '{v[NR]=$1} END {if (NR) print v[int((NR+1)/2)]}'; }
ms=$(median swift); mp=$(median pytorch)
[ -z "$mp" ] || awk -v s="$ms" -v p="$mp" 'BEGIN {printf "median over rounds: swift %.2f ms, pytorch %.2f ms, ratio swift/pytorch %.3f\n", s, p, s/p}'
rm -f "$out"
