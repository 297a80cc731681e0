#!/usr/bin/env python3
"""PyTorch's run of `backprop train`'s default set-up on the bundled digits, timed the same way.

MLP 64-128-10 (ReLU), Adam lr 1e-3, batch 32, 30 epochs, a seeded 20% held out. Inputs are standardised with
the training part's per-feature mean and standard deviation, as `backprop train` does (pass --scale16 for the
plain 1/16 scaling of ../shared/data/README.md's reference). Prints test accuracy and training seconds (the
epochs' steps only, as `backprop train --json`'s train_seconds), one JSON line.

    python3 scripts/pytorch_digits_reference.py [--seed 0] [--threads 2] [--scale16]
"""
import argparse, json, os, time
import numpy as np
import torch

parser = argparse.ArgumentParser()
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--scale16", action="store_true")
args = parser.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(args.seed)

here = os.path.dirname(os.path.abspath(__file__))
data = np.loadtxt(os.path.join(here, "..", "Sources", "BackpropNN", "Resources", "digits.csv"), delimiter=",")
x, y = data[:, :64].astype(np.float32), data[:, 64].astype(np.int64)
order = np.random.default_rng(args.seed).permutation(len(x))
cut = int(round(len(x) * 0.8))
train, test = order[:cut], order[cut:]
if args.scale16:
    x = x / 16
else:
    mean, std = x[train].mean(0), x[train].std(0)
    std[std == 0] = 1
    x = (x - mean) / std
xtr, ytr, xte, yte = map(torch.tensor, (x[train], y[train], x[test], y[test]))

model = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
loss_fn = torch.nn.CrossEntropyLoss()
seconds = 0.0
for epoch in range(30):
    start = time.perf_counter()
    permutation = torch.randperm(len(xtr))
    for i in range(0, len(xtr), 32):
        batch = permutation[i:i + 32]
        optimizer.zero_grad()
        loss = loss_fn(model(xtr[batch]), ytr[batch])
        loss.backward()
        optimizer.step()
    seconds += time.perf_counter() - start
with torch.no_grad():
    accuracy = (model(xte).argmax(1) == yte).float().mean().item()
print(json.dumps({"test_accuracy": accuracy, "train_seconds": seconds, "epochs": 30}))
