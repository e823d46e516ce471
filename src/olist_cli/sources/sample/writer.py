"""Write a set of files so that none is ever seen half-written.

Each file is written under a hidden temporary name in the target folder and renamed to
its final name with ``os.replace`` (atomic on one file system) only once every file of
the set is complete. On any failure, or an interruption, the temporary files are
removed and the folder holds exactly what it held before.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from olist_cli.errors import file_error


def temp_name(file_name: str) -> str:
    return f".{file_name}.{os.getpid()}.tmp"


class AtomicFiles:
    """``with AtomicFiles(folder, names) as files: files.write(name, data)``."""

    def __init__(self, folder: Path, names: list[str]) -> None:
        self.folder = folder
        self.names = names
        self._handles: dict[str, BinaryIO] = {}

    def __enter__(self) -> AtomicFiles:
        try:
            for name in self.names:
                self._handles[name] = open(self.folder / temp_name(name), "wb")  # noqa: SIM115
        except OSError as exc:
            self._discard()
            raise file_error(exc, f"cannot write to folder {self.folder}") from None
        return self

    def write(self, name: str, data: bytes) -> None:
        try:
            self._handles[name].write(data)
        except OSError as exc:  # a full disk: __exit__ discards every file of the set
            raise file_error(exc, f"writing {self.folder / name} failed") from None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            self._discard()
            return
        try:
            for handle in self._handles.values():
                handle.close()
            for name in self.names:
                os.replace(self.folder / temp_name(name), self.folder / name)
        except OSError as err:
            self._discard()
            raise file_error(err, f"writing to folder {self.folder} failed") from None

    def _discard(self) -> None:
        """Remove every temporary file, whatever fails: closing a file on a full disk
        raises (its buffer cannot be flushed), and must not leave the others behind."""
        for name, handle in self._handles.items():
            with contextlib.suppress(OSError):
                handle.close()
            with contextlib.suppress(OSError):
                (self.folder / temp_name(name)).unlink(missing_ok=True)
