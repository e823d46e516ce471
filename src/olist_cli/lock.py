"""One olist run at a time per warehouse: the lock file `<duckdb file>.lock`, and who holds it.

filelock holds an OS lock on the file, which the kernel lets go when the process ends, so
a killed run leaves no stale lock. filelock empties the file as it takes it, so the
holder describes itself in a record beside it, `<lock file>.owner` (JSON: pid, command,
since when, host), written once the lock is taken and removed before it is let go. A run
that finds the lock held waits up to OLIST_LOCK_TIMEOUT_S, saying who holds it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from olist_cli.atomic import read_json, write_text_atomic
from olist_cli.errors import LockedError, PathAccessError, file_error
from olist_cli.waiting import wait_for

if TYPE_CHECKING:
    from olist_cli.settings import Settings


@dataclass(frozen=True)
class Owner:
    """Who holds the lock, as the holder wrote it."""

    pid: int
    command: str
    since: str  # UTC, ISO 8601, to the second
    host: str

    def __str__(self) -> str:
        return f"{self.command} (pid {self.pid}, since {self.since})"

    @property
    def gone(self) -> bool:
        """Whether the record outlived its process: a pid on this host that no longer runs."""
        if self.host != socket.gethostname():
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except OSError:  # it runs, as another user
            return False
        return False


def lock_file(settings: Settings) -> Path:
    return Path(f"{settings.duckdb_file}.lock")


def owner_file(lock_path: Path) -> Path:
    return lock_path.with_name(f"{lock_path.name}.owner")


def read_owner(lock_path: Path) -> Owner | None:
    """The holder's record, None if there is none (or it is not one)."""
    found = read_json(owner_file(lock_path))
    if not isinstance(found, dict):
        return None
    try:
        owner = Owner(int(found["pid"]), str(found["command"]), str(found["since"]), found["host"])
    except (KeyError, TypeError, ValueError):
        return None
    return None if owner.gone else owner


def holder_of(lock_path: Path) -> str:
    owner = read_owner(lock_path)
    # No record: a run that has not written it yet, an older olist, or `flock` by hand.
    return str(owner) if owner else "a process that left no owner record"


@contextmanager
def warehouse_lock(
    settings: Settings, *, command: str, on_wait: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold the warehouse's lock for the block; wait up to OLIST_LOCK_TIMEOUT_S for it.

    ``command`` names this run in the owner record ("olist run-all"); ``on_wait`` hears a
    line when the lock is found held, and now and then while waiting. Raises LockedError
    when the wait is over, PathAccessError when the lock file cannot be created.
    """
    from filelock import FileLock, Timeout

    lock_path = lock_file(settings)
    cannot = f"cannot create the lock file {lock_path} (a run writes it beside the warehouse)"
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise file_error(exc, cannot) from None
    lock = FileLock(lock_path)

    def take() -> bool | None:
        try:
            lock.acquire(timeout=0)
        except Timeout:
            return None
        except IsADirectoryError:
            raise PathAccessError(
                f"the lock file {lock_path} is a folder: remove it (a run creates the file)"
            ) from None
        except OSError as exc:  # a read-only folder
            raise file_error(exc, cannot) from None
        return True

    timeout = settings.lock_timeout_s
    said: list[str] = []

    def waiting(waited: float) -> None:
        holder = holder_of(lock_path)
        if said:
            line = f"still waiting for {holder}: {waited:.0f}s of {timeout:g}s"
        else:
            line = (
                f"{lock_path} is held by {holder}; waiting up to {timeout:g}s for it "
                "(OLIST_LOCK_TIMEOUT_S)"
            )
        said.append(line)
        if on_wait is not None:
            on_wait(line)

    if wait_for(take, timeout_s=timeout, on_wait=waiting) is None:
        raise LockedError(
            f"another olist run holds the warehouse ({lock_path}): {holder_of(lock_path)}; "
            f"{gave_up(timeout)}; run again once it has finished"
        )
    try:
        _write_owner(lock_path, command)
        yield
    finally:
        with contextlib.suppress(OSError):
            owner_file(lock_path).unlink(missing_ok=True)
        lock.release()


def gave_up(timeout_s: float) -> str:
    """How a wait ended, for an error message."""
    if timeout_s:
        return f"gave up waiting after {timeout_s:g}s (OLIST_LOCK_TIMEOUT_S)"
    return "not waiting for it"


def _write_owner(lock_path: Path, command: str) -> None:
    """Describe this process beside the lock; best effort: it only informs a waiting run."""
    since = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    owner = Owner(os.getpid(), command, since, socket.gethostname())
    with contextlib.suppress(OSError):
        write_text_atomic(owner_file(lock_path), json.dumps(asdict(owner)))
