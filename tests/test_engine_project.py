"""The SQL engine's loading side: discovery, AST parsing, the DAG, selection, and errors.

No SQL runs here: projects are written to tmp_path and only parsed (and, where a template
error is under test, rendered with the DuckDB dialect).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from helpers import write_sql
from olist_cli.engine import Graph, Project, load_project, parse_project
from olist_cli.engine import project as project_module
from olist_cli.errors import ProjectError
from olist_cli.settings import Settings
from olist_cli.warehouse.duckdb import DuckDBDialect

# stg_a, stg_b -> int_c -> dim_d ; stg_b -> fact_e ; other_f stands alone.
DAG = {
    "staging/stg_a.sql": (
        "{{ config(tags=['core']) }}select 1 as id from {{ source('raw', 'orders') }}"
    ),
    "staging/stg_b.sql": "select 1 as id from {{ source('raw', 'sellers_raw') }}",
    "warehouse/int_c.sql": (
        "select * from {{ ref('stg_a') }}\n{% if is_incremental() %}\n"
        "union all select * from {{ ref('stg_b') }}\n{% endif %}"
    ),
    "warehouse/dim_d.sql": "{{ config(tags=['core', 'dims']) }}select * from {{ ref('int_c') }}",
    "warehouse/fact_e.sql": "select * from {{ ref('stg_b') }} join {{ ref('stg_b') }} using (id)",
    "warehouse/other_f.sql": "select 1 as id",
}


# Messages show paths relative to the working folder (tmp_path, conftest's isolated_env), as
# a person would type them.


def settings_for(sql_dir: Path) -> Settings:
    return Settings(_env_file=None, sql_dir=sql_dir, raw_dataset="raw", target_schema="t")


def load(tmp_path: Path, files: dict[str, str], *, render: bool = False):
    return load_project(
        settings_for(write_sql(tmp_path, files)), DuckDBDialect() if render else None
    )


def error_of(tmp_path: Path, files: dict[str, str], *, render: bool = False) -> str:
    with pytest.raises(ProjectError) as info:
        load(tmp_path, files, render=render)
    return info.value.message


def test_refs_and_sources_come_from_the_ast_including_inside_blocks(tmp_path: Path) -> None:
    project = load(tmp_path, DAG)
    assert project.models["int_c"].refs == ("stg_a", "stg_b")  # stg_b only in an if block
    assert project.models["fact_e"].refs == ("stg_b",)  # repeated ref, one edge
    assert project.models["stg_a"].sources == ("orders_raw",)
    assert project.models["stg_b"].sources == ("sellers_raw",)
    assert project.models["stg_a"].layer == "staging"
    assert project.models["stg_a"].config.materialized == "view"  # staging default
    assert project.models["dim_d"].config.materialized == "table"  # elsewhere
    assert project.models["dim_d"].config.tags == ("core", "dims")


def test_build_order_respects_every_ref(tmp_path: Path) -> None:
    project = load(tmp_path, DAG)
    order = Graph(project).order(project.models)
    assert sorted(order) == sorted(project.models)
    for model in project.models.values():
        for ref in model.refs:
            assert order.index(ref) < order.index(model.name)


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        (None, {"stg_a", "stg_b", "int_c", "dim_d", "fact_e", "other_f"}),
        ("int_c", {"int_c"}),
        ("+int_c", {"stg_a", "stg_b", "int_c"}),
        ("int_c+", {"int_c", "dim_d"}),
        ("+int_c+", {"stg_a", "stg_b", "int_c", "dim_d"}),
        ("stg_b+", {"stg_b", "int_c", "dim_d", "fact_e"}),
        ("layer:staging", {"stg_a", "stg_b"}),
        ("tag:core", {"stg_a", "dim_d"}),
        ("tag:dims+", {"dim_d"}),
        ("+tag:dims", {"stg_a", "stg_b", "int_c", "dim_d"}),
        ("stg_*", {"stg_a", "stg_b"}),
        ("*_[de]", {"dim_d", "fact_e"}),
        ("other_f fact_e", {"other_f", "fact_e"}),
        ("other_f,fact_e", {"other_f", "fact_e"}),
        ("other_f, layer:staging", {"other_f", "stg_a", "stg_b"}),
    ],
)
def test_selectors(tmp_path: Path, selector: str | None, expected: set[str]) -> None:
    assert Graph(load(tmp_path, DAG)).select(selector) == expected


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        ("int_cc", "--select 'int_cc' matches no model; did you mean 'int_c'?"),
        ("layer:stagign", "--select 'layer:stagign' matches no model; did you mean 'staging'?"),
        ("tag:dim", "--select 'tag:dim' matches no model; did you mean 'dims'?"),
        ("zzz_*", "--select 'zzz_*' matches no model"),
        ("path:x", "--select 'path:x': unknown method 'path:'; use layer: or tag:"),
    ],
)
def test_unknown_selector_names_close_matches(tmp_path: Path, selector: str, message: str) -> None:
    with pytest.raises(ProjectError, match="^" + re.escape(message) + "$"):
        Graph(load(tmp_path, DAG)).select(selector)


def test_unknown_ref_names_file_and_closest_model(tmp_path: Path) -> None:
    files = {**DAG, "warehouse/fact_e.sql": "select * from {{ ref('stg_bb') }}"}
    message = error_of(tmp_path, files)
    assert (
        message == "sql/warehouse/fact_e.sql: ref('stg_bb') names no model; did you mean 'stg_b'?"
    )


def test_cycle_is_named(tmp_path: Path) -> None:
    files = {
        "warehouse/a.sql": "select * from {{ ref('c') }}",
        "warehouse/b.sql": "select * from {{ ref('a') }}",
        "warehouse/c.sql": "select * from {{ ref('b') }}",
    }
    message = error_of(tmp_path, files)
    assert message.startswith("ref() cycle: ")
    cycle = message.removeprefix("ref() cycle: ").split(";")[0].split(" -> ")
    assert len(cycle) == 4 and cycle[0] == cycle[-1] and set(cycle) == {"a", "b", "c"}
    # Each model refs the next one in the message.
    refs = {"a": "c", "b": "a", "c": "b"}
    assert all(refs[x] == y for x, y in zip(cycle, cycle[1:], strict=False))


def test_self_ref_is_a_cycle(tmp_path: Path) -> None:
    assert "a -> a" in error_of(tmp_path, {"warehouse/a.sql": "select * from {{ ref('a') }}"})


def test_undefined_name_is_reported_with_file_line_and_hint(tmp_path: Path) -> None:
    files = {"warehouse/x.sql": "select\n  1 as id\nfrom {{ reff('y') }}"}
    message = error_of(tmp_path, files, render=True)
    assert message == "sql/warehouse/x.sql:3: 'reff' is undefined; did you mean 'ref'?"


def test_undefined_name_in_incremental_branch_is_caught_at_load(tmp_path: Path) -> None:
    body = (
        "{{ config(materialized='incremental', unique_key='id') }}\n"
        "select 1 as id\n{% if is_incremental() %}\nwhere ts > {{ ths }}\n{% endif %}"
    )
    message = error_of(tmp_path, {"warehouse/x.sql": body}, render=True)
    assert message.endswith("x.sql:4: 'ths' is undefined; did you mean 'this'?")


def test_syntax_error_is_reported_with_file_and_line(tmp_path: Path) -> None:
    files = {"staging/x.sql": "select 1\nfrom y\nwhere {{ a b }}\n"}
    message = error_of(tmp_path, files)
    assert message == "sql/staging/x.sql:3: expected token 'end of print statement', got 'b'"


def test_unclosed_block_names_the_missing_tag(tmp_path: Path) -> None:
    message = error_of(tmp_path, {"staging/x.sql": "select 1\n{% if true %}\nfrom y\n"})
    assert message.startswith("sql/staging/x.sql:") and "'endif'" in message


def test_wrong_helper_arguments_are_a_template_error(tmp_path: Path) -> None:
    files = {"warehouse/x.sql": "select {{ date_diff_days('a') }} as d"}
    message = error_of(tmp_path, files, render=True)
    assert "x.sql:1: TypeError" in message and "date_diff_days" in message


def test_unknown_source_names_file_and_valid_keys(tmp_path: Path) -> None:
    files = {"staging/x.sql": "select 1\nfrom {{ source('raw', 'order') }}"}
    message = error_of(tmp_path, files)
    assert message.startswith("sql/staging/x.sql:2: source('raw', 'order') is unknown")
    assert "orders, customers, order_items" in message


def test_source_other_than_raw_is_refused(tmp_path: Path) -> None:
    assert "is unknown" in error_of(tmp_path, {"staging/x.sql": "{{ source('ext', 'orders') }}"})


def test_duplicate_model_name_names_both_files(tmp_path: Path) -> None:
    files = {"staging/dup.sql": "select 1", "warehouse/dup.sql": "select 2"}
    message = error_of(tmp_path, files)
    assert message == (
        "model 'dup' is defined twice: sql/staging/dup.sql and sql/warehouse/dup.sql; "
        "rename one (model names are unique across layers)"
    )


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("{{ ref(name) }}", ":1: ref() arguments must be literals"),
        ("{{ ref('stg_' ~ layer) }}", ":1: ref() arguments must be literals"),
        ("{{ config(materialized=kind) }}", ":1: config() arguments must be literals"),
        ("{{ config(materialised='table') }}", "unknown config key materialised"),
        ("{{ config(materialized='ephemeral') }}", "materialized='ephemeral'"),
        ("{{ config(materialized='incremental') }}", "needs unique_key in config()"),
        ("{{ config(lookback_days=3) }}", "unknown config key lookback_days"),
        ("{{ config(tags='x') }}{{ config(tags='y') }}", ":1: call config(key=value, ...) once"),
        ("{{ config(columns={'a b': {}}) }}", "a column must be a plain column name"),
        ("{{ config(tests=['uniqe']) }}", "tests: unknown test 'uniqe'; did you mean 'unique'?"),
        ("{{ config(tests=['unique']) }}", "'unique' is a column test"),
        (
            "{{ config(columns={'a': {'tests': [{'unique_combination': {'columns': ['a']}}]}}) }}",
            "columns.a: 'unique_combination' is a model test",
        ),
        (
            "{{ config(columns={'a': {'tests': [{'relationships': {'to': 'b'}}]}}) }}",
            "'relationships' arguments: missing field",
        ),
        (
            "{{ config(columns={'a': {'tests': [{'not_null': {'severity': 'fatal'}}]}}) }}",
            "severity='fatal'",
        ),
        (
            "{{ config(columns={'a': {'tests': [{'accepted_values': {'values': [\"it's\"]}}]}}) }}",
            "is not a number or a string without quotes",
        ),
    ],
)
def test_bad_model_files_name_the_file(tmp_path: Path, body: str, fragment: str) -> None:
    message = error_of(tmp_path, {"warehouse/m.sql": body + "\nselect 1 as a"})
    assert message.startswith("sql/warehouse/m.sql")
    assert fragment in message


def test_relationships_to_unknown_model_suggests_the_right_one(tmp_path: Path) -> None:
    spec = "{'tests': [{'relationships': {'to': 'dim_custmer', 'field': 'k'}}]}"
    files = {
        "warehouse/dim_customer.sql": "select 1 as k",
        "warehouse/fact.sql": "{{ config(columns={'k': " + spec + "}) }}select 1 as k",
    }
    message = error_of(tmp_path, files)
    assert "(test relationships_fact_k__dim_custmer)" in message
    assert message.endswith("ref('dim_custmer') names no model; did you mean 'dim_customer'?")


def test_generic_test_names_are_deterministic_and_unique(tmp_path: Path) -> None:
    config = (
        "{{ config(columns={'k': {'tests': ['unique', 'not_null',"
        " {'relationships': {'to': 'dim', 'field': 'k'}}]}},"
        " tests=[{'expression': {'expression': 'k > 0'}}, {'expression': {'expression': 'k < 9'}},"
        " {'unique_combination': {'columns': ['k', 'j']}}]) }}"
    )
    files = {"warehouse/dim.sql": "select 1 as k", "warehouse/fact.sql": config + "select 1 as k"}
    names = [t.name for t in load(tmp_path, files).tests]
    assert names == [
        "expression_fact",
        "expression_fact_2",
        "unique_combination_fact_k__j",
        "unique_fact_k",
        "not_null_fact_k",
        "relationships_fact_k__dim",
    ]


def test_singular_tests_depend_on_every_model_they_ref(tmp_path: Path) -> None:
    files = {
        **DAG,
        "tests/check.sql": (
            "{{ config(severity='warn', description='d', tags=['t']) }}"
            "select * from {{ ref('dim_d') }} join {{ ref('fact_e') }} using (id)"
        ),
    }
    (test,) = load(tmp_path, files).tests
    assert (test.name, test.kind, test.severity, test.model) == (
        "check",
        "singular",
        "warn",
        "dim_d",
    )
    assert test.depends_on == ("dim_d", "fact_e")
    assert test.description == "d" and test.tags == ("t",)


def test_singular_test_with_a_bad_config_names_the_file(tmp_path: Path) -> None:
    files = {**DAG, "tests/check.sql": "{{ config(severity='fatal') }}select 1"}
    assert error_of(tmp_path, files).startswith("sql/tests/check.sql: ")


def test_macros_folder_is_not_models_and_macros_import(tmp_path: Path) -> None:
    files = {
        "macros/m.sql": "{% macro twice(x) %}({{ x }} * 2){% endmacro %}",
        "warehouse/x.sql": "{% from 'macros/m.sql' import twice %}select {{ twice('3') }} as n",
    }
    project = load(tmp_path, files, render=True)
    assert list(project.models) == ["x"]


def test_missing_sql_folder_is_a_project_error(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="does not exist; set OLIST_SQL_DIR"):
        load_project(settings_for(tmp_path / "nope"))


# -- the parse cache: a project parsed once is reused until a byte of it changes ----------


def cached_load(tmp_path: Path) -> Project:
    """load_project as a command calls it (with a dialect): through the cache in data/."""
    return load_project(settings_for(tmp_path / "sql"), DuckDBDialect())


def no_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any real parse fail, so that only a cache hit can load the project."""

    def refuse(*args: object) -> None:
        raise AssertionError("parsed again: the cache was not used")

    monkeypatch.setattr(project_module, "_parse", refuse)


