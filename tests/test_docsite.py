"""`olist docs`: a page per model and source, offline assets, escaped data, and serve()."""

from __future__ import annotations

import html
import re
import shutil
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import SampleWarehouse
from olist_cli.dataset import SOURCE_FILES
from olist_cli.docsite import DocsError, build_site, make_server
from olist_cli.engine import Project, load_project
from olist_cli.engine.state import STATE_TABLE
from olist_cli.lineage import build_lineage
from olist_cli.run_results import RUN_RESULTS_TABLE
from olist_cli.settings import load_settings
from olist_cli.warehouse.duckdb import DuckDBWarehouse

# Any http(s) URL that is not this machine: the site must not reach out to one.
EXTERNAL_URL = re.compile(r"https?://(?!(?:localhost|127\.0\.0\.1)[:/])", re.IGNORECASE)
LINK = re.compile(r'(?:href|src)="([^"]+)"')


@pytest.fixture(scope="module")
def site(
    sample_warehouse: SampleWarehouse, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, Project, DuckDBWarehouse]]:
    settings = sample_warehouse.settings
    warehouse = DuckDBWarehouse(sample_warehouse.database)
    project = load_project(settings, warehouse.dialect)
    out = tmp_path_factory.mktemp("site") / "docs"
    index = build_site(settings, warehouse, project, out)
    assert index == out / "index.html"
    yield out, project, warehouse
    warehouse.close()


@pytest.fixture
def warehouse_copy(sample_warehouse: SampleWarehouse, tmp_path: Path) -> Iterator[DuckDBWarehouse]:
    """A private copy of the sample warehouse, to change."""
    copy = tmp_path / "copy.duckdb"
    shutil.copyfile(sample_warehouse.database, copy)
    warehouse = DuckDBWarehouse(copy)
    yield warehouse
    warehouse.close()


