#!/usr/bin/env bash
# The benchmarks' PyTorch environment, .venv-bench: torch (a CPU wheel from pip's find-links if one
# is there, else the registry's), then each `MODULE[=PACKAGE]` argument that does not import yet.
#   benchmarks/venv.sh diffusers PIL=pillow scipy
set -euo pipefail
cd "$(dirname "$0")/.."
if ! .venv-bench/bin/python -c "import torch" 2>/dev/null; then
  echo "installing torch into .venv-bench (once)" >&2
  python3 -m venv .venv-bench
  .venv-bench/bin/pip install --quiet "torch==2.13.0+cpu" 2>/dev/null || .venv-bench/bin/pip install --quiet torch
fi
for wanted in "$@"; do
  module=${wanted%%=*} package=${wanted#*=}
  .venv-bench/bin/python -c "import $module" 2>/dev/null || .venv-bench/bin/pip install --quiet "$package"
done
