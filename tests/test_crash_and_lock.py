"""A run killed at any moment leaves a consistent warehouse; a second run while one holds the
warehouse waits for it, or exits at once with OLIST_LOCK_TIMEOUT_S=0.

Every run here is a real `olist` process (the console script). Each crash test starts from a
copy of a warehouse built from an as-of snapshot, runs `olist run-all` on the full data and
SIGKILLs it: right after a stage's first line appears (load, transform, test, publish) or
after a fraction of an uninterrupted run's time. Then:

- the published tables are either exactly the previous run's or exactly the complete new
  ones, never a mix, and `_olist_state` agrees with whichever it is;
- each raw table holds either its previous file or its new one, and the latest
  `_load_metadata` row of each table names that file's MD5 and the table's row count;
- the next `olist run-all` exits 0 and leaves the warehouse equal to an uninterrupted run.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from helpers import MODELS, WAREHOUSE, copy_data_dir, list_relations, sample_snapshots
from olist_cli.errors import EXIT_LOCKED

SCALE = 0.2  # long enough that each stage lasts a few tenths of a second
SEED = 9
AS_OF = dt.date(2018, 4, 1)
OLIST = Path(sys.executable).parent / "olist"
RUN_TIMEOUT_S = 120


def olist_env(data_dir: Path, **settings: str) -> dict[str, str]:
    data_dir.parent.mkdir(parents=True, exist_ok=True)  # the working folder of the run
    env = {k: v for k, v in os.environ.items() if not k.startswith("OLIST_")}
    env["OLIST_DATA_DIR"] = str(data_dir)
    env["PYTHONUNBUFFERED"] = "1"
    return env | settings


def start(args: list[str], data_dir: Path) -> subprocess.Popen[str]:
    assert OLIST.is_file(), f"no console script at {OLIST}"
    return subprocess.Popen(
        [str(OLIST), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=olist_env(data_dir),
        cwd=data_dir.parent,
    )


def run(args: list[str], data_dir: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(OLIST), *args],
        capture_output=True,
        text=True,
        env=olist_env(data_dir, **settings),
        cwd=data_dir.parent,
        timeout=RUN_TIMEOUT_S,
    )


# -- what a warehouse holds ----------------------------------------------------------------------


@dataclass(frozen=True)
class Contents:
    published: dict[str, str]  # warehouse tables -> digest of their rows
    views: dict[str, str]  # staging views -> digest of what they return
    raw: dict[str, str]  # raw tables -> digest
    raw_rows: dict[str, int]
    latest_load: dict[str, tuple[str, int]]  # raw table -> (file MD5, row count) last loaded
    metadata: list[tuple]  # every _load_metadata row
    state: list[tuple]  # every _olist_state row, exactly
    fingerprints: frozenset[tuple]  # _olist_state without the time each row was written


def _digest(con: duckdb.DuckDBPyConnection, relation: str) -> str:
    """An order-independent digest of a relation's rows, computed by DuckDB (fast at 300k
    rows): the row count and the sum of the rows' hashes."""
    count, total = con.execute(
        f"select count(*), sum(hash(r)::hugeint) from {relation} as r"
    ).fetchone()
    return f"{count}:{total}"


def contents(db: Path) -> Contents:
    con = duckdb.connect(str(db), read_only=True)
    try:

        def names(schema: str, kind: str) -> list[str]:
            return [n for _, n in list_relations(con, schema=schema, kind=kind)]

        raw_tables = [n for n in names("staging", "BASE TABLE") if n.endswith("_raw")]
        latest = con.execute(
            "select table_name, file_md5, row_count from ("
            "select *, row_number() over (partition by table_name "
            "order by finished_at desc, started_at desc) as recency "
            "from staging._load_metadata where status = 'success') where recency = 1"
        ).fetchall()
        state = sorted(con.execute("select * from staging._olist_state").fetchall(), key=repr)
        state_columns = [
            d[0] for d in con.execute("select * from staging._olist_state").description
        ]
        undated = [i for i, c in enumerate(state_columns) if c != "recorded_at"]
        return Contents(
            published={n: _digest(con, f"{WAREHOUSE}.{n}") for n in names(WAREHOUSE, "BASE TABLE")},
            views={
                n: _digest(con, f"dev_warehouse_staging.{n}")
                for n in names("dev_warehouse_staging", "VIEW")
            },
            raw={n: _digest(con, f"staging.{n}") for n in raw_tables},
            raw_rows={
                n: con.execute(f"select count(*) from staging.{n}").fetchone()[0]
                for n in raw_tables
            },
            latest_load={t: (md5, int(rows)) for t, md5, rows in latest},
            metadata=sorted(
                con.execute("select * from staging._load_metadata").fetchall(), key=repr
            ),
            state=state,
            fingerprints=frozenset(tuple(row[i] for i in undated) for row in state),
        )
    finally:
        con.close()