def _text(page: Path) -> str:
    """A page's visible text, tags dropped and entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", page.read_text(encoding="utf-8")))


def test_one_page_per_model_and_source(site: tuple[Path, Project, DuckDBWarehouse]) -> None:
    out, project, _ = site
    assert {p.stem for p in (out / "models").glob("*.html")} == set(project.models)
    assert {p.stem for p in (out / "sources").glob("*.html")} == {f.raw_table for f in SOURCE_FILES}
    index = (out / "index.html").read_text(encoding="utf-8")
    for name in project.models:
        assert f'href="models/{name}.html"' in index


def test_assets_are_local_and_every_link_resolves(
    site: tuple[Path, Project, DuckDBWarehouse],
) -> None:
    out, _, _ = site
    assert (out / "assets" / "lineage.js").stat().st_size > 1000
    assert (out / "assets" / "site.css").stat().st_size > 1000
    pages = sorted(out.rglob("*.html"))
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert "assets/lineage.js" in text and "assets/site.css" in text
        for target in LINK.findall(text):
            target = html.unescape(target).split("#")[0]
            if target:
                assert (page.parent / target).resolve().is_file(), f"{page.name}: {target}"


def test_no_external_url_in_any_generated_file(
    site: tuple[Path, Project, DuckDBWarehouse],
) -> None:
    out, _, _ = site
    files = [p for p in out.rglob("*") if p.is_file()]
    assert len(files) >= 1 + 13 + 9 + 3
    for path in files:
        found = EXTERNAL_URL.findall(path.read_bytes().decode("latin-1"))  # the favicon too
        assert not found, f"{path.relative_to(out)} references {found[:3]}"


def test_model_page_shows_config_columns_tests_and_sql(
    site: tuple[Path, Project, DuckDBWarehouse],
) -> None:
    out, project, warehouse = site
    page = out / "models" / "fact_orders.html"
    text = _text(page)
    model = project.models["fact_orders"]
    assert model.config.description[:60] in text
    for label in ("incremental", "order_purchase_date_day", "customer_key, order_status"):
        assert label in text
    rows = warehouse.row_count("dev_warehouse_warehouse", "fact_orders")
    assert f"{rows:,}" in text
    for column, type_ in warehouse.columns("dev_warehouse_warehouse", "fact_orders"):
        assert column in text and type_ in text
    assert "Sum of payments, BRL." in text  # a column description from config()
    # Compiled SQL with the warehouse's own relation names, and the test statuses.
    assert '"dev_warehouse_staging"."stg_orders"' in text
    assert "relationships_fact_orders_customer_key__dim_customer" in text
    assert re.search(r"\bpass\b", text) and "not run yet" not in text
    # An incremental model shows what it follows, and where a build puts the changed values.
    assert "keys from" in text and "customer_id in stg_customers" in text
    dim = _text(out / "models" / "dim_customer.html")
    assert "changed(): a build lists the values whose rows changed here" in dim
    # The focused graph shows the dimensions its keys point at.
    svg = page.read_text(encoding="utf-8")
    assert 'data-id="model:dim_customer"' in svg and 'class="node g-facts current"' in svg


def test_index_graph_has_every_node(site: tuple[Path, Project, DuckDBWarehouse]) -> None:
    out, project, _ = site
    index = (out / "index.html").read_text(encoding="utf-8")
    lineage = build_lineage(project)
    assert index.count('<a class="node ') == len(lineage.nodes)
    assert index.count('<path class="edge ') == len(lineage.edges)


def test_source_page_shows_columns_rows_and_readers(
    site: tuple[Path, Project, DuckDBWarehouse],
) -> None:
    out, _, warehouse = site
    text = _text(out / "sources" / "orders_raw.html")
    assert "olist_orders_dataset.csv" in text and "source('raw', 'orders')" in text
    assert f"{warehouse.row_count('staging', 'orders_raw'):,}" in text
    for column, type_ in warehouse.columns("staging", "orders_raw"):
        assert column in text and type_ in text
    assert "stg_orders" in text
    # A raw table read only by a test says so.
    assert "assert_seller_state_matches_zip" in _text(out / "sources" / "geolocation_raw.html")


def test_tests_without_a_recorded_status_say_not_run_yet(
    sample_warehouse: SampleWarehouse, warehouse_copy: DuckDBWarehouse, tmp_path: Path
) -> None:
    settings, warehouse = sample_warehouse.settings, warehouse_copy
    # Neither the engine's state nor the run log knows any test result.
    warehouse.execute(f"delete from {warehouse.relation('staging', STATE_TABLE)}")
    warehouse.execute(f"delete from {warehouse.relation('staging', RUN_RESULTS_TABLE)}")
    project = load_project(settings, warehouse.dialect)
    build_site(settings, warehouse, project, tmp_path / "site")
    assert "not run yet" in _text(tmp_path / "site" / "models" / "dim_seller.html")


def test_a_test_that_failed_in_its_last_run_shows_as_failed(
    sample_warehouse: SampleWarehouse, warehouse_copy: DuckDBWarehouse, tmp_path: Path
) -> None:
    settings, warehouse = sample_warehouse.settings, warehouse_copy
    # A later run in which one test failed: the engine forgets it, the run log does not.
    rows = warehouse.query(
        f"select * from {warehouse.relation('staging', RUN_RESULTS_TABLE)} "
        "where kind = 'test' and name = 'unique_dim_seller_seller_key'"
    )
    assert rows, "the fixture's run recorded the test"
    later = list(rows[0])
    later[0], later[4], later[5], later[8] = "f" * 32, "fail", later[5].replace(year=2099), 3
    warehouse.execute(
        f"insert into {warehouse.relation('staging', RUN_RESULTS_TABLE)} "
        f"values ({', '.join('?' for _ in later)})",
        later,
    )
    build_site(settings, warehouse, load_project(settings, warehouse.dialect), tmp_path / "s")
    page = (tmp_path / "s" / "models" / "dim_seller.html").read_text(encoding="utf-8")
    rows = re.findall(r"<tr>(?:(?!</tr>).)*unique_dim_seller_seller_key.*?</tr>", page, re.S)
    assert any("st-fail" in r and "fail · 3</span>" in r for r in rows), rows


def test_data_is_escaped_and_unbuilt_models_are_documented(tmp_path: Path) -> None:
    sql = tmp_path / "sql"
    (sql / "staging").mkdir(parents=True)
    (sql / "staging" / "stg_evil.sql").write_text(
        "{{ config(description='<script>alert(1)</script> & \"quoted\"', "
        "columns={'a': {'description': '<img src=x onerror=alert(2)>'}}) }}\n"
        "select '<b>' as a\n",
        encoding="utf-8",
    )
    settings = load_settings(sql_dir=sql, data_dir=tmp_path / "data")
    warehouse = DuckDBWarehouse(":memory:")
    try:
        project = load_project(settings, warehouse.dialect)
        build_site(settings, warehouse, project, tmp_path / "site")
    finally:
        warehouse.close()
    page = (tmp_path / "site" / "models" / "stg_evil.html").read_text(encoding="utf-8")
    assert "<script>alert" not in page and "<img src=x" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;quoted&#34;" in page
    assert "not built yet" in page


def test_a_model_without_a_config_description_is_described_by_its_comment_header(
    tmp_path: Path,
) -> None:
    sql = tmp_path / "sql"
    (sql / "staging").mkdir(parents=True)
    (sql / "staging" / "stg_dashes.sql").write_text(
        "-- One row per thing,\n--   from the dashes.\nselect 1 as a -- not this\n",
        encoding="utf-8",
    )
    (sql / "staging" / "stg_jinja.sql").write_text(
        "{# One row per other thing,\n   from the Jinja comment. #}\nselect 2 as b\n",
        encoding="utf-8",
    )
    settings = load_settings(sql_dir=sql, data_dir=tmp_path / "data")
    warehouse = DuckDBWarehouse(":memory:")
    try:
        build_site(settings, warehouse, load_project(settings), tmp_path / "site")
    finally:
        warehouse.close()
    dashes = _text(tmp_path / "site" / "models" / "stg_dashes.html")
    assert "One row per thing, from the dashes." in dashes
    jinja = _text(tmp_path / "site" / "models" / "stg_jinja.html")
    assert "One row per other thing, from the Jinja comment." in jinja


def test_stale_pages_go_and_other_files_stay(
    site: tuple[Path, Project, DuckDBWarehouse], sample_warehouse: SampleWarehouse, tmp_path: Path
) -> None:
    out, project, warehouse = site
    settings = sample_warehouse.settings
    copy = tmp_path / "docs"
    shutil.copytree(out, copy)
    stale = copy / "models" / "dropped_model.html"
    shutil.copyfile(copy / "models" / "fact_orders.html", stale)
    mine = copy / "models" / "notes.html"
    mine.write_text("<p>my own notes</p>", encoding="utf-8")
    build_site(settings, warehouse, project, copy)
    assert not stale.exists() and mine.exists()


def test_serve_answers_on_localhost(site: tuple[Path, Project, DuckDBWarehouse]) -> None:
    out, _, _ = site
    server = make_server(out, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        for path in ("index.html", "models/fact_orders.html", "assets/lineage.js"):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/{path}", timeout=5) as reply:
                assert reply.status == 200
                assert reply.read() == (out / path).read_bytes()
    finally:
        server.shutdown()
        server.server_close()


def test_serve_refuses_a_folder_without_a_site(tmp_path: Path) -> None:
    with pytest.raises(DocsError, match="no docs site"):
        make_server(tmp_path, "127.0.0.1", 0)