def test_a_parsed_project_is_reused_while_no_file_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_sql(tmp_path, DAG)
    first = cached_load(tmp_path)
    assert (tmp_path / "data" / ".olist-cache" / "project.json").is_file()
    no_parsing(monkeypatch)
    again = cached_load(tmp_path)
    assert again == first and list(again.models) == list(first.models)


def test_the_cached_project_is_the_parsed_one_field_for_field() -> None:
    # The shipped project uses every kind of config (incremental keys, column docs, tags,
    # generic tests with arguments and severities): a field the cache loses shows here.
    settings = Settings(_env_file=None)
    dialect = DuckDBDialect()
    written = load_project(settings, dialect)  # parses and writes the cache
    read = load_project(settings, dialect)
    assert read == written == parse_project(settings.sql_path)
    assert list(read.models) == list(written.models)
    assert any(m.config.materialized == "incremental" for m in read.models.values())
    assert all(isinstance(t.depends_on, tuple) for t in read.tests)


@pytest.mark.parametrize(
    ("change", "check"),
    [
        # The same length and the old modification time: only the bytes differ.
        (
            lambda sql: _same_size_edit(sql / "warehouse/dim_d.sql", "int_c", "stg_a"),
            lambda p: p.models["dim_d"].refs == ("stg_a",),
        ),
        (
            lambda sql: write_sql(sql.parent, {"warehouse/new_g.sql": "select 2 as id"}),
            lambda p: "new_g" in p.models,
        ),
        (
            lambda sql: (sql / "warehouse/other_f.sql").unlink(),
            lambda p: "other_f" not in p.models,
        ),
        (
            lambda sql: write_sql(sql.parent, {"tests/t.sql": "select * from {{ ref('fact_e') }}"}),
            lambda p: [t.name for t in p.tests] == ["t"],
        ),
    ],
    ids=["edited", "added", "removed", "test-added"],
)
def test_the_cache_is_not_used_once_a_sql_file_changes(
    tmp_path: Path,
    change: Callable[[Path], object],
    check: Callable[[Project], bool],
) -> None:
    sql = write_sql(tmp_path, DAG)
    assert not check(cached_load(tmp_path))
    change(sql)
    assert check(cached_load(tmp_path))
    assert check(cached_load(tmp_path))  # and the new parse is what is cached now


