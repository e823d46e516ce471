"""What one run changed, row by row, so that its data tests can check only those rows.

In `olist run-all` on DuckDB the load knows each raw table's deleted and inserted rows
(it loads by difference) and an incremental build knows the keys it merged. A data test
that passed on the data the run started from then only needs the rows that may have
changed since:

- a row-level test (not_null, accepted_values, accepted_range, expression) can fail
  only on a changed row: every other row passed last time and is the same row;
- a unique test can find a new duplicate only among the values a changed row holds;
- a relationships test can find a new orphan only among changed child rows, or among
  the children of a parent key whose rows changed;
- a singular test that declares ``narrow_by`` (whether a row fails depends only on the
  rows with the same value of that column in each model it reads) can fail only for a
  value whose rows changed in one of them.

Which rows of a model may have changed, by what the run did to it:

- a view with ``delta_key`` (its rows for one key value come only from its one raw
  table's rows with that value): those whose key a deleted or inserted raw row holds;
- an incremental model: those whose unique_key it merged (and, for a narrow_by test,
  the values those rows held in its column, before and after the merge). The rows it
  merged stay in their scratch table, where its row-level and relationships tests read
  them; its unique tests look in the table itself, where an older row of a merged key
  left outside the merge's partitions would be the duplicate;
- a model up to date: none;
- anything else (a table rebuilt whole, a model not built in this run): unknown, and
  its tests run whole.

A test runs on the changed rows only when its last result was a pass with no failing
row, recorded on exactly the data this run started from: its recorded fingerprint is
the one its SQL and its models' starting fingerprints give, and each of those models
held, at the start, the data its recorded fingerprint says (a view follows its raw
table: one loaded by `olist load` alone since the view's last build leaves the view's
start unknown). Every other test, a singular test without narrow_by or one whose raw
table changed, and every test of `olist test`, runs whole. The counts are exact, not
samples: with no failing row before, every failing row (or duplicated value) is among
the rows checked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from olist_cli.dataset import BY_RAW_TABLE
from olist_cli.engine.project import DataTest, Model, Project
from olist_cli.engine.render import Renderer
from olist_cli.engine.state import Recorded, digest_of_inputs
from olist_cli.load import FileLoadResult

ROW_KINDS = frozenset({"not_null", "accepted_values", "accepted_range", "expression"})
UNIQUE_KINDS = frozenset({"unique", "unique_combination"})


@dataclass(frozen=True)
class Changed:
    """The rows of a model that may differ from the start of the run.

    Those whose ``key`` columns hold a value of ``keys``, a SELECT of the key values with
    the key's column names; ``keys`` None: no row changed. ``rows``: a relation holding the
    rows the run wrote (an incremental model's new rows), which are all the changed rows
    but not always all the rows of their keys. ``touched``: a SELECT of every row the run
    wrote or removed, before and after (an incremental model's), in the model's columns.
    """

    key: tuple[str, ...]
    keys: str | None
    rows: str | None = None
    touched: str | None = None

    def values_of(self, column: str) -> str | None:
        """A SELECT of the values ``column`` holds in the changed rows, before and after
        the change (a column of that name); None when this does not say."""
        if self.keys is None:
            return f"select {column} from (select null as {column}) as nothing where false"
        if self.key == (column,):
            return self.keys
        if self.touched is not None:
            return f"select {column} from ({self.touched}) as touched"
        return None


UNCHANGED = Changed((), None)


@dataclass
class RunChanges:
    """What the load and the build of one run changed; filled in as they go."""

    # raw table -> MD5 of the file it held before this run's load (tables loaded before).
    sources_before: dict[str, str]
    # raw table -> relation of its deleted and inserted rows; None: changed, rows unknown.
    # A table not listed did not change.
    raw: dict[str, str | None]
    # model -> its changed rows; None: unknown. A view not listed follows its raw tables
    # (see ``of``); any other model not listed was not built, so did not change.
    models: dict[str, Changed | None] = field(default_factory=dict)
    # model -> the fingerprint of the data it held at the start of the run, when that is
    # the fingerprint recorded for it; None or not listed: unknown.
    start: dict[str, str | None] = field(default_factory=dict)

    @classmethod
    def from_load(cls, files: Iterable[FileLoadResult]) -> RunChanges:
        """From load_raw's results, loaded with ``keep_changes``: of every attempt, in order.

        A table loaded by one attempt is skipped by the next (its MD5 now matches), so an
        earlier attempt's result is the one that says what changed; a table loaded twice
        changed in ways no single result lists.
        """
        before: dict[str, str] = {}
        raw: dict[str, str | None] = {}
        for f in files:
            if f.previous_md5 is not None:
                before.setdefault(f.table, f.previous_md5)
            if f.status == "loaded":
                raw[f.table] = None if f.table in raw else f.changes
        return cls(before, raw)

    def of(self, model: Model) -> Changed | None:
        """The model's changed rows in this run so far: None when they are not known."""
        if model.name in self.models:
            return self.models[model.name]
        if model.config.materialized == "view":
            return self.of_view(model)  # a view shows its raw tables' rows as they are
        return UNCHANGED

    def of_view(self, model: Model) -> Changed | None:
        """A view's changed rows: by its delta_key, from the changes of the raw tables it
        reads by that key; None (unknown) when a raw table it reads whole changed."""
        changed = [raw for raw in model.sources if raw in self.raw]
        if not changed:
            return UNCHANGED
        key = model.config.delta_key
        if not key:
            return None
        parts = []
        for raw in changed:
            rows = self.raw[raw]
            if rows is None or not keyed_by(raw, key):
                return None
            parts.append(f"select distinct {', '.join(key)} from {rows}")
        return Changed(key, "\nunion\n".join(parts))


def keyed_by(raw: str, key: tuple[str, ...]) -> bool:
    """Whether a view with this delta_key reads the raw table by it (it has the columns)."""
    known = BY_RAW_TABLE.get(raw)
    return known is not None and set(key) <= set(known.column_names)


def _matches(keys_sql: str, alias: str, key: tuple[str, ...], columns: tuple[str, ...]) -> str:
    """A condition: the row ``alias`` holds, in ``columns``, one of the ``key`` values listed.

    NULL matches NULL: a changed row whose key is NULL has its NULL-keyed rows checked.
    """
    pairs = " and ".join(
        f"olist_keys.{k} is not distinct from {alias}.{c}"
        for k, c in zip(key, columns, strict=True)
    )
    return f"exists (select 1 from ({keys_sql}) as olist_keys where {pairs})"


def _rows_matching(
    relation: str, keys_sql: str, key: tuple[str, ...], columns: tuple[str, ...]
) -> str:
    """The relation's rows that hold, in ``columns``, one of the ``key`` values listed."""
    condition = _matches(keys_sql, "olist_rows", key, columns)
    return f"(select * from {relation} as olist_rows where {condition})"


def fingerprint_of_test(
    test: DataTest, sql: str, models: Mapping[str, str | None], sources: Mapping[str, str]
) -> str | None:
    """A test's SQL and severity with its models' fingerprints and the MD5 of the file behind
    each raw table it reads; None when one is unknown. A run records it with the test's
    result, and compares it with the fingerprints of the data it started from."""
    fingerprints = {model: models.get(model) for model in test.depends_on}
    return digest_of_inputs([sql, test.severity], fingerprints, test.sources, sources)


class ChangedRows:
    """Renders a generic test on the changed rows of its model, where that is sound."""

    def __init__(
        self,
        project: Project,
        renderer: Renderer,
        changes: RunChanges,
        keep: Callable[[str], str],
    ) -> None:
        """``keep``: names a relation whose rows are then computed once for all the tests
        that read it (checks.Narrowed); the tests of one model read its changed rows
        from there."""
        self.project = project
        self.renderer = renderer
        self.changes = changes
        self.keep = keep
        self._kept: dict[tuple[str, str], str] = {}
        self._widened: dict[str, Changed | None] = {}

    def eligible(self, test: DataTest, sql: str, recorded: Recorded | None) -> bool:
        """Whether the test passed, with no failing row, on the data this run started from."""
        if recorded is None or recorded.status != "pass" or recorded.failures:
            return False
        start = fingerprint_of_test(test, sql, self.changes.start, self.changes.sources_before)
        return start is not None and recorded.fingerprint == start

    def sql(self, test: DataTest) -> str | None:
        """The test's SELECT over the changed rows only; None: it must run whole."""
        if test.kind == "singular":
            return self._singular(test)
        if test.model is None or test.model not in self.project.models:
            return None
        model = self.project.models[test.model]
        own = self._test_keys(model)
        if own is None:
            return None
        if test.kind in ROW_KINDS:
            rows = self._restricted(model, own)
        elif test.kind in UNIQUE_KINDS:
            rows = self._sharing_values(model, own, test.unique_columns)
        elif test.kind == "relationships" and test.column and len(test.references) == 2:
            rows = self._children(model, own, test.column, *test.references)
        else:
            return None
        if rows is None:
            return None
        # The generic template reads the tested model through its first ref() (the child,
        # for relationships); every other ref stays whole. Rendered with the template's
        # own compiled code: only what ref() returns differs.
        narrowed_once = [rows]

        def ref(name: str) -> str:
            if name == test.model and narrowed_once:
                return narrowed_once.pop()
            return self.renderer.ref(name)

        sql = self.renderer.render_test_with(test, ref)
        return None if narrowed_once else sql

    def _singular(self, test: DataTest) -> str | None:
        """A narrow_by test over the rows of the values whose rows changed, in every model."""
        column = test.narrow_by
        if column is None or any(m not in self.project.models for m in test.depends_on):
            return None
        if any(table in self.changes.raw for table in test.sources):
            return None  # a raw table it reads whole changed: its rows are not narrowed
        parts = []
        for name in test.depends_on:
            changed = self.changes.models.get(name)
            if changed is None:
                return None
            if changed.keys is None:
                continue
            values = changed.values_of(column)
            if values is None:
                return None  # its rows changed, but not said by this column
            parts.append(values)
        if not parts:
            return None
        keys = Changed(
            (column,), "\nunion\n".join(f"select {column} from ({p}) as v" for p in parts)
        )
        narrowed = {
            name: self._select_restricted(self.project.models[name], keys)
            for name in test.depends_on
        }

        def ref(name: str) -> str:
            return narrowed[name] if name in narrowed else self.renderer.ref(name)

        return self.renderer.render_test_with(test, ref)

    def _test_keys(self, model: Model) -> Changed | None:
        """The model's changed keys, widened for its relationships tests with the changed
        parent keys (a test through its own key) or the keys of the rows that refer to one
        (through another column): one set of rows then serves all of its tests.

        Checking rows that did not change adds no failure (they passed before, and are the
        same rows), so a wider set keeps every count exact.
        """
        if model.name in self._widened:
            return self._widened[model.name]
        own = self.changes.models.get(model.name)
        widened = own
        if own is not None and len(own.key) == 1:
            parts = [own.keys] if own.keys is not None else []
            for test in self.project.tests:
                if test.model != model.name or test.kind != "relationships":
                    continue
                if test.column is None or len(test.references) != 2:
                    continue
                parent_name, field_ = test.references
                parent = self.changes.models.get(parent_name)
                if parent is None or parent.keys is None or parent.key != (field_,):
                    continue
                parent_keys = f"select {field_} from ({parent.keys}) as olist_parent"
                if test.column == own.key[0]:
                    parts.append(f"select {field_} as {own.key[0]} from ({parent.keys}) as p")
                else:
                    # The keys of the children of a changed parent key.
                    parts.append(
                        f"select {own.key[0]} from {self.renderer.ref(model.name)} "
                        f"as olist_child where {test.column} in ({parent_keys})"
                    )
            if len(parts) > (own.keys is not None):
                widened = Changed(own.key, "\nunion\n".join(parts))
        self._widened[model.name] = widened
        return widened

    def _restricted(self, model: Model, changed: Changed) -> str:
        """The model's rows whose key is among the changed keys: kept, where it can be."""
        if changed.keys is None:
            # Nothing in it changed, and the test passed on it: no row to check.
            return f"(select * from {self.renderer.ref(model.name)} where false)"
        if changed.rows is not None:
            return changed.rows  # kept by the build
        cache = (model.name, changed.keys)
        if cache not in self._kept:
            self._kept[cache] = self.keep(self._select_restricted(model, changed))
        return self._kept[cache]

    def _select_restricted(self, model: Model, changed: Changed) -> str:
        key, cfg = changed.key, model.config
        assert changed.keys is not None
        keyed = [raw for raw in model.sources if keyed_by(raw, key)]
        if cfg.materialized == "view" and cfg.delta_key == key and keyed:
            # The view over the raw rows of those keys alone: by its delta_key promise,
            # exactly its rows for those keys, and far cheaper than filtering its output
            # when it ranks or deduplicates (stg_reviews).
            raw_dataset = self.renderer.settings.raw_dataset
            narrowed = {
                raw: _rows_matching(
                    self.renderer.relation(raw_dataset, raw), changed.keys, key, key
                )
                for raw in keyed
            }
            sql = self.renderer.render_model(model, incremental=False, narrowed=narrowed)
            return f"(\n{sql}\n)"
        return _rows_matching(self.renderer.ref(model.name), changed.keys, key, key)

    def _sharing_values(
        self, model: Model, changed: Changed, columns: tuple[str, ...]
    ) -> str | None:
        """The rows that share the tested values of a changed row: where a new duplicate is."""
        if not columns:
            return None
        if set(changed.key) <= set(columns):
            # Rows with equal values then have equal keys too: the rows of the changed keys.
            if changed.rows is None:
                return self._restricted(model, changed)
            # Not the merged rows alone: an older row of a merged key, left outside the
            # merge's partitions, is in the table beside them. Read there, unkept, the
            # test reads only its own columns.
            assert changed.keys is not None
            key = changed.key
            return _rows_matching(self.renderer.ref(model.name), changed.keys, key, key)
        changed_rows = self._restricted(model, changed)
        values = f"select {', '.join(columns)} from {changed_rows} as olist_changed"
        return _rows_matching(self.renderer.ref(model.name), values, columns, columns)

    def _children(
        self, model: Model, own: Changed, column: str, parent_name: str, field_: str
    ) -> str | None:
        """Changed child rows, and the children of parent keys whose rows changed."""
        if parent_name == model.name:
            return None
        parent = self.changes.models.get(parent_name)
        if parent is None:
            return None
        if parent.keys is not None and parent.key != (field_,):
            return None  # a parent value may have gone without its key being listed
        if parent.keys is None or len(own.key) == 1:
            # Nothing gone from the parent; or own keys widened by _test_keys with the
            # parent's changed keys, or with the keys of their children.
            return self._restricted(model, own)
        parent_keys = f"select {field_} as {column} from ({parent.keys}) as olist_parent"
        relation = self.renderer.ref(model.name)
        condition = _matches(parent_keys, "olist_rows", (column,), (column,))
        if own.keys is not None:
            condition += f" or {_matches(own.keys, 'olist_rows', own.key, own.key)}"
        return f"(select * from {relation} as olist_rows where {condition})"
