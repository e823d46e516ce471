"""BigQuery: datasets for schemas, load and copy jobs for raw loads, audit datasets for WAP.

Imported only when OLIST_WAREHOUSE=bigquery (see ``warehouse.connect``), so the CLI
starts without loading google-cloud-*.

Choices that shape results, and why:

- **Raw timestamps are DATETIME, not TIMESTAMP.** The Olist files write
  ``YYYY-MM-DD HH:MM:SS`` with no zone. DATETIME is BigQuery's type for such civil
  times and is what DuckDB's TIMESTAMP (without time zone) is: the same values, the same
  ``CAST(... AS DATE)``, and naive Python datetimes on both engines, so results compare
  equal without conversion. A TIMESTAMP would pin each value to UTC (true only by
  assumption) and come back zone-aware. The dialect's ``type_timestamp`` is therefore
  DATETIME, and aware Python datetimes sent as parameters are converted to UTC first.
- **Money is NUMERIC** (DuckDB: DECIMAL(38,2)). Both give Python Decimals that compare
  equal (``Decimal('12.3') == Decimal('12.30')``); only the printed scale differs.
- **Write-audit-publish uses audit datasets.** Inside ``write_audit_publish()`` every
  dataset D maps to ``D__audit`` (emptied at the start of each session): the model
  datasets, and the raw dataset for what is written there inside, i.e. the state table
  ``_olist_state`` (and raw tables with ``_load_metadata``, should a load ever run
  inside). A relation not (yet) written in the session is read from the published
  dataset instead: a model that is up to date is not copied, its published table is the
  same. A table written by DML (an incremental MERGE, the state) is first copied from
  the published dataset into the audit one (copy job). On success: tables are copied to
  the published datasets (WRITE_TRUNCATE copy jobs, started together), views re-created
  there with SQL naming published relations, the bookkeeping tables (``_olist_state``,
  ``_load_metadata``) copied last, then the audit datasets dropped. On an exception
  nothing is published and the audit datasets are left for inspection (a failing
  test's ``reproduce`` SQL reads them); the next session empties them. Publishing is
  atomic per table, not across tables: BigQuery has no transaction around copy jobs or
  DDL, so readers may see the new tables a few seconds before the new views.
- **Raw loads go through scratch tables**: a load job with the explicit schema into
  ``<table>__loading_<id>``, integer and money columns as STRING; a query casting them
  into ``<table>__loading_<id>_typed``, refusing with ERROR() any value the cast would
  round (the emulator's reader rounds 1.5 to 2, BigQuery's keeps 1.999 as money: see
  csv_values); then a WRITE_TRUNCATE copy job onto the raw table. A bad file fails the
  load job or the cast, and the raw table is untouched. ``_load_metadata`` is written
  right after the copy: BigQuery has no transaction spanning a copy job and a DML
  statement, so a crash between the two leaves the new table without its metadata row,
  and the next run reloads that file (the MD5 skip never trusts a row it did not see).
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from google.api_core import exceptions as api_exceptions
from google.api_core.retry import Retry
from google.cloud import bigquery

from olist_cli.credentials import check_private
from olist_cli.dataset import LOAD_METADATA_TABLE, Column, ColumnType
from olist_cli.engine.results import JobBytes
from olist_cli.engine.state import STATE_TABLE
from olist_cli.errors import LoadError, OlistError, UsageError
from olist_cli.warehouse.base import (
    CHANGE_INSERTED,
    LoadedRows,
    Params,
    ReplacedRows,
    RowCheck,
    insert_as_values,
)
from olist_cli.warehouse.bigquery_errors import (
    bigquery_error,
    is_transient,
    load_error,
    reason,
    refused_error,
)
from olist_cli.warehouse.bigquery_sql import bind, quote_ident
from olist_cli.warehouse.csv_values import INT64_PATTERN, NUMERIC_PATTERN, REFUSED

if TYPE_CHECKING:
    from google.auth.credentials import Credentials

    from olist_cli.settings import Settings

T = TypeVar("T")

BIGQUERY_TYPES: dict[ColumnType, str] = {
    ColumnType.STRING: "STRING",
    ColumnType.INT64: "INT64",
    ColumnType.FLOAT64: "FLOAT64",
    ColumnType.NUMERIC: "NUMERIC",
    ColumnType.TIMESTAMP: "DATETIME",  # no zone in the files: see the module docstring
}
# The REST API reports column types by their legacy names.
_STANDARD_TYPES = {"INTEGER": "INT64", "FLOAT": "FLOAT64", "BOOLEAN": "BOOL", "RECORD": "STRUCT"}
AUDIT_SUFFIX = "__audit"
# The dataset beside the raw one for a run's scratch tables (changed rows, new rows).
SCRATCH_SUFFIX = "__scratch"
# Beside the raw tables: the digest of every olist table's metadata, see ``seal``.
SEAL_TABLE = "_olist_seal"
# Published after everything else: a crash before they are copied leaves the old rows,
# so the next run rebuilds (or reloads) what this one did; never the reverse.
BOOKKEEPING = frozenset({STATE_TABLE, LOAD_METADATA_TABLE})
SCOPES = (
    "https://www.googleapis.com/auth/bigquery",
    "https://www.googleapis.com/auth/cloud-platform",
)
# A project id, optionally domain-scoped ("example.com:my-project"). It is written into
# SQL inside backticks, so nothing else may pass.
_PROJECT = re.compile(r"^(?:[a-z0-9][a-z0-9.\-]*:)?[a-z][a-z0-9\-]{0,61}[a-z0-9]$")


class BigQueryDialect:
    """GoogleSQL spellings of the engine-specific SQL used by the models."""

    type_string = "STRING"
    type_int = "INT64"
    type_numeric = "NUMERIC"
    type_float = "FLOAT64"
    type_bool = "BOOL"
    type_date = "DATE"
    type_timestamp = "DATETIME"

    def surrogate_key(self, *columns: str) -> str:
        # The DuckDB dialect's key, bit for bit: md5 of the '|'-joined values ('_null_'
        # for NULL), first 15 hex digits as a positive INT64. Equal across engines for
        # STRING, INT64 and DATE columns, whose CAST AS STRING is spelled the same.
        parts = ", '|', ".join(f"COALESCE(CAST({c} AS STRING), '_null_')" for c in columns)
        return f"CAST(CONCAT('0x', SUBSTR(TO_HEX(MD5(CONCAT({parts}))), 1, 15)) AS INT64)"

    def date_diff_days(self, start: str, end: str) -> str:
        return f"DATE_DIFF(CAST({end} AS DATE), CAST({start} AS DATE), DAY)"

    def to_date(self, expr: str) -> str:
        return f"CAST({expr} AS DATE)"

    def safe_cast(self, expr: str, type_: str) -> str:
        return f"SAFE_CAST({expr} AS {type_})"

    def date_spine(self, start: str, end: str) -> str:
        return (
            "SELECT date_day FROM "
            f"UNNEST(GENERATE_DATE_ARRAY(CAST({start} AS DATE), CAST({end} AS DATE))) AS date_day"
        )

    def day_name(self, expr: str) -> str:
        return f"FORMAT_DATE('%A', CAST({expr} AS DATE))"

    def month_name(self, expr: str) -> str:
        return f"FORMAT_DATE('%B', CAST({expr} AS DATE))"

    def iso_day_of_week(self, expr: str) -> str:
        # DAYOFWEEK is 1 = Sunday .. 7 = Saturday; ISO is 1 = Monday .. 7 = Sunday.
        return f"(MOD(EXTRACT(DAYOFWEEK FROM {expr}) + 5, 7) + 1)"


# -- the client --------------------------------------------------------------------------


def _credentials(settings: Settings) -> tuple[Credentials, str | None]:
    """Credentials and the project they name: a key file, the emulator's, or ADC."""
    if settings.bq_credentials is not None:
        from google.oauth2 import service_account

        path = settings.bq_credentials
        if not path.is_file():
            raise UsageError(f"OLIST_BQ_CREDENTIALS={path}: no such file")
        if settings.strict_permissions:  # (a run has warned about it already otherwise)
            check_private(path, "OLIST_BQ_CREDENTIALS key file", strict=True)
        try:
            key = service_account.Credentials.from_service_account_file(str(path), scopes=SCOPES)
        except (ValueError, KeyError, OSError) as exc:
            # Never echo the file or the parser's message: the file holds a private key.
            raise UsageError(
                f"OLIST_BQ_CREDENTIALS={path}: not a service-account JSON key file "
                f"({type(exc).__name__})"
            ) from None
        return key, key.project_id
    if settings.bq_api_endpoint:
        from google.auth.credentials import AnonymousCredentials

        return AnonymousCredentials(), None  # an emulator checks no identity
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError

    adc = os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
    if adc and settings.strict_permissions:
        check_private(Path(adc), "GOOGLE_APPLICATION_CREDENTIALS key file", strict=True)
    try:
        found, project = google.auth.default(scopes=SCOPES)
    except DefaultCredentialsError:
        raise UsageError(
            "no Google credentials found: set OLIST_BQ_CREDENTIALS to a service-account "
            "JSON key file, or run `gcloud auth application-default login`"
        ) from None
    return found, project