def _same_size_edit(path: Path, old: str, new: str) -> None:
    stat = path.stat()
    text = path.read_text()
    assert len(old) == len(new) and old in text
    path.write_text(text.replace(old, new))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def test_a_cache_from_other_code_or_a_damaged_cache_is_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_sql(tmp_path, DAG)
    first = cached_load(tmp_path)
    cache = tmp_path / "data" / ".olist-cache" / "project.json"
    # A changed parser (here: a module it depends on) makes every cached project stale.
    other = tmp_path / "generic.py"
    other.write_text("# another version of the generic tests\n")
    monkeypatch.setattr(
        project_module, "_PARSER_MODULES", (*project_module._PARSER_MODULES[:-1], str(other))
    )
    with monkeypatch.context() as m:
        no_parsing(m)
        with pytest.raises(AssertionError, match="parsed again"):
            cached_load(tmp_path)
    for damaged in ("{not json", '{"key": 1}', json.dumps({"key": "x", "project": []})):
        cache.write_text(damaged)
        assert cached_load(tmp_path) == first
    key = json.loads(cache.read_text())["key"]
    for project in ({"models": [{}]}, {"sql_dir": "sql", "models": [{"name": "x", "config": []}]}):
        cache.write_text(json.dumps({"key": key, "project": project}))
        assert cached_load(tmp_path) == first


def test_a_project_that_does_not_parse_is_not_cached(tmp_path: Path) -> None:
    write_sql(tmp_path, {**DAG, "warehouse/bad.sql": "select {{ 1 +"})
    for _ in range(2):
        with pytest.raises(ProjectError, match="bad.sql"):
            cached_load(tmp_path)
    assert not (tmp_path / "data" / ".olist-cache" / "project.json").exists()
