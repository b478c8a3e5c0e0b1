#!/usr/bin/python3
"""2-D map peer: PCA and t-SNE on the vectors an lmsys SQLite store holds.

    map_2d.py QUERIES.db LABELS.jsonl [N]

Reads up to N (default 20000) queries joined to their embeddings in the store's largest
embedding space (queries.text_hash = embeddings.text_hash; vectors are little-endian
float32 blobs) from a store that `lmsys load` and `lmsys embed` filled from
LABELS.jsonl, takes each query's label from the JSONL line whose "id" is its
conversation id, then projects the vectors to 2-D with scikit-learn's PCA and t-SNE. For the full space and each map it prints the wall seconds
and the 10-NN label agreement: the share of each point's 10 nearest neighbours that
carry its label (how well the map keeps the neighbourhoods that matter).
"""
import json
import sqlite3
import sys
import time

import numpy as np
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE
from sklearn.neighbors import NearestNeighbors


def agreement(points, labels, k=10):
    _, idx = NearestNeighbors(n_neighbors=k + 1).fit(points).kneighbors(points)
    return float((labels[idx[:, 1:]] == labels[:, None]).mean())


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    limit = int(sys.argv[3]) if len(sys.argv) == 4 else 20000
    label_of = {}
    with open(sys.argv[2], encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            label_of[str(row["id"])] = row["label"]
    db = sqlite3.connect(sys.argv[1])
    space = db.execute("SELECT space FROM embeddings GROUP BY space ORDER BY COUNT(*) DESC LIMIT 1").fetchone()
    if space is None:
        sys.exit("the store holds no embeddings: run `lmsys embed` first")
    rows = db.execute("""SELECT q.conversation_id, e.vector FROM queries q
        JOIN embeddings e ON e.text_hash = q.text_hash AND e.space = ?
        ORDER BY q.id LIMIT ?""", (space[0], limit)).fetchall()
    rows = [(label_of[c], v) for c, v in rows if c in label_of]
    if not rows:
        sys.exit("no query of the store has both an embedding and a label")
    names = sorted({lab for lab, _ in rows})
    labels = np.array([names.index(lab) for lab, _ in rows])
    x = np.stack([np.frombuffer(v, dtype="<f4") for _, v in rows])
    print(f"space={space[0]} n={len(x)} d={x.shape[1]} knn10_agreement={agreement(x, labels):.3f}")
    for name, make in (("pca", lambda: PCA(n_components=2, random_state=0)),
                       ("tsne", lambda: TSNE(n_components=2, init="pca", random_state=0))):
        t = time.perf_counter()
        y = make().fit_transform(x)
        wall = time.perf_counter() - t
        print(f"map={name} n={len(x)} wall={wall:.1f}s knn10_agreement={agreement(y, labels):.3f}")


if __name__ == "__main__":
    main()
