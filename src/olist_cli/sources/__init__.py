"""Where the raw CSV files come from: the sample generator, a local folder or zip, Kaggle."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from olist_cli.atomic import read_json, write_text_atomic
from olist_cli.dataset import SOURCE_FILES
from olist_cli.errors import UsageError
from olist_cli.settings import Settings

SAMPLE_MANIFEST = ".olist-sample.json"


@dataclass(frozen=True)
class Fetched:
    folder: Path  # holds the 9 files
    note: str  # what was done, for the log


def fetch_source(
    settings: Settings,
    source: str,
    *,
    scale: float = 1.0,
    seed: int = 42,
    as_of: dt.date | None = None,
    on_event: Callable[[str, str], None] | None = None,
) -> Fetched:
    """Make the 9 raw files available and say where they are.

    ``sample`` generates them into ``settings.raw_dir`` (unless the same sample is already
    there, untouched); ``kaggle`` downloads them there; a folder is used where it is; a
    ``.zip`` is unpacked into ``settings.raw_dir``. ``on_event(kind, message)`` hears
    progress, warnings and retries as they happen (kind: info, progress, warning, retry).
    """
    if source != "sample" and as_of is not None:
        raise UsageError("--as-of applies to --source sample only")
    if source == "sample":
        return _sample(settings.raw_dir, scale=scale, seed=seed, as_of=as_of)
    if source == "kaggle":
        from olist_cli.sources.kaggle import download_kaggle

        folder = download_kaggle(
            settings,
            settings.raw_dir,
            on_event=(lambda e: on_event(e.kind, e.message)) if on_event else None,
        )
        return Fetched(folder, f"{settings.kaggle_dataset} downloaded from Kaggle")
    from olist_cli.sources.local import ZipCaps, resolve_local_source

    folder = resolve_local_source(Path(source), settings.raw_dir, ZipCaps.of(settings))
    return Fetched(folder, f"using the files in {folder}")


def _sample(raw_dir: Path, *, scale: float, seed: int, as_of: dt.date | None) -> Fetched:
    """Generate the sample, or keep the one already in ``raw_dir`` if it is the same."""
    wanted = {
        "generator": _generator_fingerprint(),
        "scale": scale,
        "seed": seed,
        "as_of": as_of.isoformat() if as_of else None,
    }
    manifest = raw_dir / SAMPLE_MANIFEST
    what = f"scale {scale:g}, seed {seed}" + (f", as of {as_of}" if as_of else "")
    if read_json(manifest) == {**wanted, "files": _identities(raw_dir)}:
        return Fetched(raw_dir, f"sample ({what}) already in {raw_dir}, unchanged")
    from olist_cli.sources.sample import generate_sample  # numpy: only when generating

    generate_sample(raw_dir, scale=scale, seed=seed, as_of=as_of)
    # Only a shortcut for the next run: without it, that run generates the sample again.
    with contextlib.suppress(OSError):
        write_text_atomic(
            manifest, json.dumps({**wanted, "files": _identities(raw_dir)}, sort_keys=True)
        )
    return Fetched(raw_dir, f"sample ({what}) generated in {raw_dir}")


def _generator_fingerprint() -> str:
    """A hash of the generator's code: another generator writes other bytes."""
    package = Path(__file__).parent / "sample"
    digest = hashlib.sha256()
    for path in sorted(package.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _identities(folder: Path) -> dict[str, list[int]] | None:
    """Size, inode and times of each of the 9 files; None if one is missing."""
    found = {}
    for source in SOURCE_FILES:
        try:
            st = (folder / source.file_name).stat()
        except OSError:
            return None
        found[source.file_name] = [st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]
    return found
