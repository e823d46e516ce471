"""Fingerprints of what each model and test last ran on, so unchanged work is skipped.

A model's fingerprint hashes its definition (rendered SQL and build config) with the
fingerprints of its inputs: the models it refs, as they stand in the warehouse, and the
raw tables it reads, by the MD5 of the file last loaded into each. When the fingerprint
equals the one recorded at the model's last successful build, building it again would
give the same table, so it is reported `up to date` instead.

The state lives in one table beside `_load_metadata`, written in the same transaction as
the work it records (DuckDB), or in the audit copy that is published with the tables
(BigQuery), so a build that is not published forgets its fingerprints too. Changes are
kept in memory and written by ``flush()`` in two statements, at the end of a build or a
test run (``deferred=True``): one statement per model and test would cost seconds each
on BigQuery. Without ``deferred`` each change is written at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from olist_cli.engine.project import Model
from olist_cli.load import latest_loads
from olist_cli.warehouse.base import Warehouse

STATE_TABLE = "_olist_state"


def digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def digest_of_inputs(
    parts: Sequence[str],
    models: Mapping[str, str | None],
    tables: Iterable[str] = (),
    md5s: Mapping[str, str] | None = None,
) -> str | None:
    """Hash ``parts`` with each model's value in ``models`` and the MD5 (``md5s``) of the
    file behind each raw table in ``tables``, all in name order: what a model's or a
    test's fingerprint is made of. None when a value is unknown: nothing can be assumed."""
    out = list(parts)
    for name in sorted(models):
        value = models[name]
        if value is None:
            return None
        out.append(f"{name}={value}")
    for table in sorted(tables):
        if md5s is None or table not in md5s:
            return None
        out.append(f"{table}={md5s[table]}")
    return digest(*out)


def model_definition(model: Model, sql: str) -> str:
    """What a model's table looks like and how it is built, apart from its data."""
    cfg = model.config
    return digest(
        sql,
        cfg.materialized,
        ",".join(cfg.unique_key),
        cfg.partition_by or "",
        ",".join(cfg.cluster_by),
        ",".join(f"{ref}:{column}" for ref, column in sorted(cfg.keys_from.items())),
    )


@dataclass(frozen=True)
class Recorded:
    """What was recorded for a model or test when it last succeeded."""

    fingerprint: str
    definition: str
    status: str
    failures: int


def forget_unsealed(warehouse: Warehouse, schema: str) -> bool:
    """Drop every record of past work unless the warehouse is sealed; whether any was dropped.

    Records are evidence only about the tables they were written beside: once another
    program may have written the file, a model "up to date" or a test "passed" by its
    record could describe tables that are no longer there.
    """
    if warehouse.sealed or not warehouse.table_exists(schema, STATE_TABLE):
        return False
    relation = warehouse.relation(schema, STATE_TABLE)
    if not warehouse.query(f"select count(*) from {relation}")[0][0]:
        return False
    warehouse.execute(f"delete from {relation} where true")
    return True


class StateStore:
    """Read and write `_olist_state` (kind, name) rows in the raw dataset."""

    def __init__(self, warehouse: Warehouse, schema: str, *, deferred: bool = False) -> None:
        self.warehouse = warehouse
        self.deferred = deferred
        self.schema = schema
        self.relation = warehouse.relation(schema, STATE_TABLE)
        self._recorded: dict[tuple[str, str], Recorded] | None = None
        self._ensured = False
        # (kind, name) -> its new row (None: delete it) and when, until flush().
        self._pending: dict[tuple[str, str], tuple[Recorded, dt.datetime] | None] = {}

    def _columns(self) -> list[tuple[str, str]]:
        d = self.warehouse.dialect
        text, count, moment = d.type_string, d.type_int, d.type_timestamp
        names = ("kind", "name", "fingerprint", "definition", "status", "failures", "recorded_at")
        return list(zip(names, (text, text, text, text, text, count, moment), strict=True))

    def _ensure(self) -> None:
        if self._ensured:
            return
        self._ensured = True
        self.warehouse.ensure_schema(self.schema)
        columns = ", ".join(f"{name} {type_}" for name, type_ in self._columns())
        self.warehouse.execute(f"create table if not exists {self.relation} ({columns})")

    def recorded(self) -> dict[tuple[str, str], Recorded]:
        if self._recorded is None:
            self._recorded = {}
            if self.warehouse.table_exists(self.schema, STATE_TABLE):
                rows = self.warehouse.query(
                    "select kind, name, fingerprint, definition, status, failures "
                    f"from {self.relation}"
                )
                self._recorded = {
                    (kind, name): Recorded(fp, definition, status, int(failures or 0))
                    for kind, name, fp, definition, status, failures in rows
                }
        return self._recorded

    def get(self, kind: str, name: str) -> Recorded | None:
        return self.recorded().get((kind, name))

    def record(self, kind: str, name: str, entry: Recorded) -> None:
        """Replace the row of (kind, name)."""
        self.recorded()[(kind, name)] = entry
        self._pending[(kind, name)] = (entry, dt.datetime.now(dt.UTC).replace(tzinfo=None))
        if not self.deferred:
            self.flush()

    def forget(self, kind: str, name: str) -> None:
        """Drop the row of (kind, name): that work must run again."""
        if self.recorded().pop((kind, name), None) is not None or (kind, name) in self._pending:
            self._pending[(kind, name)] = None
            if not self.deferred:
                self.flush()

    def flush(self, *, failed: bool = False) -> None:
        """Write the changes since the last flush: one DELETE, then one INSERT.

        ``failed``: the work being recorded failed in part, so it will not be published.
        Then a write the warehouse refuses is no error of its own (a DuckDB transaction
        refuses every statement after a failed one): the changes are dropped, and the
        next run redoes that work.
        """
        if failed:
            try:
                self.flush()
            except Exception:
                self._pending.clear()
            return
        if not self._pending:
            return
        self._ensure()
        by_kind: dict[str, list[str]] = {}
        for kind, name in self._pending:
            by_kind.setdefault(kind, []).append(name)
        where = " or ".join(
            f"(kind = ? and name in ({', '.join('?' * len(names))}))" for names in by_kind.values()
        )
        self.warehouse.execute(
            f"delete from {self.relation} where {where}",
            [value for kind, names in by_kind.items() for value in (kind, *names)],
        )
        rows = [
            (kind, name, e.fingerprint, e.definition, e.status, e.failures, at)
            for (kind, name), change in self._pending.items()
            if change is not None
            for e, at in [change]
        ]
        self.warehouse.insert_rows(self.schema, STATE_TABLE, self._columns(), rows)
        self._pending.clear()

    def source_md5s(self) -> dict[str, str]:
        """The MD5 of the file last loaded into each raw table."""

        return {
            table: load.md5 for table, load in latest_loads(self.warehouse, self.schema).items()
        }
