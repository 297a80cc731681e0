#!/usr/bin/env python3
"""Writes the PyTorch interoperability fixture for the BackpropNN tests.

Builds nn.Sequential(nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 10)) with torch.manual_seed(0),
saves its state_dict with safetensors.torch.save_file to
Tests/BackpropNNTests/Fixtures/pytorch_mlp.safetensors (keys 0.weight, 0.bias, 2.weight, 2.bias), and
saves the model's logits for the first 5 rows of digits.csv (features / 16) to pytorch_mlp_logits.json.

Also writes a CNN fixture (pytorch_cnn.safetensors, pytorch_cnn_logits.json): with torch.manual_seed(0),
nn.Sequential(Conv2d(1,4,3,padding=1), BatchNorm2d(4), ReLU(), MaxPool2d(2), Conv2d(4,6,3,stride=2,padding=1,
bias=False), ReLU(), AvgPool2d(2), Flatten(), Linear(6,10)) on 1x8x8 images (features / 16); in train mode
under torch.no_grad() it runs forward on the first 3 batches of 32 rows of digits.csv so BatchNorm's running
statistics move (num_batches_tracked = 3, int64 as PyTorch stores it), then in eval mode saves the state_dict
(keys 0.weight, 0.bias, 1.weight, 1.bias, 1.running_mean, 1.running_var, 1.num_batches_tracked, 4.weight,
8.weight, 8.bias) and the logits of the first 5 rows.
"""
import json
import os

import torch
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
FIXTURES = os.path.join(ROOT, "Tests", "BackpropNNTests", "Fixtures")
DIGITS = os.path.join(ROOT, "Sources", "BackpropNN", "Resources", "digits.csv")


def read_digits(count):
    with open(DIGITS) as f:
        rows = [[float(v) for v in line.strip().split(",")] for line in f.readlines()[:count]]
    features = torch.tensor([row[:64] for row in rows], dtype=torch.float32) / 16
    return features, [int(row[64]) for row in rows]


def write_mlp():
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


def write_cnn():
    nn = torch.nn
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),                                    # 0: 1x8x8 -> 4x8x8
        nn.BatchNorm2d(4),                                                # 1
        nn.ReLU(),                                                        # 2
        nn.MaxPool2d(2),                                                  # 3: -> 4x4x4
        nn.Conv2d(4, 6, 3, stride=2, padding=1, dilation=1, bias=False),  # 4: -> 6x2x2
        nn.ReLU(),                                                        # 5
        nn.AvgPool2d(2),                                                  # 6: -> 6x1x1
        nn.Flatten(),                                                     # 7
        nn.Linear(6, 10))                                                 # 8
    features, labels = read_digits(96)
    images = features.reshape(-1, 1, 8, 8)
    model.train()
    with torch.no_grad():
        for b in range(3):
            model(images[32 * b:32 * (b + 1)])
    model.eval()
    with torch.no_grad():
        logits = model(images[:5])
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    save_file(state, os.path.join(FIXTURES, "pytorch_cnn.safetensors"), metadata={"source": "make_pytorch_fixture.py"})
    architecture = ("Conv2d(1,4,3,padding=1) BatchNorm2d(4) ReLU MaxPool2d(2) "
                    "Conv2d(4,6,3,stride=2,padding=1,bias=False) ReLU AvgPool2d(2) Flatten Linear(6,10); "
                    "input 1x8x8 = digits.csv row[:64]/16; BatchNorm stats from 3 train-mode batches of 32; logits in eval mode")
    with open(os.path.join(FIXTURES, "pytorch_cnn_logits.json"), "w") as f:
        json.dump({"labels": labels[:5], "logits": logits.tolist(), "architecture": architecture}, f, indent=1)
    print("wrote pytorch_cnn.safetensors and pytorch_cnn_logits.json to", os.path.normpath(FIXTURES))


def main():
    write_mlp()
    write_cnn()


if __name__ == "__main__":
    main()
