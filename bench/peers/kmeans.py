#!/usr/bin/python3
"""k-means peers: the clusterers `bench kmeans` is compared with.

    kmeans.py X.npy K [mbk] [km] [faiss]     (default: mbk faiss)
    kmeans.py --tfidf DATA.jsonl             (TF-IDF + k-means quality on a labelled set)

On a float32 .npy matrix, each named algorithm prints one line with its wall seconds
and inertia (the sum of squared Euclidean distances from each row to its nearest
centre, computed the same way for all of them):

    mbk    scikit-learn MiniBatchKMeans(batch_size=8192, n_init=3), the Python tool's choice
    km     scikit-learn KMeans (Lloyd, n_init=1)
    faiss  faiss.Kmeans(niter=20), which trains on a sample of 256 rows per centre

With --tfidf, the "text" and "label" fields of a normalized.jsonl file are clustered
into as many clusters as there are labels, on TF-IDF vectors, and NMI and ARI against
the labels are printed.
"""
import json
import sys
import time

import numpy as np


def inertia(x, centres):
    """Sum over rows of the squared distance to the nearest centre, in blocks."""
    cn = (centres * centres).sum(1)
    total = 0.0
    for i in range(0, len(x), 65536):
        b = x[i:i + 65536]
        d = (b * b).sum(1)[:, None] - 2 * b @ centres.T + cn[None, :]
        total += float(np.maximum(d.min(1), 0).sum())
    return total


def run(name, x, k):
    t = time.perf_counter()
    if name == "mbk":
        from sklearn.cluster import MiniBatchKMeans
        centres = MiniBatchKMeans(n_clusters=k, batch_size=8192, n_init=3, random_state=0).fit(x).cluster_centers_
    elif name == "km":
        from sklearn.cluster import KMeans
        centres = KMeans(n_clusters=k, n_init=1, random_state=0).fit(x).cluster_centers_
    elif name == "faiss":
        import faiss
        km = faiss.Kmeans(x.shape[1], k, niter=20, seed=1)
        km.train(x)
        centres = km.centroids
    else:
        sys.exit(f"unknown algorithm {name!r}: use mbk, km or faiss")
    wall = time.perf_counter() - t
    print(f"algo={name} n={len(x)} d={x.shape[1]} k={k} wall={wall:.2f}s inertia={inertia(x, np.asarray(centres, np.float32)):.1f}")


def tfidf_quality(path):
    from sklearn.cluster import KMeans
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
    texts, labels = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            texts.append(row["text"])
            labels.append(row["label"])
    k = len(set(labels))
    x = TfidfVectorizer(sublinear_tf=True, min_df=2).fit_transform(texts)
    pred = KMeans(n_clusters=k, n_init=3, random_state=0).fit_predict(x)
    print(f"tfidf+kmeans n={len(texts)} k={k} nmi={normalized_mutual_info_score(labels, pred):.3f} "
          f"ari={adjusted_rand_score(labels, pred):.3f}")


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--tfidf":
        return tfidf_quality(sys.argv[2])
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    x = np.ascontiguousarray(np.load(sys.argv[1]), dtype=np.float32)
    for name in sys.argv[3:] or ["mbk", "faiss"]:
        run(name, x, int(sys.argv[2]))


if __name__ == "__main__":
    main()
