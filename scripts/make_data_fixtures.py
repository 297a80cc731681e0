#!/usr/bin/env python3
"""Writes the small data fixtures the BackpropNN tests read, into Tests/BackpropNNTests/Fixtures.

Everything is deterministic, so re-running the script reproduces the committed files byte for byte
(except gzip files from the system `gzip`, which embed no time stamp with -n).

  gzip/     payloads and their compressed forms, from Python's gzip module (levels 0, 1, 9, several
            members) and the system gzip command, covering stored, fixed and dynamic Huffman blocks
  mnist/    a 5-image MNIST-style IDX pair (train gzipped, t10k plain), 4x3 pixel images
  npy/      arrays written by numpy: <f4, <f8, <i8, <i4, |u1, |b1, >f8, a 0-d array, a v2.0 header,
            and a Fortran-order array (which the reader must reject)
  moons.csv a CSV with a header and -1/+1 labels
  mnist5k-sample/  the first 80 training images and labels of ../shared/data/mnist5k (real MNIST, 28x28),
            written only when that folder is there (the compiled-training test trains the mnist5k CNN on them)
"""
import gzip
import os
import random
import shutil
import struct
import subprocess

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "BackpropNNTests", "Fixtures")


def path(*parts):
    full = os.path.join(ROOT, *parts)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    return full


def write(name, data):
    with open(path(name), "wb") as f:
        f.write(data)


def gzip_fixtures():
    rng = random.Random(1234)
    words = [b"gradient", b"tensor", b"backprop", b"layer", b"loss", b"adam", b"epoch", b"\n", b" "]
    text = b"".join(rng.choice(words) for _ in range(6000))           # compressible: dynamic blocks
    noise = bytes(rng.getrandbits(8) for _ in range(5000))            # incompressible: stored blocks
    short = b"hello, deflate!"                                         # tiny: a fixed-Huffman block
    empty = b""
    payloads = {"text": text, "noise": noise, "short": short, "empty": empty}
    for name, data in payloads.items():
        write(f"gzip/{name}.bin", data)
        for level in (0, 1, 9):
            write(f"gzip/{name}.level{level}.gz", gzip.compress(data, compresslevel=level, mtime=0))
    # 1 MB of zeros: thousands of long overlapping back-references (a guard against quadratic copying).
    write("gzip/zeros.gz", gzip.compress(bytes(1 << 20), compresslevel=9, mtime=0))
    # Two members concatenated decompress to the concatenation.
    write("gzip/two-members.gz", gzip.compress(b"first member\n", mtime=0) + gzip.compress(b"second member\n", mtime=0))
    write("gzip/two-members.bin", b"first member\nsecond member\n")
    # The system gzip command (-n: no name or time stamp), if available.
    if shutil.which("gzip"):
        out = subprocess.run(["gzip", "-9", "-n", "-c", path("gzip/text.bin")], check=True, capture_output=True).stdout
        write("gzip/text.system.gz", out)


def idx(array, type_code):
    header = bytes([0, 0, type_code, array.ndim]) + b"".join(struct.pack(">I", d) for d in array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def mnist_fixtures():
    images = (np.arange(5 * 4 * 3).reshape(5, 4, 3) * 4 % 256).astype(np.uint8)
    labels = np.array([7, 2, 1, 0, 4], dtype=np.uint8)
    write("mnist/train-images-idx3-ubyte.gz", gzip.compress(idx(images, 0x08), mtime=0))
    write("mnist/train-labels-idx1-ubyte.gz", gzip.compress(idx(labels, 0x08), mtime=0))
    write("mnist/t10k-images-idx3-ubyte", idx(images[:3], 0x08))
    write("mnist/t10k-labels-idx1-ubyte", idx(labels[:3], 0x08))
    write("idx/float64.idx", idx(np.array([[1.5, -2.25], [3.0, 1e-3]], dtype=np.float64), 0x0E))
    write("idx/int16.idx", idx(np.array([-300, 5, 32767], dtype=np.int16), 0x0B))


def npy_fixtures():
    np.save(path("npy/f4.npy"), np.arange(6, dtype=np.float32).reshape(2, 3) / 4)
    np.save(path("npy/f8.npy"), np.linspace(-1, 1, 24).reshape(2, 3, 4))
    np.save(path("npy/i8.npy"), np.array([-5, 0, 2**40], dtype=np.int64))
    np.save(path("npy/i4.npy"), np.array([[1, -2], [3, -4]], dtype=np.int32))
    np.save(path("npy/u1.npy"), np.array([0, 128, 255], dtype=np.uint8))
    np.save(path("npy/b1.npy"), np.array([True, False, True]))
    np.save(path("npy/f8-big-endian.npy"), np.array([1.5, -2.0], dtype=">f8"))
    np.save(path("npy/scalar.npy"), np.float64(3.25))
    np.save(path("npy/fortran.npy"), np.asfortranarray(np.arange(6, dtype=np.float64).reshape(2, 3)))
    with open(path("npy/v2.npy"), "wb") as f:
        np.lib.format.write_array(f, np.arange(4, dtype=np.float32), version=(2, 0))


def csv_fixtures():
    rng = random.Random(7)
    lines = ["x,y,label"]
    for _ in range(20):
        label = rng.choice([-1, 1])
        lines.append(f"{rng.uniform(-1, 2):.4f},{rng.uniform(-1, 1):.4f},{label}")
    write("moons.csv", ("\n".join(lines) + "\n").encode())


def idx_bomb():
    """A gzip IDX file whose header promises 10 images of 28x28 (7 856 bytes) but whose stream inflates to
    20 MB of zeros (20 kB compressed): readers must stop at the declared size (Tests/.../IDXTests)."""
    header = struct.pack(">I", 0x00000803) + struct.pack(">III", 10, 28, 28)
    blob = gzip.compress(header + bytes(20 * 1024 * 1024), compresslevel=9, mtime=0)
    write("idx/bomb-images-idx3-ubyte.gz", blob)


def mnist5k_sample(count=80):
    """The first `count` training examples of the shared mnist5k data set, as an IDX pair (gzip, no time stamp)."""
    source = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data", "mnist5k")
    if not os.path.isdir(source):
        print("mnist5k-sample: skipped (no", os.path.normpath(source) + ")")
        return
    images = gzip.open(os.path.join(source, "train-images-idx3-ubyte.gz")).read()
    labels = gzip.open(os.path.join(source, "train-labels-idx1-ubyte.gz")).read()
    magic, _, rows, columns = struct.unpack(">IIII", images[:16])
    assert magic == 0x00000803 and struct.unpack(">I", labels[:4])[0] == 0x00000801
    pixels = images[16:16 + count * rows * columns]
    write("mnist5k-sample/train-images-idx3-ubyte.gz",
          gzip.compress(struct.pack(">IIII", magic, count, rows, columns) + pixels, mtime=0))
    write("mnist5k-sample/train-labels-idx1-ubyte.gz",
          gzip.compress(struct.pack(">II", 0x00000801, count) + labels[8:8 + count], mtime=0))


if __name__ == "__main__":
    gzip_fixtures()
    mnist_fixtures()
    npy_fixtures()
    csv_fixtures()
    idx_bomb()
    mnist5k_sample()
    print("wrote fixtures to", os.path.normpath(ROOT))
