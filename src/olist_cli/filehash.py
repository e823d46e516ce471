"""MD5 of the raw files, remembered between runs while a file is untouched.

Hashing 130 MB of CSV takes about 0.2 s, most of a run that has nothing to do. A file
whose inode, size, modification and change times are all as they were when it was last
hashed has the same bytes (the reasoning git's index uses), so its recorded MD5 is
reused; anything else is hashed again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path

from olist_cli.atomic import read_json, write_text_atomic


def file_md5(path: Path) -> str:
    """MD5 of the file's bytes, streamed."""
    with path.open("rb") as handle:
        # Not for security: a change detector. Saying so keeps it working in FIPS mode.
        digest = hashlib.file_digest(handle, lambda: hashlib.md5(usedforsecurity=False))
    return digest.hexdigest()


def _identity(stat: os.stat_result) -> list[int]:
    return [stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns]


class Md5Cache:
    """File MD5s keyed by absolute path and file identity, kept in one JSON file."""

    def __init__(self, cache_file: Path) -> None:
        self.cache_file = cache_file
        self._entries: dict[str, dict[str, object]] = {}
        self._dirty = False
        loaded = read_json(cache_file)
        if isinstance(loaded, dict):
            self._entries = loaded

    def md5(self, path: Path) -> str:
        key = str(path.resolve())
        identity = _identity(path.stat())
        entry = self._entries.get(key)
        if entry is not None and entry.get("identity") == identity:
            return str(entry["md5"])
        md5 = file_md5(path)
        self._entries[key] = {"identity": identity, "md5": md5}
        self._dirty = True
        return md5

    def save(self) -> None:
        """Write the cache atomically; a cache that cannot be written is only a lost speed-up."""
        if not self._dirty:
            return
        with contextlib.suppress(OSError):
            write_text_atomic(self.cache_file, json.dumps(self._entries, sort_keys=True))
            self._dirty = False