# -- fixtures ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class World:
    previous_files: Path
    new_files: Path
    good: Path  # data dir of a successful run on the previous files
    before: Contents  # ... its contents
    after: Contents  # the contents after an uninterrupted run on the new files
    run_seconds: float  # how long that run took, process start to exit


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    work = tmp_path_factory.mktemp("crash")
    previous, new = sample_snapshots(work, scale=SCALE, seed=SEED, as_of=AS_OF)

    good = work / "good" / "data"
    done = run(["run-all", "--source", str(previous)], good)
    assert done.returncode == 0, done.stdout + done.stderr

    reference = copy_data_dir(good, work / "reference" / "data")
    started = time.perf_counter()
    done = run(["run-all", "--source", str(new)], reference)
    seconds = time.perf_counter() - started
    assert done.returncode == 0, done.stdout + done.stderr

    before, after = contents(good / "olist.duckdb"), contents(reference / "olist.duckdb")
    assert before.published.keys() == after.published.keys()
    assert before.published != after.published  # the new files change every fact
    return World(previous, new, good, before, after, seconds)


@pytest.fixture
def copy_of_good(world: World, tmp_path: Path) -> Path:
    return copy_data_dir(world.good, tmp_path / "data")


# -- the checks after a kill -----------------------------------------------------------------------


def assert_consistent(now: Contents, world: World) -> str:
    """The invariants of a warehouse after a crash; returns which state it is in."""
    before, after = world.before, world.after
    # Published tables: all previous, or all new.
    if now.published == before.published:
        which = "previous"
        assert now.state == before.state, "_olist_state claims work that was not published"
    elif now.published == after.published:
        which = "new"
        assert now.fingerprints == after.fingerprints
        assert now.raw == after.raw
    else:
        mixed = {n for n, d in now.published.items() if d != before.published.get(n)}
        raise AssertionError(f"published tables are neither the previous nor the new: {mixed}")

    # Raw tables: each holds one file or the other, and the metadata says which, truly.
    assert now.raw.keys() == before.raw.keys()
    for table, digest in now.raw.items():
        assert digest in (before.raw[table], after.raw[table]), f"{table} is half loaded"
        md5, rows = now.latest_load[table]
        assert rows == now.raw_rows[table], f"{table}: _load_metadata says {rows} rows"
        if before.raw[table] != after.raw[table]:
            expected = after if digest == after.raw[table] else before
            assert md5 == expected.latest_load[table][0], f"{table}: metadata names another file"
    # The previous metadata rows are all kept; a new row exists for a table only if its new
    # file is what the table holds.
    assert set(before.metadata) <= set(now.metadata)
    added = [row for row in now.metadata if row not in set(before.metadata)]
    reloaded = {t for t in now.raw if now.raw[t] != before.raw[t]}
    assert len(added) == len(reloaded)
    return which


def assert_like_an_uninterrupted_run(now: Contents, world: World) -> None:
    after = world.after
    assert now.published == after.published
    assert now.views == after.views
    assert now.raw == after.raw
    assert {t: md5 for t, (md5, _) in now.latest_load.items()} == {
        t: md5 for t, (md5, _) in after.latest_load.items()
    }
    assert now.fingerprints == after.fingerprints


# -- crashes ---------------------------------------------------------------------------------------

Trigger = Callable[[list[str]], bool]


def _after_line(pattern: str, count: int = 1) -> Trigger:
    regex = re.compile(pattern)
    return lambda lines: sum(1 for line in lines if regex.search(line)) >= count


MODEL_LINE = r"\bmodel\s+\w+"
TRIGGERS: dict[str, tuple[Trigger, str | None]] = {
    # name: (kill once the output so far satisfies this, a line that must NOT have appeared)
    "during-load": (_after_line(r"\bload\s+orders_raw\b"), MODEL_LINE),
    "during-transform": (_after_line(MODEL_LINE), r"\bpublish\b|\btest\s+\d+ tests\b"),
    "during-test": (_after_line(MODEL_LINE, count=len(MODELS)), r"\bpublish\b"),
    "after-publish": (_after_line(r"\bpublish\b"), None),
}


def kill_when(proc: subprocess.Popen[str], trigger: Trigger) -> list[str]:
    """Read the output until ``trigger`` holds, SIGKILL the process; return its output."""
    assert proc.stdout is not None
    lines: list[str] = []
    for line in proc.stdout:
        lines.append(line)
        if trigger(lines):
            proc.send_signal(signal.SIGKILL)
            break
    else:
        raise AssertionError("the run ended before the moment to kill it:\n" + "".join(lines))
    lines.extend(proc.stdout)  # whatever it wrote before it died
    proc.wait(timeout=RUN_TIMEOUT_S)
    assert proc.returncode == -signal.SIGKILL
    return lines