def make_client(settings: Settings) -> bigquery.Client:
    """A BigQuery client for the settings' project, location, credentials and endpoint."""
    credentials, credentials_project = _credentials(settings)
    project = settings.bq_project or credentials_project
    if not project:
        raise UsageError("OLIST_BQ_PROJECT is not set, and the credentials name no project")
    if not _PROJECT.match(project):
        raise UsageError(f"OLIST_BQ_PROJECT={project!r} is not a valid Google Cloud project id")
    options = {"api_endpoint": settings.bq_api_endpoint} if settings.bq_api_endpoint else None
    return bigquery.Client(
        project=project,
        credentials=credentials,
        location=settings.bq_location,
        client_options=options,
    )


# -- the adapter -------------------------------------------------------------------------


@dataclass
class _Audit:
    """What one write-audit-publish session wrote into its audit datasets."""

    # (published dataset, name) of every relation written in this session: reads of any
    # other audit relation go to the published one, which is what the audit would hold.
    present: set[tuple[str, str]] = field(default_factory=set)
    # Views to re-create on publish, by (published dataset, name), in build order.
    views: dict[tuple[str, str], str] = field(default_factory=dict)
    datasets: list[str] = field(default_factory=list)  # audit datasets emptied for it
    lock: threading.RLock = field(default_factory=threading.RLock)


@dataclass(frozen=True)
class _Result:
    job: bigquery.QueryJob
    names: list[str]
    rows: list[tuple[Any, ...]]


