#!/usr/bin/env bash
# Distributed tests (needs Open MPI): builds the Distributed package, checks that N = 1, 2, 3 ranks give
# the single-process final loss to 1e-5 relative for a global batch N divides and one it does not, and
# that killing one rank with -9 ends the job instead of hanging.
set -euo pipefail
cd "$(dirname "$0")/../Distributed"
swift build --product backprop-mpi
BIN="$(swift build --show-bin-path)/backprop-mpi"
MPIRUN=(mpirun --allow-run-as-root --oversubscribe)

loss() { "${MPIRUN[@]}" -np "$1" "$BIN" check --epochs 3 --batch-size "$2" | tail -1 | sed 's/.*"final_train_loss":\([^,]*\),.*/\1/'; }

for batch in 32 33; do
    reference=$(loss 1 "$batch")
    for n in 2 3; do
        got=$(loss "$n" "$batch")
        python3 -c "import sys; r,g=float('$reference'),float('$got'); e=abs(r-g)/abs(r); print(f'batch $batch, $n ranks: {g} vs 1 rank {r}, relative {e:.2e}'); sys.exit(0 if e<=1e-5 else 1)"
    done
done

# Fault: kill -9 one rank; the job must end (mpirun notices the death and stops the others) within 60 s.
"${MPIRUN[@]}" -np 2 "$BIN" check --epochs 100000 --batch-size 32 > /dev/null 2>&1 &
launcher=$!
sleep 5
victim=$(pgrep -P "$launcher" | head -1)
kill -9 "$victim"
start=$(date +%s)
if timeout 60 tail --pid="$launcher" -f /dev/null; then
    echo "fault: job ended $(( $(date +%s) - start )) s after kill -9 of rank process $victim"
else
    echo "fault: job still running 60 s after kill -9" >&2; kill -9 "$launcher"; exit 1
fi
echo "distributed tests passed"
