#!/usr/bin/env python3
"""Compare builds of backprop-bench on the same workloads, alternating between them.

    python3 scripts/compare_binaries.py [--rounds N] LABEL=PATH LABEL=PATH [...] -- WORKLOAD [...]

Each round runs every binary once on all the workloads, in an order reversed every round, so that drift in
the machine's speed (large on shared machines) falls on every side alike. Prints the load average at the
start of each round, then per workload each side's best and median over the rounds (each round's number is
the workload's own median of its timed runs) and each side's best relative to the first side's. A failed
self-check is printed and makes the exit status 1.

Typical use, before and after a change to the engine:

    swift build -c release --product backprop-bench && cp .build/release/backprop-bench /tmp/base
    (change, rebuild)
    python3 scripts/compare_binaries.py --rounds 8 base=/tmp/base new=.build/release/backprop-bench -- chain100000 lstm-grad-unrolled
"""
import argparse
import collections
import os
import statistics
import subprocess
import sys


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="rounds of runs of every binary (default 5)")
    parser.add_argument("items", nargs="+", help="LABEL=PATH ... -- WORKLOAD ...")
    arguments = parser.parse_args()
    if "--" not in sys.argv:
        parser.error("separate the binaries from the workloads with --")
    split = sys.argv.index("--")
    binaries = [a for a in sys.argv[1:split] if not a.startswith("--rounds")]
    binaries = [a for a in binaries if "=" in a]
    workloads = sys.argv[split + 1:]
    if arguments.rounds < 1:
        parser.error("--rounds must be at least 1")
    if not binaries or not workloads:
        parser.error("give at least one LABEL=PATH before -- and one workload after it")
    sides = []
    for item in binaries:
        label, path = item.split("=", 1)
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            parser.error(f"{path} is not an executable file")
        sides.append((label, path))

    times = collections.defaultdict(lambda: collections.defaultdict(list))
    loads, failed = [], False
    for round in range(arguments.rounds):
        with open("/proc/loadavg") if os.path.exists("/proc/loadavg") else open(os.devnull) as f:
            loads.append((f.read().split() or ["?"])[0])
        for label, path in sides if round % 2 == 0 else sides[::-1]:
            run = subprocess.run([path, *workloads], capture_output=True, text=True)
            if run.returncode != 0:
                print(f"{label}: {path} exited with {run.returncode}: {run.stderr.strip()}", file=sys.stderr)
                return 1
            for line in run.stdout.splitlines():
                parts = line.split()
                if len(parts) == 2 and parts[0] in workloads:
                    times[parts[0]][label].append(float(parts[1]))
                elif "FAIL" in line:
                    print(f"{label}: {line.strip()}")
                    failed = True
    print("load average at the start of each round:", " ".join(loads))
    labels = [label for label, _ in sides]
    header = f"{'workload':24s}" + "".join(f"{label + ' best':>14s}{label + ' med':>12s}" for label in labels)
    print(header + "".join(f"{label + '/' + labels[0]:>16s}" for label in labels[1:]))
    for workload in workloads:
        row = f"{workload:24s}"
        if any(not times[workload][label] for label in labels):
            print(row + "  (no time printed: unknown workload?)")
            failed = True
            continue
        for label in labels:
            row += f"{min(times[workload][label]):14.3f}{statistics.median(times[workload][label]):12.3f}"
        for label in labels[1:]:
            row += f"{min(times[workload][label]) / min(times[workload][labels[0]]):16.2f}"
        print(row)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
