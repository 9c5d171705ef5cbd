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
declare -A maxlen=([safetensors]=4096 [tokenizer_json]=8192 [vocab_merges]=8192 [encode]=2048 [config]=4096 [report]=16384 [llama2c_tokenizer]=8192 [llama2c_header]=256 [prompt_weights]=1024 [session]=16384 [gguf]=65536 [gguf_tokenizer]=8192 [ldm_checkpoint]=65536 [png_parameters]=4096 [serve_frames]=16384)
status=0
for target in safetensors tokenizer_json vocab_merges encode config report llama2c_tokenizer llama2c_header prompt_weights session gguf gguf_tokenizer ldm_checkpoint png_parameters serve_frames; do
  work=$(mktemp -d)
  log="$out/$target.log"
  ./build/fuzz/tests/fuzz/${target}_fuzzer -runs="$runs" -max_total_time="$seconds" -max_len="${maxlen[$target]}" \
    -dict=tests/fuzz/json.dict -artifact_prefix="$out/$target-" -print_final_stats=1 "$work" "tests/fuzz/corpus/$target" > "$log" 2>&1
  rc=$?
  done_line=$(grep -E "^Done [0-9]+ runs" "$log" | tail -1)
  if [ $rc -eq 0 ]; then result="no finding"; else result="FINDING (see $log)"; status=1; fi
  printf '%-18s %-40s %s\n' "$target" "${done_line:-no stats}" "$result"
  rm -rf "$work"
done
exit $status
