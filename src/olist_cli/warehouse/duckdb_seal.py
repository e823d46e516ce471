"""The seal: proof that a DuckDB file is byte for byte as the last olist run left it.

olist records what each model and test last ran on (engine/state.py) inside the warehouse,
and skips work whose record matches. A record is only worth trusting while nothing but
olist has written the file: a notebook that edits a published table, or a disk that
damages a block, leaves the records describing tables that are no longer there.

So each run that wrote the file ends by sealing it: a checkpoint (no write-ahead log left
behind), then the file's identity (its size, its modification time to the nanosecond and
a digest of its headers, which every DuckDB checkpoint rewrites) in a small file beside
it. The next run compares the identity once it holds the file (DuckDB lets no other
process write while it does). Any write by another program changes the modification
time or leaves a write-ahead log; a copy that keeps the bytes and the time keeps the seal,
as it should. A broken seal means the records are not evidence of anything: the run
forgets them, rebuilds and tests everything, and seals again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from pathlib import Path

from olist_cli.atomic import read_json, write_text_atomic

SEAL_SUFFIX = ".seal"
# DuckDB's main header and its two database headers: each checkpoint writes one of the
# latter with a new iteration count and new metadata pointers.
_HEADER_BYTES = 3 * 4096


def seal_path(database: Path) -> Path:
    return database.with_name(database.name + SEAL_SUFFIX)


def identity(database: Path) -> dict[str, object] | None:
    """What the file is now, or None when it cannot be told (missing, unreadable, a log)."""
    wal = database.with_name(database.name + ".wal")
    try:
        if wal.exists():
            return None  # writes not yet checkpointed: not a state any seal describes
        stat = database.stat()
        with database.open("rb") as handle:
            header = handle.read(_HEADER_BYTES)
    except OSError:
        return None
    return {
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "header_sha256": hashlib.sha256(header).hexdigest(),
    }


def is_sealed(database: Path) -> bool:
    """Whether the file is as the seal beside it says (False without a seal)."""
    found = identity(database)
    return found is not None and read_json(seal_path(database)) == found


def write_seal(database: Path) -> None:
    """Record the file's identity beside it; call right after a checkpoint, holding it.

    A seal that cannot be written is no error: an older seal describes another identity
    (the file has changed since), so the next run trusts nothing and redoes the work.
    """
    found = identity(database)
    path = seal_path(database)
    with contextlib.suppress(OSError):
        if found is None:
            path.unlink(missing_ok=True)
        else:
            write_text_atomic(path, json.dumps(found, sort_keys=True))
