"""A run that finds the warehouse held waits for it, says who holds it, then fails with exit 3.

Two holders: another olist run (the lock file), and another program that has the DuckDB
file open, as a notebook does (DuckDB lets no other process open it then, even to read).
Each holder here is a child process the test controls: it says when it holds, and lets go
when the test writes a line to it. Timeouts are a second or two, so no test is slow.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fakes.webhook import Webhook
from helpers import copy_data_dir, olist
from olist_cli.errors import EXIT_LOCKED, EXIT_OK
from ops_support import OLIST, contents, olist_env, one_line_error, run_olist

HOLD_THE_LOCK = """
import sys
from olist_cli.lock import warehouse_lock
from olist_cli.settings import load_settings

with warehouse_lock(load_settings(), command="olist run-all"):
    if sys.argv[1] == "and-the-file":  # as a run does, once it uses the warehouse
        import duckdb

        con = duckdb.connect(str(load_settings().duckdb_file))
    print("holding", flush=True)
    sys.stdin.readline()
"""

OPEN_THE_FILE = """
import sys
import duckdb

con = duckdb.connect(sys.argv[1], read_only=sys.argv[2] == "read-only")
print("holding", flush=True)
sys.stdin.readline()
con.close()
"""


class Holder:
    """A child process that holds something until ``let_go``."""

    def __init__(self, script: str, *args: str, data_dir: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", script, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=olist_env(data_dir),
        )
        assert self.process.stdout is not None
        assert self.process.stdout.readline().strip() == "holding"

    @property
    def pid(self) -> int:
        return self.process.pid

    def let_go(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.write("\n")
            self.process.stdin.flush()
            self.process.wait(timeout=30)


@pytest.fixture
def data_dir(sample_warehouse, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    return copy_data_dir(sample_warehouse.data_dir, tmp_path / "data")


@pytest.fixture
def holders() -> Iterator[list[Holder]]:
    started: list[Holder] = []
    yield started
    for holder in started:
        holder.let_go()


def hold_lock(holders: list[Holder], data_dir: Path, *, file_too: bool = False) -> Holder:
    holders.append(Holder(HOLD_THE_LOCK, "and-the-file" if file_too else "", data_dir=data_dir))
    return holders[-1]


def open_file(holders: list[Holder], data_dir: Path, mode: str = "read-only") -> Holder:
    holders.append(Holder(OPEN_THE_FILE, str(data_dir / "olist.duckdb"), mode, data_dir=data_dir))
    return holders[-1]


# -- another olist run ---------------------------------------------------------------------


def test_a_run_waits_for_the_lock_says_who_holds_it_then_fails_with_exit_3(
    data_dir: Path, tmp_path: Path, holders: list[Holder]
) -> None:
    holder = hold_lock(holders, data_dir)
    before = contents(data_dir / "olist.duckdb")
    with Webhook() as hook:
        started = time.monotonic()
        done = run_olist(
            ["load"],
            data_dir,
            cwd=tmp_path,
            OLIST_LOCK_TIMEOUT_S="1.5",
            OLIST_ALERT_WEBHOOK_URL=hook.url,
        )
        waited = time.monotonic() - started
    assert done.returncode == EXIT_LOCKED
    assert 1.5 <= waited < 15
    lock = data_dir / "olist.duckdb.lock"
    who = f"olist run-all (pid {holder.pid}, since "
    assert f"lock      {lock} is held by {who}" in done.stdout
    assert "waiting up to 1.5s for it (OLIST_LOCK_TIMEOUT_S)" in done.stdout
    error = one_line_error(done)
    assert error.startswith(f"error: another olist run holds the warehouse ({lock}): {who}")
    assert error.endswith(
        "; gave up waiting after 1.5s (OLIST_LOCK_TIMEOUT_S); run again once it has finished"
    )
    [alert] = hook.received
    assert alert["stage"] == "lock" and alert["status"] == "locked"
    assert alert["error"] == error.removeprefix("error: ")
    assert contents(data_dir / "olist.duckdb") == before


def test_a_run_waiting_for_the_lock_goes_on_once_it_is_free(
    data_dir: Path, tmp_path: Path, holders: list[Holder]
) -> None:
    holder = hold_lock(holders, data_dir)
    run = subprocess.Popen(
        [str(OLIST), "load"],
        cwd=tmp_path,
        env=olist_env(data_dir, OLIST_LOCK_TIMEOUT_S="60"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert run.stdout is not None
    first = run.stdout.readline()
    assert f"is held by olist run-all (pid {holder.pid}" in first
    holder.let_go()
    out, err = run.communicate(timeout=60)
    assert run.returncode == EXIT_OK, out + err
    assert "orders_raw" in out and "unchanged" in out  # it ran, after the wait
    # Its own owner record was written while it held the lock, and removed after.
    assert not (data_dir / "olist.duckdb.lock.owner").exists()


def test_a_long_wait_says_so_now_and_then(
    data_dir: Path, holders: list[Holder], monkeypatch: pytest.MonkeyPatch
) -> None:
    import olist_cli.waiting

    monkeypatch.setattr(olist_cli.waiting, "REPORT_EVERY_S", 0.3)
    holder = hold_lock(holders, data_dir)
    result = olist(["load"], data_dir, OLIST_LOCK_TIMEOUT_S="1.5")
    assert result.exit_code == EXIT_LOCKED
    lines = [line for line in result.output.splitlines() if " lock " in line]
    assert "is held by" in lines[0]
    still = [line for line in lines[1:] if "still waiting for olist run-all" in line]
    assert len(still) >= 3 and all(f"(pid {holder.pid}," in line for line in still)
    assert still[-1].endswith("of 1.5s")


def test_a_timeout_of_0_fails_at_once(
    data_dir: Path, tmp_path: Path, holders: list[Holder]
) -> None:
    hold_lock(holders, data_dir)
    started = time.monotonic()
    done = run_olist(["load"], data_dir, cwd=tmp_path, OLIST_LOCK_TIMEOUT_S="0")
    assert time.monotonic() - started < 5
    assert done.returncode == EXIT_LOCKED
    assert "waiting" not in done.stdout
    assert one_line_error(done).endswith("; not waiting for it; run again once it has finished")


# -- another program has the file open ----------------------------------------------------


@pytest.mark.parametrize("mode", ["read-only", "read-write"])
def test_a_run_waits_for_a_program_holding_the_file_then_fails_with_exit_3(
    mode: str, data_dir: Path, tmp_path: Path, holders: list[Holder]
) -> None:
    """A notebook with the file open, even read-only. Before: exit 1 at once."""
    holder = open_file(holders, data_dir, mode)
    before_bytes = (data_dir / "olist.duckdb").read_bytes()
    with Webhook() as hook:
        started = time.monotonic()
        done = run_olist(
            ["load"],
            data_dir,
            cwd=tmp_path,
            OLIST_LOCK_TIMEOUT_S="1.5",
            OLIST_ALERT_WEBHOOK_URL=hook.url,
        )
        waited = time.monotonic() - started
    assert done.returncode == EXIT_LOCKED
    assert 1.5 <= waited < 15
    database = data_dir / "olist.duckdb"
    who = f"{Path(sys.executable).resolve()} (PID {holder.pid})"
    assert f"{database} is open in {who}; waiting up to 1.5s for it to let go" in done.stdout
    error = one_line_error(done)
    assert error == (
        f"error: the warehouse {database} is open in {who}, and DuckDB lets no other process "
        "open it; gave up waiting after 1.5s (OLIST_LOCK_TIMEOUT_S); close it there and run "
        "again"
    )
    [alert] = hook.received
    assert alert["status"] == "locked" and alert["stage"] == "load"
    assert alert["error"] == error.removeprefix("error: ")
    holder.let_go()
    assert (data_dir / "olist.duckdb").read_bytes() == before_bytes


def test_a_run_waiting_for_a_program_goes_on_once_it_closes_the_file(
    data_dir: Path, tmp_path: Path, holders: list[Holder]
) -> None:
    holder = open_file(holders, data_dir)
    run = subprocess.Popen(
        [str(OLIST), "load"],
        cwd=tmp_path,
        env=olist_env(data_dir, OLIST_LOCK_TIMEOUT_S="60"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert run.stdout is not None
    lines = [run.stdout.readline()]
    while "is open in" not in lines[-1] and lines[-1]:
        lines.append(run.stdout.readline())
    assert f"(PID {holder.pid})" in lines[-1]
    holder.let_go()
    out, err = run.communicate(timeout=60)
    assert run.returncode == EXIT_OK, "".join(lines) + out + err


def test_status_names_the_olist_run_that_has_the_file_open(
    data_dir: Path, tmp_path: Path, holders: list[Holder]
) -> None:
    """`olist status` takes no lock: it meets the run at the file, and names it from the
    run's owner record. Its waiting lines go to stderr, so stdout stays pure JSON."""
    holder = hold_lock(holders, data_dir, file_too=True)
    done = run_olist(["status", "--json"], data_dir, cwd=tmp_path, OLIST_LOCK_TIMEOUT_S="1")
    assert done.returncode == EXIT_LOCKED
    assert done.stdout == ""
    who = f"olist run-all (pid {holder.pid}, since "
    assert f"{data_dir / 'olist.duckdb'} is open in {who}" in done.stderr.splitlines()[0]
    assert one_line_error(done).startswith(
        f"error: the warehouse {data_dir / 'olist.duckdb'} is open in {who}"
    )


