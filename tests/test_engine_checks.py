"""Data tests on a real DuckDB file: every generic kind passing and failing with exact counts,
severities, singular tests, sample rows and reproducible SQL, broken tests, selection.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from helpers import engine_settings, write_sql
from olist_cli.engine import TestResult, build, load_project, run_tests
from olist_cli.warehouse.duckdb import DuckDBWarehouse

SHOP = Path(__file__).parent / "fixtures" / "engine" / "shop"

# id 2 is repeated; parent 99 has no parent row; kind 'z' and amounts -1, 100 are out of
# bounds; a > b on one row; (id, b) = (2, 2) twice; two rows have a null id.
THINGS = """
select * from (values
    (1, 10, 'x', 5, 1, 1),
    (2, 10, 'y', 7, 1, 2),
    (2, 99, 'z', -1, 1, 2),
    (null, null, 'x', 100, 2, 1),
    (null, 11, 'y', 20, 1, 1)
) as t(id, parent_id, kind, amount, a, b)
"""
THINGS_CONFIG = """{{ config(
    columns={
        'id': {'tests': ['unique', 'not_null']},
        'amount': {'tests': [
            'unique',
            {'accepted_range': {'min': 0}},
            {'accepted_range': {'max': 50}},
            {'accepted_range': {'min': 0, 'max': 50}},
            {'accepted_range': {'min': 5, 'inclusive': false}},
            {'accepted_range': {'min': -1, 'max': 100}},
            {'expression': {'expression': '> 0'}},
            {'expression': {'expression': '>= -1'}},
        ]},
        'kind': {'tests': [
            'not_null',
            {'accepted_values': {'values': ['x', 'y']}},
            {'accepted_values': {'values': ['x', 'y', 'z']}},
        ]},
        'parent_id': {'tests': [
            {'relationships': {'to': 'parents', 'field': 'pid'}},
            {'relationships': {'to': 'parents', 'field': 'pid', 'where': 'parent_id <> 99'}},
        ]},
    },
    tests=[
        {'expression': {'expression': 'a <= b'}},
        {'expression': {'expression': 'a >= 1'}},
        {'unique_combination': {'columns': ['id', 'b']}},
        {'unique_combination': {'columns': ['id', 'parent_id']}},
    ],
) }}"""

EXPECTED_FAILURES = {
    "unique_things_id": 1,  # one duplicated value: 2; nulls are not duplicates
    "not_null_things_id": 2,
    "unique_things_amount": 0,
    "accepted_range_things_amount": 1,  # -1 < 0
    "accepted_range_things_amount_2": 1,  # 100 > 50
    "accepted_range_things_amount_3": 2,  # both
    "accepted_range_things_amount_4": 2,  # 5 is not > 5, nor is -1
    "accepted_range_things_amount_5": 0,  # bounds inclusive
    "expression_things_amount": 1,  # -1 > 0 is false
    "expression_things_amount_2": 0,
    "not_null_things_kind": 0,
    "accepted_values_things_kind": 1,  # one bad value: 'z'
    "accepted_values_things_kind_2": 0,
    "relationships_things_parent_id__parents": 1,  # 99; null is not checked
    "relationships_things_parent_id__parents_2": 0,  # 99 filtered out by where
    "expression_things": 1,  # a=2 > b=1
    "expression_things_2": 0,
    "unique_combination_things_id__b": 2,  # (2, 2) and, as in GROUP BY, (null, 1)
    "unique_combination_things_id__parent_id": 0,
}


def build_and_test(
    tmp_path: Path, wh: DuckDBWarehouse, files: dict[str, str], select: str | None = None
) -> dict[str, TestResult]:
    write_sql(tmp_path, files)
    settings = engine_settings(tmp_path)
    project = load_project(settings, wh.dialect)
    assert all(r.status == "success" for r in build(settings, wh, project))
    return {r.name: r for r in run_tests(settings, wh, project, select=select)}


THINGS_FILES = {
    "staging/parents.sql": "select * from (values (10), (11)) as p(pid)",
    "warehouse/things.sql": THINGS_CONFIG + THINGS,
}


def test_every_generic_test_kind_passes_and_fails_with_exact_counts(
    tmp_path: Path, wh: DuckDBWarehouse
) -> None:
    results = build_and_test(tmp_path, wh, THINGS_FILES)
    assert {n: r.failures for n, r in results.items()} == EXPECTED_FAILURES
    for name, result in results.items():
        assert result.status == ("fail" if EXPECTED_FAILURES[name] else "pass"), result
        assert result.model == "things" and result.severity == "error"


def test_severity_warn_reports_warn_and_error_reports_fail(
    tmp_path: Path, wh: DuckDBWarehouse
) -> None:
    config = (
        "{{ config(columns={'id': {'tests': ["
        "{'not_null': {'severity': 'warn'}}, {'unique': {'severity': 'error'}}]}}) }}"
    )
    results = build_and_test(tmp_path, wh, {"warehouse/things.sql": config + THINGS})
    warn, fail = results["not_null_things_id"], results["unique_things_id"]
    assert (warn.status, warn.severity, warn.failures) == ("warn", "warn", 2)
    assert (fail.status, fail.severity, fail.failures) == ("fail", "error", 1)


def test_failing_test_carries_five_sample_rows_and_sql_that_reproduces_it(
    tmp_path: Path, wh: DuckDBWarehouse
) -> None:
    files = {
        "warehouse/nums.sql": (
            "{{ config(columns={'n': {'tests': [{'accepted_range': {'max': 2}}]}}) }}"
            "select range as n from range(10)"
        )
    }
    result = build_and_test(tmp_path, wh, files)["accepted_range_nums_n"]
    assert (result.status, result.failures, result.message) == ("fail", 7, "7 failing rows")
    assert len(result.sample_rows) == 5
    assert all(set(row) == {"n"} and row["n"] > 2 for row in result.sample_rows)
    assert '"t_warehouse"."nums"' in result.sql
    assert sorted(r[0] for r in wh.query(result.sql)) == list(range(3, 10))


def test_singular_tests_pass_fail_and_warn(tmp_path: Path, wh: DuckDBWarehouse) -> None:
    files = {
        **THINGS_FILES,
        "tests/ids_positive.sql": "select * from {{ ref('things') }} where id <= 0",
        "tests/orphans.sql": (
            "{{ config(description='things without a parent') }}\n"
            "select t.* from {{ ref('things') }} as t\n"
            "left join {{ ref('parents') }} as p on t.parent_id = p.pid where p.pid is null;\n"
        ),
        "tests/big_amounts.sql": (
            "{{ config(severity='warn') }}select * from {{ ref('things') }} where amount > 50"
        ),
    }
    results = build_and_test(tmp_path, wh, files)
    assert (results["ids_positive"].status, results["ids_positive"].failures) == ("pass", 0)
    assert (results["orphans"].status, results["orphans"].failures) == ("fail", 2)
    assert results["orphans"].model == "things"
    assert (results["big_amounts"].status, results["big_amounts"].failures) == ("warn", 1)
    assert results["big_amounts"].sample_rows[0]["amount"] == 100


def test_a_test_whose_sql_fails_reports_error_and_the_others_still_run(
    tmp_path: Path, wh: DuckDBWarehouse
) -> None:
    files = {
        **THINGS_FILES,
        "tests/broken.sql": "select no_such_column from {{ ref('things') }}",
    }
    results = build_and_test(tmp_path, wh, files)
    assert results["broken"].status == "error"
    assert "no_such_column" in results["broken"].message
    assert results["broken"].sql.startswith("select no_such_column from ")
    assert results["unique_things_id"].failures == 1  # the rest ran


def test_select_runs_the_tests_of_selected_models(tmp_path: Path, wh: DuckDBWarehouse) -> None:
    shutil.copytree(SHOP, tmp_path / "sql")
    wh.con.execute((SHOP / "raw.sql").read_text())
    results = build_and_test(tmp_path, wh, {}, select="dim_customer")
    # The singular test refs fact_orders and dim_customer: it runs when either is selected.
    assert sorted(results) == [
        "accepted_values_dim_customer_customer_state",
        "not_null_dim_customer_customer_key",
        "orders_have_customers",
        "unique_dim_customer_customer_key",
    ]
    assert all(r.status == "pass" for r in results.values())


def test_relationships_across_layers_fail_when_a_parent_row_goes_missing(
    tmp_path: Path, wh: DuckDBWarehouse
) -> None:
    shutil.copytree(SHOP, tmp_path / "sql")
    wh.con.execute((SHOP / "raw.sql").read_text())
    wh.execute("delete from raw.customers_raw where customer_id = 'c2'")
    results = build_and_test(tmp_path, wh, {})
    failing = {n: r.failures for n, r in results.items() if r.status != "pass"}
    assert failing == {
        "relationships_fact_orders_customer_key__dim_customer": 1,  # o2 of c2
        "orders_have_customers": 1,
    }
    assert results["orders_have_customers"].sample_rows == [{"order_id": "o2"}]


def test_generic_tests_render_without_jinja_to_the_same_sql(tmp_path: Path) -> None:
    """The project's generic tests skip Jinja (their only Jinja is ref()), with the same SQL;
    one whose argument brings Jinja of its own still renders through it."""
    from helpers import REPO_SQL
    from olist_cli.engine.render import Renderer
    from olist_cli.warehouse.duckdb import DuckDBDialect

    shutil.copytree(REPO_SQL, tmp_path / "sql")
    write_sql(
        tmp_path,
        {
            "staging/stg_z.sql": "{{ config(columns={'n': {'tests': [{'expression': "
            "{'expression': \"> {{ 1 + 1 }}\"}}]}}) }}\nselect 3 as n",
        },
    )
    settings = engine_settings(tmp_path)
    project = load_project(settings, DuckDBDialect())
    renderer = Renderer(settings, project, lambda s, n: f'"{s}"."{n}"', DuckDBDialect())
    generic = [t for t in project.tests if t.kind != "singular"]
    assert len(generic) > 150
    jinja_calls = []
    real_render = renderer.render

    def counting_render(text: str, label: str, /, **context: object) -> str:
        jinja_calls.append(label)
        return real_render(text, label, **context)

    renderer.render = counting_render  # type: ignore[method-assign]
    direct = {t.name: renderer.render_test(t) for t in generic}
    stg_z = next(t for t in generic if t.model == "stg_z")
    assert jinja_calls == [stg_z.label]  # every other one without Jinja
    assert direct[stg_z.name] == 'select *\nfrom "t_staging"."stg_z"\nwhere not (n > 2)'
    through_jinja = {
        t.name: real_render(t.template_source, t.label, is_incremental=lambda: False)
        for t in generic
    }
    assert direct == through_jinja


def test_shared_rows_define_only_what_a_query_reads() -> None:
    """A failing narrowed test's sample gathers its own model's changed rows, not every
    model's; a shared relation read by another is defined before it."""
    from olist_cli.engine.checks import Narrowed

    shared = Narrowed()
    orders = shared.keep("orders_rows")
    items = shared.keep(f"(select * from items where order_id in (select order_id from {orders}))")
    reviews = shared.keep("review_rows")
    assert shared.reading("select 1") == "select 1"
    only_reviews = shared.reading(f"select * from {reviews}")
    assert reviews in only_reviews and orders not in only_reviews
    both = shared.reading(f"select * from {items}")
    assert both.index(f"{orders} as materialized") < both.index(f"{items} as materialized")
    assert reviews not in both
    # Numbered inside the name: none is the start of another (olist_changed_1_rows, _11_).
    names = [shared.keep(f"t{i}") for i in range(12)]
    assert not any(a != b and b.startswith(a) for a in names for b in names)
