#!/usr/bin/env python3
"""Opens a safetensors file with Python's safetensors library and prints its metadata and, for each
tensor, name, dtype, shape and a few values: an independent check that files written by BackpropNN
are valid safetensors.

Usage: scripts/check_safetensors_with_python.py FILE
"""
import sys

from safetensors import safe_open


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    with safe_open(sys.argv[1], framework="numpy") as f:
        print("metadata:", f.metadata())
        for name in f.keys():
            array = f.get_tensor(name)
            preview = array.reshape(-1)[:4].tolist()
            print(f"{name}: dtype={array.dtype} shape={list(array.shape)} first={preview}")


if __name__ == "__main__":
    main()
