#!/usr/bin/env bash
# `make bench-server`: seconds per 512 px image through `fmboost serve` (A1111's extra-single-image,
# one request at a time, the request's wall time: upload, decode, upsample, encode, base64) against
# `fmboost upsample`'s per-image time on the same photo, alternating, in one run; the ratio, the
# server's peak RSS.
set -euo pipefail
cd "$(dirname "$0")/.."
make -s build sr-photos >/dev/null
photo=data/sr-photos/validation/skimage-astronaut.png
out=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
/usr/bin/time -f '%M' -o "$out/rss" .build/release/fmboost serve --port "$port" >"$out/server.log" 2>&1 &
server=$!
trap 'pkill -P $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$out"' EXIT
for _ in $(seq 100); do curl -sf "localhost:$port/health" >/dev/null && break; sleep 0.1; done
printf '{"image": "%s", "upscaling_resize": 2}' "$(base64 -w0 "$photo")" >"$out/request.json"
request() { curl -sf -o "$out/reply.json" -w '%{time_total}' "localhost:$port/sdapi/v1/extra-single-image" -H 'Content-Type: application/json' --data-binary @"$out/request.json"; }
cli() { .build/release/fmboost upsample "$photo" -o "$out/cli" --force | grep -o '([0-9.]* s)$' | tr -d '(s) '; }
request >/dev/null  # the model loaded once, as the command line does at start
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; $(date -u +%F); 512 × 512 → 1024 × 1024"
printf '| round | serve s | upsample s |\n| ---: | ---: | ---: |\n'
for round in 1 2 3 4 5; do
  s=$(request); c=$(cli)
  printf '| %d | %.3f | %.3f |\n' "$round" "$s" "$c"
  echo "$s $c" >>"$out/times"
done
pkill -TERM -P $server  # the server under /usr/bin/time: a graceful stop
status=0; wait $server || status=$?
awk -v rss="$(tail -1 "$out/rss")" -v status=$status '{ s += $1; c += $2; n++ } END {
  printf "\nmean: serve %.3f s, upsample %.3f s per image; serve / upsample = %.3f; server peak RSS %.2f GB; exit status after SIGTERM %d\n", s / n, c / n, s / c, rss / 1048576, status }' "$out/times"
