"""The MD5 cache reuses a hash only while the file is untouched."""

from __future__ import annotations

import hashlib
import os
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
