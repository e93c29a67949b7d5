#!/usr/bin/env bash
# Runs the test command given as arguments. When it fails, the output ends with what the tail of a
# CI log needs: the tests that started and did not end, and the crashed thread's frames (Swift's
# backtracer, told to print that thread only, without registers and images).
set -o pipefail
log=$(mktemp)
trap 'rm -f "$log"' EXIT
export SWIFT_BACKTRACE=${SWIFT_BACKTRACE:-enable=yes,interactive=no,threads=crashed,registers=none,images=none,limit=48}
"$@" 2>&1 | tee "$log"
status=$?
if [ "$status" -ne 0 ]; then
  echo "== exit status $status; tests that started and did not end:"
  awk '/ Test .* started\.$/ && !/ Test case passing / { sub(/^.* Test /, ""); sub(/ started\.$/, ""); open[$0] = NR }
       / Test .* (passed|failed|skipped)/ { sub(/^.* Test /, ""); sub(/ (passed|failed|skipped).*$/, ""); sub(/ with [0-9]+ test cases?$/, ""); delete open[$0] }
       END { for (t in open) print "   " t }' "$log"
  echo "== crash report, if any:"
  grep -m1 -A 30 -E '^\*\*\* (Program crashed|Fatal error)|^Fatal error|crashed:$' "$log" || echo "   none"
fi
exit "$status"
