"""A progress bar per file at a terminal; silence elsewhere."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Advance = Callable[[str], None]


@contextmanager
def file_progress(totals: dict[str, int], enabled: bool | None) -> Iterator[Advance]:
    """Yield ``advance(file_name)``; bars show when ``enabled``, or stderr is a terminal."""
    if not (sys.stderr.isatty() if enabled is None else enabled):
        yield lambda name: None
        return
    # rich is imported only when a bar is shown: library and CI runs never pay for it.
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=False,
    ) as bar:
        tasks = {name: bar.add_task(name, total=total) for name, total in totals.items()}
        yield lambda name: bar.advance(tasks[name])
