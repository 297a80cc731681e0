#!/usr/bin/env bash
# Times the AVX2 and AVX-512 versions of the double GEMM and the vector math side by side, and the FMA rate of
# 256- and 512-bit vectors (scripts/kernelpaths/harness.c), on an x86-64 machine with AVX-512: what tells
# whether this CPU's 512-bit operations pay (docs/performance.md, "AVX-512 on a Zen 4"). One thread; a few
# seconds. Uses the Swift toolchain's clang (or CC).
set -euo pipefail
source "$(dirname "$0")/lib/kernel_harness.sh" bench_kernel_paths
"$cc" -O2 -std=gnu11 -I"$kernels/include" -I"$kernels" "$here/kernelpaths/harness.c" "$kernels/cpu.c" \
    "$kernels/workspace.c" -lm -Wno-psabi -o "$out/kernel_paths"
"$out/kernel_paths"
