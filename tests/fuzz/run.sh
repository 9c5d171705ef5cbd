#!/usr/bin/env bash
# Runs every fuzz target of build/fuzz on its seed corpus (tests/fuzz/corpus/<target>) with the
# JSON dictionary, ASan + UBSan, at most RUNS executions or SECONDS seconds each, and prints one
# line per target: executions reached, seconds, result. A finding (crash, leak, UB, an exception
# other than spyglass::core::Error) fails the script and leaves crash-* files in OUT.
#   tests/fuzz/run.sh [SECONDS (default 20)] [RUNS (default 1000000)] [OUT (default build/fuzz/findings)]
set -u
cd "$(dirname "$0")/../.."
seconds=${1:-20}
runs=${2:-1000000}
out=${3:-build/fuzz/findings}
mkdir -p "$out"
status=0
while read -r target max_len; do
  work=$(mktemp -d)
  log="$out/$target.log"
  ./build/fuzz/tests/fuzz/${target}_fuzzer -runs="$runs" -max_total_time="$seconds" -max_len="$max_len" \
    -dict=tests/fuzz/json.dict -artifact_prefix="$out/$target-" -print_final_stats=1 "$work" "tests/fuzz/corpus/$target" < /dev/null > "$log" 2>&1
  rc=$?
  done_line=$(grep -E "^Done [0-9]+ runs" "$log" | tail -1)
  if [ $rc -eq 0 ]; then result="no finding"; else result="FINDING (see $log)"; status=1; fi
  printf '%-18s %-40s %s\n' "$target" "${done_line:-no stats}" "$result"
  rm -rf "$work"
done < <(grep -v '^#' tests/fuzz/targets.txt)
exit $status
