#!/usr/bin/python3
"""Write a deterministic N x D float32 matrix of unit vectors around C centres.

    blobs.py N D C OUT.npy

Centres are standard normal; each row is a centre plus 0.9 * N(0, 1) noise per
coordinate, scaled to unit length (the shape `bench search` generates itself). The seed
is fixed (7), so the same arguments give the same file.
"""
import sys

import numpy as np


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    n, d, c = (int(a) for a in sys.argv[1:4])
    rng = np.random.default_rng(7)
    centres = rng.standard_normal((c, d), dtype=np.float32)
    x = centres[rng.integers(0, c, n)] + 0.9 * rng.standard_normal((n, d), dtype=np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    np.save(sys.argv[4], x.astype(np.float32))
    print(f"wrote {n}x{d} around {c} centres to {sys.argv[4]}")


if __name__ == "__main__":
    main()
