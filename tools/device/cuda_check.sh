#!/bin/bash
# Builds spyglass_core, spyglass-cli, the CUDA tests and the diffusion benchmark against a GPU
# machine's own PyTorch (its libtorch), then runs the CUDA path: tests/core/cuda_test.cpp, the
# CLI with --device cuda next to --device cpu, and the UNet benchmark on the GPU. Logs go to $OUT.
#
#   bash tools/device/cuda_check.sh              # on the GPU machine (device tool, carry .devdeps)
#   TORCH_PREFIX=/usr ICU_MAJOR=72 bash tools/device/cuda_check.sh   # rehearsal here (CPU libtorch)
#
# The GPU machine (Ubuntu 24.04 + PyTorch wheel) has no OpenCV and no ICU headers, only ICU 74's
# libraries, and nothing can be installed there. So: .devdeps/icu72-as-74 carries Debian 12's ICU
# headers renamed to 74 (the C API and the classes we use did not change between 72 and 74), made
# by tools/device/prepare.sh; and the OpenCV parts (heatmap overlays, the prompt lab, synthetic
# scenes) are left out of the core library here, and the CLI's image commands are linked to stubs
# that stop with a message (they are not called). None of this is how Spyglass is built anywhere
# else.
set -uo pipefail
OUT=${OUT:-/tmp/spyglass-cuda-out}
mkdir -p "$OUT"
ROOT=$(pwd)
B=${BUILD_DIR:-/tmp/spyglass-cuda-build}
J=${JOBS:-$(nproc)}
mkdir -p "$B/obj" "$B/gen/spyglass" "$B/pch"
log() { echo "[$(date +%T)] $*" | tee -a "$OUT/summary.txt"; }

if [ -n "${TORCH_PREFIX:-}" ]; then
  TORCH_INC="-isystem $TORCH_PREFIX/include/torch/csrc/api/include"
  TORCH_LIB=$TORCH_PREFIX/lib/x86_64-linux-gnu
else
  TP=$(python3 -c "import torch, os; print(os.path.dirname(torch.__file__))")
  TORCH_INC="-isystem $TP/include -isystem $TP/include/torch/csrc/api/include"
  TORCH_LIB=$TP/lib
fi
ICU_MAJOR=${ICU_MAJOR:-74}
if [ "$ICU_MAJOR" = 74 ]; then ICU_INC="-isystem $ROOT/.devdeps/icu72-as-74"; else ICU_INC=""; fi
ICU_LIBS="/usr/lib/x86_64-linux-gnu/libicui18n.so.$ICU_MAJOR /usr/lib/x86_64-linux-gnu/libicuuc.so.$ICU_MAJOR"
TORCH_LIBS="-L$TORCH_LIB -Wl,-rpath,$TORCH_LIB"
[ -e "$TORCH_LIB/libtorch_cuda.so" ] && TORCH_LIBS="$TORCH_LIBS -Wl,--no-as-needed -ltorch_cuda -lc10_cuda -Wl,--as-needed"
TORCH_LIBS="$TORCH_LIBS -ltorch -ltorch_cpu -lc10"

sed 's/@PROJECT_VERSION@/0.1.0-device/' core/include/spyglass/version.h.in > "$B/gen/spyglass/version.h"
FLAGS="-std=c++20 -O2 -DNDEBUG -fPIC -D_GLIBCXX_USE_CXX11_ABI=1 -Icore/include -Icore/src -I$B/gen -Iapp -Itests -Itests/core $ICU_INC $TORCH_INC"
FLAGS="$FLAGS -DSPYGLASS_FIXTURES_DIR=\"$ROOT/tests/fixtures\" -DSPYGLASS_CLI_PATH=\"$B/spyglass-cli\""
export FLAGS B
log "host $(hostname), $J jobs, $(g++ --version | head -1)"

# torch/torch.h once, as a precompiled header (as cmake/Pch.cmake does for the real build).
start=$SECONDS
echo '#include <torch/torch.h>' > "$B/pch/torch_pch.h"
g++ $FLAGS -x c++-header "$B/pch/torch_pch.h" -o "$B/pch/torch_pch.h.gch" 2> "$OUT/pch.log" || { log "PCH failed"; tail -20 "$OUT/pch.log"; exit 1; }
log "precompiled torch header: $((SECONDS - start)) s"

