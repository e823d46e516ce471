"""The MD5 cache reuses a hash only while the file is untouched."""

from __future__ import annotations

import hashlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from olist_cli import filehash
from olist_cli.filehash import Md5Cache


def test_unchanged_file_is_not_read_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "a.csv"
    data.write_bytes(b"hello\n")
    cache_file = tmp_path / "cache.json"
    first = Md5Cache(cache_file)
    assert first.md5(data) == hashlib.md5(b"hello\n").hexdigest()
    first.save()

    reads: list[Path] = []
    real = filehash.file_md5
    monkeypatch.setattr(filehash, "file_md5", lambda p: reads.append(p) or real(p))
    assert Md5Cache(cache_file).md5(data) == hashlib.md5(b"hello\n").hexdigest()
    assert reads == []


def test_same_size_rewrite_with_restored_mtime_is_hashed_again(tmp_path: Path) -> None:
    data = tmp_path / "a.csv"
    data.write_bytes(b"hello\n")
    cache_file = tmp_path / "cache.json"
    cache = Md5Cache(cache_file)
    cache.md5(data)
    cache.save()
    before = data.stat()
    data.write_bytes(b"jello\n")  # same size
    os.utime(data, ns=(before.st_atime_ns, before.st_mtime_ns))  # mtime put back
    assert Md5Cache(cache_file).md5(data) == hashlib.md5(b"jello\n").hexdigest()


def test_a_corrupt_cache_file_is_ignored(tmp_path: Path) -> None:
    data = tmp_path / "a.csv"
    data.write_bytes(b"x")
    cache_file = tmp_path / "cache.json"
    cache_file.write_text("{not json", encoding="utf-8")
    assert Md5Cache(cache_file).md5(data) == hashlib.md5(b"x").hexdigest()


def not_read(path: Path) -> str:
    raise AssertionError(f"{path} hashed again")


def test_files_to_hash_are_hashed_concurrently_and_only_those(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = []
    for name in ("a", "b", "c"):
        paths.append(tmp_path / f"{name}.csv")
        paths[-1].write_bytes(name.encode() * 1000)
    cache_file = tmp_path / "cache.json"
    seed = Md5Cache(cache_file)
    seed.md5(paths[0])
    seed.save()

    # Each hash waits for the other one: hashed one after the other, the barrier breaks.
    barrier = threading.Barrier(2, timeout=10)
    hashed: list[tuple[Path, str]] = []
    real = filehash.file_md5

    def waiting_md5(path: Path) -> str:
        barrier.wait()
        hashed.append((path, threading.current_thread().name))
        return real(path)

    monkeypatch.setattr(filehash, "file_md5", waiting_md5)
    cache = Md5Cache(cache_file)
    md5s = cache.md5_all(paths, workers=2)
    cache.save()

    assert md5s == [hashlib.md5(p.read_bytes()).hexdigest() for p in paths]
    assert sorted(p for p, _ in hashed) == paths[1:]  # the cached file is not read again
    assert len({thread for _, thread in hashed}) == 2
    monkeypatch.setattr(filehash, "file_md5", not_read)
    assert Md5Cache(cache_file).md5_all(paths) == md5s


def test_the_cache_is_shared_safely_by_threads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = [tmp_path / f"{n}.csv" for n in range(40)]
    for n, path in enumerate(paths):
        path.write_bytes(str(n).encode())
    cache = Md5Cache(tmp_path / "cache.json")

    # Lookups, new entries and saves at the same time.
    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(cache.md5, p) for p in paths]
        saves = [pool.submit(cache.save) for _ in range(10)]
        md5s = [f.result() for f in futures]
        for save in saves:
            save.result()
    cache.save()

    assert md5s == [hashlib.md5(str(n).encode()).hexdigest() for n in range(40)]
    monkeypatch.setattr(filehash, "file_md5", not_read)
    assert Md5Cache(tmp_path / "cache.json").md5_all(paths) == md5s


def test_md5_all_keeps_the_order_given(tmp_path: Path) -> None:
    """Hashed on three threads, the largest first to start and last to finish."""
    paths = [tmp_path / f"{n}.csv" for n in range(5)]
    for n, path in enumerate(paths):
        path.write_bytes(b"x" * (5 - n) * 100_000)
    cache = Md5Cache(tmp_path / "cache.json")
    assert cache.md5_all(paths, workers=3) == [filehash.file_md5(p) for p in paths]
    assert cache.md5_all([]) == []
