#!/usr/bin/env bash
# The speed table of #18 in one run: the analysis bench (stages, FLOP-bound ratio, batched
# saliency), `spyglass-cli info` and `analyze` wall time incl. load on the GPT-2-small-shaped
# model, the analysis at prompt lengths 32 … 1,024 (time and peak memory), 1 vs 2 threads, and
# the GUI bench (first saliency row on screen, longest event-loop gap). Plain timings, not
# assertions; CI runs it as a smoke run only (--smoke: the analysis once, 32 tokens, one try, no
# thread comparison; ctest's speed_table_smoke in the release tree).
# Usage: tests/bench/run_speed_table.sh [BUILD_DIR] [--smoke]
set -euo pipefail
build="${1:-build/release}"
smoke=0
[[ "${2:-}" == "--smoke" || "${1:-}" == "--smoke" ]] && smoke=1
[[ "$build" == "--smoke" ]] && build=build/release
cli="$build/app/spyglass-cli"
bench="$build/tests/bench"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GB", $2 / 1e6}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "== analysis bench (GPT-2-small shape, 32-token prompt + 8 tokens, 1 thread)"
bench_args=()
((smoke)) && bench_args=(--smoke)
"$bench/spyglass_analysis_bench" "${bench_args[@]}" | sed 's/^/   /'
model=$(ls -d "${TMPDIR:-/tmp}"/spyglass-bench-gpt2-small)

# A prompt of about N tokens (GPT-2 BPE: " word" is one token).
prompt_of() {
  local words=(the model reads every token of this sentence and then counts one two three four five six)
  local out="" i
  for ((i = 0; i < $1; i++)); do out+="${words[i % ${#words[@]}]} "; done
  printf '%s' "${out% }"
}
timed() {  # prints "seconds peak_GB" of the command
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; return 1; }
  awk '{printf "%.2f %.2f", $1, $2 / 1e6}' "$work/time"
}

echo "== spyglass-cli on the same model (wall time incl. load; $( ((smoke)) && echo "one try" || echo "best of 2"))"
best() {
  ((smoke)) && { timed "$@"; return; }
  local a b
  a=$(timed "$@")
  b=$(timed "$@")
  awk -v a="$a" -v b="$b" 'BEGIN {split(a, x, " "); split(b, y, " "); print (x[1] < y[1] ? a : b)}'; }
read -r s m <<<"$(best "$cli" info --model "$model")"
printf '   %-46s %7s s  peak %5s GB\n' "info (load only)" "$s" "$m"
p32=$(prompt_of 32)
read -r s m <<<"$(best "$cli" analyze --model "$model" --prompt "$p32" --out "$work/r.json")"
printf '   %-46s %7s s  peak %5s GB  (Ecco, issue #18: 7.0–7.7 s analysis alone → %.1f×)\n' \
  "analyze, 32 + 8 tokens, every section" "$s" "$m" "$(awk -v s="$s" 'BEGIN {print 7.0 / s}')"

echo "== prompt length (analyze, 8 new tokens, every section, 1 thread; time incl. load, peak RSS)"
lengths=(32 128 512 1016)
((smoke)) && lengths=(32)
printf '   %8s %9s %9s %10s\n' tokens seconds "peak GB" "×(128)"
t128=""
for n in "${lengths[@]}"; do
  read -r s m <<<"$(timed "$cli" analyze --model "$model" --prompt "$(prompt_of "$n")" --out "$work/r$n.json")"
  tokens=$(grep -o '"generated":false' "$work/r$n.json" | wc -l)
  [[ $n == 128 ]] && t128=$s
  printf '   %8s %9s %9s %10s\n' "$tokens" "$s" "$m" "$([[ -n $t128 ]] && awk -v s="$s" -v t="$t128" 'BEGIN {printf "%.1f", s / t}')"
done

if ((!smoke)); then
  echo "== threads: each stage of the analysis bench with 2 threads (1 thread above)"
  "$bench/spyglass_analysis_bench" --threads 2 | grep -E 'sgemm|total|stage' | sed 's/^/   /'
  echo "== threads (analyze, 128 + 8 tokens)"
  for t in 1 2; do
    read -r s m <<<"$(timed "$cli" analyze --model "$model" --prompt "$(prompt_of 128)" --threads "$t" --out "$work/t.json")"
    printf '   %d thread(s): %s s\n' "$t" "$s"
  done
fi

if [[ -x "$bench/spyglass_gui_latency_bench" ]]; then
  echo "== GUI (default model, offscreen)"
  "$bench/spyglass_gui_latency_bench" "$(dirname "$0")/../../resources/models/spyglass-tiny" | sed 's/^/   /'
fi
