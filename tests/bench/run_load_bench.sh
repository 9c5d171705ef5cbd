#!/usr/bin/env bash
# Opening models from the page cache (#15): each bench model is read once (warm cache), then opened
# by spyglass_load_bench under /usr/bin/time -v with an empty sha256 cache, as a first open is, so
# the hash (computed beside the load) is included. Prints one row per model: file size, seconds,
# GB/s and peak resident memory against the model's float32 weights; then the machine's speed of a
# first write to fresh memory, which bounds any loader that computes in float32.
# Usage: tests/bench/run_load_bench.sh [BUILD_DIR]   (default build/release)
set -euo pipefail
bench="${1:-build/release}/tests/bench/spyglass_load_bench"
mapfile -t models < <("$bench" write)
cache=$(mktemp -d)
trap 'rm -rf "$cache"' EXIT
printf '%-34s %9s %8s %8s %10s %12s %s\n' model "file GB" seconds "GB/s" "peak GB" "F32 GB" "peak/F32"
for m in "${models[@]}"; do
  rm -rf "$cache"/*
  out=$(XDG_CACHE_HOME="$cache" /usr/bin/time -v "$bench" load "$m" 2>"$cache/time.txt")
  peak_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$cache/time.txt")
  IFS=$'\t' read -r name gb secs rate layers runtime <<<"$out"
  # float32 bytes of the weights: F32 files are their size, F16 files twice theirs.
  f32=$(awk -v gb="${gb% GB}" -v name="$name" 'BEGIN { printf "%.3f", (name ~ /f16/) ? 2 * gb : gb }')
  awk -v n="$name" -v gb="${gb% GB}" -v s="${secs% s}" -v r="${rate% GB/s}" -v p="$peak_kb" -v f="$f32" \
    'BEGIN { printf "%-34s %9.3f %8.3f %8.2f %10.3f %12.3f %.2f\n", n, gb, s, r, p / 1e6, f, (p / 1e6) / f }'
done
echo "(${runtime:-})"
# The bound on this machine: the loader writes the float32 weights into fresh memory, and a first
# write of memory costs what the kernel (and, in a VM, the host) takes to provide it.
"$bench" touch 4.4
