"""What the operational tests share: the real `olist` in a child process (optionally without
the power to ignore file permissions), a tiny disk, and what a warehouse holds.

The tests run as root, whom file permissions do not stop: ``without_file_permissions``
takes from the child the two capabilities that let root read and write anything
(CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH), so a chmod 000 file or a chmod 555 folder stops
it as it would stop any user. (Changing the user instead would not do here: the Python
interpreter lives under /root, which another user cannot read.)
"""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from helpers import digests, query

OLIST = Path(sys.executable).parent / "olist"
_PR_CAPBSET_DROP = 24
_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH = 1, 2


def _drop_file_override() -> None:
    """In the child, before exec: root without the capabilities that bypass permissions."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH):
        if libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def olist_env(data_dir: Path, **env: str) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("OLIST_")}
    environment.update(OLIST_DATA_DIR=str(data_dir), PYTHONUNBUFFERED="1", **env)
    return environment


def run_olist(
    args: list[str],
    data_dir: Path,
    *,
    cwd: Path,
    without_file_permissions: bool = False,
    timeout: float = 120,
    **env: str,
) -> subprocess.CompletedProcess[str]:
    """`olist <args>` as a child process in ``cwd``, with OLIST_DATA_DIR=data_dir and ``env``."""
    drop = without_file_permissions and os.geteuid() == 0
    return subprocess.run(
        [str(OLIST), *args],
        cwd=cwd,
        env=olist_env(data_dir, **env),
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=_drop_file_override if drop else None,
    )


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    """The error a failed run printed: its last line on stderr, with no traceback anywhere."""
    assert "Traceback" not in done.stdout + done.stderr, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert lines, done.stdout
    assert lines[-1].startswith("error: "), done.stderr
    return lines[-1]


def contents(db: Path) -> dict[str, str]:
    """Every table and view of a DuckDB file (a digest of its rows), and every
    `_load_metadata` row; not `_run_results`, which every run appends to."""
    found = digests(db, skip=lambda name: name == "_run_results")
    found["_load_metadata rows"] = repr(
        sorted(query(db, "select * from staging._load_metadata"), key=repr)
    )
    return found


@contextmanager
def tiny_disk(folder: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` (e.g. "300k") mounted on ``folder``, for a disk that fills up."""
    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)


def fill(disk: Path, leave_bytes: int) -> None:
    """Take all but ``leave_bytes`` of the disk's free space."""
    stat = os.statvfs(disk)
    free = stat.f_bavail * stat.f_frsize
    with (disk / "filler").open("wb") as handle:
        handle.write(b"\0" * max(0, free - leave_bytes))
