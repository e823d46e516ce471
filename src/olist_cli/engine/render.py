"""The Jinja environment that models and tests render in, and template errors as ProjectError.

Globals: ``ref``, ``source``, ``config`` and the warehouse dialect's helpers and type
names. Per render: ``this``, ``is_incremental()`` and ``changed('column')`` (in an
incremental build, a subquery of the values of one of the model's keys_from columns whose
rows changed in its refs, gathered by the engine before the model is rendered). Undefined
names are errors (StrictUndefined), reported with the file and line they occur on.
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import os
import re
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from types import CodeType
from typing import TYPE_CHECKING, Any

from jinja2 import (
    Environment,
    FileSystemBytecodeCache,
    FileSystemLoader,
    StrictUndefined,
    Template,
    TemplateError,
    nodes,
)

from olist_cli.dataset import BY_RAW_TABLE, SOURCE_FILES
from olist_cli.engine.generic import REF_CALL, only_refs
from olist_cli.errors import OlistError, ProjectError

if TYPE_CHECKING:
    from olist_cli.engine.project import DataTest, Model, Project
    from olist_cli.settings import Settings
    from olist_cli.warehouse.base import Dialect

HELPERS = (
    "surrogate_key",
    "date_diff_days",
    "to_date",
    "safe_cast",
    "date_spine",
    "day_name",
    "month_name",
    "iso_day_of_week",
)
TYPES = (
    "type_string",
    "type_int",
    "type_numeric",
    "type_float",
    "type_bool",
    "type_date",
    "type_timestamp",
)
SOURCE_KEYS = {f.key: f.raw_table for f in SOURCE_FILES} | {t: t for t in BY_RAW_TABLE}
_UNDEFINED = re.compile(r"'(\w+)' is undefined")
_only_refs = functools.lru_cache(maxsize=4096)(only_refs)


def _clean(sql: str) -> str:
    """A rendered SELECT without surrounding space or a trailing semicolon."""
    return sql.strip().rstrip(";").rstrip()


# Compiling a template is most of the cost of rendering it; the code object does not
# depend on the renderer's globals, so one compile per (file, text) serves every render
# in the process (load-time validation, build, tests).
_CODE_CACHE: dict[tuple[str, str], CodeType] = {}


def display_path(path: Path) -> str:
    """A path as a person would type it: relative to the working folder when inside it."""
    return _relative(path, os.getcwd())


@functools.lru_cache(maxsize=4096)
def _relative(path: Path, cwd: str) -> str:
    # Cached: resolving paths is slow, and a run names the same few hundred files often.
    try:
        return str(path.resolve().relative_to(Path(cwd).resolve()))
    except ValueError:
        return str(path)


def make_env(sql_dir: Path) -> Environment:
    # The loader serves {% import %}/{% from %} of macro files; models are compiled from
    # their source text so that errors carry the model's own path.
    return Environment(loader=FileSystemLoader(sql_dir), undefined=StrictUndefined)


def parse(env: Environment, source: str, label: str) -> nodes.Template:
    try:
        return env.parse(source, filename=label)
    except TemplateError as exc:
        raise template_error(exc, label) from None


def raw_table(source_name: str, table: str) -> str:
    """The raw table behind source('raw', <key or raw table name>); ValueError if none."""
    if source_name != "raw" or table not in SOURCE_KEYS:
        keys = ", ".join(f.key for f in SOURCE_FILES)
        raise ValueError(
            f"source({source_name!r}, {table!r}) is unknown; "
            f"use source('raw', <key>) with a key in: {keys}"
        )
    return SOURCE_KEYS[table]


def template_error(exc: BaseException, label: str, names: tuple[str, ...] = ()) -> ProjectError:
    """One line: file, line if known, what went wrong and, when obvious, the fix."""
    line = getattr(exc, "lineno", None)
    if line is None:  # a runtime error: Jinja rewrote the traceback to template lines
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == label]
        line = frames[-1].lineno if frames else None
    if isinstance(exc, TemplateError | OlistError):
        message = str(exc.message if isinstance(exc, TemplateError) else exc)
    else:
        message = f"{type(exc).__name__}: {exc}"
    undefined = _UNDEFINED.search(message)
    if undefined and names:
        close = difflib.get_close_matches(undefined.group(1), names, n=1)
        message += (
            f"; did you mean '{close[0]}'?" if close else "; is a variable or helper misspelt?"
        )
    return ProjectError(f"{label}:{line}: {message}" if line else f"{label}: {message}")


class Renderer:
    """Renders the project's templates for one warehouse: its relations and dialect."""

    def __init__(
        self,
        settings: Settings,
        project: Project,
        relation: Callable[[str, str], str],
        dialect: Dialect,
    ) -> None:
        self.settings = settings
        self.project = project
        self.dialect = dialect
        self.relation = relation
        self.env = make_env(project.sql_dir)
        self.env.globals.update(
            ref=self.ref,
            source=self.source,
            config=lambda *args, **kwargs: "",  # read from the AST at load; renders as nothing
            **{name: getattr(dialect, name) for name in (*HELPERS, *TYPES)},
        )
        self._names = (*self.env.globals, "this", "is_incremental", "changed")
        self._compiled: dict[str, Template] = {}
        self._tests: dict[str, str] = {}
        # Compiled templates also persist between runs (Jinja's own bytecode cache, keyed
        # by source text): parsing and compiling ~180 templates is most of a no-op run.
        self.bytecode_cache: FileSystemBytecodeCache | None = None
        cache_dir = settings.data_dir / ".olist-cache" / "jinja"
        with contextlib.suppress(OSError):
            cache_dir.mkdir(parents=True, exist_ok=True)
            self.bytecode_cache = FileSystemBytecodeCache(str(cache_dir))

    def ref(self, name: str) -> str:
        model = self.project.models.get(name)
        if model is None:
            raise ProjectError(f"ref('{name}') names no model")
        return self.relation(self.settings.layer_schema(model.layer), name)

    def source(self, source_name: str, table: str) -> str:
        try:
            return self.relation(self.settings.raw_dataset, raw_table(source_name, table))
        except ValueError as exc:
            raise ProjectError(str(exc)) from None

    def _code(self, source: str, label: str) -> CodeType:
        """The template's compiled code: from memory, from the disk cache, or compiled."""
        code = _CODE_CACHE.get((label, source))
        if code is not None:
            return code
        bucket = None
        if self.bytecode_cache is not None:
            bucket = self.bytecode_cache.get_bucket(self.env, label, label, source)
            code = bucket.code
        if code is None:
            code = self.env.compile(source, name=label, filename=label)
            if bucket is not None and self.bytecode_cache is not None:
                bucket.code = code
                with contextlib.suppress(OSError):  # a cache that cannot be written is no error
                    self.bytecode_cache.set_bucket(bucket)
        _CODE_CACHE[(label, source)] = code
        return code

    def render(self, text: str, label: str, /, **context: Any) -> str:
        """Render one template; its SQL comes back without a trailing semicolon."""
        try:
            template = self._compiled.get(label)
            if template is None:
                code = self._code(text, label)
                template = self.env.template_class.from_code(
                    self.env, code, self.env.make_globals(None)
                )
                self._compiled[label] = template
            sql = template.render(**context)
        except Exception as exc:  # any failure inside a template is the template's fault
            raise template_error(exc, label, self._names) from None
        return _clean(sql)

    def render_model(
        self,
        model: Model,
        *,
        incremental: bool,
        changed: Mapping[str, str] | None = None,
        narrowed: Mapping[str, str] | None = None,
    ) -> str:
        """The model's SELECT; ``changed``: column -> what ``changed(column)`` renders as.

        A build passes the relations of the values it gathered. Without them (validation,
        the docs site, a dry run) an incremental render gets an empty set of the column's
        values, said in the SQL, since the docs site shows this render to people.
        ``narrowed``: raw table -> a relation that ``source()`` renders as instead (a
        test of changed rows reads a view over its changed keys alone).
        """
        this = self.relation(self.settings.layer_schema(model.layer), model.name)
        columns = set(model.config.keys_from.values())

        def changed_values(column: str) -> str:
            if not incremental:
                raise ProjectError(
                    "changed() is only defined in an incremental build: "
                    "use it inside {% if is_incremental() %}"
                )
            if column not in columns:
                raise ProjectError(
                    f"changed({column!r}): {column} is not one of the model's keys_from "
                    f"columns ({', '.join(sorted(columns)) or 'none declared'})"
                )
            if changed is not None and column in changed:
                return changed[column]
            return (
                f"(select {column} from {this} where false "
                "/* changed(): a build lists the values whose rows changed here */)"
            )

        extra: dict[str, Any] = {}
        if narrowed:

            def source(source_name: str, table: str) -> str:
                found = narrowed.get(SOURCE_KEYS.get(table, ""))
                return found if found is not None else self.source(source_name, table)

            extra["source"] = source
        return self.render(
            model.template_source,
            display_path(model.path),
            this=this,
            is_incremental=lambda: incremental,
            changed=changed_values,
            **extra,
        )

    def render_test(self, test: DataTest) -> str:
        # A test run asks for each test's SQL three times (fingerprint, batch, result): the
        # render depends only on the test and this renderer, so it is done once.
        sql = self._tests.get(test.name)
        if sql is None:
            sql = self._tests[test.name] = self.render_test_with(test, self.ref)
        return sql

    def render_test_with(self, test: DataTest, ref: Callable[[str], str]) -> str:
        """The test's SQL with ``ref()`` answered by ``ref``.

        A generic test's template is SQL that olist wrote around ``{{ ref('…') }}`` calls:
        unless an argument brought Jinja of its own, the calls are replaced directly. Jinja
        would build a context for each render, 0.14 ms, and a run renders ~450 tests.
        """
        source = test.template_source
        if test.kind != "singular" and _only_refs(source):
            try:
                sql = REF_CALL.sub(lambda call: ref(call.group(1)), source)
            except ProjectError as exc:
                raise ProjectError(f"{test.label}: {exc}") from None
            return _clean(sql)
        return self.render(source, test.label, ref=ref, is_incremental=lambda: False)
