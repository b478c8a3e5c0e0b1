#!/usr/bin/python3
"""FAISS search peer: the indexes `bench search` is compared with.

    search.py X.npy [Q]

Builds FAISS's exact inner-product index (IndexFlatIP) and an HNSW index (M=16,
efConstruction=200, efSearch=64) over the rows of a float32 .npy matrix of unit
vectors, then runs Q single queries (default 1000: data rows plus 0.05 * N(0, 1) noise,
normalised, seed 7) one at a time, as a search service would. Prints each index's build
seconds and p50/p95 query latency, and HNSW's recall@10 against the exact answers.
"""
import sys
import time

import faiss
import numpy as np


def timed_queries(index, queries, k=10):
    lat, ids = [], []
    for q in queries:
        t = time.perf_counter()
        _, i = index.search(q[None, :], k)
        lat.append(time.perf_counter() - t)
        ids.append(i[0])
    lat = np.array(lat) * 1000
    return np.percentile(lat, 50), np.percentile(lat, 95), np.array(ids)


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    x = np.ascontiguousarray(np.load(sys.argv[1]), dtype=np.float32)
    nq = int(sys.argv[2]) if len(sys.argv) == 3 else 1000
    rng = np.random.default_rng(7)
    q = x[rng.integers(0, len(x), nq)] + 0.05 * rng.standard_normal((nq, x.shape[1]), dtype=np.float32)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    faiss.omp_set_num_threads(1)  # one query at a time, like one request

    t = time.perf_counter()
    flat = faiss.IndexFlatIP(x.shape[1])
    flat.add(x)
    build = time.perf_counter() - t
    p50, p95, truth = timed_queries(flat, q)
    print(f"index=flat n={len(x)} d={x.shape[1]} build={build:.2f}s p50={p50:.3f}ms p95={p95:.3f}ms")

    faiss.omp_set_num_threads(0)  # the build may use every core
    t = time.perf_counter()
    hnsw = faiss.IndexHNSWFlat(x.shape[1], 16, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = 200
    hnsw.add(x)
    build = time.perf_counter() - t
    hnsw.hnsw.efSearch = 64
    faiss.omp_set_num_threads(1)
    p50, p95, got = timed_queries(hnsw, q)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(got, truth)])
    print(f"index=hnsw n={len(x)} d={x.shape[1]} M=16 efc=200 efs=64 build={build:.2f}s "
          f"p50={p50:.3f}ms p95={p95:.3f}ms recall@10={recall:.3f}")


if __name__ == "__main__":
    main()
