#!/usr/bin/env python3
"""Writes the PyTorch interoperability fixture for the BackpropNN tests.

Builds nn.Sequential(nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 10)) with torch.manual_seed(0),
saves its state_dict with safetensors.torch.save_file to
Tests/BackpropNNTests/Fixtures/pytorch_mlp.safetensors (keys 0.weight, 0.bias, 2.weight, 2.bias), and
saves the model's logits for the first 5 rows of digits.csv (features / 16) to pytorch_mlp_logits.json.
"""
import json
import os

import torch
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
FIXTURES = os.path.join(ROOT, "Tests", "BackpropNNTests", "Fixtures")
DIGITS = os.path.join(ROOT, "Sources", "BackpropNN", "Resources", "digits.csv")


def main():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(64, 16), torch.nn.ReLU(), torch.nn.Linear(16, 10))
    os.makedirs(FIXTURES, exist_ok=True)
    save_file(model.state_dict(), os.path.join(FIXTURES, "pytorch_mlp.safetensors"), metadata={"source": "make_pytorch_fixture.py"})

    with open(DIGITS) as f:
        rows = [[float(v) for v in line.strip().split(",")] for line in f.readlines()[:5]]
    features = torch.tensor([row[:64] for row in rows], dtype=torch.float32) / 16
    labels = [int(row[64]) for row in rows]
    with torch.no_grad():
        logits = model(features)
    with open(os.path.join(FIXTURES, "pytorch_mlp_logits.json"), "w") as f:
        json.dump({"labels": labels, "logits": logits.tolist()}, f, indent=1)
    print("wrote pytorch_mlp.safetensors and pytorch_mlp_logits.json to", os.path.normpath(FIXTURES))


if __name__ == "__main__":
    main()
