"""The `olist` command line: one thin function per subcommand.

Each command parses its options, loads settings, calls one stage function, and turns an
OlistError into its exit code. Heavy libraries (duckdb, pandas, google-cloud-*, kaggle)
are imported inside the stage modules, never here, so `olist --help` stays fast.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from olist_cli import __version__
from olist_cli.errors import OlistError

app = typer.Typer(
    name="olist",
    help="ELT pipeline for the Olist Brazilian E-Commerce dataset: "
    "download, load, transform and test a star schema on DuckDB or BigQuery.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

T = TypeVar("T")


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"olist {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version_callback, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """olist: one command from the 9 Olist CSV files to a tested star schema."""


def _run(stage: Callable[[], T]) -> T:
    """Call a stage; turn an OlistError into a one-line message and its exit code."""
    try:
        return stage()
    except OlistError as exc:
        typer.secho(f"error: {exc.message}", err=True, fg=typer.colors.RED)
        raise typer.Exit(exc.exit_code) from None


def _parse_as_of(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date in YYYY-MM-DD form") from None


SourceOpt = Annotated[
    str,
    typer.Option(
        "--source",
        help="Where the 9 CSV files come from: 'sample' (the built-in generator), "
        "'kaggle', or a path to a folder or .zip holding them.",
    ),
]
ScaleOpt = Annotated[
    float, typer.Option("--scale", help="Sample size relative to the real data (1 = 99,441 orders).")
]
SeedOpt = Annotated[int, typer.Option("--seed", help="Random seed of the sample generator.")]
AsOfOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        metavar="YYYY-MM-DD",
        help="Sample only: the data as it was known at the end of this day.",
    ),
]


@app.command()
def download(
    source: SourceOpt = "sample",
    scale: ScaleOpt = 1.0,
    seed: SeedOpt = 42,
    as_of: AsOfOpt = None,
) -> None:
    """Fetch (or generate) the 9 raw CSV files into <data dir>/raw."""
    as_of_date = _parse_as_of(as_of)

    def stage() -> None:
        from olist_cli.settings import load_settings
        from olist_cli.sources import fetch_source

        settings = load_settings()
        fetch_source(settings, source, scale=scale, seed=seed, as_of=as_of_date)

    _run(stage)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
