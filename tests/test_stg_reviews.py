"""stg_reviews keeps one row per (review_id, order_id) and marks one review per order.

These tests hold the view to its definition, written out below as two window functions
over every row, on hand-made edge cases and on the sample data, so that a faster
formulation can be tried safely. (One that ranked only the few rows needing it was twice
as fast alone but, with DuckDB materializing its repeated CTEs, took 3 GB and twice the
time inside the batched test query; it was reverted.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import REPO_SQL, generate
from olist_cli.dataset import BY_RAW_TABLE
from olist_cli.engine import build, load_project
from olist_cli.settings import Settings
from olist_cli.warehouse.duckdb import DUCKDB_TYPES, DuckDBWarehouse

VIEW = '"t_staging"."stg_reviews"'
COLUMNS = (
    "review_id, order_id, review_score, review_comment_title, review_comment_message, "
    "review_creation_date, review_answer_timestamp, review_creation_date_day, "
    "is_latest_order_review"
)

# The definition: rank every row twice, exactly as the view's description says.
REFERENCE = """
with ranked as (
    select *, row_number() over (
        partition by review_id, order_id
        order by case when review_answer_timestamp is null then 1 else 0 end,
                 review_answer_timestamp desc, review_creation_date desc, review_score,
                 coalesce(review_comment_title, ''), coalesce(review_comment_message, '')
    ) as row_num
    from raw.reviews_raw
),
deduplicated as (select * from ranked where row_num = 1)
select review_id, order_id, cast(review_score as BIGINT) as review_score,
       review_comment_title, review_comment_message, review_creation_date,
       review_answer_timestamp, cast(review_creation_date as DATE) as review_creation_date_day,
       row_number() over (
           partition by order_id
           order by case when review_answer_timestamp is null then 1 else 0 end,
                    review_answer_timestamp desc, review_creation_date desc, review_id
       ) = 1 as is_latest_order_review
