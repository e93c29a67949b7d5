#!/usr/bin/env bash
# The GPU check (docs/devices.md), for a machine with an NVIDIA GPU and a CUDA PyTorch, no network
# needed: the CUDA build's networks against the golden fixtures (TF32 off, relative error ≤ 1e-4),
# then 512 → 1024 px upsampling timed next to PyTorch on the same GPU (the paper's networks with
# random weights, and the default model). Prints a Markdown table for the README.
#
#   scripts/build-cuda.sh && scripts/gpu-check.sh     # the binary: FMBOOST=.build-cuda/release/fmboost
#   DEVICE=cpu REPS=1 STEPS=1 scripts/gpu-check.sh   # the same steps on the CPU (checks the script)
#
# Needs ../shared (golden fixtures), data/photos/astronaut.png (make photos) and the benchmarks/
# folder; PYTHON (default python3) with torch.
set -euo pipefail
cd "$(dirname "$0")/.."
DEVICE=${DEVICE:-cuda}
PYTHON=$(command -v "${PYTHON:-python3}" || echo "${PYTHON:-python3}")
[[ $PYTHON == /* ]] || PYTHON=$PWD/$PYTHON
export PYTHONWARNINGS=ignore   # torch's note that numpy is absent
FMBOOST=${FMBOOST:-.build-cuda/release/fmboost}
SHARED=${SHARED:-../shared}
PHOTO=${PHOTO:-data/photos/astronaut.png}
REPS=${REPS:-5}
STEPS=${STEPS:-10}   # Euler steps of the paper networks' run
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
export FMBOOST_TF32=0
TORCH_LIB=$("$PYTHON" -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')
export LD_LIBRARY_PATH="$TORCH_LIB${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

"$FMBOOST" info | grep -E "libtorch|devices"
"$PYTHON" -c 'import torch; print("PyTorch", torch.__version__, "| CUDA", torch.version.cuda, "|", torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU")'

# max |ours − reference| / max |reference| for each named pair of outputs.
compare() {
  "$PYTHON" - "$@" <<'PY'
import json, struct, sys, torch
def read(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]; header = json.loads(f.read(n)); data = f.read()
    kinds = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "I64": torch.int64}
    return {k: torch.frombuffer(bytearray(data[v["data_offsets"][0]:v["data_offsets"][1]]), dtype=kinds[v["dtype"]]).reshape(v["shape"]).float()
            for k, v in header.items() if k != "__metadata__"}
ours, reference, worst = read(sys.argv[1]), read(sys.argv[2]), 0.0
for pair in sys.argv[3:]:
    a, b = pair.split("=")
    worst = max(worst, ((ours[a] - reference[b]).abs().max() / reference[b].abs().max().clamp_min(1e-12)).item())
print(f"{worst:.2e}", "ok" if worst <= 1e-4 else "FAILED")
PY
}

parity() {  # network weights io-file [forward options...] -- output=reference pairs
  local network=$1 weights=$2 io=$3; shift 3
  local options=(); while [ "$1" != "--" ]; do options+=("$1"); shift; done; shift
  "$FMBOOST" forward "$network" --model "$weights" --inputs "$io" --output "$OUT/$network.safetensors" --device "$DEVICE" --force "${options[@]}" >/dev/null
  printf "| %-13s | %s |\n" "$network" "$(compare "$OUT/$network.safetensors" "$io" "$@")"
}

G=$SHARED/golden
echo; echo "| network       | relative error on $DEVICE |"; echo "| --- | --- |"
parity unet "$G/unet_a.weights.safetensors" "$G/unet_a.io.safetensors" -- v=v
parity ode "$G/unet_a.weights.safetensors" "$G/flow_a.io.safetensors" --steps 4 -- x1=sol.euler_5
parity vae-encode "$G/vae_a.weights.safetensors" "$G/vae_a.io.safetensors" -- mean=mean logvar=logvar
parity vae-decode "$G/vae_a.weights.safetensors" "$G/vae_a.io.safetensors" -- decoded=decoded
parity taesd-encode "$SHARED/weights/taef2_encoder.pth" "$G/taef2.io.safetensors" -- latent=latent
parity clip-text "$SHARED/golden-sd/clip_text_tiny.ldm.safetensors" "$SHARED/golden-sd/clip_text_tiny.io.safetensors" -- last_hidden_state=last_hidden_state clip_skip_2=clip_skip_2

# Timings: the same work in PyTorch (gpu_items.py) and in fmboost, REPS runs after a warm-up each.
swift_median() {  # the median of fmboost's per-image seconds over REPS+1 copies of the photo, the first dropped
  local copies=(); for i in $(seq 0 "$REPS"); do cp "$PHOTO" "$OUT/in/$i.png"; copies+=("$OUT/in/$i.png"); done
  "$FMBOOST" upsample "${copies[@]}" -o "$OUT/up" --force --device "$DEVICE" "$@" | grep -oE '\(([0-9.]+) s\)$' | tr -d '(s)' | tail -n +2 | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}
mkdir -p "$OUT/in"
paper_py=$(cd benchmarks && "$PYTHON" gpu_items.py upsample-512 --device "$DEVICE" --reps "$REPS" --steps "$STEPS" --save "$OUT/paper" --vae-shapes "$(cd "$SHARED" && pwd)/golden/sd_vae.shapes.json" | "$PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["median"])')
paper_swift=$(swift_median --model "$OUT/paper/unet.pt" --model-config "$OUT/paper/unet.json" --vae "$OUT/paper/vae.pt" --steps "$STEPS" --noising-step 400 --mode psu --scale-factor 0.18215 --memory-budget 0)
default_py=$(cd benchmarks && "$PYTHON" gpu_items.py default2x-512 --device "$DEVICE" --reps "$REPS" | "$PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["median"])')
default_swift=$(swift_median)
echo; echo "| 512 → 1024 px on $DEVICE | PyTorch | fmboost | ratio |"; echo "| --- | ---: | ---: | ---: |"
for row in "paper networks, Euler $STEPS steps|$paper_py|$paper_swift" "default model|$default_py|$default_swift"; do
  IFS='|' read -r name py sw <<<"$row"
  printf "| %s | %.3f s | %.3f s | %.2f |\n" "$name" "$py" "$sw" "$(echo "$sw / $py" | bc -l)"
done
