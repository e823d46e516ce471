"""Operational failures a person can cause are one line, a named error and its exit code.

Unreadable sources, read-only folders and files, a lock path that is a folder, a truncated
or foreign warehouse file, a full disk while downloading or at the commit: each run here is
the real `olist` in a child process; each asserts the exit code, the one-line message (no
traceback), and that no table, view or `_load_metadata` row changed.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import ORDERS_FILE, copy_data_dir, duplicate_a_line, generate
from olist_cli.errors import EXIT_FAILURE, EXIT_OK, EXIT_USAGE
from ops_support import contents, fill, one_line_error, run_olist, tiny_disk

GEOLOCATION_FILE = "olist_geolocation_dataset.csv"


@pytest.fixture
def data_dir(sample_warehouse, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    """A private copy of the small built warehouse, its raw files in data/raw."""
    return copy_data_dir(sample_warehouse.data_dir, tmp_path / "data")


@pytest.fixture
def changed_source(data_dir: Path, tmp_path: Path) -> Path:
    """The warehouse's files with one more geolocation row: a load has something to commit."""
    folder = shutil.copytree(data_dir / "raw", tmp_path / "changed")
    duplicate_a_line(folder, GEOLOCATION_FILE)
    return folder


@pytest.fixture
def read_only(tmp_path: Path) -> Iterator[list[Path]]:
    """Paths to chmod read-only (files 0444, folders 0555); made writable again after."""
    paths: list[Path] = []
    yield paths
    for path in paths:
        path.chmod(0o755 if path.is_dir() else 0o644)


def make_read_only(paths: list[Path], *targets: Path) -> None:
    for target in targets:
        target.chmod(0o555 if target.is_dir() else 0o444)
        paths.append(target)


# -- unreadable sources ------------------------------------------------------------------


def test_an_unreadable_source_folder_is_one_line(data_dir: Path, tmp_path: Path) -> None:
    source = shutil.copytree(data_dir / "raw", tmp_path / "source")
    source.chmod(0o000)
    before = contents(data_dir / "olist.duckdb")
    try:
        done = run_olist(
            ["run-all", "--source", str(source)],
            data_dir,
            cwd=tmp_path,
            without_file_permissions=True,
        )
    finally:
        source.chmod(0o755)
    assert done.returncode == EXIT_USAGE
    assert one_line_error(done) == (
        f"error: cannot read the source folder {source}: Permission denied"
    )
    assert contents(data_dir / "olist.duckdb") == before


@pytest.mark.parametrize("command", ["run-all", "load"])
def test_an_unreadable_source_file_is_one_line(
    command: str, data_dir: Path, changed_source: Path, tmp_path: Path
) -> None:
    unreadable = changed_source / ORDERS_FILE
    unreadable.chmod(0o000)
    before = contents(data_dir / "olist.duckdb")
    done = run_olist(
        [command, "--source", str(changed_source)],
        data_dir,
        cwd=tmp_path,
        without_file_permissions=True,
    )
    assert done.returncode == EXIT_USAGE
    assert one_line_error(done) == (
        f"error: cannot read the source file {unreadable}: Permission denied"
    )
    assert contents(data_dir / "olist.duckdb") == before


def test_an_unreadable_zip_is_one_line_not_a_wrong_guess(data_dir: Path, tmp_path: Path) -> None:
    archive = tmp_path / "olist.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted((data_dir / "raw").glob("*.csv")):
            zf.write(path, path.name)
    archive.chmod(0o000)
    done = run_olist(
        ["run-all", "--source", str(archive)], data_dir, cwd=tmp_path, without_file_permissions=True
    )
    assert done.returncode == EXIT_USAGE
    # Before: "is neither a folder nor a .zip file", since is_zipfile cannot read it either.
    assert (
        one_line_error(done) == f"error: cannot read the source file {archive}: Permission denied"
    )


# -- read-only folders and files ---------------------------------------------------------


