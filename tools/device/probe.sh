#!/bin/bash
# What a device machine offers for building Spyglass against its own PyTorch, and whether the
# core sources compile against that libtorch (syntax only). Writes logs under $OUT.
set -u
OUT=${OUT:-/tmp/spyglass-probe}; mkdir -p "$OUT"
{
  echo "== machine"; cat /etc/os-release | head -2; nvidia-smi -L; nproc
  g++ --version | head -1; cmake --version | head -1; ninja --version
  python3 -c "import torch, os; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.is_available(), 'abi', torch._C._GLIBCXX_USE_CXX11_ABI); print(os.path.dirname(torch.__file__))"
  echo "== headers"
  for h in unicode/uregex.h nlohmann/json.hpp opencv4/opencv2/core.hpp gtest/gtest.h benchmark/benchmark.h; do ls /usr/include/$h 2>&1; done
  echo "== libs"; ldconfig -p | grep -E "libicu|opencv|gtest|openblas" | head -20
  find / -xdev \( -name "libicuuc.so*" -o -name "libopencv_core*" -o -name "uregex.h" \) 2>/dev/null | head
  dpkg -l 2>/dev/null | grep -E "libicu|opencv|nlohmann|googletest" | awk '{print $2, $3}'
} > "$OUT/probe.txt" 2>&1
cat "$OUT/probe.txt"
TP=$(python3 -c "import torch, os; print(os.path.dirname(torch.__file__))")
mkdir -p /tmp/gen/spyglass
sed 's/@PROJECT_VERSION@/device/' core/include/spyglass/version.h.in > /tmp/gen/spyglass/version.h
flags="-std=c++20 -fsyntax-only -D_GLIBCXX_USE_CXX11_ABI=1 -Icore/include -Icore/src -I/tmp/gen -I.devdeps/include -isystem $TP/include -isystem $TP/include/torch/csrc/api/include"
start=$(date +%s)
ls core/src/*/*.cpp | xargs -P "$(nproc)" -I{} sh -c "g++ $flags {} > /tmp/syn.\$(echo {} | tr / _).log 2>&1 || echo FAIL {}" > "$OUT/syntax-fails.txt"
echo "syntax check: $(( $(date +%s) - start )) s, $(wc -l < "$OUT/syntax-fails.txt") failing of $(ls core/src/*/*.cpp | wc -l)"
cat /tmp/syn.*.log | grep -E "error" | sort | uniq -c | sort -rn | head -60 > "$OUT/syntax-errors.txt"
cat /tmp/syn.*.log > "$OUT/syntax-all.log"
cat "$OUT/syntax-fails.txt"; cat "$OUT/syntax-errors.txt"
