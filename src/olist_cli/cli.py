"""The `olist` command line: one thin function per subcommand.

Each command parses its options and hands a body to ``pipeline.run_command``, which loads
settings, takes the warehouse lock, records the run, alerts on failure and turns an
OlistError into its exit code. Heavy libraries (duckdb, pandas, google-cloud-*, kaggle)
are imported inside the stage modules, never here, so `olist --help` stays fast.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from olist_cli import __version__
from olist_cli.console import Reporter

if TYPE_CHECKING:
    from olist_cli.pipeline import Run

app = typer.Typer(
    name="olist",
    help="ELT pipeline for the Olist Brazilian E-Commerce dataset: "
    "download, load, transform and test a star schema on DuckDB or BigQuery.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


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
        bool,
        typer.Option(
            "--verbose", "-v", help="List every data test, and the rows behind each warning."
        ),
    ] = False,
    log_format: Annotated[
        str,
        typer.Option(
            "--log-format",
            help="text: rich at a terminal, timestamped plain lines elsewhere; "
            "json: one JSON object per event.",
        ),
    ] = "text",
) -> None:
    """olist: one command from the 9 Olist CSV files to a tested star schema."""
    if log_format not in ("text", "json"):
        raise typer.BadParameter("must be 'text' or 'json'", param_hint="--log-format")
    ctx.obj = Reporter(style="json" if log_format == "json" else None, quiet=quiet, verbose=verbose)


def _reporter(ctx: typer.Context) -> Reporter:
    return ctx.obj if isinstance(ctx.obj, Reporter) else Reporter()


def _execute(
    ctx: typer.Context,
    command: str,
    body: Callable[[Run], None],
    *,
    needs_warehouse: bool = True,
    read_only: bool = False,
    summary: bool = False,
) -> None:
    from olist_cli.pipeline import run_command

    args = {k: _plain(v) for k, v in ctx.params.items()}
    code = run_command(
        command,
        args,
        _reporter(ctx),
        body,
        needs_warehouse=needs_warehouse,
        read_only=read_only,
        summary=summary,
    )
    if code:
        raise typer.Exit(code)


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, Path | dt.date) else value


def _parse_date(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date in YYYY-MM-DD form", param_hint=option
        ) from None


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
AllowShrinkOpt = Annotated[
    bool,
    typer.Option(
        "--allow-shrink",
        help="Let this run's load empty a raw table, or remove more than "
        "OLIST_LOAD_MAX_SHRINK of its rows (refused otherwise).",
    ),
]


@app.command()
def download(
    ctx: typer.Context,
    source: SourceOpt = "sample",
    scale: ScaleOpt = 1.0,
    seed: SeedOpt = 42,
    as_of: AsOfOpt = None,
) -> None:
    """Fetch (or generate) the 9 raw CSV files into <data dir>/raw."""
    from olist_cli.pipeline import SourceOptions, stage_download

    options = SourceOptions(source, scale, seed, _parse_date(as_of, "--as-of"))

    def body(run: Run) -> None:
        with run.stage("download") as result:
            result.message = stage_download(run, options).note

    _execute(ctx, "download", body, needs_warehouse=False)


@app.command()
def archive(
    ctx: typer.Context,
    date: Annotated[
        str | None,
        typer.Option(
            "--date", metavar="YYYY-MM-DD", help="Load date of the archive folder; default today."
        ),
    ] = None,
) -> None:
    """Copy the raw files to gs://<bucket>/<prefix>/<date>/, or to <data dir>/archive/<date>/.

    Files whose MD5 already matches the archived copy are skipped.
    """
    load_date = _parse_date(date, "--date")

    def body(run: Run) -> None:
        from olist_cli.pipeline import stage_archive
        from olist_cli.sources.local import ZipCaps, resolve_local_source

        with run.stage("archive") as result:
            folder = resolve_local_source(
                run.settings.raw_dir, run.settings.raw_dir, ZipCaps.of(run.settings)
            )
            result.rows, result.message = stage_archive(run, folder, load_date=load_date)

    _execute(ctx, "archive", body, needs_warehouse=False)


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
    allow_shrink: AllowShrinkOpt = False,
) -> None:
    """Load the raw files into raw tables; files already loaded (same MD5) are skipped."""

    def body(run: Run) -> None:
        from olist_cli.pipeline import stage_load
        from olist_cli.sources.local import ZipCaps, resolve_local_source

        with run.stage("load") as result:
            folder = resolve_local_source(
                source or run.settings.raw_dir, run.settings.raw_dir, ZipCaps.of(run.settings)
            )
            result.rows, result.message = stage_load(
                run, folder, force=force, allow_shrink=allow_shrink
            )

    _execute(ctx, "load", body)


@app.command()
def transform(
    ctx: typer.Context,
    select: SelectOpt = None,
    full_refresh: FullRefreshOpt = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="BigQuery: print each model's estimated bytes processed; build nothing.",
        ),
    ] = False,
) -> None:
    """Build the SQL models (views, tables, incremental facts) in dependency order.

    Every model is published at once when all have built; a failure publishes nothing.
    """

    def body(run: Run) -> None:
        from olist_cli.pipeline import publishing, stage_dry_run, stage_transform

        if dry_run:
            with run.stage("dry-run") as result:
                result.message = stage_dry_run(run, select=select)
            return
        with publishing(run) as threads, run.stage("transform") as result:
            result.rows, result.message = stage_transform(
                run, select=select, full_refresh=full_refresh, threads=threads
            )

    _execute(ctx, "transform", body)


@app.command("test")
def test_(ctx: typer.Context, select: SelectOpt = None) -> None:
    """Run the data tests; exit 1 if an error-level test fails."""

    def body(run: Run) -> None:
        from olist_cli.pipeline import stage_test

        with run.stage("test") as result:
            result.rows, result.message = stage_test(run, select=select)

    _execute(ctx, "test", body)


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
    allow_shrink: AllowShrinkOpt = False,
) -> None:
    """Download (or generate) → load → transform → test, then print a summary."""
    from olist_cli.pipeline import SourceOptions
    from olist_cli.pipeline import run_all as run_pipeline

    options = SourceOptions(source, scale, seed, _parse_date(as_of, "--as-of"))

    def body(run: Run) -> None:
        run_pipeline(
            run,
            options=options,
            select=select,
            full_refresh=full_refresh,
            force=force,
            allow_shrink=allow_shrink,
        )

    _execute(ctx, "run-all", body, summary=True)


@app.command()
def lineage(
    ctx: typer.Context,
    select: SelectOpt = None,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            help="text (a tree), mermaid or dot (Graphviz); with --column: text, json or mermaid.",
        ),
    ] = "text",
    column: Annotated[
        str | None,
        typer.Option(
            "--column",
            "-c",
            metavar="MODEL.COLUMN",
            help="The columns this column is computed from, model by model, down to the raw "
            "files' columns.",
        ),
    ] = None,
) -> None:
    """Show the model DAG, from raw tables through staging to dimensions and facts; or,
    with --column, the lineage of one column."""
    from olist_cli.engine import load_project
    from olist_cli.errors import OlistError, UsageError
    from olist_cli.lineage import render_lineage
    from olist_cli.settings import load_settings

    try:
        settings = load_settings()
        if column is None:
            text = render_lineage(load_project(settings), select=select, fmt=fmt)  # type: ignore[arg-type]
        elif select is not None:
            raise UsageError("--column and --select: give one (--column names its model)")
        else:
            from olist_cli.column_lineage import render_column_lineage

            text = render_column_lineage(settings, load_project(settings), column, fmt=fmt)
    except OlistError as exc:
        _reporter(ctx).error(exc.message)
        raise typer.Exit(exc.exit_code) from None
    # Not rich: Mermaid's [labels] would read as markup. The column lineage ends in a newline.
    typer.echo(text, nl=column is None)


@app.command()
def diff(
    ctx: typer.Context,
    sides: Annotated[
        list[str],
        typer.Argument(
            metavar="WAREHOUSE",
            help="[BASE] CANDIDATE: one or two warehouses, each a DuckDB file, a data dir, "
            "'bigquery' or 'bigquery:PROJECT', or nothing (the warehouse the settings name), "
            "then optionally @TARGET, the target schema its models were built under. "
            "One given: the settings' warehouse is BASE.",
            show_default=False,
        ),
    ],
    select: SelectOpt = None,
    views: Annotated[
        bool,
        typer.Option("--views", help="Compare the views too (their SQL run on each side)."),
    ] = False,
    samples: Annotated[
        int, typer.Option("--samples", help="Sample rows shown per kind of difference.")
    ] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print the differences as JSON.")] = False,
    fail_on_diff: Annotated[
        bool, typer.Option("--fail-on-diff", help="Exit 1 when any compared model differs.")
    ] = False,
) -> None:
    """Compare the models of two warehouses, row by row: what a change to the SQL did.

    Per model: rows only on one side, rows changed (by its unique key), changes per column.

    Exit 0; with --fail-on-diff, 1 when anything differs; 2 when the diff cannot be made.
    """
    import json

    from olist_cli.diff import diff_warehouses, to_json, to_text
    from olist_cli.engine import load_project
    from olist_cli.errors import OlistError
    from olist_cli.settings import load_settings

    try:
        settings = load_settings()
        report = diff_warehouses(
            settings, load_project(settings), sides, select=select, views=views, samples=samples
        )
    except OlistError as exc:
        _reporter(ctx).error(exc.message)
        raise typer.Exit(2) from None  # 1 means "differs", whatever stopped the diff
    typer.echo(json.dumps(to_json(report), indent=2) if as_json else to_text(report), nl=as_json)
    if fail_on_diff and not report.identical:
        raise typer.Exit(1)


@app.command()
def docs(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="Folder of the generated site.")] = Path(
        "target/docs"
    ),
    serve: Annotated[
        bool, typer.Option("--serve", help="Serve the site on localhost after building it.")
    ] = False,
    port: Annotated[int, typer.Option("--port", help="Port for --serve.")] = 8000,
) -> None:
    """Generate a static HTML site: every source and model, columns, tests, SQL, lineage."""
    built: list[Path] = []

    def body(run: Run) -> None:
        from olist_cli.docsite import build_site
        from olist_cli.engine import load_project

        with run.stage("docs") as result:
            index = build_site(
                run.settings, run.wh, load_project(run.settings, run.wh.dialect), out
            )
            result.message = f"site written to {index}"
            run.reporter.event("docs", result.message, path=str(index))
            built.append(index)

    _execute(ctx, "docs", body, read_only=True)
    if serve and built:
        from olist_cli.docsite import serve as serve_site

        reporter = _reporter(ctx)
        try:
            serve_site(
                out,
                port=port,
                on_ready=lambda url: reporter.event("docs", f"serving on {url} (Ctrl+C stops)"),
            )
        except KeyboardInterrupt:
            reporter.event("docs", "stopped")


@app.command()
def report(
    ctx: typer.Context,
    out: Annotated[
        Path, typer.Option("--out", help="The HTML file to write (self-contained).")
    ] = Path("target/report.html"),
) -> None:
    """Write an analytics report from the warehouse: one HTML file with charts and readings."""

    def body(run: Run) -> None:
        from olist_cli.report import build_report

        with run.stage("report") as result:
            path = build_report(run.settings, run.wh, out)
            result.message = f"report written to {path}"
            run.reporter.event("report", result.message, path=str(path))

    _execute(ctx, "report", body, read_only=True)


@app.command()
def status(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print the status as JSON.")] = False,
) -> None:
    """Show the last load of each raw table, the last run, table freshness and failing tests."""
    import json

    from olist_cli.credentials import check_secret_files
    from olist_cli.errors import OlistError
    from olist_cli.pipeline import open_warehouse
    from olist_cli.settings import load_settings
    from olist_cli.status import collect_status

    reporter = _reporter(ctx)
    try:
        settings = load_settings()
        for warning in check_secret_files(settings):  # on stderr: --json's stdout stays JSON
            reporter.error(warning, level="warning", stage="settings")
        # Read-only, without the run lock: it works on a read-only file or folder, creates
        # no database where there is none, and waits while a run has the file open.
        # Waiting lines go to stderr: stdout may be the --json document.
        with open_warehouse(
            settings, read_only=True, on_wait=lambda line: typer.echo(line, err=True)
        ) as warehouse:
            found = collect_status(settings, warehouse)
    except OlistError as exc:
        reporter.error(exc.message)
        raise typer.Exit(exc.exit_code) from None
    if as_json:
        typer.echo(json.dumps(found.to_json(), indent=2, default=str))
        return
    _print_status(reporter, found)


def _print_status(reporter: Reporter, found: Any) -> None:
    if not found.raw_tables and found.last_run is None and not found.tables:
        reporter.event(
            "status", "nothing loaded or built yet: run `olist run-all`", level="summary"
        )
        return
    run = found.last_run
    if run:
        reporter.table(
            "Last run",
            ["command", "status", "started", "duration", "error"],
            [(run["command"], run["status"], run["started_at"], run["duration_s"], run["error"])],
            always=True,
        )
    reporter.table(
        "Raw tables (last load)",
        ["table", "file", "md5", "rows", "loaded at"],
        [
            (r["table"], r["file"], r["md5"][:12], r["rows"], r["loaded_at"])
            for r in found.raw_tables
        ],
        always=True,
    )
    reporter.table(
        "Warehouse tables",
        ["table", "rows", "freshness"],
        [(f"{t['schema']}.{t['table']}", t["rows"], t["freshness"]) for t in found.tables],
        always=True,
    )
    if found.failing_tests:
        reporter.table(
            "Tests failing in their last run",
            ["test", "status", "message", "run at"],
            [(t["test"], t["status"], t["message"], t["run_at"]) for t in found.failing_tests],
            always=True,
        )


def main() -> None:
    if _asks_for_json(sys.argv[1:]):
        _main_json()
    try:
        app()
    except KeyboardInterrupt:  # Ctrl-C: a one-line message, not a traceback
        Reporter().error("interrupted")
        raise SystemExit(130) from None


def _asks_for_json(args: list[str]) -> bool:
    """Whether --log-format json is asked for, read before Click parses anything: a usage
    error found while parsing must be a JSON line too."""
    for i, arg in enumerate(args):
        if arg == "--":
            break
        if arg == "--log-format=json" or args[i : i + 2] == ["--log-format", "json"]:
            return True
    return False


def _main_json() -> NoReturn:
    """Run the app with every line it writes a JSON object, usage errors and crashes too."""
    try:  # recent typers vendor Click, earlier ones use it
        from typer._click.exceptions import ClickException
    except ImportError:
        from click.exceptions import ClickException  # type: ignore[no-redef]

    reporter = Reporter(style="json")
    reporter.capture_library_output()
    try:
        code = app(standalone_mode=False)
    except ClickException as exc:
        where = exc.ctx.command_path if getattr(exc, "ctx", None) else "olist"  # type: ignore[attr-defined]
        reporter.error(f"{where}: {exc.format_message()} (see {where} --help)")
        raise SystemExit(exc.exit_code) from None
    except (typer.Abort, KeyboardInterrupt):
        reporter.error("interrupted")
        raise SystemExit(130) from None
    except Exception as exc:  # a bug: one CRITICAL line, for the alert to find
        reporter.crash(exc)
        raise SystemExit(1) from None
    raise SystemExit(code if isinstance(code, int) else 0)
