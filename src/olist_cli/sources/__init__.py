"""Where the raw CSV files come from: the sample generator, a local folder or zip, Kaggle."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from olist_cli.errors import UsageError
from olist_cli.settings import Settings


def fetch_source(
    settings: Settings,
    source: str,
    *,
    scale: float = 1.0,
    seed: int = 42,
    as_of: dt.date | None = None,
) -> Path:
    """Make the 9 raw files available; return the folder that holds them.

    ``sample`` generates them into ``settings.raw_dir``; a folder is used where it is; a
    ``.zip`` is unpacked into ``settings.raw_dir``.
    """
    if source == "sample":
        from olist_cli.sources.sample import generate_sample

        generate_sample(settings.raw_dir, scale=scale, seed=seed, as_of=as_of)
        return settings.raw_dir
    if source == "kaggle":
        raise UsageError(
            "--source kaggle is not available in this version yet; download "
            "olistbr/brazilian-ecommerce yourself and pass --source <folder or .zip>"
        )
    if as_of is not None:
        raise UsageError("--as-of applies to --source sample only")
    from olist_cli.sources.local import resolve_local_source

    return resolve_local_source(Path(source), settings.raw_dir)
