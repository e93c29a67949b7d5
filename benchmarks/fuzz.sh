#!/usr/bin/env bash
# Fuzzes the checkpoint readers (torch.save and safetensors) for SECONDS (default 600) over the
# golden checkpoints as seeds.
# A crash (a signal) saves the input that caused it to fuzz-out/crash-<n>.ckpt and the run goes on
# with the next seed; the totals are printed at the end.
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${SECONDS_TOTAL:-${1:-600}}
swift build -c release --product fmboost-fuzz >/dev/null || exit 1
shared=${FMBOOST_SHARED:-../shared}
# torch.save seeds, and safetensors ones: a golden file plus the fuzzer's own (--safetensors).
seeds=("$shared/golden/vae_a_flat.ckpt" "$shared/golden/vae_a_flat_legacy.ckpt" "$shared/golden/lightning_like.ckpt" "$shared/weights/taef2_decoder.pth" "$shared/golden/schedules.safetensors")
mkdir -p fuzz-out
end=$(( $(date +%s) + seconds )); seed=1; crashes=0; executions=0; findings=0
while [ "$(date +%s)" -lt "$end" ]; do
  left=$(( end - $(date +%s) ))
  line=$(.build/release/fmboost-fuzz --seconds "$left" --seed "$seed" --out fuzz-out --safetensors "${seeds[@]}" | tail -1)
  rc=${PIPESTATUS[0]}
  if [ "$rc" -ge 128 ]; then
    crashes=$((crashes + 1)); cp fuzz-out/current.ckpt "fuzz-out/crash-$crashes.ckpt"
    echo "crash (signal $((rc - 128))) with seed $seed: saved fuzz-out/crash-$crashes.ckpt"
  else
    echo "$line"
    executions=$((executions + $(echo "$line" | awk '{print $2}')))
    findings=$((findings + $(echo "$line" | awk '{print $8}')))
  fi
  seed=$((seed + 1))
done
echo "fuzz total: $executions executions (completed runs), $findings findings, $crashes crashes in ${seconds}s"