@pytest.mark.parametrize("lock_file_exists", [False, True])
def test_a_read_only_data_folder_refuses_a_load_before_it_starts(
    lock_file_exists: bool,
    data_dir: Path,
    changed_source: Path,
    tmp_path: Path,
    read_only: list[Path],
) -> None:
    """Without a lock file the run cannot take the lock; with one (writable), DuckDB could
    not write its log: before, that surfaced as a traceback from the COMMIT."""
    lock = data_dir / "olist.duckdb.lock"
    if lock_file_exists:
        lock.touch()
    before = contents(data_dir / "olist.duckdb")
    make_read_only(read_only, data_dir)
    done = run_olist(
        ["load", "--source", str(changed_source)],
        data_dir,
        cwd=tmp_path,
        without_file_permissions=True,
    )
    assert done.returncode == EXIT_USAGE
    error = one_line_error(done)
    if lock_file_exists:
        assert error == (
            f"error: cannot write the warehouse {data_dir / 'olist.duckdb'}: its folder "
            f"{data_dir} is read-only for this user (DuckDB writes its log there); "
            "`olist status` can still read it"
        )
    else:
        assert error == (
            f"error: cannot create the lock file {lock} (a run writes it beside the "
            "warehouse): Permission denied"
        )
    assert contents(data_dir / "olist.duckdb") == before


def test_a_read_only_warehouse_file_is_one_line(
    data_dir: Path, changed_source: Path, tmp_path: Path, read_only: list[Path]
) -> None:
    database = data_dir / "olist.duckdb"
    before = contents(database)
    make_read_only(read_only, database)
    done = run_olist(
        ["load", "--source", str(changed_source)],
        data_dir,
        cwd=tmp_path,
        without_file_permissions=True,
    )
    assert done.returncode == EXIT_USAGE
    error = one_line_error(done)
    assert error.startswith(f"error: cannot open the warehouse {database}: ")
    assert error.endswith("Permission denied")
    assert contents(database) == before


@pytest.mark.parametrize("what", ["file", "folder and file"])
def test_read_only_commands_work_on_a_read_only_warehouse(
    what: str, data_dir: Path, tmp_path: Path, read_only: list[Path]
) -> None:
    """status, docs and report open the warehouse read-only, take no lock, record nothing."""
    database = data_dir / "olist.duckdb"
    make_read_only(read_only, database, *([data_dir] if what != "file" else []))
    listing = sorted(p.name for p in data_dir.iterdir())
    before = contents(database)

    status = run_olist(["status", "--json"], data_dir, cwd=tmp_path, without_file_permissions=True)
    assert status.returncode == EXIT_OK, status.stderr
    found = json.loads(status.stdout)
    assert {t["table"] for t in found["tables"]} >= {"fact_orders", "dim_customer"}
    assert found["last_run"]["command"] == "run-all"

    docs = run_olist(
        ["docs", "--out", str(tmp_path / "site")],
        data_dir,
        cwd=tmp_path,
        without_file_permissions=True,
    )
    assert docs.returncode == EXIT_OK, docs.stderr
    assert (tmp_path / "site" / "index.html").is_file()
    report = run_olist(
        ["report", "--out", str(tmp_path / "report.html")],
        data_dir,
        cwd=tmp_path,
        without_file_permissions=True,
    )
    assert report.returncode == EXIT_OK, report.stderr
    assert "fact_orders" in (tmp_path / "report.html").read_text(encoding="utf-8")

    for done in (status, docs, report):
        assert "Traceback" not in done.stdout + done.stderr
        assert "could not append" not in done.stdout  # a reader does not try to write
    assert sorted(p.name for p in data_dir.iterdir()) == listing  # no lock, no log
    assert contents(database) == before


