#!/usr/bin/python3
"""Plain-Python loader peer: what `bench load` is compared with.

    load_sqlite.py IN.jsonl OUT.db

Reads JSONL lines {"id" (or "conversation_id"), "text", "model"?, "language"?} with the
standard json module and inserts them into a SQLite table with the standard sqlite3
module, 10,000 rows per transaction, INSERT OR IGNORE on a unique conversation id: the
loader a Python user writes first. Prints `rows=N wall=Xs rate=R` (R rows per second, the final commit
included), the line `bench load -peer` reads.
"""
import json
import sqlite3
import sys
import time

BATCH = 10_000


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    t = time.perf_counter()
    db = sqlite3.connect(sys.argv[2])
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("""CREATE TABLE IF NOT EXISTS queries (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        conversation_id TEXT NOT NULL UNIQUE,
        model TEXT, query_text TEXT NOT NULL, language TEXT)""")
    insert = "INSERT OR IGNORE INTO queries (conversation_id, model, query_text, language) VALUES (?, ?, ?, ?)"
    rows, batch = 0, []
    with open(sys.argv[1], encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            cid = r["id"] if "id" in r else r["conversation_id"]
            batch.append((str(cid), r.get("model"), r["text"], r.get("language")))
            if len(batch) == BATCH:
                with db:
                    db.executemany(insert, batch)
                rows += len(batch)
                batch = []
    with db:
        db.executemany(insert, batch)
    rows += len(batch)
    db.close()
    wall = time.perf_counter() - t
    print(f"rows={rows} wall={wall:.2f}s rate={rows / wall:.0f}")


if __name__ == "__main__":
    main()