compile() {  # source → $B/obj/<flattened>.o; prints FAIL lines
  local src=$1 obj="$B/obj/$(echo "$1" | tr / _).o" extra=""
  case "$src" in core/*) extra="-Winvalid-pch -include $B/pch/torch_pch.h" ;; esac
  g++ $FLAGS $extra -c "$src" -o "$obj" 2> "$obj.log" || { echo "FAIL $src"; head -c 3000 "$obj.log"; }
}
export -f compile

start=$SECONDS
CORE=$(ls core/src/*/*.cpp | grep -v -E 'heatmap_overlay|prompt_lab|shape_scenes')
CLI=$(ls app/cli/*.cpp | grep -v render_command)
TESTS="tests/core/cuda_test.cpp tests/bench/diffusion_bench.cpp"
printf '%s\n' $CORE $CLI $TESTS | xargs -P "$J" -I{} bash -c 'compile {}' > "$OUT/compile-failures.txt"
log "compiled $(printf '%s\n' $CORE $CLI $TESTS | wc -l) files in $((SECONDS - start)) s; failures: $(grep -c ^FAIL "$OUT/compile-failures.txt")"
if grep -q ^FAIL "$OUT/compile-failures.txt"; then cat "$OUT/compile-failures.txt"; fi

obj() { for f in "$@"; do echo "$B/obj/$(echo "$f" | tr / _).o"; done; }
rm -f "$B/libspyglass_core.a"
ar rcs "$B/libspyglass_core.a" $(obj $CORE) 2>> "$OUT/link.log"
GTEST_LIBS="-lgtest -lgtest_main"
if [ ! -e /usr/lib/x86_64-linux-gnu/libgtest.a ] && [ ! -e /usr/lib/x86_64-linux-gnu/libgtest.so ]; then
  g++ -std=c++20 -O1 -I/usr/src/googletest/googletest -c /usr/src/googletest/googletest/src/gtest-all.cc -o "$B/gtest-all.o"
  g++ -std=c++20 -O1 -c /usr/src/googletest/googletest/src/gtest_main.cc -o "$B/gtest_main.o"
  GTEST_LIBS="$B/gtest-all.o $B/gtest_main.o"
fi
LINK="$B/libspyglass_core.a $ICU_LIBS $TORCH_LIBS -lpthread"
# The CLI's image commands need the OpenCV parts left out above: each symbol they miss becomes a
# stub that stops with a message (C linkage: a mangled C++ name is a valid C identifier).
g++ -o "$B/spyglass-cli" $(obj $CLI) $LINK -Wl,--no-demangle 2>&1 | grep -o "undefined reference to \`[^']*'" |
  sed "s/undefined reference to \`//; s/'\$//" | sort -u |
  awk 'BEGIN { print "#include <stdio.h>\n#include <stdlib.h>" }
       { printf "void %s(void) { fputs(\"spyglass-cli: this device build has no OpenCV (%s)\\n\", stderr); abort(); }\n", $1, $1 }' > "$B/opencv_stubs.c"
gcc -c "$B/opencv_stubs.c" -o "$B/opencv_stubs.o"
g++ -o "$B/spyglass-cli" $(obj $CLI) "$B/opencv_stubs.o" $LINK 2>> "$OUT/link.log" || log "CLI link failed"
g++ -o "$B/cuda_test" $(obj tests/core/cuda_test.cpp) $LINK $GTEST_LIBS 2>> "$OUT/link.log" || log "cuda_test link failed"
g++ -o "$B/diffusion_bench" $(obj tests/bench/diffusion_bench.cpp) $LINK 2>> "$OUT/link.log" || log "bench link failed"
tail -c 4000 "$OUT/link.log"

CLI_BIN="$B/spyglass-cli"
log "runtime: $("$CLI_BIN" info --model tests/fixtures/gpt2-tiny-random --device cuda 2>&1 | head -c 600)"
start=$SECONDS
timeout 300 "$B/cuda_test" 2>&1 | tail -c 20000 > "$OUT/cuda_test.log"
log "cuda_test: $(grep -E '^\[  (PASSED|FAILED|SKIPPED)' "$OUT/cuda_test.log" | tr '\n' ' ') in $((SECONDS - start)) s"
grep -E "Failure|FAILED|error|Expected|Which is|actual|element" "$OUT/cuda_test.log" | head -40

# The CLI on the GPU next to the CPU: the same report numbers.
for dev in cpu cuda; do
  start=$SECONDS
  timeout 120 "$CLI_BIN" analyze --model tests/fixtures/gpt2-tiny-random --prompt "1, 2, 3, 4," --max-new-tokens 4 \
    --saliency grad_x_input,integrated_gradients,occlusion --device $dev --out "$B/report-$dev.json" 2>> "$OUT/cli.log"
  log "analyze --device $dev: rc $? in $((SECONDS - start)) s"
  timeout 60 "$CLI_BIN" generate --model tests/fixtures/families/llama-tiny-random --ids 1,5,9,13 --max-new-tokens 8 \
    --temperature 0.8 --seed 4 --device $dev > "$B/generate-$dev.txt" 2>> "$OUT/cli.log"
done
cmp -s "$B/generate-cpu.txt" "$B/generate-cuda.txt" && log "generate: sampled ids equal on cpu and cuda" || log "generate: DIFFER: $(cat "$B"/generate-*.txt | tr '\n' ' ')"
python3 - "$B" <<'EOF' 2>&1 | tee -a "$OUT/summary.txt"
import json, sys
out = sys.argv[1]
a, b = (json.load(open(f"{out}/report-{d}.json")) for d in ("cpu", "cuda"))
worst = 0.0
for sa, sb in zip(a["saliency"], b["saliency"]):
    for ra, rb in zip(sa["rows"], sb["rows"]):
        worst = max(worst, max(abs(x - y) for x, y in zip(ra["scores"], rb["scores"])))
print("report: tokens equal" if [t["id"] for t in a["tokens"]] == [t["id"] for t in b["tokens"]] else "report: TOKENS DIFFER",
      f"; saliency max |cpu - cuda| = {worst:.2e}")
EOF

if [ -z "${SKIP_BENCH:-}" ]; then
  timeout 120 "$B/diffusion_bench" --device cuda --sd15 --calls 5 2>&1 | tee "$OUT/bench.txt" | tee -a "$OUT/summary.txt"
fi
log "done"