class BigQueryWarehouse:
    """One BigQuery project: schemas are datasets in ``settings.bq_location``.

    Thread-safe: one client serves every thread; byte meters and transactions are
    per thread.
    """

    name: ClassVar[str] = "bigquery"
    # Audit datasets hold no per-connection state: models may build concurrently.
    audit_on_one_connection: ClassVar[bool] = False
    # A load compares the file with the table (EXCEPT DISTINCT) and keeps what changed.
    keeps_changes: ClassVar[bool] = True

    def __init__(self, settings: Settings, *, client: bigquery.Client | None = None) -> None:
        self.settings = settings
        self.client = client if client is not None else make_client(settings)
        self.project: str = self.client.project
        if not _PROJECT.match(self.project):
            raise UsageError(f"BigQuery project {self.project!r} is not a valid project id")
        self.location = settings.bq_location
        self.dialect = BigQueryDialect()
        self.deadline_s = settings.bq_retry_deadline_s
        self.timeout_s = settings.bq_job_timeout_s
        # Transient errors only, 1 s doubling to 32 s between tries, within the deadline.
        # One policy for both layers: each API call (inside the client), and each job
        # started again when it failed for a transient reason (here, see _run). The
        # client's own job restarts are off: they retry jobs.insert for 10 minutes
        # whatever our deadline says.
        self._retry = Retry(
            predicate=is_transient, initial=1.0, maximum=32.0, multiplier=2.0,
            timeout=self.deadline_s,
        )  # fmt: skip
        self._labels = dict(settings.bq_job_labels)
        self._local = threading.local()
        self._datasets: set[str] = set()  # datasets known to exist
        self._audit: _Audit | None = None
        self._audit_token = re.compile(
            "`" + re.escape(self.project) + r"\.(\w+)" + AUDIT_SUFFIX + r"\.(\w+)`"
        )
        self._scratch: list[str] = []  # scratch tables of this connection, deleted at close
        self._scratch_lock = threading.Lock()

    # -- plumbing ------------------------------------------------------------------------

    @functools.cached_property
    def sealed(self) -> bool:
        """Whether every olist table is as the last olist run left it, as far as their
        metadata tells: each table's rows and bytes, digested, against the digest that run
        stored. An edit that keeps every row count and byte size (a value replaced by one
        as long) is not seen; the modification time would see it, but the emulator the
        suite runs on moves it by itself, so no test could hold it. `olist test` always
        tests the tables as they are."""
        try:
            stored = self._run(
                f"SELECT identity FROM {self._token(self.settings.raw_dataset, SEAL_TABLE)}",
                what="read the seal",
            ).rows
        except OlistError:
            return False  # no seal yet
        return bool(stored) and stored[0][0] == self._identity()

    def seal(self) -> None:
        """Store the digest of every olist table's metadata, after this run's last write."""
        self._drop_scratch()
        token = self._token(self.settings.raw_dataset, SEAL_TABLE)
        self._run(
            f"CREATE OR REPLACE TABLE {token} AS SELECT ? AS identity",
            [self._identity()],
            what="write the seal",
        )

    def _identity(self) -> str:
        """A digest of (dataset, table, rows, bytes) of every table in olist's datasets."""
        prefix = f"{self.settings.target_schema}_"
        listed = self._api(
            "list datasets", lambda: list(self.client.list_datasets(retry=self._retry))
        )
        datasets = sorted(
            d.dataset_id
            for d in listed
            if d.dataset_id == self.settings.raw_dataset
            or (
                d.dataset_id.startswith(prefix)
                and not d.dataset_id.endswith((AUDIT_SUFFIX, SCRATCH_SUFFIX))
            )
        )
        rows = []
        for dataset in datasets:
            rows += self._run(
                "SELECT ? AS dataset, table_id, row_count, size_bytes "
                f"FROM {self._token(dataset, '__TABLES__')} WHERE table_id != ?",
                [dataset, SEAL_TABLE],
                what=f"list the tables of {dataset}",
            ).rows
        return hashlib.sha256(repr(sorted(rows)).encode()).hexdigest()

    def close(self) -> None:
        self._drop_scratch()
        self.client.close()

    def _drop_scratch(self) -> None:
        with self._scratch_lock:
            scratch, self._scratch = self._scratch, []
        for table in scratch:  # litter at worst: the scratch dataset holds nothing else
            with suppress(Exception):
                self.client.delete_table(table, not_found_ok=True, retry=self._retry)

    def _token(self, dataset: str, name: str) -> str:
        return f"`{self.project}.{dataset}.{name}`"

    def _ref(self, dataset: str, name: str) -> str:
        return f"{self.project}.{dataset}.{name}"

    def _fail(self, what: str, exc: BaseException) -> OlistError:
        return bigquery_error(what, exc, deadline_s=self.deadline_s, timeout_s=self.timeout_s)

    def _api(self, what: str, call: Callable[[], T]) -> T:
        """An API call (retried by the client with our retry) with errors made one line."""
        try:
            return call()
        except Exception as exc:
            raise self._fail(what, exc) from None

    def _retrying(self, what: str, attempt: Callable[[], T]) -> T:
        """Run ``attempt`` again on transient errors, within the deadline.

        For load and copy jobs: both write WRITE_TRUNCATE, so a second try of a failed
        job cannot duplicate anything.
        """
        try:
            return self._retry(attempt)()
        except Exception as exc:
            raise self._fail(what, exc) from None

    def _run(
        self,
        sql: str,
        params: Params = None,
        *,
        what: str | None = None,
        dry_run: bool = False,
        create_session: bool = False,
    ) -> _Result:
        """One query job, waited for; rows fetched; bytes added to this thread's meters."""
        statement, bound = bind(sql, params)
        config = bigquery.QueryJobConfig(query_parameters=bound, labels=self._labels)
        if self.settings.bq_maximum_bytes_billed is not None:
            config.maximum_bytes_billed = self.settings.bq_maximum_bytes_billed
        session = getattr(self._local, "session", None)
        if session is not None:
            config.connection_properties = [bigquery.ConnectionProperty("session_id", session)]
        if create_session:
            config.create_session = True
        if dry_run:
            config.dry_run = True
            config.use_query_cache = False
        else:
            config.job_timeout_ms = int(self.timeout_s * 1000)

        def attempt() -> _Result:
            job = self.client.query(
                statement,
                job_config=config,
                location=self.location,
                retry=self._retry,
                job_retry=None,
            )
            if dry_run:
                return _Result(job, [], [])
            result = job.result(retry=self._retry, timeout=self.timeout_s)
            return _Result(
                job, [f.name for f in result.schema or []], [tuple(r.values()) for r in result]
            )

        # A job that failed for a transient reason changed nothing: start it again. An
        # API call that kept failing arrives as RetryError, which is_transient refuses.
        # Inside a transaction a failed statement aborts it: never start it again.
        restart = not (session or create_session or dry_run)
        try:
            done = self._retry(attempt)() if restart else attempt()
        except Exception as exc:
            raise self._fail(what or _label(statement), exc) from None
        job = done.job
        if dry_run:
            return done
        for meter in getattr(self._local, "meters", ()):
            meter.processed = (meter.processed or 0) + int(job.total_bytes_processed or 0)
            meter.billed = (meter.billed or 0) + int(job.total_bytes_billed or 0)
        return done

    # -- bytes, dry runs, transactions ---------------------------------------------------

    @contextmanager
    def meter(self) -> Iterator[JobBytes]:
        """Bytes processed and billed by the query jobs this thread runs inside."""
        used = JobBytes(processed=0, billed=0)
        meters: list[JobBytes] = self._local.__dict__.setdefault("meters", [])
        meters.append(used)
        try:
            yield used
        finally:
            meters.remove(used)

    def dry_run(self, sql: str, params: Params = None) -> int:
        """Bytes BigQuery would process for ``sql``; nothing runs, nothing is billed."""
        job = self._run(self._for_read(sql), params, dry_run=True).job
        return int(job.total_bytes_processed or 0)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """A BigQuery multi-statement transaction for this thread's DML, in a session.

        Only DML (INSERT, UPDATE, DELETE, MERGE) may run inside; BigQuery refuses DDL
        and has no transactions around load or copy jobs.
        """
        if getattr(self._local, "session", None) is not None:
            yield  # already in one: join it
            return
        begin = self._run("BEGIN TRANSACTION", what="begin transaction", create_session=True)
        self._local.session = begin.job.session_info.session_id
        try:
            yield
        except BaseException:
            # Aborting the session below rolls back too: a failed ROLLBACK loses nothing.
            with suppress(OlistError):
                self._run("ROLLBACK TRANSACTION", what="rollback")
            raise
        else:
            self._run("COMMIT TRANSACTION", what="commit")
        finally:
            with suppress(OlistError):
                self._run("CALL BQ.ABORT_SESSION()", what="end session")
            self._local.session = None

    # -- audit datasets ------------------------------------------------------------------

    def _dataset_of(self, schema: str) -> str:
        """The dataset that relations of ``schema`` are written to: its audit one in WAP."""
        return schema + AUDIT_SUFFIX if self._audit is not None else schema

    def _written(self, schema: str, name: str) -> bool:
        return self._audit is not None and (schema, name) in self._audit.present

    def _for_read(self, sql: str) -> str:
        """SQL whose audit relations not written in this session read the published ones."""
        audit = self._audit
        if audit is None:
            return sql

        def published(match: re.Match[str]) -> str:
            schema, name = match.group(1), match.group(2)
            return match.group(0) if (schema, name) in audit.present else self._token(schema, name)

        return self._audit_token.sub(published, sql)

    def _for_write(self, sql: str) -> str:
        """SQL that writes into audit relations: each is first copied from the published."""
        if self._audit is not None:
            for match in self._audit_token.finditer(sql):
                self._mirror(match.group(1), match.group(2))
        return sql

    def _to_published(self, sql: str) -> str:
        return self._audit_token.sub(lambda m: self._token(m.group(1), m.group(2)), sql)

    def _fresh_audit_dataset(self, dataset: str) -> None:
        """Empty ``dataset`` (left by an earlier session) once per session, and use it."""
        audit = self._audit
        assert audit is not None
        with audit.lock:
            if dataset in audit.datasets:
                return
            self._api(
                f"drop dataset {dataset}",
                lambda: self.client.delete_dataset(
                    f"{self.project}.{dataset}",
                    delete_contents=True,
                    not_found_ok=True,
                    retry=self._retry,
                ),
            )
            self._datasets.discard(dataset)
            self._ensure_dataset(dataset)
            audit.datasets.append(dataset)

    def _mirror(self, schema: str, name: str) -> None:
        """Copy the published table into the audit dataset before the session writes it."""
        audit = self._audit
        assert audit is not None
        with audit.lock:
            if (schema, name) in audit.present:
                return
            self._fresh_audit_dataset(schema + AUDIT_SUFFIX)
            table = self._get_table(schema, name)
            if table is not None:
                self._prepare_copy(table, schema + AUDIT_SUFFIX, name)
                self._copy(self._ref(schema, name), self._ref(schema + AUDIT_SUFFIX, name))
            audit.present.add((schema, name))

    @contextmanager
    def write_audit_publish(self) -> Iterator[None]:
        """Build and test in audit datasets; publish with copy jobs if nothing raised."""
        if self._audit is not None:
            raise RuntimeError("write_audit_publish() sessions do not nest")
        audit = self._audit = _Audit()
        try:
            yield
            self._audit = None  # from here on, relations name the published datasets
            self._publish(audit)
        finally:
            self._audit = None
        for dataset in audit.datasets:
            # Published already; a dataset left behind is emptied by the next session.
            with suppress(OlistError):
                self._api(
                    f"drop dataset {dataset}",
                    lambda d=dataset: self.client.delete_dataset(
                        f"{self.project}.{d}",
                        delete_contents=True,
                        not_found_ok=True,
                        retry=self._retry,
                    ),
                )

    def _publish(self, audit: _Audit) -> None:
        """Tables (copy jobs, together), then views in build order, then the bookkeeping."""
        tables: list[tuple[str, str]] = []
        bookkeeping: list[tuple[str, str]] = []
        for dataset in audit.datasets:
            schema = dataset.removesuffix(AUDIT_SUFFIX)
            listed = self._api(
                f"list {dataset}",
                lambda d=dataset: list(self.client.list_tables(d, retry=self._retry)),
            )
            for item in listed:
                if item.table_type == "TABLE" and "__loading_" not in item.table_id:
                    (bookkeeping if item.table_id in BOOKKEEPING else tables).append(
                        (schema, item.table_id)
                    )
        done = 0
        total = len(tables) + len(audit.views) + len(bookkeeping)
        try:
            self._copy_to_published(tables)
            done += len(tables)
            for (schema, name), sql in audit.views.items():
                self._ensure_dataset(schema)
                self._make_room(schema, name, "VIEW")
                self._run(
                    f"CREATE OR REPLACE VIEW {self._token(schema, name)} AS\n"
                    f"{self._to_published(sql)}",
                    what=f"publish view {schema}.{name}",
                )
                done += 1
            self._copy_to_published(bookkeeping)
        except OlistError as exc:
            raise OlistError(
                f"publish stopped after {done} of {total} tables and views ({exc}); "
                "the fingerprints were not published, so the next run rebuilds the rest"
            ) from None

    def _copy_to_published(self, relations: Sequence[tuple[str, str]]) -> None:
        """Copy audit tables onto their published names; the jobs run side by side."""
        started: list[tuple[str, str, str, Any]] = []
        for schema, name in relations:
            source, target = self._ref(schema + AUDIT_SUFFIX, name), self._ref(schema, name)
            audit_table = self._api(
                f"get {source}", lambda s=source: self.client.get_table(s, retry=self._retry)
            )
            self._ensure_dataset(schema)
            self._prepare_copy(audit_table, schema, name)
            started.append(
                (source, target, f"publish {schema}.{name}", self._start_copy(source, target))
            )
        for source, target, what, job in started:
            try:
                job.result(retry=self._retry, timeout=self.timeout_s)
            except Exception as exc:
                if not is_transient(exc):
                    raise self._fail(what, exc) from None
                self._copy(source, target, what=what)  # once more, with retries

    # -- generic SQL ---------------------------------------------------------------------

    def relation(self, schema: str, name: str) -> str:
        return self._token(self._dataset_of(schema), name)

    def _ensure_dataset(self, dataset: str) -> None:
        if dataset in self._datasets:
            return
        spec = bigquery.Dataset(f"{self.project}.{dataset}")
        spec.location = self.location
        self._api(
            f"create dataset {dataset}",
            lambda: self.client.create_dataset(spec, exists_ok=True, retry=self._retry),
        )
        self._datasets.add(dataset)

    def ensure_schema(self, schema: str) -> None:
        self._ensure_dataset(schema)  # published: read from during WAP, published into after
        if self._audit is not None:
            self._fresh_audit_dataset(schema + AUDIT_SUFFIX)

    def execute(self, sql: str, params: Params = None) -> None:
        self._run(self._for_write(sql), params)

    def query(self, sql: str, params: Params = None) -> list[tuple[Any, ...]]:
        return self._run(self._for_read(sql), params).rows

    def query_columns(
        self, sql: str, params: Params = None
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        result = self._run(self._for_read(sql), params)
        return result.names, result.rows

    def insert_rows(
        self,
        schema: str,
        name: str,
        columns: Sequence[tuple[str, str]],
        rows: Sequence[Sequence[Any]],
    ) -> None:
        insert_as_values(self, schema, name, columns, rows)

    # -- catalogue -----------------------------------------------------------------------

    def _get_table(self, dataset: str, name: str) -> bigquery.Table | None:
        try:
            return self.client.get_table(self._ref(dataset, name), retry=self._retry)
        except api_exceptions.NotFound:
            return None
        except Exception as exc:
            raise self._fail(f"get {dataset}.{name}", exc) from None

    def _current(self, schema: str, name: str) -> bigquery.Table | None:
        """The table or view readers of ``schema.name`` see now (audit or published)."""
        dataset = self._dataset_of(schema)
        if dataset != schema and not self._written(schema, name):
            dataset = schema
        return self._get_table(dataset, name)

    def table_exists(self, schema: str, name: str) -> bool:
        return self._current(schema, name) is not None

    def columns(self, schema: str, name: str) -> list[tuple[str, str]]:
        table = self._current(schema, name)
        if table is None:
            return []
        return [(f.name, _STANDARD_TYPES.get(f.field_type, f.field_type)) for f in table.schema]

    def row_count(self, schema: str, name: str) -> int:
        table = self._current(schema, name)
        if table is not None and table.table_type == "TABLE" and table.num_rows is not None:
            return int(table.num_rows)  # table metadata: free, no query
        return int(self.query(f"SELECT COUNT(*) FROM {self.relation(schema, name)}")[0][0])

    def list_tables(self, schema: str) -> list[str]:
        try:
            listed = list(self.client.list_tables(f"{self.project}.{schema}", retry=self._retry))
        except api_exceptions.NotFound:
            return []
        except Exception as exc:
            raise self._fail(f"list {schema}", exc) from None
        return sorted(t.table_id for t in listed if t.table_type == "TABLE")

    def _prepare_copy(self, source: bigquery.Table, dataset: str, name: str) -> None:
        """Make ``dataset.name`` ready to receive a copy of ``source``, layout included.

        BigQuery's copy jobs give a new table the source's partitioning and clustering;
        local-bigquery's do not, so a missing target is created first with that layout
        (an empty table, replaced by the copy): the same result on both.
        """
        partition = source.time_partitioning.field if source.time_partitioning else None
        clustering = tuple(source.clustering_fields or ())
        if self._make_room(dataset, name, "TABLE", partition, clustering):
            return
        if partition is None and not clustering:
            return
        spec = bigquery.Table(self._ref(dataset, name), schema=source.schema)
        spec.time_partitioning = source.time_partitioning
        spec.clustering_fields = list(clustering) or None
        self._api(
            f"create {dataset}.{name}",
            lambda: self.client.create_table(spec, exists_ok=True, retry=self._retry),
        )

    def _make_room(
        self,
        dataset: str,
        name: str,
        kind: str,
        partition_by: str | None = None,
        cluster_by: Sequence[str] = (),
    ) -> bool:
        """Drop ``dataset.name`` if a CREATE OR REPLACE or copy cannot replace it.

        BigQuery refuses to replace a table by a view (or the reverse), or by a table
        with another partitioning or clustering spec: "DROP the table, and then recreate
        it". Readers miss the table for that moment only when its layout changed. True
        when a compatible table or view stays in place.
        """
        table = self._get_table(dataset, name)
        if table is None:
            return False
        if table.table_type == kind:
            if kind != "TABLE":
                return True
            partition = table.time_partitioning.field if table.time_partitioning else None
            if partition == partition_by and list(table.clustering_fields or []) == list(
                cluster_by
            ):
                return True
        self._api(
            f"drop {dataset}.{name}",
            lambda: self.client.delete_table(
                self._ref(dataset, name), not_found_ok=True, retry=self._retry
            ),
        )
        return False

    # -- materializations ----------------------------------------------------------------

    def _target(
        self,
        schema: str,
        name: str,
        kind: str,
        partition_by: str | None = None,
        cluster_by: Sequence[str] = (),
    ) -> str:
        """The dataset a create writes to, made ready for a ``kind`` (see ``_make_room``)."""
        dataset = self._dataset_of(schema)
        if dataset != schema:
            self._fresh_audit_dataset(dataset)
        if dataset == schema or self._written(schema, name):
            self._make_room(dataset, name, kind, partition_by, cluster_by)
        return dataset

    def _created(self, schema: str, name: str, view_sql: str | None = None) -> None:
        audit = self._audit
        if audit is None:
            return
        with audit.lock:
            audit.present.add((schema, name))
            audit.views.pop((schema, name), None)  # a view built again moves to the end
            if view_sql is not None:
                audit.views[(schema, name)] = view_sql

    def create_view(self, schema: str, name: str, select_sql: str) -> None:
        dataset = self._target(schema, name, "VIEW")
        self._run(
            f"CREATE OR REPLACE VIEW {self._token(dataset, name)} AS\n{self._for_read(select_sql)}",
            what=f"create view {dataset}.{name}",
        )
        self._created(schema, name, select_sql)

    def create_table_as(
        self,
        schema: str,
        name: str,
        select_sql: str,
        *,
        partition_by: str | None = None,
        cluster_by: Sequence[str] = (),
    ) -> int:
        # Partition columns must be DATEs (the models partition by *_day columns).
        dataset = self._target(schema, name, "TABLE", partition_by, cluster_by)
        layout = f"\nPARTITION BY {quote_ident(partition_by)}" if partition_by else ""
        if cluster_by:
            layout += f"\nCLUSTER BY {', '.join(quote_ident(c) for c in cluster_by)}"
        self._run(
            f"CREATE OR REPLACE TABLE {self._token(dataset, name)}{layout}\nAS\n"
            f"{self._for_read(select_sql)}",
            what=f"create table {dataset}.{name}",
        )
        self._created(schema, name)
        table = self._get_table(dataset, name)
        return int(table.num_rows or 0) if table is not None else 0

    def kept_rows(
        self, select_sql: str, *, prefix: str = "olist_kept", as_written: bool = False
    ) -> str:
        """A table in the scratch dataset holding the SELECT's rows, until ``close``.

        ``as_written``: the SQL names audit relations this session has not written on
        purpose (a load's own scratch table), so they are not read from the published."""
        dataset = f"{self.settings.raw_dataset}{SCRATCH_SUFFIX}"
        self._ensure_dataset(dataset)
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        self._run(
            f"CREATE TABLE {self._token(dataset, name)} AS\n"
            f"{select_sql if as_written else self._for_read(select_sql)}",
            what=f"keep rows in {dataset}.{name}",
        )
        with self._scratch_lock:
            self._scratch.append(self._ref(dataset, name))
        return self._token(dataset, name)

    def replace_rows(
        self,
        schema: str,
        name: str,
        rows_sql: str,
        *,
        unique_key: Sequence[str],
        matching: str,
    ) -> ReplacedRows:
        """DELETE the matching rows and those of the new keys, INSERT the new rows, in one
        transaction; the old and new rows are kept in scratch tables first."""
        dataset = self._dataset_of(schema)
        if dataset != schema:
            self._mirror(schema, name)  # the published table, copied in to be changed
        target = self._token(dataset, name)
        cols = ", ".join(quote_ident(c) for c, _ in self.columns(schema, name))
        new = self.kept_rows(rows_sql, prefix="olist_new")
        same_key = " AND ".join(f"s.{quote_ident(k)} = t.{quote_ident(k)}" for k in unique_key)
        condition = f"({matching}) OR EXISTS (SELECT 1 FROM {new} AS s WHERE {same_key})"
        old = self.kept_rows(
            f"SELECT {cols} FROM {target} AS t WHERE {condition}", prefix="olist_old"
        )
        with self.transaction():
            self._run(f"DELETE FROM {target} AS t WHERE {condition}", what=f"replace in {name}")
            self._run(
                f"INSERT INTO {target} ({cols}) SELECT {cols} FROM {new}", what=f"replace in {name}"
            )
        inserted, deleted = self.query(
            f"SELECT (SELECT COUNT(*) FROM {new}), (SELECT COUNT(*) FROM {old})"
        )[0]
        return ReplacedRows(
            int(inserted),
            int(deleted),
            new_rows=new,
            touched=f"SELECT {cols} FROM {old} UNION ALL SELECT {cols} FROM {new}",
        )

    def _changes_of_load(
        self, schema: str, table: str, loading: str, columns: Sequence[Column]
    ) -> tuple[str, int, int] | None:
        """The rows only in the new file or only in the table, as multisets (each copy of a
        repeated row numbered), kept with ``olist_inserted``; (relation, +rows, -rows).

        None when the table is new or of other columns, or holds FLOAT64 columns, which
        BigQuery cannot compare this way (geolocation, which no incremental model reads).
        """
        current = self.columns(schema, table)
        expected = [(c.name, BIGQUERY_TYPES[c.type]) for c in columns]
        if current != expected or any(c.type is ColumnType.FLOAT64 for c in columns):
            return None
        listed = ", ".join(quote_ident(c.name) for c in columns)

        def numbered(relation: str) -> str:
            return (
                f"SELECT {listed}, ROW_NUMBER() OVER (PARTITION BY {listed}) AS olist_copy "
                f"FROM {relation}"
            )

        published = self._for_read(self.relation(schema, table))
        kept = self.kept_rows(
            f"WITH f AS ({numbered(loading)}), t AS ({numbered(published)})\n"
            f"SELECT {listed}, TRUE AS {CHANGE_INSERTED} FROM "
            "(SELECT * FROM f EXCEPT DISTINCT SELECT * FROM t)\n"
            f"UNION ALL SELECT {listed}, FALSE FROM "
            "(SELECT * FROM t EXCEPT DISTINCT SELECT * FROM f)",
            prefix="olist_delta",
            as_written=True,
        )
        inserted, deleted = self.query(
            f"SELECT COUNTIF({CHANGE_INSERTED}), COUNTIF(NOT {CHANGE_INSERTED}) FROM {kept}"
        )[0]
        return kept, int(inserted or 0), int(deleted or 0)

    # -- raw loads -----------------------------------------------------------------------

    def _start_copy(self, source: str, target: str) -> bigquery.CopyJob:
        config = bigquery.CopyJobConfig(
            write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE,
            create_disposition=bigquery.CreateDisposition.CREATE_IF_NEEDED,
            labels=self._labels,
        )
        return self.client.copy_table(
            source, target, job_config=config, location=self.location, retry=self._retry
        )

    def _copy(self, source: str, target: str, *, what: str | None = None) -> None:
        """Replace ``target`` by a copy of ``source``, atomically (a copy job)."""

        def attempt() -> None:
            self._start_copy(source, target).result(retry=self._retry, timeout=self.timeout_s)

        self._retrying(what or f"copy {source} to {target}", attempt)

    def load_csv(
        self,
        schema: str,
        table: str,
        path: Path | str,
        columns: Sequence[Column],
        *,
        before_commit: Callable[[int], None] | None = None,
        replace: bool = False,
        keep_changes: bool = False,
        check_rows: RowCheck | None = None,
    ) -> LoadedRows:
        """Replace ``table`` with the typed rows of a CSV file: a local path or a gs:// URI.

        Load job into a scratch table, a query casting it into a second one (see the
        module docstring), then a WRITE_TRUNCATE copy onto ``table``: any error leaves
        ``table`` as it was. ``check_rows`` runs before the copy, with the table's row
        count and the file's. ``before_commit`` runs right after the copy (see the module
        docstring for why not before); a crash between the two only makes the next run
        load the file again. The table is always replaced whole (``replace`` is accepted
        and ignored): a load job and a copy cost nothing and the cast reads the file's
        rows once, while a difference would be billed DML over the whole table.
        ``keep_changes``: compare the loaded rows with the table first, and keep what
        changed (``_changes_of_load``).
        """
        source = str(path)
        remote = source.startswith("gs://")
        file_name = source.rsplit("/", 1)[-1] if remote else Path(path).name
        self.ensure_schema(schema)
        dataset = self._dataset_of(schema)  # the audit dataset, if a load ever runs in WAP
        loading = self._ref(dataset, f"{table}__loading_{uuid.uuid4().hex[:12]}")
        scratch = f"{loading}_typed"
        config = bigquery.LoadJobConfig(
            source_format=bigquery.SourceFormat.CSV,
            schema=[
                bigquery.SchemaField(c.name, _LOADED_AS.get(c.type, BIGQUERY_TYPES[c.type]))
                for c in columns
            ],
            skip_leading_rows=1,
            allow_quoted_newlines=True,
            encoding="UTF-8",
            field_delimiter=",",
            quote_character='"',
            null_marker="",  # an empty field is NULL, as DuckDB's nullstr = ''
            max_bad_records=0,
            write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE,
            create_disposition=bigquery.CreateDisposition.CREATE_IF_NEEDED,
            labels=self._labels,
        )
        jobs: list[bigquery.LoadJob] = []

        def attempt() -> bigquery.LoadJob:
            if remote:
                job = self.client.load_table_from_uri(
                    source, loading, job_config=config, location=self.location, retry=self._retry
                )
            else:
                with open(source, "rb") as handle:
                    # num_retries=0: a failed upload is retried as a whole load, under the
                    # same deadline as everything else.
                    job = self.client.load_table_from_file(
                        handle, loading, job_config=config, location=self.location,
                        num_retries=0, rewind=True,
                    )  # fmt: skip
            jobs.append(job)
            job.result(retry=self._retry, timeout=self.timeout_s)
            return job

        try:
            local = None if remote else Path(source)
            try:
                job = self._retry(attempt)()
            except Exception as exc:
                if jobs and reason(exc) == "invalid":  # the data: say where
                    raise load_error(file_name, local, columns, jobs[-1].errors, exc) from None
                raise LoadError(str(self._fail(f"{file_name}: load into {schema}", exc))) from None
            rows = int(job.output_rows or 0)
            if check_rows is not None:
                now = self._current(schema, table)
                check_rows(self.row_count(schema, table) if now is not None else None, rows)
            typed = ", ".join(_typed(c) for c in columns)
            try:
                self._run(
                    f"CREATE TABLE `{scratch}` AS SELECT {typed} FROM `{loading}`",
                    what=f"{file_name}: cast into {table}",
                )
            except OlistError as exc:
                # ERROR() refused a value, or a cast failed (an integer out of range).
                if REFUSED in exc.message or "invalidQuery" in exc.message:
                    raise refused_error(file_name, local, columns, exc.message) from None
                raise LoadError(str(exc)) from None
            changes = None
            if keep_changes and not replace:
                changes = self._changes_of_load(schema, table, f"`{scratch}`", columns)
            try:
                self._copy(scratch, self._ref(dataset, table), what=f"{file_name}: swap in {table}")
            except OlistError as exc:
                raise LoadError(str(exc)) from None
            self._created(schema, table)
        finally:
            for name in (loading, scratch):  # litter at worst, never an error
                with suppress(Exception):
                    self.client.delete_table(name, not_found_ok=True, retry=self._retry)
        if before_commit is not None:
            before_commit(rows)
        if changes is None:
            return LoadedRows(rows)
        kept, inserted, deleted = changes
        return LoadedRows(rows, inserted=inserted, deleted=deleted, changes=kept)


# Loaded as text, then cast by ``_typed``: BigQuery's reader would round them silently.
_LOADED_AS = {ColumnType.INT64: "STRING", ColumnType.NUMERIC: "STRING"}
_PATTERNS = {ColumnType.INT64: INT64_PATTERN, ColumnType.NUMERIC: NUMERIC_PATTERN}


def _typed(column: Column) -> str:
    """The scratch table's column typed exactly, or ERROR() naming it (see csv_values)."""
    name = quote_ident(column.name)
    refused = "'" + (REFUSED + column.name).replace("'", "\\'") + "'"
    pattern = _PATTERNS.get(column.type)
    if pattern is not None:
        return (
            f"CASE WHEN {name} IS NULL OR REGEXP_CONTAINS({name}, r'^(?:{pattern})$') "
            f"THEN CAST({name} AS {BIGQUERY_TYPES[column.type]}) ELSE ERROR({refused}) END "
            f"AS {name}"
        )
    if column.type is ColumnType.STRING:
        return (
            f"CASE WHEN STRPOS({name}, CODE_POINTS_TO_STRING([0])) > 0 THEN ERROR({refused}) "
            f"ELSE {name} END AS {name}"
        )
    return name


def _label(sql: str) -> str:
    """A statement in a few words, to name it in an error."""
    text = " ".join(sql.split())
    return text if len(text) <= 80 else text[:77] + "..."
