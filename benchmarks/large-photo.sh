#!/usr/bin/env bash
# `make bench-large-photo`: the default model on a 3264 × 2448 photo (8 MP, in halo tiles under the
# 2.5 GB default budget) against a 512 × 512 photo, in one run: seconds per input megapixel (the
# command's per-image time: decode, upsample, encode), wall, user and system time, peak RSS.
# WHOLE=1 also upsamples the 8 MP photo whole (--memory-budget 0: about 14 GB) and checks that the
# two outputs are the same file (same pixels, same encoder).
set -euo pipefail
cd "$(dirname "$0")/.."
make -s build sr-photos >/dev/null
big=data/sr-photos/validation/lomiri16-picosdeeuropa_by_Aitzol_Berasategi.jpg
small=data/sr-photos/validation/skimage-astronaut.png
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; $(date -u +%F)"
printf '| run | input | s per image | s per MP | wall s | user s | sys s | peak RSS GB |\n| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n'
run() {  # name input megapixels options...
  local name=$1 input=$2 mp=$3
  shift 3
  /usr/bin/time -f '%e %U %S %M' -o "$out/time" .build/release/fmboost upsample "$input" -o "$out/$name" --force "$@" >"$out/log" 2>&1
  local seconds
  seconds=$(grep -o '([0-9.]* s)$' "$out/log" | tail -1 | tr -d '(s) ')
  read -r wall user sys kb <"$out/time"
  awk -v n="$name" -v i="$(basename "$input")" -v s="$seconds" -v mp="$mp" -v w="$wall" -v u="$user" -v y="$sys" -v k="$kb" \
    'BEGIN { printf "| %s | %s | %.2f | %.2f | %.1f | %.1f | %.1f | %.2f |\n", n, i, s, s / mp, w, u, y, k / 1048576 }'
  echo "$seconds $mp" >>"$out/per-mp-$name"
}
# Alternating, since this machine's speed drifts: 512, tiles, three times, then 512.
for round in 1 2 3; do
  run 512 "$small" 0.262144
  run tiles "$big" 7.990272
done
run 512 "$small" 0.262144
best() { awk '{ v = $1 / $2; if (m == "" || v < m) m = v } END { print m }' "$out/per-mp-$1"; }
median() { awk '{ print $1 / $2 }' "$out/per-mp-$1" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
awk -v tb="$(best tiles)" -v sb="$(best 512)" -v tm="$(median tiles)" -v sm="$(median 512)" \
  'BEGIN { printf "\nper-pixel time, 8 MP in tiles / 512 px: %.2f (best of each), %.2f (medians)\n", tb / sb, tm / sm }'
if [ "${WHOLE:-0}" = 1 ]; then
  run whole "$big" 7.990272 --memory-budget 0
  name=$(basename "${big%.*}").png
  cmp -s "$out/tiles/$name" "$out/whole/$name" && echo "tiles and whole: the same file" || echo "tiles and whole: the files DIFFER"
fi
