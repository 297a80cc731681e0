#!/usr/bin/env bash
# Checks vecmath's 8-wide kernels (the code of the AVX-512 path) on any machine with AVX2+FMA, with or without
# AVX-512: builds scripts/vecmath/wide_harness.c, which includes vecmath.c with its 8-wide instantiation built
# for AVX2, and runs the accuracy, special-value, tail and aliasing checks of VectorMathTests on it.
# Uses the Swift toolchain's clang (or CC); exits 1 when a check fails.
set -euo pipefail
source "$(dirname "$0")/lib/kernel_harness.sh" test_vecmath_wide
"$cc" -O2 -std=gnu11 -I"$kernels/include" -I"$kernels" "$here/vecmath/wide_harness.c" "$kernels/cpu.c" -lm -Wno-psabi -o "$out/wide_harness"
"$out/wide_harness"
