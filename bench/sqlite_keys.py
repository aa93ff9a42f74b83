#!/usr/bin/env python3
"""What one token row costs SQLite, by key design (DESIGN.md §6: "key design
and batching decide contract B's ceiling").

Inserts token-shaped rows (the `tokens` table's columns) in transactions of
BATCH rows into a table already holding PRELOAD rows, WAL mode,
synchronous=NORMAL (the fsync is per batch, not per row, so it is left out),
and prints the CPU time per row, the checkpoint time per row and the WAL
bytes per row for each layout:

  hash-key   WITHOUT ROWID, primary key = SHA-256 of the token (Tollgate's)
  rowid+idx  rowid table appended in order, unique index on the hash
  sequential rowid table, no hash index (the floor: what an ordered key costs)

  python3 bench/sqlite_keys.py [PRELOAD=300000] [BATCH=20]
"""
import os
import sqlite3
import sys
import tempfile
import time

COLUMNS = "kind, principal_id, session_id, credential_id, issued_at, expires_at, revoked_at"
LAYOUTS = {
    "hash-key": (
        f"CREATE TABLE tokens (hash BLOB PRIMARY KEY, {COLUMNS}) WITHOUT ROWID",
        None,
    ),
    "rowid+idx": (
        f"CREATE TABLE tokens (id INTEGER PRIMARY KEY, hash BLOB NOT NULL, {COLUMNS})",
        "CREATE UNIQUE INDEX tokens_hash ON tokens (hash)",
    ),
    "sequential": (
        f"CREATE TABLE tokens (id INTEGER PRIMARY KEY, hash BLOB NOT NULL, {COLUMNS})",
        None,
    ),
}
INSERT = f"INSERT INTO tokens (hash, {COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"


def rows(count, start_ms, principal, credential):
    return [
        (os.urandom(32), 2, principal, None, credential, start_ms + i, start_ms + i + 3_600_000, None)
        for i in range(count)
    ]


def measure(layout, preload, batch):
    directory = tempfile.mkdtemp(prefix="tollgate-keys-")
    path = os.path.join(directory, "t.db")
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("PRAGMA wal_autocheckpoint = 0")
    table, index = LAYOUTS[layout]
    db.execute(table)
    if index:
        db.execute(index)
    db.execute("CREATE INDEX tokens_expires_at ON tokens (expires_at)")
    principal, credential = os.urandom(16), os.urandom(16)
    now_ms = int(time.time() * 1000)
    db.execute("BEGIN")
    db.executemany(INSERT, rows(preload, now_ms, principal, credential))
    db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    batches = [rows(batch, now_ms + preload + k * batch, principal, credential) for k in range(20_000 // batch)]
    written = len(batches) * batch
    started = time.process_time()
    for chunk in batches:
        db.execute("BEGIN")
        db.executemany(INSERT, chunk)
        db.execute("COMMIT")
    insert_cpu = time.process_time() - started
    wal_bytes = os.path.getsize(path + "-wal")
    started = time.process_time()
    db.execute("PRAGMA wal_checkpoint(PASSIVE)")
    checkpoint_cpu = time.process_time() - started
    db.close()
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    os.rmdir(directory)
    return insert_cpu / written * 1e6, checkpoint_cpu / written * 1e6, wal_bytes / written


def main():
    preload = int(sys.argv[1]) if len(sys.argv) > 1 else 300_000
    batch = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    print(f"SQLite {sqlite3.sqlite_version}, {preload:,} rows already there, {batch} rows per commit")
    print("| layout | insert µs/row | checkpoint µs/row | WAL bytes/row |")
    print("|---|---:|---:|---:|")
    for layout in LAYOUTS:
        insert, checkpoint, wal = measure(layout, preload, batch)
        print(f"| {layout} | {insert:.1f} | {checkpoint:.1f} | {wal:,.0f} |")


if __name__ == "__main__":
    main()
