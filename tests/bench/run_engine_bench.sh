#!/usr/bin/env bash
# Runs the engine benchmark twice: with Spyglass's BLAS set-up (default) and with OpenBLAS forced
# to its generic kernel (what Debian's 0.3.21 falls back to on CPUs it does not recognise).
# Usage: tests/bench/run_engine_bench.sh [BUILD_DIR]   (default build/release)
set -euo pipefail
bench="${1:-build/release}/tests/bench/spyglass_engine_bench"
echo "== Spyglass default (auto OPENBLAS_CORETYPE) =="
"$bench"
echo "== OPENBLAS_CORETYPE=Prescott (generic fallback), matmul only =="
OPENBLAS_CORETYPE=Prescott "$bench" --benchmark_filter='Sgemm|Forward128/1'
