#!/usr/bin/env bash
# Checks the C kernels as built for arm64 (the NEON sgemm micro-kernel and the portable paths) on an x86-64
# machine: cross-compiles them with a small harness that compares bp_sgemm with a float64 reference for
# every transpose and beta case, then runs it under QEMU's user-mode emulator.
#   apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user
set -euo pipefail
cd "$(dirname "$0")/../Sources/CBackpropKernels"
out="$(mktemp -d)"
aarch64-linux-gnu-gcc -O2 -std=c11 -Wall -Iinclude -I. sgemm.c dgemm.c cpu.c workspace.c memory.c elementwise.c \
    ../../scripts/neon/gemm_harness.c -lm -lpthread -o "$out/gemm_harness"
qemu-aarch64 -L /usr/aarch64-linux-gnu "$out/gemm_harness"