@pytest.mark.parametrize("command", ["status", "docs", "report"])
def test_read_only_commands_create_no_database(command: str, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    done = run_olist([command], data_dir, cwd=tmp_path)
    assert "Traceback" not in done.stdout + done.stderr
    if command == "report":  # nothing to report on: says what to build
        assert done.returncode == EXIT_FAILURE
        assert "run `olist run-all`" in one_line_error(done)
    else:
        assert done.returncode == EXIT_OK, done.stderr
    # No database, no lock, no log (the engine may cache its parse of the SQL there).
    assert not data_dir.exists() or not list(data_dir.glob("olist.duckdb*"))


def test_a_lock_path_that_is_a_folder_is_one_line(data_dir: Path, tmp_path: Path) -> None:
    lock = data_dir / "olist.duckdb.lock"
    lock.mkdir()
    before = contents(data_dir / "olist.duckdb")
    done = run_olist(["load"], data_dir, cwd=tmp_path)
    assert done.returncode == EXIT_USAGE
    assert one_line_error(done) == (
        f"error: the lock file {lock} is a folder: remove it (a run creates the file)"
    )
    assert contents(data_dir / "olist.duckdb") == before


def test_an_unreadable_settings_file_is_one_line(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("OLIST_THREADS=2\n", encoding="utf-8")
    env_file.chmod(0o000)
    done = run_olist(["status"], tmp_path / "data", cwd=tmp_path, without_file_permissions=True)
    assert done.returncode == EXIT_USAGE
    assert one_line_error(done) == "error: cannot read the settings file .env: Permission denied"


def test_an_unreadable_model_file_is_one_line(data_dir: Path, tmp_path: Path) -> None:
    from helpers import REPO_SQL

    sql = shutil.copytree(REPO_SQL, tmp_path / "sql")
    model = sql / "staging" / "stg_orders.sql"
    model.chmod(0o000)
    before = contents(data_dir / "olist.duckdb")
    done = run_olist(
        ["transform"],
        data_dir,
        cwd=tmp_path,
        without_file_permissions=True,
        OLIST_SQL_DIR=str(sql),
    )
    assert done.returncode == EXIT_USAGE
    # Named as the project's other errors name files: relative to the working folder.
    assert one_line_error(done).startswith(
        "error: cannot read sql/staging/stg_orders.sql: Permission denied"
    )
    assert contents(data_dir / "olist.duckdb") == before


def test_a_read_only_archive_folder_is_one_line(
    data_dir: Path, tmp_path: Path, read_only: list[Path]
) -> None:
    archive = data_dir / "archive"
    archive.mkdir()
    make_read_only(read_only, archive)
    done = run_olist(
        ["archive", "--date", "2024-01-02"], data_dir, cwd=tmp_path, without_file_permissions=True
    )
    assert done.returncode == EXIT_USAGE
    assert one_line_error(done) == (
        f"error: cannot create the archive folder {archive / '2024-01-02'}: Permission denied"
    )


# -- damaged warehouse files -------------------------------------------------------------


@pytest.mark.parametrize("command", ["status", "load", "test"])
def test_a_truncated_warehouse_file_is_one_line(
    command: str, data_dir: Path, tmp_path: Path
) -> None:
    """Before: the file opened, and the first query reading past its end was a traceback."""
    database = data_dir / "olist.duckdb"
    whole = database.read_bytes()
    database.write_bytes(whole[: len(whole) // 3])
    done = run_olist([command], data_dir, cwd=tmp_path)
    assert done.returncode == EXIT_FAILURE
    error = one_line_error(done)
    assert error.startswith(f"error: the warehouse {database} is truncated: {len(whole) // 3:,} ")
    assert database.read_bytes() == whole[: len(whole) // 3]  # left as it was, to be restored


def test_status_on_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "olist.duckdb").write_text("a spreadsheet, perhaps\n", encoding="utf-8")
    done = run_olist(["status"], data_dir, cwd=tmp_path)
    assert done.returncode == EXIT_FAILURE
    error = one_line_error(done)
    assert error.startswith(f"error: cannot open the warehouse {data_dir / 'olist.duckdb'}: ")
    assert "not a valid DuckDB database file" in error


# -- a full disk ---------------------------------------------------------------------------


@pytest.mark.parametrize("size", ["300k", "1200k"])
def test_a_full_disk_while_generating_the_sample_leaves_the_old_files(
    size: str, tmp_path: Path
) -> None:
    """300k fills up in the first big file, where closing the others fails too (before:
    a traceback, and nine .tmp files left on every try); 1200k fills up later, in a write."""
    with tiny_disk(tmp_path / "disk", size) as disk:
        raw = generate(disk / "data" / "raw", scale=0.001, seed=1)
        old = {p.name: p.read_bytes() for p in raw.iterdir()}
        for _ in range(2):  # every try cleans up after itself
            done = run_olist(["download", "--scale", "0.01"], disk / "data", cwd=tmp_path)
            assert done.returncode == EXIT_FAILURE
            error = one_line_error(done)
            assert error.startswith(f"error: writing {raw}/")
            assert error.endswith("No space left on device (free some space and run again)")
            assert {p.name: p.read_bytes() for p in raw.iterdir()} == old


def test_a_full_disk_while_unpacking_a_zip_leaves_nothing_behind(
    data_dir: Path, tmp_path: Path
) -> None:
    archive = tmp_path / "olist.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted((data_dir / "raw").glob("*.csv")):
            zf.write(path, path.name)
    with tiny_disk(tmp_path / "disk", "300k") as disk:
        done = run_olist(["download", "--source", str(archive)], disk / "data", cwd=tmp_path)
        assert done.returncode == EXIT_FAILURE
        error = one_line_error(done)
        assert error.startswith(f"error: cannot unpack {archive} into {disk / 'data' / 'raw'}: ")
        assert error.endswith("No space left on device (free some space and run again)")
        assert sorted(p.name for p in (disk / "data").iterdir()) == ["olist.duckdb.lock"]


@pytest.mark.parametrize(
    "args",
    [["run-all", "--source", "RAW", "--force"], ["transform", "--full-refresh"]],
    ids=["run-all", "transform"],
)
def test_a_full_disk_at_the_commit_publishes_nothing(
    args: list[str], data_dir: Path, tmp_path: Path
) -> None:
    """DuckDB writes its log at the COMMIT: with no room for it, nothing is published."""
    database_bytes = (data_dir / "olist.duckdb").stat().st_size
    with tiny_disk(tmp_path / "disk", f"{database_bytes // 1024 + 2048}k") as disk:
        on_disk = copy_data_dir(data_dir, disk / "data")
        before = contents(on_disk / "olist.duckdb")
        fill(disk, leave_bytes=200_000)
        argv = [str(on_disk / "raw") if a == "RAW" else a for a in args]
        done = run_olist(argv, on_disk, cwd=tmp_path)
        assert done.returncode == EXIT_FAILURE, done.stdout + done.stderr
        error = one_line_error(done)
        assert error.startswith(f"error: cannot commit to the warehouse {on_disk / 'olist.duckdb'}")
        assert "No space left on device (free some space and run again)" in error
        assert error.endswith("nothing was published, the warehouse is as it was before this run")
        (disk / "filler").unlink()
        assert contents(on_disk / "olist.duckdb") == before


def test_a_full_disk_at_the_checkpoint_says_the_work_is_committed(tmp_path: Path) -> None:
    """DuckDB checkpoints at a COMMIT once its log passes a threshold (16 MB; 1 kB here).
    The commit is durable then, in the log: the error says so, not "nothing published"."""
    from olist_cli.errors import CheckpointError
    from olist_cli.warehouse.duckdb import DuckDBWarehouse

    with tiny_disk(tmp_path / "disk", "8m") as disk:
        database = disk / "w.duckdb"
        warehouse = DuckDBWarehouse(database)
        warehouse.execute("SET checkpoint_threshold = '1GB'")
        warehouse.execute("create table kept as select 1 as i")
        warehouse.execute(
            "create table big as select range as i, md5(range::varchar) as s from range(60000)"
        )
        fill(disk, leave_bytes=64 * 1024)
        warehouse.execute("SET checkpoint_threshold = '1kB'")
        with pytest.raises(CheckpointError) as raised, warehouse.transaction():
            warehouse.execute("insert into kept values (2)")
        warehouse.close()
        assert raised.value.message.startswith(
            f"the run's changes are committed to the log of the warehouse {database}, but "
            "DuckDB could not write them into the file: "
        )
        assert "No space left on device" in raised.value.message
        (disk / "filler").unlink()
        reopened = DuckDBWarehouse(database)
        assert reopened.query("select i from kept order by i") == [(1,), (2,)]
        reopened.close()
