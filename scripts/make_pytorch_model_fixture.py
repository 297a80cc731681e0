#!/usr/bin/env python3
"""PyTorch interoperability by name for a model of one's own (issue #21): a nested module whose
state_dict keys are encoder.0.weight, bn.running_mean, blocks.1.attention.query.bias,
blocks.0.feed_forward.2.weight, head.bias, ...

Without arguments: builds the model with torch.manual_seed(0), runs it in train mode on three batches (so
BatchNorm's running statistics move and num_batches_tracked is 3, an int64), then saves in eval mode
  Tests/BackpropNNTests/Fixtures/pytorch_model/model.safetensors   (safetensors.torch.save_file(state_dict))
  Tests/BackpropNNTests/Fixtures/pytorch_model/io.json             (inputs [4, 6] and outputs [4, 3])
The Swift test (PyTorchModelTests) builds the same architecture as Swift structs, loads the file by names
and checks the outputs to 1e-5.

With --check DIR: the way back. DIR holds model.safetensors and io.json written by the Swift test (run it
with BACKPROP_PYTORCH_ROUNDTRIP_DIR=DIR); the file is loaded into this PyTorch module with strict names and
shapes, and its outputs on io.json's inputs are compared with the Swift outputs there (to 1e-5).
"""
import json
import os
import sys

import torch
from safetensors.torch import load_file, save_file

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "..", "Tests", "BackpropNNTests", "Fixtures", "pytorch_model")
nn = torch.nn


class Attention(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.query = nn.Linear(width, width)
        self.key = nn.Linear(width, width)
        self.value = nn.Linear(width, width)


class Block(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.attention = Attention(width)
        self.norm = nn.LayerNorm(width)
        self.feed_forward = nn.Sequential(nn.Linear(width, 2 * width), nn.ReLU(), nn.Linear(2 * width, width))

    def forward(self, x):
        a = self.attention
        x = self.norm(x + a.value(x) * torch.sigmoid(a.query(x) * a.key(x)))
        return x + self.feed_forward(x)


class Model(nn.Module):
    def __init__(self, inputs=6, width=8, outputs=3, blocks=2):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(inputs, width), nn.Tanh())
        self.bn = nn.BatchNorm1d(width)
        self.blocks = nn.ModuleList([Block(width) for _ in range(blocks)])
        self.head = nn.Linear(width, outputs)

    def forward(self, x):
        x = self.bn(self.encoder(x))
        for block in self.blocks:
            x = block(x)
        return self.head(x)


def write():
    torch.manual_seed(0)
    model = Model()
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(torch.randn(16, 6))
    model.eval()
    inputs = torch.randn(4, 6)
    with torch.no_grad():
        outputs = model(inputs)
    os.makedirs(FIXTURE, exist_ok=True)
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    save_file(state, os.path.join(FIXTURE, "model.safetensors"), metadata={"source": "make_pytorch_model_fixture.py"})
    with open(os.path.join(FIXTURE, "io.json"), "w") as f:
        json.dump({"keys": list(state.keys()), "inputs": inputs.tolist(), "outputs": outputs.tolist()}, f, indent=1)
    print("wrote model.safetensors and io.json to", os.path.normpath(FIXTURE))


def check(folder):
    model = Model()
    model.load_state_dict(load_file(os.path.join(folder, "model.safetensors")), strict=True)
    model.eval()
    with open(os.path.join(folder, "io.json")) as f:
        io = json.load(f)
    with torch.no_grad():
        outputs = model(torch.tensor(io["inputs"], dtype=torch.float32))
    difference = (outputs - torch.tensor(io["outputs"], dtype=torch.float32)).abs().max().item()
    print(f"loaded by PyTorch with strict names; largest output difference from Swift's: {difference:.2e}")
    sys.exit(0 if difference <= 1e-5 else 1)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        check(sys.argv[2])
    elif len(sys.argv) == 1:
        write()
    else:
        sys.exit(__doc__)
