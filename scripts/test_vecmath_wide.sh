#!/usr/bin/env bash
# Checks vecmath's 8-wide kernels (the code of the AVX-512 path) on any machine with AVX2+FMA, with or without
# AVX-512: builds scripts/vecmath/wide_harness.c, which includes vecmath.c with its 8-wide instantiation built
# for AVX2, and runs the accuracy, special-value, tail and aliasing checks of VectorMathTests on it.
# Uses the Swift toolchain's clang (or CC); exits 1 when a check fails.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
kernels="$here/../Sources/CBackpropKernels"
if [[ "$(uname -m)" != "x86_64" ]]; then echo "test_vecmath_wide: not an x86-64 machine, nothing to check"; exit 0; fi
cc="${CC:-$(dirname "$(command -v swift)")/clang}"
[[ -x "$cc" ]] || cc=clang
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
"$cc" -O2 -std=gnu11 -I"$kernels/include" -I"$kernels" "$here/vecmath/wide_harness.c" "$kernels/cpu.c" -lm -Wno-psabi -o "$out/wide_harness"
"$out/wide_harness"
