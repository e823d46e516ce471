"""MD5 of the raw files, remembered between runs while a file is untouched.

Hashing 130 MB of CSV takes about 0.2 s, most of a run that has nothing to do. A file
whose inode, size, modification and change times are all as they were when it was last
hashed has the same bytes (the reasoning git's index uses), so its recorded MD5 is
reused; anything else is hashed again.

Files that do need hashing are hashed on several threads at once: hashlib releases the
GIL while it digests a large buffer, and so does reading the file, so on two cores the
five changed files of a scale-10 snapshot take 0.45 s instead of 0.75 s.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from olist_cli.atomic import read_json, write_text_atomic

CACHE_FILE = ".olist-md5-cache.json"  # in the data folder


def file_md5(path: Path) -> str:
    """MD5 of the file's bytes, streamed."""
    with path.open("rb") as handle:
        # Not for security: a change detector. Saying so keeps it working in FIPS mode.
        digest = hashlib.file_digest(handle, lambda: hashlib.md5(usedforsecurity=False))
    return digest.hexdigest()


def _identity(stat: os.stat_result) -> list[int]:
    return [stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns]


class Md5Cache:
    """File MD5s keyed by absolute path and file identity, kept in one JSON file.

    Safe to use from several threads: the entries are read and written under a lock,
    and files are hashed outside it.
    """

    def __init__(self, cache_file: Path) -> None:
        self.cache_file = cache_file
        self._entries: dict[str, dict[str, object]] = {}
        self._dirty = False
        self._lock = threading.Lock()
        loaded = read_json(cache_file)
        if isinstance(loaded, dict):
            self._entries = loaded

    @classmethod
    def of(cls, data_dir: Path) -> Md5Cache:
        """The one cache of a data folder, which `load` and `archive` share."""
        return cls(data_dir / CACHE_FILE)

    def md5(self, path: Path) -> str:
        return self.md5_all([path])[0]

    def md5_all(
        self, paths: Sequence[Path], *, workers: int | None = None, reuse: bool = True
    ) -> list[str]:
        """MD5 of each file, in order: recorded ones reused (unless not ``reuse``), the
        others hashed concurrently; every result is recorded."""
        with self.hashing(paths, workers=workers, reuse=reuse) as pending:
            return [p.result() for p in pending]

    @contextmanager
    def hashing(
        self, paths: Sequence[Path], *, workers: int | None = None, reuse: bool = True
    ) -> Iterator[list[Future[str]]]:
        """Each file's MD5 as a future, in order: recorded ones done at once (``reuse``),
        the others hashed on background threads while the caller goes on.

        Leaving the block cancels what has not started.
        """
        # The identity is taken before hashing: if the file changes while it is read, the
        # recorded identity is the old one, so the next run hashes it again.
        keys = [str(p.resolve()) for p in paths]
        identities = [_identity(p.stat()) for p in paths]
        pending: list[Future[str]] = []
        missing = []
        with self._lock:
            for index, (key, identity) in enumerate(zip(keys, identities, strict=True)):
                entry = self._entries.get(key)
                done: Future[str] = Future()
                if reuse and entry is not None and entry.get("identity") == identity:
                    done.set_result(str(entry["md5"]))
                else:
                    missing.append(index)
                pending.append(done)
        if not missing:
            yield pending
            return

        def hash_one(index: int) -> str:
            md5 = file_md5(paths[index])
            with self._lock:
                self._entries[keys[index]] = {"identity": identities[index], "md5": md5}
                self._dirty = True
            return md5

        # Hashing is CPU-bound once the file is in the page cache: more threads than cores
        # would only take turns.
        count = min(len(missing), workers or os.cpu_count() or 1)
        pool = ThreadPoolExecutor(max_workers=count, thread_name_prefix="olist-md5")
        try:
            for index in missing:
                pending[index] = pool.submit(hash_one, index)
            yield pending
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def save(self) -> None:
        """Write the cache atomically; a cache that cannot be written is only a lost speed-up."""
        with self._lock:
            if not self._dirty:
                return
            text = json.dumps(self._entries, sort_keys=True)
            with contextlib.suppress(OSError):
                write_text_atomic(self.cache_file, text)
                self._dirty = False
