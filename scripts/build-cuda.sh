#!/usr/bin/env bash
# The CUDA variant of fmboost: built against the libtorch inside PyPI's CUDA `torch` wheel (torch 2.11,
# CUDA 13 by default), the Swift runtime linked statically, so that the one binary plus a machine's
# own PyTorch install (its torch/lib and the nvidia-* wheels beside it) run it. Needs no GPU to build;
# prints what the binary links and what `fmboost info` sees.
#
#   scripts/build-cuda.sh                      # venv .venv-cuda with torch==2.11.0 (about 4.5 GB)
#   TORCH_DIR=/path/to/site-packages/torch scripts/build-cuda.sh   # an existing install instead
#
# On another machine: LD_LIBRARY_PATH=<its site-packages>/torch/lib .build-cuda/release/fmboost ...
set -euo pipefail
cd "$(dirname "$0")/.."
TORCH_VERSION=${TORCH_VERSION:-2.11.0}
VENV=${VENV:-.venv-cuda}

if [ -z "${TORCH_DIR:-}" ]; then
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  "$VENV/bin/python" -c "import torch" 2>/dev/null || "$VENV/bin/pip" install --no-cache-dir "torch==$TORCH_VERSION"
  TORCH_DIR=$("$VENV/bin/python" -c 'import os, torch; print(os.path.dirname(torch.__file__))')
fi
[ -f "$TORCH_DIR/lib/libtorch_cuda.so" ] || { echo "$TORCH_DIR/lib has no libtorch_cuda.so: not a CUDA build of torch" >&2; exit 1; }

LIBTORCH=$TORCH_DIR swift build -c release --product fmboost --static-swift-stdlib --scratch-path .build-cuda
binary=.build-cuda/release/fmboost
echo "== $binary links (NEEDED):"
readelf -d "$binary" | awk '/NEEDED/ { print "  " $NF }'
echo "== fmboost info:"
"$binary" info | sed 's/^/  /'
echo "== --device cuda here:"
"$binary" upsample data/sr-photos/validation/skimage-astronaut.png -o "${TMPDIR:-/tmp}/fmboost-cuda-check" --device cuda 2>&1 | sed 's/^/  /' || true
