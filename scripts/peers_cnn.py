#!/usr/bin/env python3
"""PyTorch peer for the convolutional workload, in the format of ../shared/bench/peers.py: one line
`PEER WORKLOAD MS` (median milliseconds) or `PEER WORKLOAD failed: REASON`.

    python3 scripts/peers_cnn.py [WORKLOAD ...]
    python3 scripts/peers_cnn.py --train-mnist5k [--epochs 10]

Workloads: cnn-step (one SGD training step, lr 0.01, of the small CNN below on a batch of 64 standard-normal
1x28x28 float32 images, mean cross-entropy; median of 40 runs after 5 warm-up). PyTorch on THREADS threads
(default 2). The CNN: Conv2d(1,16,3,pad 1) ReLU MaxPool2d(2) Conv2d(16,32,3,pad 1) ReLU MaxPool2d(2) Flatten
Linear(1568,128) ReLU Linear(128,10).

--train-mnist5k trains that CNN on ../shared/data/mnist5k (4000 training, 1000 test images, pixels / 255)
with torch.manual_seed(0), Adam lr 1e-3, batch 64, shuffled each epoch, and prints one JSON line:
{"framework", "epochs", "train_seconds", "test_accuracy", "final_train_loss", "peak_rss_mb"}
(final_train_loss: mean loss over the last epoch's batches).
"""
import argparse, gzip, json, os, resource, sys, time
import numpy as np

THREADS = int(os.environ.get("THREADS", "2"))
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
MNIST5K = os.path.join(ROOT, "..", "shared", "data", "mnist5k")


def median_ms(step, runs=40, warm=5):
    for _ in range(warm):
        step()
    ts = []
    for _ in range(runs):
        t = time.perf_counter(); step(); ts.append(time.perf_counter() - t)
    return 1000 * float(np.median(ts))


def cnn():
    import torch.nn as nn
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(1568, 128), nn.ReLU(), nn.Linear(128, 10))


def torch_run(name):
    import torch
    import torch.nn.functional as F
    torch.set_num_threads(THREADS)
    if name == "cnn-step":
        torch.manual_seed(0)
        rng = np.random.default_rng(0)
        x = torch.tensor(rng.standard_normal((64, 1, 28, 28)).astype(np.float32))
        y = torch.tensor(rng.integers(0, 10, 64), dtype=torch.int64)
        model = cnn()
        opt = torch.optim.SGD(model.parameters(), lr=0.01)
        def step():
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()
        return median_ms(step)
    raise KeyError(name)


def read_idx(path):
    """An IDX file (gzip): big-endian magic (0, 0, dtype 0x08 = ubyte, ndim), ndim uint32 sizes, then data."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    if data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def train_mnist5k(epochs):
    import torch
    import torch.nn.functional as F
    torch.set_num_threads(THREADS)
    torch.manual_seed(0)
    def images(name): return torch.tensor(read_idx(os.path.join(MNIST5K, name)).astype(np.float32) / 255).unsqueeze(1)
    def labels(name): return torch.tensor(read_idx(os.path.join(MNIST5K, name)).astype(np.int64))
    xtr, ytr = images("train-images-idx3-ubyte.gz"), labels("train-labels-idx1-ubyte.gz")
    xte, yte = images("t10k-images-idx3-ubyte.gz"), labels("t10k-labels-idx1-ubyte.gz")
    model = cnn()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    n, batch = xtr.shape[0], 64
    start = time.perf_counter()
    for _ in range(epochs):
        model.train()
        perm = torch.randperm(n)
        losses = []
        for i in range(0, n, batch):
            idx = perm[i:i + batch]
            opt.zero_grad()
            loss = F.cross_entropy(model(xtr[idx]), ytr[idx])
            loss.backward()
            opt.step()
            losses.append(loss.item())
    train_seconds = time.perf_counter() - start
    model.eval()
    with torch.no_grad():
        accuracy = (model(xte).argmax(1) == yte).float().mean().item()
    print(json.dumps({"framework": "torch", "epochs": epochs, "train_seconds": round(train_seconds, 3),
                      "test_accuracy": round(accuracy, 4), "final_train_loss": round(float(np.mean(losses)), 5),
                      "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}),
          flush=True)


ALL = ["cnn-step"]
if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--train-mnist5k", action="store_true")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("workloads", nargs="*")
    args = parser.parse_args()
    if args.train_mnist5k:
        train_mnist5k(args.epochs)
        sys.exit(0)
    for name in (args.workloads or ALL):
        try:
            print(f"torch {name} {torch_run(name):.3f}", flush=True)
        except Exception as e:  # a peer that cannot run a workload says so
            print(f"torch {name} failed: {type(e).__name__}: {e}", flush=True)
