"""A local source: a folder holding the nine Olist files, or a .zip of them (as Kaggle serves).

The files may sit directly in the folder (or at the root of the zip) or in one subfolder,
as a downloaded archive often unpacks. A zip is read member by member: only the nine
expected files are written, each to a name we choose, so no member path can escape the
destination. They are unpacked into a staging folder first, then moved into ``work_dir``
by rename: no reader ever sees a partly written file.

A zip is refused before anything is unpacked if its central directory lists more
entries than OLIST_ZIP_MAX_ENTRIES or an expected file declares more bytes than
OLIST_ZIP_MAX_ENTRY_BYTES, and no file is written past the size it declares.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, TYPE_CHECKING, TypeVar

from olist_cli.dataset import SOURCE_FILES
from olist_cli.errors import SourceError, UsageError, file_error

if TYPE_CHECKING:
    from olist_cli.settings import Settings

EXPECTED: tuple[str, ...] = tuple(s.file_name for s in SOURCE_FILES)
_CHUNK = 1024 * 1024
K = TypeVar("K")
_WHERE = "(the 9 Olist CSV files must be in the folder itself or in one subfolder)"


@dataclass(frozen=True)
class ZipCaps:
    """What a .zip source may hold: OLIST_ZIP_MAX_ENTRY_BYTES and OLIST_ZIP_MAX_ENTRIES."""

    entry_bytes: int
    entries: int

    @classmethod
    def of(cls, settings: Settings) -> ZipCaps:
        return cls(settings.zip_max_entry_bytes, settings.zip_max_entries)


def resolve_local_source(path: Path, work_dir: Path, caps: ZipCaps) -> Path:
    """The folder holding the nine files: ``path`` itself or its subfolder, or, for a zip,
    ``work_dir`` with the files unpacked into it (within ``caps``)."""
    if not path.exists():
        raise UsageError(f"source not found: {path} (expected a folder or a .zip file)")
    if path.is_dir():
        return find_source_folder(path)
    _check_readable(path)  # is_zipfile says False for a file it cannot read
    if zipfile.is_zipfile(path):
        return extract_zip(path, work_dir, caps)
    raise UsageError(f"source {path} is neither a folder nor a .zip file")


def find_source_folder(folder: Path) -> Path:
    """``folder`` if it holds the nine files, else its one subfolder that does; each of them
    readable (checked now, before anything is loaded)."""
    try:
        candidates = [folder] + sorted(
            p for p in folder.iterdir() if p.is_dir() and not p.name.startswith((".", "__MACOSX"))
        )
    except OSError as exc:
        raise file_error(exc, f"cannot read the source folder {folder}") from None
    present = {c: {n for n in EXPECTED if (c / n).is_file()} for c in candidates}
    chosen = _choose(present, folder, folder)
    for name in EXPECTED:
        _check_readable(chosen / name)
    return chosen


def _check_readable(path: Path) -> None:
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        raise file_error(exc, f"cannot read the source file {path}") from None


def extract_zip(archive: Path, work_dir: Path, caps: ZipCaps) -> Path:
    """Unpack the nine files of ``archive`` into ``work_dir``; return ``work_dir``."""
    try:
        with zipfile.ZipFile(archive) as zf:
            members = _pick_members(zf, archive, caps)
            work_dir.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{work_dir.name}-unzip-", dir=work_dir.parent))
            try:
                for name, info in members.items():
                    with zf.open(info) as src, (staging / name).open("wb") as dst:
                        _copy_declared(src, dst, info, archive)
                _install(staging, work_dir)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, RuntimeError, EOFError, zlib.error) as exc:
        # RuntimeError: an encrypted member; BadZipFile, EOFError, zlib.error: a truncated
        # or corrupt archive (a member that holds more than it declares fails its CRC).
        raise SourceError(f"{archive}: cannot unpack: {exc}") from exc
    except OSError as exc:  # writing the files: a full disk, a read-only folder
        raise file_error(exc, f"cannot unpack {archive} into {work_dir}") from None
    return work_dir


def _copy_declared(src: IO[bytes], dst: IO[bytes], info: zipfile.ZipInfo, archive: Path) -> None:
    """Copy a member, never writing more than the size its central directory declares.

    zipfile already stops there and then checks the CRC; this holds whatever it does.
    """
    left = info.file_size
    while chunk := src.read(min(_CHUNK, left + 1)):
        left -= len(chunk)
        if left < 0:
            raise SourceError(
                f"{archive}: entry '{info.filename}' holds more than the {info.file_size:,} "
                "bytes it declares; refusing to unpack it"
            )
        dst.write(chunk)


def _pick_members(zf: zipfile.ZipFile, archive: Path, caps: ZipCaps) -> dict[str, zipfile.ZipInfo]:
    """The member holding each expected file, all from one folder of the archive."""
    entries = zf.infolist()
    if len(entries) > caps.entries:
        raise SourceError(
            f"{archive}: {len(entries):,} entries, more than OLIST_ZIP_MAX_ENTRIES="
            f"{caps.entries:,}; refusing to unpack it"
        )
    groups: dict[PurePosixPath, dict[str, zipfile.ZipInfo]] = {}
    for info in entries:
        if info.is_dir():
            continue
        member = PurePosixPath(info.filename.replace("\\", "/"))
        if member.name not in EXPECTED or member.parts[:1] == ("__MACOSX",):
            continue  # other members are never extracted, whatever their path says
        if member.is_absolute() or ".." in member.parts or ":" in member.parts[0]:
            raise SourceError(
                f"{archive}: refusing member '{info.filename}': its path leaves the archive"
            )
        if len(member.parts) > 2:
            continue  # deeper than one subfolder: not where the files belong
        if info.file_size > caps.entry_bytes:
            raise SourceError(
                f"{archive}: entry '{info.filename}' declares {info.file_size:,} bytes, more "
                f"than OLIST_ZIP_MAX_ENTRY_BYTES={caps.entry_bytes:,}; refusing to unpack it"
            )
        groups.setdefault(member.parent, {})[member.name] = info
    present = {folder: set(infos) for folder, infos in groups.items()}
    chosen = _choose(present, PurePosixPath("."), archive)
    return {name: groups[chosen][name] for name in EXPECTED}


def _choose(present: dict[K, set[str]], top: K, where: Path) -> K:
    """The folder holding all nine files: the top one first, else exactly one subfolder."""
    complete = [folder for folder, names in present.items() if len(names) == len(EXPECTED)]
    if top in complete:
        return top
    if len(complete) == 1:
        return complete[0]
    if complete:
        folders = ", ".join(str(f) for f in complete)
        raise SourceError(f"{where}: the 9 files are in several subfolders ({folders}); keep one")
    # Name what is missing from the folder that came closest, the top one on a tie.
    best = max(present, key=lambda f: (len(present[f]), f == top), default=top)
    missing = [n for n in EXPECTED if n not in present.get(best, set())]
    inside = f" (in {best})" if best != top else ""
    raise SourceError(f"{where}: missing {', '.join(missing)}{inside} {_WHERE}")


def _install(staging: Path, work_dir: Path) -> None:
    """Move the unpacked files into ``work_dir``: a rename of the whole folder if it is new.

    An existing ``work_dir`` may hold other files, so each of the nine is replaced on its
    own with ``os.replace``, which is atomic: a reader sees the old file or the new one,
    never a partial one.
    """
    if not work_dir.exists():
        staging.rename(work_dir)
        return
    for name in EXPECTED:
        os.replace(staging / name, work_dir / name)
