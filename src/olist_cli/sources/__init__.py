"""Where the raw CSV files come from: the sample generator, a local folder or zip, Kaggle."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from olist_cli.settings import Settings


def fetch_source(
    settings: Settings,
    source: str,
    *,
    scale: float = 1.0,
    seed: int = 42,
    as_of: dt.date | None = None,
) -> Path:
    """Put the 9 raw files in ``settings.raw_dir`` (or name where they are); return that folder."""
    if source == "sample":
        from olist_cli.sources.sample import generate_sample

        generate_sample(settings.raw_dir, scale=scale, seed=seed, as_of=as_of)
        return settings.raw_dir
    raise NotImplementedError(source)