from deduplicated
"""

EDGE_CASES = [
    # A pair loaded twice: the later answer wins.
    ("r1", "o1", 3, None, "first", "2018-01-01 00:00:00", "2018-01-02 00:00:00"),
    ("r1", "o1", 4, None, "second", "2018-01-01 00:00:00", "2018-01-03 00:00:00"),
    # A pair loaded twice, one copy unanswered: the answered one wins.
    ("r2", "o2", 5, None, None, "2018-01-01 00:00:00", None),
    ("r2", "o2", 1, None, None, "2018-01-01 00:00:00", "2018-01-05 00:00:00"),
    # Exact duplicates: one is kept.
    ("r3", "o3", 2, "t", "m", "2018-02-01 00:00:00", "2018-02-02 00:00:00"),
    ("r3", "o3", 2, "t", "m", "2018-02-01 00:00:00", "2018-02-02 00:00:00"),
    # Same times, scores differ: the lowest score, then the text, decides.
    ("r4", "o4", 4, "b", None, "2018-03-01 00:00:00", "2018-03-02 00:00:00"),
    ("r4", "o4", 4, "a", None, "2018-03-01 00:00:00", "2018-03-02 00:00:00"),
    ("r4", "o4", 5, None, None, "2018-03-01 00:00:00", "2018-03-02 00:00:00"),
    # One review covering two orders (a cart), and an order with three reviews.
    ("r5", "o5", 5, None, None, "2018-04-01 00:00:00", "2018-04-02 00:00:00"),
    ("r5", "o6", 5, None, None, "2018-04-01 00:00:00", "2018-04-02 00:00:00"),
    ("r6", "o6", 1, None, None, "2018-04-03 00:00:00", "2018-04-04 00:00:00"),
    ("r7", "o6", 3, None, None, "2018-04-05 00:00:00", None),
    # Two reviews of one order answered at the same moment: the lowest review_id is latest.
    ("r9", "o7", 1, None, None, "2018-05-01 00:00:00", "2018-05-02 00:00:00"),
    ("r8", "o7", 2, None, None, "2018-05-01 00:00:00", "2018-05-02 00:00:00"),
    # NULL keys (the not_null tests flag them): ranked like any other pair or order.
    (None, "o8", 1, None, None, "2018-06-01 00:00:00", "2018-06-02 00:00:00"),
    (None, "o8", 2, None, None, "2018-06-01 00:00:00", "2018-06-03 00:00:00"),
    ("r10", None, 3, None, None, "2018-06-01 00:00:00", "2018-06-02 00:00:00"),
    ("r11", None, 4, None, None, "2018-06-01 00:00:00", "2018-06-04 00:00:00"),
    # A plain review: kept and latest.
    ("r12", "o9", 5, None, None, "2018-07-01 00:00:00", "2018-07-02 00:00:00"),
]


def _project(tmp_path: Path, wh: DuckDBWarehouse) -> Settings:
    source = BY_RAW_TABLE["reviews_raw"]
    columns = ", ".join(f"{c.name} {DUCKDB_TYPES[c.type]}" for c in source.columns)
    wh.execute("create schema if not exists raw")
    wh.execute(f"create or replace table raw.reviews_raw ({columns})")
    settings = Settings(
        _env_file=None,
        sql_dir=REPO_SQL,
        duckdb_path=tmp_path / "w.duckdb",
        raw_dataset="raw",
        target_schema="t",
        threads=1,
    )
    return settings


def _build_view(settings: Settings, wh: DuckDBWarehouse) -> None:
    project = load_project(settings, wh.dialect)
    (result,) = build(settings, wh, project, select="stg_reviews")
    assert result.status == "success", result.message


def test_edge_cases_match_the_definition(tmp_path: Path, wh: DuckDBWarehouse) -> None:
    settings = _project(tmp_path, wh)
    wh.con.executemany("insert into raw.reviews_raw values (?, ?, ?, ?, ?, ?, ?)", EDGE_CASES)
    _build_view(settings, wh)

    got = sorted(wh.query(f"select {COLUMNS} from {VIEW}"), key=repr)
    assert got == sorted(wh.query(f"select {COLUMNS} from ({REFERENCE})"), key=repr)
    kept = {
        (r[0], r[1]): r[2:]
        for r in wh.query(
            "select review_id, order_id, review_score, review_comment_title, "
            f"is_latest_order_review from {VIEW}"
        )
    }
    assert len(got) == 14  # 20 rows, 6 of them second copies of a pair
    assert kept[("r1", "o1")][0] == 4 and kept[("r2", "o2")][0] == 1
    assert kept[("r4", "o4")][:2] == (4, "a")
    assert [k for k, v in kept.items() if k[1] == "o6" and v[2]] == [("r6", "o6")]
    assert [k for k, v in kept.items() if k[1] == "o7" and v[2]] == [("r8", "o7")]
    latest_per_order = wh.query(
        f"select order_id, count(*) filter (where is_latest_order_review) from {VIEW} "
        "group by order_id having count(*) filter (where is_latest_order_review) <> 1"
    )
    assert latest_per_order == []


@pytest.mark.parametrize("scale", [0.05])
def test_sample_reviews_match_the_definition(
    tmp_path: Path, wh: DuckDBWarehouse, scale: float
) -> None:
    files = generate(tmp_path / "gen", scale=scale, seed=7)
    settings = _project(tmp_path, wh)
    path = files / BY_RAW_TABLE["reviews_raw"].file_name
    wh.execute(
        "insert into raw.reviews_raw select * from read_csv(?, header = true, "
        "timestampformat = '%Y-%m-%d %H:%M:%S')",
        [str(path)],
    )
    _build_view(settings, wh)
    difference = (
        f"select count(*) from ((select {COLUMNS} from {VIEW}) except all "
        f"(select {COLUMNS} from ({REFERENCE}))) as d"
    )
    backwards = (
        f"select count(*) from ((select {COLUMNS} from ({REFERENCE})) except all "
        f"(select {COLUMNS} from {VIEW})) as d"
    )
    assert wh.query(difference) == [(0,)] and wh.query(backwards) == [(0,)]
    # Olist repeats no (review_id, order_id) pair (the edge cases above do), but orders
    # with several reviews and reviews of several orders it has: both paths run here.
    several = wh.query(
        "select count(*) from (select order_id from raw.reviews_raw "
        "group by 1 having count(distinct review_id) > 1)"
    )[0][0]
    assert several > 0
