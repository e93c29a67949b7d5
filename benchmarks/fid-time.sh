#!/usr/bin/env bash
# Issue 16's timing: `fmboost fid` on two folders of 500 random 256 px crops of the fetched photos
# (data/photos, `make photos`), with no feature cache, beside PyTorch on the same TorchScript network
# (benchmarks/fid_pytorch.py, eager and at its best), in one run; wall, user, system time, peak RSS.
#   CROPS=N (default 500), THREADS=N (default: every core).
set -euo pipefail
cd "$(dirname "$0")/.."
crops=${CROPS:-500}
threads=${THREADS:-$(nproc)}
./benchmarks/venv.sh PIL=pillow scipy
swift build -c release --product fmboost >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
.venv-bench/bin/python - "$work" "$crops" <<'PY'
import glob, os, random, sys
from PIL import Image
work, n = sys.argv[1], int(sys.argv[2])
random.seed(0)
photos = [Image.open(f).convert("RGB") for f in sorted(glob.glob("data/photos/*.png")) + sorted(glob.glob("data/photos/*.jpg"))]
photos = [p for p in photos if min(p.size) >= 256]
for folder in ("a", "b"):
    os.makedirs(os.path.join(work, folder))
    for i in range(n):
        p = random.choice(photos)
        x, y = random.randint(0, p.size[0] - 256), random.randint(0, p.size[1] - 256)
        p.crop((x, y, x + 256, y + 256)).save(os.path.join(work, folder, f"{i:04d}.png"))
PY
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $threads threads; $(date -u +%Y-%m-%d); 2 x $crops crops of 256 px"
model=data/inception/fid_inception_v3.pt
measure() {
  local label=$1; shift
  /usr/bin/time -f "$label: wall %e s, user %U s, system %S s, peak RSS %M KB" "$@" 2>&1 | grep -E "^FID|: wall"
}
measure "fmboost fid" .build/release/fmboost fid "$work/a" "$work/b" --no-cache --inception "$model" --threads "$threads"
measure "PyTorch eager" .venv-bench/bin/python -W ignore benchmarks/fid_pytorch.py "$work/a" "$work/b" "$model" --threads "$threads"
measure "PyTorch best" .venv-bench/bin/python -W ignore benchmarks/fid_pytorch.py "$work/a" "$work/b" "$model" --threads "$threads" --best
