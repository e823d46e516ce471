"""One exception family; each subclass carries the exit code the CLI turns it into.

Library code raises these with a message that names the file, row, model or setting at
fault and, where there is one, the fix. Only ``cli.py`` catches them.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILURE = 1  # a stage failed, or an error-level data test failed
EXIT_USAGE = 2  # bad options or settings
EXIT_LOCKED = 3  # another olist run holds the warehouse lock


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


class WarehouseError(OlistError):
    """The warehouse cannot be opened: not a DuckDB file, or held by another program (exit 1)."""


class LockedError(OlistError):
    """Another olist run holds the warehouse (exit 3)."""

    exit_code = EXIT_LOCKED