def _recover_and_compare(data_dir: Path, world: World) -> None:
    """The next run completes normally (no stale lock) and ends like an uninterrupted one."""
    done = run(["run-all", "--source", str(world.new_files)], data_dir)
    assert done.returncode == 0, done.stdout + done.stderr
    assert_like_an_uninterrupted_run(contents(data_dir / "olist.duckdb"), world)


@pytest.mark.parametrize("moment", list(TRIGGERS))
def test_killed_at_a_stage(moment: str, copy_of_good: Path, world: World) -> None:
    trigger, not_yet = TRIGGERS[moment]
    proc = start(["run-all", "--source", str(world.new_files)], copy_of_good)
    output = kill_when(proc, trigger)
    if not_yet is not None:  # the kill landed in the stage it was meant for
        late = [line for line in output if re.search(not_yet, line)]
        assert late == [], f"killed too late for '{moment}': {late[0]}"

    which = assert_consistent(contents(copy_of_good / "olist.duckdb"), world)
    assert which == ("new" if moment == "after-publish" else "previous")
    _recover_and_compare(copy_of_good, world)


@pytest.mark.parametrize("fraction", [0.3, 0.5, 0.65, 0.8, 0.95])
def test_killed_after_a_fraction_of_a_run(
    fraction: float, copy_of_good: Path, world: World
) -> None:
    """Moments not tied to a line: wherever the fraction of a normal run's time falls."""
    proc = start(["run-all", "--source", str(world.new_files)], copy_of_good)
    time.sleep(fraction * world.run_seconds)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=RUN_TIMEOUT_S)

    assert_consistent(contents(copy_of_good / "olist.duckdb"), world)
    _recover_and_compare(copy_of_good, world)


def test_killed_twice_in_a_row(copy_of_good: Path, world: World) -> None:
    """A crash on top of a crash's leftovers (partly loaded raw tables, an unreplayed log)."""
    for trigger, _ in (TRIGGERS["during-load"], TRIGGERS["during-transform"]):
        proc = start(["run-all", "--source", str(world.new_files)], copy_of_good)
        kill_when(proc, trigger)
        assert_consistent(contents(copy_of_good / "olist.duckdb"), world)
    _recover_and_compare(copy_of_good, world)


# -- the lock --------------------------------------------------------------------------------------


def test_a_second_run_exits_at_once_while_the_first_holds_the_lock(
    copy_of_good: Path, world: World
) -> None:
    first = start(["run-all", "--source", str(world.new_files)], copy_of_good)
    assert first.stdout is not None
    first_line = first.stdout.readline()  # printed under the lock, after the download stage
    assert first_line, first.communicate()

    started = time.perf_counter()
    second = run(
        ["run-all", "--source", str(world.new_files)], copy_of_good, OLIST_LOCK_TIMEOUT_S="0"
    )
    seconds = time.perf_counter() - started
    still_running = first.poll() is None

    out, err = first.communicate(timeout=RUN_TIMEOUT_S)
    assert first.returncode == 0, first_line + out + err
    assert still_running, "the first run finished before the second tried: nothing was proven"
    assert second.returncode == EXIT_LOCKED, second.stdout + second.stderr
    assert seconds < 3.0
    message = second.stderr.strip().splitlines()[-1]
    assert "another olist run" in message and "olist.duckdb.lock" in message
    # The refused run touched nothing: the first one's result is the uninterrupted one.
    assert_like_an_uninterrupted_run(contents(copy_of_good / "olist.duckdb"), world)

    # The lock is released with the run: the next one gets it (and has nothing to do).
    third = run(["run-all", "--source", str(world.new_files)], copy_of_good)
    assert third.returncode == 0, third.stdout + third.stderr


def test_a_second_run_waits_for_the_first_then_runs(copy_of_good: Path, world: World) -> None:
    """By default a run waits for the lock (OLIST_LOCK_TIMEOUT_S, 300 s): two cron jobs that
    overlap both succeed, one after the other, instead of the second failing."""
    first = start(["run-all", "--source", str(world.new_files)], copy_of_good)
    assert first.stdout is not None
    first_line = first.stdout.readline()
    assert first_line, first.communicate()

    second = run(["run-all", "--source", str(world.new_files)], copy_of_good)
    out, err = first.communicate(timeout=RUN_TIMEOUT_S)
    assert first.returncode == 0, first_line + out + err
    assert second.returncode == 0, second.stdout + second.stderr
    lock = copy_of_good / "olist.duckdb.lock"
    assert f"{lock} is held by olist run-all (pid {first.pid}, since " in second.stdout
    # It found the first run's work done: nothing to load, build or test again.
    assert "9 unchanged" in second.stdout
    assert_like_an_uninterrupted_run(contents(copy_of_good / "olist.duckdb"), world)
