#!/usr/bin/env bash
# Distributed tests (needs Open MPI). Builds backprop and backprop-mpi, then checks that
#  - backprop-mpi train with N = 1, 2, 3 ranks gives backprop train's final loss (--json) to 1e-5 relative,
#    for a global batch N divides (32 for 1, 2) and ones it does not (33; 32 for 3), MLP on the digits;
#    a small CNN with 2 ranks likewise (with BatchNorm: trains and resumes); the hand-written loop
#    (check) likewise, and the DistributedTraining article's loop (DataParallelLoop) runs on 3 ranks;
#  - a checkpoint written by 2 ranks resumes in one process and vice versa, both matching an uninterrupted run;
#  - kill -9 of one rank ends the job with the survivor's own message naming the last complete checkpoint,
#    which backprop train --resume then continues; a hung rank (SIGSTOP) trips the other's --timeout;
#  - ranks given different data or flags stop before their first collective with a message naming what differs.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
(cd "$root" && swift build --product backprop)
(cd "$root/Distributed" && swift build --product backprop-mpi && swift build --product DataParallelLoop)
BACKPROP="$(cd "$root" && swift build --show-bin-path)/backprop"
MPI_BIN="$(cd "$root/Distributed" && swift build --show-bin-path)/backprop-mpi"
LOOP_BIN="$(cd "$root/Distributed" && swift build --show-bin-path)/DataParallelLoop"
MPIRUN=(mpirun --allow-run-as-root --oversubscribe)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"

