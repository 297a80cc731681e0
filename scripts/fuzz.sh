#!/usr/bin/env bash
# Builds the fuzz targets of Fuzz/ with libFuzzer and runs one for a given time.
#   scripts/fuzz.sh TARGET SECONDS     TARGET: formula, safetensors, idx, gzip, npy, csv, checkpoint or train-flags
# checkpoint: lines key=value changing a trained checkpoint's metadata (and tensor:NAME=values its tensors),
# then resumed, trained and evaluated; train-flags: lines that are `backprop train`'s arguments, run in-process
# (paths mapped into a temporary folder, at most 3 epochs).
# Findings (crashes, hangs over 10 s, runs over 2 GB) are written to Fuzz/findings/TARGET/; the corpus
# grows in Fuzz/corpus/TARGET/. The root package's build is not touched: the flags apply to this build only.
set -euo pipefail
cd "$(dirname "$0")/../Fuzz"
target=${1:?usage: scripts/fuzz.sh TARGET SECONDS}
seconds=${2:?usage: scripts/fuzz.sh TARGET SECONDS}
case "$target" in
  formula) product=FuzzFormula ;; safetensors) product=FuzzSafeTensors ;; idx) product=FuzzIDX ;;
  gzip) product=FuzzGzip ;; npy) product=FuzzNPY ;; csv) product=FuzzCSV ;;
  checkpoint) product=FuzzCheckpoint ;; train-flags) product=FuzzTrainFlags ;;
  *) echo "unknown target '$target' (formula, safetensors, idx, gzip, npy, csv, checkpoint, train-flags)" >&2; exit 2 ;;
esac
swift build -c release --product "$product" -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library >&2
mkdir -p "corpus/$target" "findings/$target"
# Seed the corpus with the test fixtures of the same kind.
fixtures=../Tests/BackpropNNTests/Fixtures
case "$target" in
  idx) cp -n $fixtures/idx/* $fixtures/mnist/* "corpus/$target/" 2>/dev/null || true ;;
  gzip) cp -n $fixtures/gzip/*.gz "corpus/$target/" 2>/dev/null || true ;;
  npy) cp -n $fixtures/npy/* "corpus/$target/" 2>/dev/null || true ;;
  safetensors) cp -n $fixtures/*.safetensors "corpus/$target/" 2>/dev/null || true ;;
  csv) cp -n $fixtures/moons.csv "corpus/$target/" 2>/dev/null || true ;;
  formula) printf 'z + sin(x^2 + y*exp(z))' > "corpus/$target/lecture004" ;;
  checkpoint|train-flags) cp -n seeds/$target/* "corpus/$target/" 2>/dev/null || true ;;
esac
extra=()
[ -f "seeds/$target.dict" ] && extra=(-dict="seeds/$target.dict")
".build/release/$product" "corpus/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="findings/$target/" -print_final_stats=1 "${extra[@]}"
