"""Discover the SQL project and read each file's refs, sources and config from its Jinja AST.

Nothing is rendered or run here: the DAG and every model's settings come from the
literal arguments of ``ref()``, ``source()`` and ``config()`` calls, so a bad file is
reported before any SQL runs. Parsing every template is still most of the cost of
loading a project, so the result can be kept on disk (see ``parse_project``'s ``cache``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import Environment, nodes

from olist_cli import dataset, settings
from olist_cli.atomic import read_json, write_text_atomic
from olist_cli.engine import generic, render
from olist_cli.engine.generic import generic_test, identifier
from olist_cli.engine.render import display_path, make_env, parse, raw_table
from olist_cli.errors import ProjectError, file_error
from olist_cli.settings import IDENTIFIER

NOT_MODELS = ("tests", "macros")
MATERIALIZATIONS = ("view", "table", "incremental")
SEVERITIES = ("error", "warn")
MODEL_KEYS = (
    "materialized",
    "unique_key",
    "partition_by",
    "cluster_by",
    "delta_key",
    "keys_from",
    "description",
    "columns",
    "tests",
    "tags",
)
TEST_KEYS = ("severity", "description", "tags", "narrow_by")


@dataclass(frozen=True)
class ModelConfig:
    materialized: str
    unique_key: tuple[str, ...] = ()
    partition_by: str | None = None
    cluster_by: tuple[str, ...] = ()
    # A view's rows for one value of these columns come only from the rows with that value
    # of each raw table it reads that has them (any other raw table it reads whole): the
    # promise that tells which of its rows a load changed.
    delta_key: tuple[str, ...] = ()
    # An incremental model's promise, ref -> column: its rows holding a value in that
    # column are computed only from the ref's rows holding the same value there. A run
    # then rebuilds just the rows of the values whose rows changed in each ref; a change
    # to a ref not listed (read whole) rebuilds the table whole.
    keys_from: Mapping[str, str] = field(default_factory=dict)
    description: str = ""
    columns: Mapping[str, str] = field(default_factory=dict)  # column -> description
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Model:
    name: str
    path: Path
    layer: str
    config: ModelConfig
    refs: tuple[str, ...]
    sources: tuple[str, ...]  # raw table names
    template_source: str


@dataclass(frozen=True)
class DataTest:
    """A singular test file, or a generic test declared in a model's config.

    Both are a Jinja template of a SELECT returning the failing rows.
    """

    __test__ = False  # not a pytest test class, despite the name

    name: str
    model: str | None  # the model it checks; a singular test: the first model it refs
    kind: str  # a generic test kind, or "singular"
    severity: str
    description: str
    template_source: str
    path: Path  # the file that declares it
    depends_on: tuple[str, ...]  # every model it refs
    column: str | None = None
    tags: tuple[str, ...] = ()
    # Generic tests only, for testing changed rows alone (see engine/changes.py): the
    # columns a unique test keys on, and the (model, field) a relationships test points to.
    unique_columns: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    # Singular tests only: whether a row fails depends only on the rows with the same value
    # of this column in each model the test reads (see engine/changes.py).
    narrow_by: str | None = None
    sources: tuple[str, ...] = ()  # the raw tables it reads through source()

    @property
    def label(self) -> str:
        """Where it comes from, for error messages."""
        where = display_path(self.path)
        return where if self.kind == "singular" else f"{where} (test {self.name})"


@dataclass(frozen=True)
class Project:
    sql_dir: Path
    models: Mapping[str, Model]  # by name, in path order
    tests: tuple[DataTest, ...]


@dataclass
class _Calls:
    refs: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)


def _read_calls(env: Environment, source: str, label: str) -> _Calls:
    """The literal arguments of every ref/source/config call in one template."""
    found = _Calls()
    for call in parse(env, source, label).find_all(nodes.Call):
        fn = call.node.name if isinstance(call.node, nodes.Name) else None
        if fn not in ("ref", "source", "config"):
            continue
        where = f"{label}:{call.lineno}"
        try:
            if call.dyn_args or call.dyn_kwargs:
                raise nodes.Impossible()
            args = [a.as_const() for a in call.args]
            kwargs = {k.key: k.value.as_const() for k in call.kwargs}
        except nodes.Impossible:
            raise ProjectError(
                f"{where}: {fn}() arguments must be literals (quoted names, numbers, lists, "
                "dicts), not variables or expressions"
            ) from None
        if fn == "ref":
            if len(args) != 1 or kwargs or not isinstance(args[0], str):
                raise ProjectError(f"{where}: write ref('model_name'), one quoted model name")
            found.refs.append(args[0])
        elif fn == "source":
            if len(args) != 2 or kwargs:
                raise ProjectError(f"{where}: write source('raw', 'orders')")
            try:
                found.sources.append(raw_table(*args))
            except ValueError as exc:
                raise ProjectError(f"{where}: {exc}") from None
        else:
            if args or found.config:
                raise ProjectError(f"{where}: call config(key=value, ...) once, keywords only")
            found.config = kwargs
    return found


def _tuple(value: Any, what: str) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise ValueError(f"{what} must be a column name or a list of them")
    return tuple(identifier(v, what) for v in items)


def _optional(value: Any, what: str) -> str | None:
    return None if value is None else identifier(value, what)


def _list(value: Any, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise ValueError(f"{what} must be a list, got {value!r}")
    return list(value)


def _columns(raw: dict[str, Any]) -> dict[str, dict[str, Any]]:
    columns = raw.get("columns") or {}
    if not isinstance(columns, dict) or not all(isinstance(s, dict) for s in columns.values()):
        raise ValueError("columns must be a dict: {column: {'description': ..., 'tests': [...]}}")
    return {identifier(c, "a column"): spec for c, spec in columns.items()}


def _test_spec(spec: Any) -> tuple[str, dict[str, Any]]:
    """A bare name, or a one-key dict {name: {args}}."""
    if isinstance(spec, str):
        return spec, {}
    if isinstance(spec, dict) and len(spec) == 1:
        ((kind, args),) = spec.items()
        if args is None or isinstance(args, dict):
            return kind, dict(args or {})
    raise ValueError(f"a test is a name or a one-key dict {{name: {{args}}}}, got {spec!r}")


def _model_config(layer: str, raw: dict[str, Any]) -> ModelConfig:
    unknown = sorted(set(raw) - set(MODEL_KEYS))
    if unknown:
        raise ValueError(f"unknown config key {', '.join(unknown)}; keys: {', '.join(MODEL_KEYS)}")
    kind = raw.get("materialized", "view" if layer == "staging" else "table")
    if kind not in MATERIALIZATIONS:
        raise ValueError(f"materialized={kind!r}; use one of {', '.join(MATERIALIZATIONS)}")
    config = ModelConfig(
        materialized=kind,
        unique_key=_tuple(raw.get("unique_key", []), "unique_key"),
        partition_by=_optional(raw.get("partition_by"), "partition_by"),
        cluster_by=_tuple(raw.get("cluster_by", []), "cluster_by"),
        delta_key=_tuple(raw.get("delta_key", []), "delta_key"),
        keys_from=_keys_from(raw.get("keys_from")),
        description=str(raw.get("description", "")),
        columns={c: str(spec.get("description", "")) for c, spec in _columns(raw).items()},
        tags=tuple(str(t) for t in _list(raw.get("tags"), "tags")),
    )
    if kind == "incremental" and not config.unique_key:
        raise ValueError("an incremental model needs unique_key in config()")
    if config.keys_from and kind != "incremental":
        raise ValueError("keys_from is for incremental models: a table is rebuilt anyway")
    if config.delta_key and kind != "view":
        raise ValueError("delta_key is for views; an incremental model declares keys_from")
    return config


def _keys_from(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError("keys_from must be a dict {ref: column}, e.g. {'stg_orders': 'order_id'}")
    return {
        identifier(ref, "keys_from's ref"): identifier(c, "keys_from") for ref, c in value.items()
    }


def _generic_tests(env: Environment, model: Model, raw: dict[str, Any]) -> list[DataTest]:
    declared = [(None, spec) for spec in _list(raw.get("tests"), "tests")]
    for column, spec in _columns(raw).items():
        declared += [(column, s) for s in _list(spec.get("tests"), f"columns.{column}.tests")]
    tests = []
    for column, spec in declared:
        try:
            kind, args = _test_spec(spec)
            severity = args.pop("severity", "error")
            if severity not in SEVERITIES:
                raise ValueError(f"test {kind}: severity={severity!r}; use 'error' or 'warn'")
            description = str(args.pop("description", ""))
            name, template = generic_test(kind, model.name, column, args, args.pop("where", None))
        except ValueError as exc:
            raise ValueError(f"{f'columns.{column}' if column else 'tests'}: {exc}") from None
        label = f"{display_path(model.path)} (test {name})"
        refs = _generic_refs(env, template, label)
        tests.append(
            DataTest(
                name=name,
                model=model.name,
                kind=kind,
                severity=severity,
                description=description,
                template_source=template,
                path=model.path,
                depends_on=refs,
                column=column,
                tags=model.config.tags,
                unique_columns=_unique_columns(kind, column, args),
                references=(str(args["to"]), str(args["field"])) if kind == "relationships" else (),
            )
        )
    return tests


def _unique_columns(kind: str, column: str | None, args: dict[str, Any]) -> tuple[str, ...]:
    if kind == "unique" and column is not None:
        return (column,)
    if kind == "unique_combination":
        return tuple(str(c) for c in args["columns"])
    return ()


def _generic_refs(env: Environment, template: str, label: str) -> tuple[str, ...]:
    """The models a generic test reads: read off its ref() calls, parsed only if it holds
    other Jinja.

    A generic test's template is SQL that olist wrote around ``ref()`` calls; only a
    user's own Jinja in an argument (a ``where`` using a helper, say) needs the parser,
    which would otherwise cost a millisecond for each of a project's many tests.
    """
    if generic.only_refs(template):
        return tuple(dict.fromkeys(generic.REF_CALL.findall(template)))
    return tuple(dict.fromkeys(_read_calls(env, template, label).refs))


def _singular_test(env: Environment, path: Path) -> DataTest:
    label = display_path(path)
    source = _sql_text(path)
    calls = _read_calls(env, source, label)
    config = calls.config
    unknown = sorted(set(config) - set(TEST_KEYS))
    severity = config.get("severity", "error")
    tags = config.get("tags", [])
    narrow_by = config.get("narrow_by")
    if unknown or severity not in SEVERITIES or not isinstance(tags, list):
        raise ProjectError(
            f"{label}: a test's config() takes severity='error'|'warn', description, "
            "tags=[...], narrow_by='<column>'"
        )
    if narrow_by is not None and not (isinstance(narrow_by, str) and IDENTIFIER.match(narrow_by)):
        raise ProjectError(f"{label}: narrow_by must be one plain column name, got {narrow_by!r}")
    refs = tuple(dict.fromkeys(calls.refs))
    return DataTest(
        name=path.stem,
        model=refs[0] if refs else None,
        kind="singular",
        severity=severity,
        description=str(config.get("description", "")),
        template_source=source,
        path=path,
        depends_on=refs,
        tags=tuple(str(t) for t in tags),
        narrow_by=narrow_by,
        sources=tuple(dict.fromkeys(calls.sources)),
    )


def _model(env: Environment, path: Path) -> tuple[Model, list[DataTest]]:
    label, layer = display_path(path), path.parent.name
    for part, what in ((path.stem, "model file name"), (layer, "layer folder name")):
        if not IDENTIFIER.match(part):
            raise ProjectError(f"{label}: the {what} must be letters, digits and underscores")
    source = _sql_text(path)
    calls = _read_calls(env, source, label)
    try:
        config = _model_config(layer, calls.config)
        refs, sources = tuple(dict.fromkeys(calls.refs)), tuple(dict.fromkeys(calls.sources))
        unknown = [r for r in config.keys_from if r not in refs]
        if unknown:
            names = ", ".join(unknown)
            raise ValueError(f"keys_from names {names}, which the model does not ref")
        if config.delta_key and (refs or not sources):
            raise ValueError(
                "delta_key is for a view that reads raw tables and no model, "
                f"got {len(sources)} source(s) and {len(refs)} ref(s)"
            )
        model = Model(path.stem, path, layer, config, refs, sources, source)
        return model, _generic_tests(env, model, calls.config)
    except ValueError as exc:
        raise ProjectError(f"{label}: {exc}") from None


def _project_files(sql_dir: Path) -> tuple[list[Path], list[Path]]:
    """The singular test files and the model files, each in the order they are parsed."""
    try:
        tests = sorted((sql_dir / "tests").glob("*.sql"))
        layers = [
            d
            for d in sorted(sql_dir.iterdir())
            if d.is_dir() and d.name not in NOT_MODELS and not d.name.startswith(".")
        ]
        # listdir, not glob: glob finds nothing in a folder it may not read, and says nothing.
        models = [d / n for d in layers for n in sorted(os.listdir(d)) if _is_sql_file(d / n)]
    except OSError as exc:
        raise file_error(exc, f"cannot read the SQL project {exc.filename or sql_dir}") from None
    return tests, models


def _is_sql_file(path: Path) -> bool:
    return path.suffix == ".sql" and not path.name.startswith(".")


def _sql_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise file_error(exc, f"cannot read {display_path(path)}") from None


def parse_project(sql_dir: Path, *, cache: Path | None = None) -> Project:
    """Every model and test under ``sql_dir``; refs are not checked here (see graph.py).

    With ``cache``, a JSON file: the project parsed by an earlier run is reused when no
    file it was parsed from, nor the code that parses, has changed by a single byte.
    """
    if not sql_dir.is_dir():
        raise ProjectError(f"SQL folder {sql_dir} does not exist; set OLIST_SQL_DIR")
    test_files, model_files = _project_files(sql_dir)
    key = _cache_key(sql_dir, test_files + model_files) if cache is not None else None
    if cache is not None and key is not None:
        cached = _read_cache(cache, key)
        if cached is not None:
            return cached
    project = _parse(sql_dir, test_files, model_files)
    if cache is not None and key is not None:
        _write_cache(cache, key, project)
    return project


def _parse(sql_dir: Path, test_files: list[Path], model_files: list[Path]) -> Project:
    env = make_env(sql_dir)
    models: dict[str, Model] = {}
    tests = [_singular_test(env, p) for p in test_files]
    for path in model_files:
        model, model_tests = _model(env, path)
        if model.name in models:
            first = display_path(models[model.name].path)
            raise ProjectError(
                f"model '{model.name}' is defined twice: {first} and {display_path(path)}; "
                "rename one (model names are unique across layers)"
            )
        models[model.name] = model
        tests += model_tests
    return Project(sql_dir, models, _unique_names(tests))


def _unique_names(tests: list[DataTest]) -> tuple[DataTest, ...]:
    """Suffix repeated generated names (_2, _3, ...) in declaration order: deterministic."""
    seen: dict[str, int] = {}
    named = []
    for test in tests:
        count = seen[test.name] = seen.get(test.name, 0) + 1
        if count > 1:
            test = replace(test, name=f"{test.name}_{count}")
        named.append(test)
    return tuple(named)


# -- the parse cache ---------------------------------------------------------------------

_CACHE_FORMAT = 3
# What a parse depends on besides the SQL files: this parser, the generic tests' templates,
# the Jinja environment and source() keys, the raw tables and the identifier rule. Their
# source text is part of the key, so a changed olist (an editable install included)
# never reads a project parsed by older code.
_PARSER_MODULES = (__file__, generic.__file__, render.__file__, dataset.__file__, settings.__file__)


def _cache_key(sql_dir: Path, files: list[Path]) -> str | None:
    """A digest of every byte the parse reads; None if a file cannot be read (no cache)."""
    digest = hashlib.sha256(f"{_CACHE_FORMAT}\0{jinja2.__version__}\0{sql_dir}".encode())
    try:
        for module in _PARSER_MODULES:
            if module is None:
                return None
            digest.update(Path(module).read_bytes())
        for path in files:
            # Each file's name (a renamed file is another model) and length (so that no
            # two file lists run together into the same bytes), then its text.
            text = path.read_bytes()
            digest.update(f"\0{path}\0{len(text)}\0".encode())
            digest.update(text)
    except OSError:
        return None
    return digest.hexdigest()


def _read_cache(cache: Path, key: str) -> Project | None:
    """The cached project if it was parsed from exactly these bytes; else None."""
    found = read_json(cache)
    if not isinstance(found, dict) or found.get("key") != key:
        return None
    try:
        data = found["project"]
        models = {m["name"]: _model_from_json(m) for m in data["models"]}
        tests = tuple(_from_json(DataTest, t) for t in data["tests"])
        return Project(Path(data["sql_dir"]), models, tests)
    except (AttributeError, KeyError, TypeError, ValueError):  # damaged or foreign: reparse
        return None


def _write_cache(cache: Path, key: str, project: Project) -> None:
    data = {
        "sql_dir": str(project.sql_dir),
        "models": [dataclasses.asdict(m) for m in project.models.values()],
        "tests": [dataclasses.asdict(t) for t in project.tests],
    }
    # A cache that cannot be written is no error: the next run parses again.
    with contextlib.suppress(OSError):
        write_text_atomic(cache, json.dumps({"key": key, "project": data}, default=str))


def _from_json(cls: type[Any], data: dict[str, Any]) -> Any:
    """A Model, ModelConfig or DataTest from its JSON: lists were tuples, paths were Paths."""
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
    if "path" in values:
        values["path"] = Path(values["path"])
    return cls(**values)


def _model_from_json(data: dict[str, Any]) -> Model:
    return _from_json(Model, {**data, "config": _from_json(ModelConfig, data["config"])})
