#!/usr/bin/env python3
"""Runs `backprop-bench` and the peers back to back and prints each workload's ratio (ours / peer's time).

The machines are shared and noisy, so only ratios taken in one run mean anything. Peers: numpy, PyTorch,
JAX and micrograd through ../shared/bench/peers.py (those installed), and Swift's compile-time AD through
../shared/bench/language_ad_chain.swift. Each side is run `--rounds` times, alternating, and the best
(lowest) median of each is kept.

    swift build -c release --product backprop-bench
    python3 scripts/compare_with_peers.py [--rounds 3] [WORKLOAD ...]
"""
import argparse, json, os, subprocess, sys

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)
shared = os.path.join(root, "..", "shared", "bench")
parser = argparse.ArgumentParser()
parser.add_argument("--rounds", type=int, default=3)
parser.add_argument("--shared", default=shared, help="the folder holding peers.py and language_ad_chain.swift")
parser.add_argument("workloads", nargs="*",
                    default=["mlp-step", "mlp-forward", "sgemm-1024", "chain100000", "chain1000000", "micrograd-mlp"])
args = parser.parse_args()
HIGHER_ORDER = {"mlp-grad", "hvp-mlp", "jacobian-mlp-rev", "jacobian-mlp-fwd", "checkpoint-mlp", "checkpoint-mlp-plain"}
GENERAL = {"broadcast-f64", "elementary-f64", "batched-matmul-f64", "attention-block", "dgemm-1024"}
CONVOLUTIONAL = {"cnn-step"}
LANGUAGE = {"lm-step", "lstm-lm-step"}
GRADBENCH = {"lstm-grad", "lstm-grad-large", "gmm-grad"}


def base(workload):
    """The peers' workload: a compiled variant (`broadcast-f64-compiled`, `lstm-grad-unrolled-compiled`) is
    compared with the peers of the eager one (JAX's numbers are always its jit)."""
    return workload.removesuffix("-compiled").removesuffix("-unrolled")

binary = os.path.join(root, ".build", "release", "backprop-bench")
if not os.path.exists(binary):
    sys.exit(f"{binary} is missing: build it first with `swift build -c release --product backprop-bench`")
lad = "/tmp/backprop_language_ad_chain"
if any(w.startswith("chain") for w in args.workloads) and not os.path.exists(lad):
    subprocess.run(["swiftc", "-O", os.path.join(args.shared, "language_ad_chain.swift"), "-o", lad], check=True)

ours, peers = {}, {}
for _ in range(args.rounds):
    out = subprocess.run([binary, "run", "--json", *args.workloads], capture_output=True, text=True, check=True)
    for r in json.loads(out.stdout.strip().splitlines()[-1])["results"]:
        if not r["check"]:
            sys.exit(f"backprop-bench {r['workload']}: its own check failed")
        ours[r["workload"]] = min(ours.get(r["workload"], float("inf")), r["ms"])
    # The shared peers know the first-order workloads; scripts/peers_higher_order.py the later ones.
    bases = list(dict.fromkeys(base(w) for w in args.workloads))
    higher = [w for w in bases if w in HIGHER_ORDER]
    general = [w for w in bases if w in GENERAL]
    convolutional = [w for w in bases if w in CONVOLUTIONAL]
    language = [w for w in bases if w in LANGUAGE]
    gradbench = [w for w in bases if w in GRADBENCH]
    shared_workloads = [w for w in bases if w not in HIGHER_ORDER | GENERAL | CONVOLUTIONAL | LANGUAGE | GRADBENCH]
    lines = []
    if shared_workloads:
        lines += subprocess.run([sys.executable, os.path.join(args.shared, "peers.py"), *shared_workloads],
                                capture_output=True, text=True).stdout.splitlines()
    if general:
        lines += subprocess.run([sys.executable, os.path.join(here, "peers_general.py"), *general],
                                capture_output=True, text=True).stdout.splitlines()
    if convolutional:
        lines += subprocess.run([sys.executable, os.path.join(here, "peers_cnn.py"), *convolutional],
                                capture_output=True, text=True).stdout.splitlines()
    if language:
        lines += subprocess.run([sys.executable, os.path.join(here, "peers_language.py"), *language],
                                capture_output=True, text=True).stdout.splitlines()
    if gradbench:
        lines += subprocess.run([sys.executable, os.path.join(here, "peers_gradbench.py"), *gradbench],
                                capture_output=True, text=True).stdout.splitlines()
    if higher:
        lines += subprocess.run([sys.executable, os.path.join(here, "peers_higher_order.py"), *higher],
                                capture_output=True, text=True).stdout.splitlines()
    if any(w.startswith("chain") for w in args.workloads):
        lines += subprocess.run([lad], capture_output=True, text=True).stdout.splitlines()
    for line in lines:
        parts = line.split()
        if len(parts) == 3 and parts[1].removesuffix("-peak-mb") in bases:
            try:
                ms = float(parts[2])
            except ValueError:
                continue
            key = (parts[1], parts[0])
            peers[key] = min(peers.get(key, float("inf")), ms)

print(f"{'workload':28} {'backprop ms':>12}  peers (ms, and backprop/peer)")
for w in args.workloads:
    row = [f"{peer} {ms:.3f} ({ours[w] / ms:.2f}x)" for (pw, peer), ms in sorted(peers.items()) if pw == base(w)]
    print(f"{w:28} {ours.get(w, float('nan')):12.3f}  " + ", ".join(row))
