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
from olist_cli.console import Reporter
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
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version_callback, is_eager=True, help="Show the version."
        ),
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print errors and the summary only.")
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="List every data test, passing ones too.")
    ] = False,
) -> None:
    """olist: one command from the 9 Olist CSV files to a tested star schema."""
    ctx.obj = Reporter(quiet=quiet, verbose=verbose)


def _run(stage: Callable[[], T]) -> T:
    """Call a stage; turn an OlistError into a one-line message and its exit code."""
    try:
        return stage()
    except OlistError as exc:
        Reporter().error(exc.message)
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
    float,
    typer.Option("--scale", help="Sample size relative to the real data (1 = 99,441 orders)."),
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


SelectOpt = Annotated[
    str | None,
    typer.Option(
        "--select",
        "-s",
        help="Models to act on, dbt-style: name, +name (with ancestors), name+ "
        "(with descendants), layer:staging, tag:x; several separated by spaces or commas.",
    ),
]
FullRefreshOpt = Annotated[
    bool, typer.Option("--full-refresh", help="Rebuild incremental models from scratch.")
]
ForceOpt = Annotated[
    bool, typer.Option("--force", help="Reload every file, even those already loaded (same MD5).")
]


def _reporter(ctx: typer.Context) -> Reporter:
    reporter = ctx.obj if isinstance(ctx.obj, Reporter) else None
    return reporter or Reporter()


@app.command()
def download(
    ctx: typer.Context,
    source: SourceOpt = "sample",
    scale: ScaleOpt = 1.0,
    seed: SeedOpt = 42,
    as_of: AsOfOpt = None,
) -> None:
    """Fetch (or generate) the 9 raw CSV files into <data dir>/raw."""
    as_of_date = _parse_as_of(as_of)

    def stage() -> None:
        from olist_cli.pipeline import SourceOptions, stage_download, warehouse_lock
        from olist_cli.settings import load_settings

        settings = load_settings()
        options = SourceOptions(source, scale, seed, as_of_date)
        with warehouse_lock(settings):  # a run loading these files must not see them change
            stage_download(settings, options, _reporter(ctx))

    _run(stage)


@app.command()
def load(
    ctx: typer.Context,
    source: Annotated[
        Path | None,
        typer.Option(
            "--source", help="A folder or .zip holding the 9 files; default <data dir>/raw."
        ),
    ] = None,
    force: ForceOpt = False,
) -> None:
    """Load the raw files into raw tables; files already loaded (same MD5) are skipped."""

    def stage() -> None:
        from olist_cli.pipeline import open_warehouse, stage_load, warehouse_lock
        from olist_cli.settings import load_settings
        from olist_cli.sources.local import resolve_local_source

        settings = load_settings()
        folder = resolve_local_source(source or settings.raw_dir, settings.raw_dir)
        with warehouse_lock(settings), open_warehouse(settings) as warehouse:
            stage_load(settings, warehouse, folder, _reporter(ctx), force=force)

    _run(stage)


@app.command()
def transform(
    ctx: typer.Context, select: SelectOpt = None, full_refresh: FullRefreshOpt = False
) -> None:
    """Build the SQL models (views, tables, incremental facts) in dependency order."""

    def stage() -> None:
        from olist_cli.pipeline import open_warehouse, publishing, stage_transform, warehouse_lock
        from olist_cli.settings import load_settings

        settings = load_settings()
        reporter = _reporter(ctx)
        with (
            warehouse_lock(settings),
            open_warehouse(settings) as warehouse,
            publishing(warehouse, reporter) as threads,
        ):
            stage_transform(
                settings,
                warehouse,
                reporter,
                select=select,
                full_refresh=full_refresh,
                threads=threads,
            )

    _run(stage)


@app.command("test")
def test_(ctx: typer.Context, select: SelectOpt = None) -> None:
    """Run the data tests; exit 1 if an error-level test fails."""

    def stage() -> None:
        from olist_cli.pipeline import open_warehouse, stage_test, warehouse_lock
        from olist_cli.settings import load_settings

        settings = load_settings()
        with warehouse_lock(settings), open_warehouse(settings) as warehouse:
            stage_test(settings, warehouse, _reporter(ctx), select=select)

    _run(stage)


@app.command("run-all")
def run_all(
    ctx: typer.Context,
    source: SourceOpt = "sample",
    scale: ScaleOpt = 1.0,
    seed: SeedOpt = 42,
    as_of: AsOfOpt = None,
    select: SelectOpt = None,
    full_refresh: FullRefreshOpt = False,
    force: ForceOpt = False,
) -> None:
    """Download (or generate) → load → transform → test, then print a summary."""
    as_of_date = _parse_as_of(as_of)
    reporter = _reporter(ctx)
    from olist_cli.pipeline import RunReport, SourceOptions

    options = SourceOptions(source, scale, seed, as_of_date)
    report = RunReport()

    def stage() -> None:
        from olist_cli.pipeline import run_all as run_pipeline
        from olist_cli.settings import load_settings

        try:
            run_pipeline(
                load_settings(),
                reporter,
                report,
                options=options,
                select=select,
                full_refresh=full_refresh,
                force=force,
            )
        finally:
            if report.stages:
                reporter.table(
                    "Summary",
                    ["stage", "status", "duration", "rows", "message"],
                    [(s.stage, s.status, s.duration_s, s.rows, s.message) for s in report.stages],
                    always=True,
                )

    _run(stage)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
