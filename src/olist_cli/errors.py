"""One exception family; each subclass carries the exit code the CLI turns it into.

Library code raises these with a message that names the file, row, model or setting at
fault and, where there is one, the fix. Only ``cli.py`` catches them.
"""

from __future__ import annotations

import errno

EXIT_OK = 0
EXIT_FAILURE = 1  # a stage failed, or an error-level data test failed
EXIT_USAGE = 2  # bad options or settings
EXIT_LOCKED = 3  # another olist run, or another program, holds the warehouse


class OlistError(Exception):
    """Base error: a one-line message meant for a person, and an exit code."""

    exit_code: int = EXIT_FAILURE

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(OlistError):
    """Bad command-line option or setting (exit 2)."""

    exit_code = EXIT_USAGE


class SourceError(OlistError):
    """A source file is missing, malformed, or does not match its schema (exit 1)."""


class LoadError(OlistError):
    """A raw load failed; the raw table is left as it was (exit 1)."""


class TransientError(OlistError):
    """A failure worth retrying: a busy service, a dropped connection (exit 1 if it lasts).

    Raised by adapters and sources; the pipeline's stages retry it with backoff, and
    never retry any other error.
    """


class ProjectError(OlistError):
    """The SQL project is invalid: unknown ref, cycle, template error (exit 1)."""


class BuildError(OlistError):
    """One or more models failed to build (exit 1)."""


class DataTestFailure(OlistError):
    """One or more error-level data tests failed (exit 1)."""


class PathAccessError(UsageError):
    """A file or folder olist must read or write cannot be: permission denied, a read-only
    file system, a folder where a file belongs (exit 2: the set-up needs fixing)."""


class DiskFullError(OlistError):
    """The disk filled up while olist wrote; what it was writing is discarded (exit 1)."""


class WarehouseError(OlistError):
    """The warehouse cannot be opened or written, for a reason of its own (exit 1)."""


class DamagedWarehouseError(WarehouseError):
    """The warehouse file is not a DuckDB database, or is truncated (exit 1)."""


class CheckpointError(WarehouseError):
    """The work committed (DuckDB's log holds it) but could not be written into the database
    file, a full disk say; the next open replays the log (exit 1)."""


class LockedError(OlistError):
    """Another olist run holds the warehouse, for longer than OLIST_LOCK_TIMEOUT_S (exit 3)."""

    exit_code = EXIT_LOCKED


class WarehouseBusyError(LockedError):
    """Another program (a notebook, say) holds the warehouse file, for longer than
    OLIST_LOCK_TIMEOUT_S (exit 3). ``pid`` and ``program``: the holder, as DuckDB names it."""

    def __init__(self, message: str, *, pid: int | None = None, program: str = "") -> None:
        super().__init__(message)
        self.pid = pid
        self.program = program


_FULL = {errno.ENOSPC, errno.EDQUOT}
_ACCESS = {errno.EACCES, errno.EPERM, errno.EROFS, errno.EISDIR, errno.ENOTDIR, errno.EEXIST}
# Failures of the local disk, not of a network: a full disk, a permission, a read-only one.
LOCAL_WRITE_ERRNOS = frozenset({*_FULL, errno.EACCES, errno.EPERM, errno.EROFS})


def file_error(exc: OSError, doing: str) -> OlistError:
    """One line for an OSError met reading or writing a known path: ``doing`` ("cannot
    write <path>") and the system's reason, as the error class that fits it."""
    reason = exc.strerror or type(exc).__name__
    if exc.errno in _FULL:
        return DiskFullError(f"{doing}: {reason} (free some space and run again)")
    if exc.errno in _ACCESS:
        return PathAccessError(f"{doing}: {reason}")
    return OlistError(f"{doing}: {reason}")
