# Sourced by the scripts that build a C harness around the kernels on x86-64 (test_vecmath_wide.sh,
# bench_kernel_paths.sh), with the script's name as its argument. Sets `kernels` (the kernels' folder), `cc`
# (CC, else the Swift toolchain's clang, else clang) and `out` (a temporary folder, removed on exit); on
# another architecture it says so and exits 0.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
kernels="$here/../Sources/CBackpropKernels"
if [[ "$(uname -m)" != "x86_64" ]]; then echo "$1: not an x86-64 machine, nothing to do"; exit 0; fi
cc="${CC:-$(dirname "$(command -v swift)")/clang}"
[[ -x "$cc" ]] || cc=clang
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