# -- the readers' copy ---------------------------------------------------------------------


def test_a_readers_copy_lets_a_notebook_stay_open_while_runs_go_on(
    data_dir: Path, tmp_path: Path, holders: list[Holder]
) -> None:
    """OLIST_DUCKDB_READER_COPY: each run that changes a table publishes a copy of the file;
    a reader keeps the copy open as long as it likes, and no run waits for it."""
    from helpers import duplicate_a_line, query

    copy = data_dir / "olist.readers.duckdb"
    settings = {"OLIST_DUCKDB_READER_COPY": "true", "OLIST_LOCK_TIMEOUT_S": "0"}
    done = run_olist(["load", "--force"], data_dir, cwd=tmp_path, **settings)
    assert done.returncode == EXIT_OK, done.stdout + done.stderr
    assert f"readers' copy written to {copy}" in done.stdout
    assert contents(copy) == contents(data_dir / "olist.duckdb")

    reader = Holder(OPEN_THE_FILE, str(copy), "read-only", data_dir=data_dir)
    holders.append(reader)
    changed = copy_data_dir(data_dir / "raw", tmp_path / "changed")
    duplicate_a_line(changed, "olist_geolocation_dataset.csv")
    count = "select count(*) from staging.geolocation_raw"
    before = query(copy, count)[0][0]

    done = run_olist(["load", "--source", str(changed)], data_dir, cwd=tmp_path, **settings)
    assert done.returncode == EXIT_OK, done.stdout + done.stderr  # no wait: timeout 0
    assert query(copy, count) == [(before + 1,)]  # a new connection sees the new copy
    assert reader.process.poll() is None  # the reader still has the old one open

    published = copy.stat().st_mtime_ns
    done = run_olist(["load", "--source", str(changed)], data_dir, cwd=tmp_path, **settings)
    assert done.returncode == EXIT_OK
    assert "readers' copy" not in done.stdout  # nothing changed: the copy is left alone
    assert copy.stat().st_mtime_ns == published
