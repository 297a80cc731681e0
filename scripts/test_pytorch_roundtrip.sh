#!/usr/bin/env bash
# PyTorch interop by name, the way back (issue #21): the Swift test PyTorchModelTests loads the committed
# PyTorch state_dict into the same model written as Swift structs, trains it three SGD steps and saves it with
# Checkpoint(model:); PyTorch then loads that file with load_state_dict(strict=True) and must give the
# Swift outputs to 1e-5 (scripts/make_pytorch_model_fixture.py --check).
# Needs python3 with torch and safetensors; without them it says so and exits 0 (CI machines without torch).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
if ! python3 -c 'import torch, safetensors' > /dev/null 2>&1; then
    echo "test_pytorch_roundtrip: skipped, python3 has no torch or safetensors (pip install torch safetensors)"
    exit 0
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$root" && BACKPROP_PYTORCH_ROUNDTRIP_DIR="$work" swift test --filter PyTorchModelTests)
for file in model.safetensors io.json; do
    [ -s "$work/$file" ] || { echo "test_pytorch_roundtrip: the Swift test wrote no $file" >&2; exit 1; }
done
python3 "$root/scripts/make_pytorch_model_fixture.py" --check "$work"