json_field() { tail -1 | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
single() { "$BACKPROP" train --quiet --json --plot "$work/p.svg" "$@" | json_field final_train_loss; }
ranks() { local n=$1; shift; "${MPIRUN[@]}" -np "$n" "$MPI_BIN" train --quiet --json --plot "$work/p.svg" "$@" | json_field final_train_loss; }
same() {  # same LABEL GOT REFERENCE: relative difference at most 1e-5
    python3 -c "import sys; g,r=float('$2'),float('$3'); e=abs(g-r)/abs(r); print(f'$1: {g} vs {r}, relative {e:.1e}'); sys.exit(0 if e<=1e-5 else 1)"
}

# 1. backprop-mpi train against backprop train: MLP, batch 32 and 33, 1 to 3 ranks.
for batch in 32 33; do
    reference=$(single --epochs 3 --batch-size "$batch" --save "$work/ref.safetensors")
    for n in 1 2 3; do
        same "MLP batch $batch, $n ranks" "$(ranks "$n" --epochs 3 --batch-size "$batch" --save "$work/n.safetensors")" "$reference"
    done
done
# The gradients in buckets of 10 kB: the MLP's 32 kB first weight goes alone, its other three tensors together.
same "MLP batch 33, 3 ranks, 10 kB buckets" "$(ranks 3 --epochs 3 --batch-size 33 --bucket-mb 0.01 --save "$work/n.safetensors")" "$reference"
# A small CNN (conv, ReLU, max-pool, linear on the 1x8x8 digits), batch 33 over 2 ranks.
cnn=(--architecture conv:4:3:p1,relu,maxpool:2,flatten --epochs 2 --batch-size 33)
same "CNN batch 33, 2 ranks" "$(ranks 2 "${cnn[@]}" --save "$work/n.safetensors")" "$(single "${cnn[@]}" --save "$work/ref.safetensors")"
# BatchNorm normalises over each rank's shard (as DDP without SyncBatchNorm), so it is not the single run:
# check only that it trains to a finite loss and that its checkpoint (rank 0's running statistics) resumes.
bn=(--architecture conv:4:3:p1,bn,relu,maxpool:2,flatten --batch-size 32)
bn_loss=$(ranks 2 "${bn[@]}" --epochs 2 --save "$work/bn.safetensors")
bn_resumed=$(single --resume "$work/bn.safetensors" --epochs 3)
python3 -c "import math,sys; a,b=float('$bn_loss'),float('$bn_resumed'); print(f'BatchNorm CNN, 2 ranks: loss {a}, resumed in one process: {b}'); sys.exit(0 if math.isfinite(a) and math.isfinite(b) else 1)"
# The DistributedTraining article's loop, as printed there.
"${MPIRUN[@]}" -np 3 "$LOOP_BIN" | grep -qx "one data-parallel epoch over 3 ranks" || { echo "DataParallelLoop failed" >&2; exit 1; }
echo "the article's data-parallel loop ran on 3 ranks"
# The hand-written loop over the library API.
loop() { "${MPIRUN[@]}" -np "$1" "$MPI_BIN" check --epochs 2 --batch-size 33 | json_field final_train_loss; }
same "hand-written loop, 3 ranks" "$(loop 3)" "$(loop 1)"

# 2. Cross-resume: 2 ranks then 1 process, 1 process then 2 ranks, against 4 uninterrupted epochs.
uninterrupted=$(single --epochs 4 --save "$work/u.safetensors")
ranks 2 --epochs 2 --save "$work/r2.safetensors" > /dev/null
same "2 ranks, resumed in 1 process" "$(single --resume "$work/r2.safetensors" --epochs 4)" "$uninterrupted"
single --epochs 2 --save "$work/r1.safetensors" > /dev/null
same "1 process, resumed on 2 ranks" "$(ranks 2 --resume "$work/r1.safetensors" --epochs 4)" "$uninterrupted"

# 3. Faults. The rank processes are mpirun's children; a child's rank is in its environment.
rank_pid() {  # rank_pid LAUNCHER RANK
    for pid in $(pgrep -P "$1"); do
        if tr '\0' '\n' < "/proc/$pid/environ" | grep -qx "OMPI_COMM_WORLD_RANK=$2"; then echo "$pid"; return; fi
    done
}
long_run() {  # long_run LOG: 2 ranks, a checkpoint every epoch, far more epochs than the test waits for
    rm -f "$work/f.safetensors"
    "${MPIRUN[@]}" -np 2 "$MPI_BIN" train --epochs 100000 --quiet --timeout 5 --save "$work/f.safetensors" --plot "$work/f.svg" > "$1" 2>&1 &
    launcher=$!
    for _ in $(seq 100); do [ -f "$work/f.safetensors" ] && break; sleep 0.2; done
    sleep 1
}
ends_within() {  # ends_within SECONDS WHAT
    local start; start=$(date +%s)
    if ! timeout "$1" tail --pid="$launcher" -f /dev/null; then
        echo "fault: $2: job still running $1 s later" >&2; kill -9 "$launcher"; exit 1
    fi
    if wait "$launcher"; then echo "fault: $2: the job exited 0" >&2; exit 1; fi
    echo "fault: $2: job ended $(( $(date +%s) - start )) s later, non-zero"
}
says() {  # says LOG PATTERN: the log holds the survivor's message
    grep -q "$2" "$1" || { echo "fault: the survivor's message is missing:" >&2; cat "$1" >&2; exit 1; }
    grep "backprop-mpi: rank" "$1" | grep -v "^backprop-mpi: rank [01]: error" || true
}
resumes() {  # the checkpoint, as the killed job left it, continues in one process for one more epoch
    local held resumed
    # How many epochs the checkpoint holds (its safetensors header's metadata: history, one entry an epoch).
    held=$(python3 -c "
import json, struct
f = open('$work/f.safetensors', 'rb'); h = json.loads(f.read(struct.unpack('<Q', f.read(8))[0]))
print(len(h['__metadata__']['history'].split(';')))")
    resumed=$("$BACKPROP" train --quiet --json --resume "$work/f.safetensors" --epochs $((held + 1)) --plot "$work/p.svg" | json_field epochs)
    [ "$resumed" = $((held + 1)) ] || { echo "fault: resuming the checkpoint of epoch $held ended at epoch $resumed" >&2; exit 1; }
    echo "fault: the checkpoint left at epoch $held resumed in one process and trained epoch $resumed"
}

# kill -9 of either rank (rank 0 writes the checkpoints, so it may die mid-write): the other says so itself
# and names the checkpoint, which resumes in one process.
for victim in 1 0; do
    survivor=$((1 - victim))
    long_run "$work/kill.log"
    kill -9 "$(rank_pid "$launcher" "$victim")"
    ends_within 60 "kill -9 of rank $victim"
    says "$work/kill.log" "backprop-mpi: rank $survivor: .*another rank died.*; the last complete checkpoint is $work/f.safetensors"
    resumes
done

# A hung rank (SIGSTOP on rank 1): rank 0's collective waits --timeout 5 s, then it gives up with its message.
long_run "$work/hang.log"
kill -STOP "$(rank_pid "$launcher" 1)"
ends_within 60 "SIGSTOP of rank 1"
says "$work/hang.log" "backprop-mpi: rank 0: no reply from the other ranks in 5 s (a rank died?); the last complete checkpoint is $work/f.safetensors"
# 4. Ranks that disagree (a stale copy of the data on one node, other flags) stop before their first collective,
# with a message naming what differs, instead of overrunning a buffer. mpirun's ":" gives each rank its own flags.
awk 'BEGIN { for (i = 0; i < 60; i++) print i % 7 "," i % 3 "," i % 5 "," i % 2 }' > "$work/d.csv"
head -n 57 "$work/d.csv" > "$work/stale.csv"
disagree() {  # disagree WHAT PATTERN RANK0-FLAGS RANK1-FLAGS
    local status=0 common=(train --quiet --plot "$work/d.svg" --save "$work/d.safetensors" --timeout 20)
    # shellcheck disable=SC2086
    timeout 120 "${MPIRUN[@]}" -np 1 "$MPI_BIN" "${common[@]}" $3 : -np 1 "$MPI_BIN" "${common[@]}" $4 > "$work/disagree.log" 2>&1 || status=$?
    if [ "$status" -eq 0 ] || [ "$status" -eq 124 ]; then
        echo "disagreement ($1): exit status $status" >&2; cat "$work/disagree.log" >&2; exit 1
    fi
    if ! grep -q "backprop-mpi: rank [01]: error: the processes of this run disagree before training: .*$2" "$work/disagree.log" \
        || grep -qi "double free\|corruption\|fatal error\|segmentation" "$work/disagree.log"; then
        echo "disagreement ($1): not the message expected:" >&2; cat "$work/disagree.log" >&2; exit 1
    fi
    echo "disagreement ($1): exit status $status; $(grep -m1 'disagree before training' "$work/disagree.log" | cut -c1-160)..."
}
disagree "stale data" "the training examples (--data) differs on rank 1" "--data $work/d.csv" "--data $work/stale.csv"
disagree "layers" "--layers differs on rank 1 from rank 0" "--data $work/d.csv --layers 64" "--data $work/d.csv --layers 32"
disagree "batch size" "--batch-size differs" "--data $work/d.csv --batch-size 8" "--data $work/d.csv"
disagree "epochs" "--epochs differs" "--data $work/d.csv --epochs 3" "--data $work/d.csv"
disagree "bucket size" "--bucket-mb differs" "--data $work/d.csv --bucket-mb 0.01" "--data $work/d.csv"
# 5. backprop-mpi's own flags are checked before MPI starts: values that are finite but overflow an Int.
for flags in "--bucket-mb 1e300" "--bucket-mb 0" "--timeout 1e300" "--timeout nan"; do
    status=0
    # shellcheck disable=SC2086
    "$MPI_BIN" train $flags --data "$work/d.csv" --quiet > "$work/flag.log" 2>&1 || status=$?
    if [ "$status" -ne 2 ] || ! grep -q "error: ${flags%% *} must" "$work/flag.log"; then
        echo "backprop-mpi train $flags: exit $status:" >&2; cat "$work/flag.log" >&2; exit 1
    fi
    echo "backprop-mpi train $flags: exit 2, $(grep -o 'error: .*' "$work/flag.log")"
done
echo "distributed tests passed"
