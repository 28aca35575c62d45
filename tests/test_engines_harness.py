"""The engine harness (tests/engines.py): DuckDB, PostgreSQL and Spark give back exactly what they are given.

The second half pins the dialect differences a SQL generator must compensate for (decimal division,
NULL ordering, string literal escapes, ...): if an engine upgrade changes one, a test here says so.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from decimal import Decimal

import pytest

import conftest
import engines
from engines import Table

UTC = dt.timezone.utc
PLUS_0530 = dt.timezone(dt.timedelta(hours=5, minutes=30))
MINUS_08 = dt.timezone(dt.timedelta(hours=-8))

COLUMNS = [
    ("id", "int"),
    ("from", "string"),
    ("Annual Revenue", "number"),
    ("select", "bool"),
    ("signup date", "date"),
    ("Last Seen", "timestamp"),
    ('é "quoted" `tick`', "string"),
]

ROWS = [
    {"id": 1, "from": "it's", "Annual Revenue": Decimal("1234567.8912345678"), "select": True,
     "signup date": dt.date(2024, 2, 29), "Last Seen": dt.datetime(2024, 3, 10, 1, 59, 59, 999999, tzinfo=UTC), 'é "quoted" `tick`': "x"},
    {"id": 2, "from": 'say "hi"', "Annual Revenue": Decimal("-0.0000000001"), "select": False,
     "signup date": dt.date(1970, 1, 1), "Last Seen": dt.datetime(2024, 1, 1, 9, 30, tzinfo=PLUS_0530), 'é "quoted" `tick`': None},
    {"id": 3, "from": "back\\slash \\n \\\\", "Annual Revenue": Decimal("999999999999999999.9999999999"), "select": None,
     "signup date": dt.date(9999, 12, 31), "Last Seen": dt.datetime(1999, 12, 31, 23, 30, tzinfo=MINUS_08), 'é "quoted" `tick`': "y"},
    {"id": 4, "from": "line\nbreak\r\ttab", "Annual Revenue": Decimal("0"), "select": True,
     "signup date": dt.date(2000, 1, 1), "Last Seen": dt.datetime(1970, 1, 1, tzinfo=UTC), 'é "quoted" `tick`': ""},
    {"id": 5, "from": "café é ü ß", "Annual Revenue": Decimal("-123"), "select": False,
     "signup date": None, "Last Seen": None, 'é "quoted" `tick`': "z"},
    {"id": 6, "from": "emoji 😀👍🏽 and 中文", "Annual Revenue": None, "select": None,
     "signup date": dt.date(2024, 12, 31), "Last Seen": dt.datetime(2038, 1, 19, 3, 14, 8, tzinfo=UTC), 'é "quoted" `tick`': "-- not a comment; DROP TABLE x; '"},
    {"id": 7, "from": "", "Annual Revenue": Decimal("0.5"), "select": True,
     "signup date": dt.date(2024, 6, 1), "Last Seen": dt.datetime(2024, 6, 1, 12, tzinfo=UTC), 'é "quoted" `tick`': " padded "},
    {"id": 8},  # every column None, `id` too
    {"id": None, "from": None, "Annual Revenue": None, "select": None, "signup date": None, "Last Seen": None, 'é "quoted" `tick`': None},
]


def expected_rows(columns, rows):
    """What a faithful engine returns: every column, None where absent, timestamps as UTC."""
    out = []
    for r in rows:
        row = {}
        for c, t in columns:
            v = r.get(c)
            if t == "timestamp" and v is not None:
                v = v.astimezone(UTC)
            row[c] = v
        out.append(row)
    return out


def assert_same(got: list[dict], want: list[dict]) -> None:
    """Equal row for row, column for column (in order), value and Python type, datetimes in UTC."""
    assert len(got) == len(want), f"{len(got)} rows, expected {len(want)}:\n{got}"
    for i, (g, w) in enumerate(zip(got, want)):
        assert list(g) == list(w), f"row {i}: columns {list(g)}, expected {list(w)}"
        for k in w:
            gv, wv = g[k], w[k]
            assert type(gv) is type(wv), f"row {i}, {k!r}: {gv!r} ({type(gv).__name__}), expected {wv!r} ({type(wv).__name__})"
            if isinstance(wv, float) and math.isnan(wv):
                assert math.isnan(gv)
                continue
            assert gv == wv, f"row {i}, {k!r}: {gv!r}, expected {wv!r}"
            if isinstance(wv, dt.datetime) and wv.tzinfo is not None:
                assert gv.tzinfo is UTC, f"row {i}, {k!r}: {gv!r} is not in UTC"


def order_by_id(engine, relation: str) -> str:
    return f"SELECT * FROM {engine.relation(relation)} ORDER BY {engine.quote('id')} NULLS LAST"


# --------------------------------------------------------------------------------------------
# round trips


def test_round_trip_schema_qualified(engine):
    table = Table("hubspot.engagements", COLUMNS, ROWS)
    got = engine.run(order_by_id(engine, "hubspot.engagements"), [table])
    want = expected_rows(COLUMNS, ROWS)
    want = sorted(want[:-1], key=lambda r: r["id"]) + want[-1:]  # the NULL id last
    assert_same(got, want)


@pytest.mark.parametrize("relation", ["select", "Lead List é \"2024\" `x`"])
def test_round_trip_odd_relation_name(engine, relation):
    rows = ROWS[:7]
    got = engine.run(order_by_id(engine, relation), [Table(relation, COLUMNS, rows)])
    assert_same(got, expected_rows(COLUMNS, rows))


def test_fifty_rows(engine, record_property):
    cols = [("id", "int"), ("email", "string"), ("amount", "number"), ("ok", "bool"), ("day", "date"), ("at", "timestamp")]
    base = dt.datetime(2024, 1, 1, tzinfo=UTC)
    rows = [
        {"id": i, "email": f"user{i}@example.com", "amount": Decimal(i) / 8, "ok": i % 3 == 0,
         "day": dt.date(2024, 1, 1) + dt.timedelta(days=i), "at": base + dt.timedelta(hours=i, microseconds=i)}
        for i in range(50)
    ]
    t0 = time.perf_counter()
    got = engine.run(order_by_id(engine, "leads"), [Table("leads", cols, rows)])
    record_property(f"{engine.name}_run_seconds", round(time.perf_counter() - t0, 3))
    assert_same(got, expected_rows(cols, rows))


def test_tables_in_one_run_join(engine):
    q = engine.quote
    leads = Table("leads", [("id", "int"), ("name", "string")], [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}, {"id": 3, "name": "c"}])
    events = Table("hubspot.engagements", [("lead id", "int"), ("kind", "string")],
                   [{"lead id": 1, "kind": "call"}, {"lead id": 1, "kind": "mail"}, {"lead id": 3, "kind": "call"}])
    sql = (
        f"WITH n AS (SELECT {q('lead id')} AS lid, count(*) AS c FROM {engine.relation('hubspot.engagements')} GROUP BY {q('lead id')}) "
        f"SELECT l.{q('name')} AS name, coalesce(n.c, 0) AS c FROM leads l LEFT JOIN n ON n.lid = l.{q('id')} ORDER BY l.{q('id')}"
    )
    assert_same(engine.run(sql, [leads, events]), [{"name": "a", "c": 2}, {"name": "b", "c": 0}, {"name": "c", "c": 1}])


def test_each_run_starts_empty(engine):
    t = Table("gone.soon", [("a", "int")], [{"a": 1}])
    u = Table("gone_too", [("a", "int")], [{"a": 1}])
    assert engine.run("SELECT count(*) AS n FROM gone.soon CROSS JOIN gone_too", [t, u]) == [{"n": 1}]
    with pytest.raises(Exception):
        engine.run("SELECT * FROM gone.soon", [])
    with pytest.raises(Exception):
        engine.run("SELECT * FROM gone_too", [])


def test_same_name_new_columns(engine):
    engine.run("SELECT * FROM s.t", [Table("s.t", [("a", "int")], [{"a": 1}])])
    got = engine.run("SELECT * FROM s.t", [Table("s.t", [("b", "string")], [{"b": "x"}])])
    assert got == [{"b": "x"}]


def test_empty_table(engine):
    cols = [(c, t) for c, t in COLUMNS]
    assert engine.run(order_by_id(engine, "hubspot.empty"), [Table("hubspot.empty", cols, [])]) == []
    assert engine.run("SELECT count(*) AS n FROM e", [Table("e", cols, [])]) == [{"n": 0}]


def test_a_failed_statement_does_not_break_the_next(engine):
    t = Table("t", [("a", "int")], [{"a": 1}])
    with pytest.raises(Exception):
        engine.run("SELECT no_such_column FROM t", [t])
    assert engine.run("SELECT a FROM t", [t]) == [{"a": 1}]


# --------------------------------------------------------------------------------------------
# numbers and timestamps


def test_decimal_arithmetic_is_decimal(engine):
    q = engine.quote
    t = Table("n", [("a", "number"), ("b", "number")], [{"a": Decimal("1.25"), "b": Decimal("2.5")}])
    got = engine.run(
        f"SELECT {q('a')} + {q('b')} AS s, {q('a')} - {q('b')} AS d, {q('a')} * {q('b')} AS p, {q('a')} * 2 AS twice, "
        f"sum({q('b')}) OVER () AS total, {q('a')} AS a FROM n",
        [t],
    )
    assert_same(got, [{"s": Decimal("3.75"), "d": Decimal("-1.25"), "p": Decimal("3.125"), "twice": Decimal("2.5"),
                       "total": Decimal("2.5"), "a": Decimal("1.25")}])
    agg = engine.run("SELECT sum(a) AS s, min(a) AS lo, max(b) AS hi FROM n", [t])
    assert_same(agg, [{"s": Decimal("1.25"), "lo": Decimal("1.25"), "hi": Decimal("2.5")}])


def test_timestamp_offsets_come_back_as_the_same_instant_in_utc(engine):
    q = engine.quote
    late_evening_la = dt.datetime(2024, 1, 1, 23, 30, tzinfo=MINUS_08)  # 2024-01-02 07:30 UTC
    early_morning_india = dt.datetime(2024, 1, 2, 3, 0, tzinfo=PLUS_0530)  # 2024-01-01 21:30 UTC
    t = Table("ts", [("id", "int"), ("at", "timestamp")], [{"id": 1, "at": late_evening_la}, {"id": 2, "at": early_morning_india}])
    got = engine.run(
        f"SELECT {q('at')} AS at, CAST({q('at')} AS DATE) AS day, EXTRACT(HOUR FROM {q('at')}) AS h FROM ts ORDER BY {q('id')}", [t]
    )
    assert [r["at"] for r in got] == [dt.datetime(2024, 1, 2, 7, 30, tzinfo=UTC), dt.datetime(2024, 1, 1, 21, 30, tzinfo=UTC)]
    assert all(r["at"].tzinfo is UTC for r in got)
    assert [r["day"] for r in got] == [dt.date(2024, 1, 2), dt.date(2024, 1, 1)]  # the session time zone is UTC
    assert [int(r["h"]) for r in got] == [7, 21]
    # and a comparison with a literal instant is exact
    lit = {"duckdb": "TIMESTAMPTZ '2024-01-02 07:30:00+00'", "postgres": "TIMESTAMPTZ '2024-01-02 07:30:00+00'",
           "spark": "TIMESTAMP '2024-01-02 07:30:00+00:00'"}[engine.name]
    assert engine.run(f"SELECT {q('id')} AS id FROM ts WHERE {q('at')} = {lit}", [t]) == [{"id": 1}]


def test_microseconds_and_extreme_dates(engine):
    rows = [{"d": dt.date(1, 1, 1), "t": dt.datetime(1900, 1, 1, 0, 0, 0, 1, tzinfo=UTC)},
            {"d": dt.date(9999, 12, 31), "t": dt.datetime(9999, 12, 30, 23, 59, 59, 999999, tzinfo=UTC)}]
    got = engine.run("SELECT * FROM x ORDER BY d", [Table("x", [("d", "date"), ("t", "timestamp")], rows)])
    assert_same(got, rows)


# --------------------------------------------------------------------------------------------
# what the harness refuses


@pytest.mark.parametrize(
    "typ, value, error",
    [
        ("timestamp", dt.datetime(2024, 1, 1), ValueError),  # naive: which instant?
        ("timestamp", dt.date(2024, 1, 1), TypeError),
        ("date", dt.datetime(2024, 1, 1, tzinfo=UTC), TypeError),
        ("int", True, TypeError),
        ("int", 2**63, ValueError),
        ("number", 1.5, TypeError),  # floats are not exact: give a Decimal
        ("number", Decimal("0.00000000001"), ValueError),  # 11 decimal places do not fit DECIMAL(28, 10)
        ("number", Decimal("1e18"), ValueError),
        ("number", Decimal("NaN"), ValueError),
        ("bool", 1, TypeError),
        ("string", 1, TypeError),
        ("money", 1, ValueError),
    ],
)
def test_values_are_checked(typ, value, error):
    with pytest.raises(error):
        engines._checked(Table("t", [("c", typ)], [{"c": value}]))


def test_numbers_accept_ints_and_keep_decimals_exact():
    rows = engines._checked(Table("t", [("c", "number")], [{"c": 3}, {"c": Decimal("-0.1234567891")}]))
    assert rows == [(Decimal(3),), (Decimal("-0.1234567891"),)]


def test_unknown_keys_and_duplicate_columns_are_refused():
    with pytest.raises(ValueError, match="not among the columns"):
        engines._checked(Table("t", [("a", "int")], [{"b": 1}]))
    with pytest.raises(ValueError, match="duplicate column"):
        engines._checked(Table("t", [("a", "int"), ("a", "string")], []))
    with pytest.raises(ValueError):
        engines.split_relation("a.b.c")


def test_only_a_select_runs(duckdb_engine):
    with pytest.raises(ValueError, match="SELECT"):
        duckdb_engine.run("CREATE TABLE x (a INT)", [])
    assert duckdb_engine.run("-- a comment\nWITH a AS (SELECT 1 AS x) SELECT x FROM a", []) == [{"x": 1}]


def test_duplicate_output_names_are_refused(engine):
    with pytest.raises(ValueError, match="duplicate column names"):
        engine.run("SELECT 1 AS a, 2 AS a", [])


@pytest.mark.parametrize("name", ["duckdb", "spark"])
def test_names_differing_only_in_case_are_refused(request, name):
    eng = request.getfixturevalue(f"{name}_engine")
    with pytest.raises(ValueError, match="case-insensitive"):
        eng.run("SELECT 1 AS x", [Table("Leads", [("a", "int")], []), Table("leads", [("a", "int")], [])])
    with pytest.raises(ValueError, match="case-insensitive"):
        eng.run("SELECT 1 AS x", [Table("t", [("Email", "string"), ("email", "string")], [])])


def test_postgres_keeps_names_differing_in_case(postgres_engine):
    t = Table("t", [("Email", "string"), ("email", "string")], [{"Email": "A", "email": "b"}])
    assert postgres_engine.run('SELECT "Email", "email" FROM t', [t]) == [{"Email": "A", "email": "b"}]


def test_postgres_refuses_identifiers_it_would_truncate(postgres_engine):
    with pytest.raises(ValueError, match="63 bytes"):
        postgres_engine.run("SELECT 1 AS x", [Table("t", [("é" * 32, "int")], [])])


def test_spark_qualified_names_must_be_plain(spark_engine):
    with pytest.raises(ValueError, match="letters, digits and _"):
        spark_engine.run("SELECT 1 AS x", [Table("hub spot.engagements", [("a", "int")], [])])


def test_postgres_text_cannot_hold_nul(postgres_engine):
    with pytest.raises(Exception):
        postgres_engine.run("SELECT * FROM t", [Table("t", [("s", "string")], [{"s": "a\x00b"}])])


# --------------------------------------------------------------------------------------------
# the skipping rule: skip on a developer's machine, fail in CI


def _broken(*_a, **_k):
    raise engines.EngineUnavailable("no such engine here")


@pytest.mark.parametrize("ci, outcome", [("", pytest.skip.Exception), ("false", pytest.skip.Exception), ("true", pytest.fail.Exception)])
def test_unavailable_engine_skips_or_fails_in_ci(monkeypatch, ci, outcome):
    monkeypatch.setitem(engines.FACTORIES, "postgres", _broken)
    monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match="no such engine here"):
        conftest._start("postgres")


# --------------------------------------------------------------------------------------------
# dialect differences a SQL generator must compensate for (pinned on DuckDB 2.0, PostgreSQL 16, Spark 4.x)

RAISES = object()  # the statement fails
D = "CAST({} AS DECIMAL(38, 10))"


def one(**kw):
    return [kw]


QUIRKS = {
    # `/` on two DECIMALs: DOUBLE in DuckDB, exact NUMERIC in Postgres, DECIMAL(38, 18) in Spark (the harness's
    # session sets spark.sql.decimalOperations.allowPrecisionLoss=false, as leadlang requires; Spark's default gives 6)
    "decimal_division": (f"SELECT {D.format(1)} / {D.format(3)} AS v", {
        "duckdb": one(v=1 / 3), "postgres": one(v=Decimal("0.33333333333333333333")), "spark": one(v=Decimal("0.333333333333333333"))}),
    # Spark's default shrinks the scale when precision would pass 38 ((38,10) + (38,10) keeps 9 decimals);
    # without precision loss the sum is exact
    "decimal_38_addition": (f"SELECT {D.format('1.0000000001')} + {D.format('0.0000000001')} AS v", {
        "duckdb": one(v=Decimal("1.0000000002")), "postgres": one(v=Decimal("1.0000000002")), "spark": one(v=Decimal("1.0000000002"))}),
    "decimal_28_addition": ("SELECT CAST(1.0000000001 AS DECIMAL(28, 10)) + CAST(0.0000000001 AS DECIMAL(28, 10)) AS v", {
        "duckdb": one(v=Decimal("1.0000000002")), "postgres": one(v=Decimal("1.0000000002")), "spark": one(v=Decimal("1.0000000002"))}),
    # DuckDB multiplies to DECIMAL(38, 20): 18 integer digits, then an overflow error; so does Spark without
    # precision loss
    "decimal_product_overflow": (f"SELECT {D.format('1000000000000000')} * {D.format('100000')} AS v", {
        "duckdb": RAISES, "postgres": one(v=Decimal("1E+20")), "spark": RAISES}),
    "decimal_average": (f"SELECT avg(x) AS v FROM (SELECT {D.format(1)} AS x UNION ALL SELECT {D.format(2)}) t", {
        "duckdb": one(v=1.5), "postgres": one(v=Decimal("1.5")), "spark": one(v=Decimal("1.5"))}),
    "integer_division": ("SELECT 7 / 2 AS v", {"duckdb": one(v=3.5), "postgres": one(v=3), "spark": one(v=3.5)}),
    "division_by_zero": ("SELECT 1 / 0 AS v", {
        "duckdb": lambda rows: rows in ([{"v": None}], [{"v": math.inf}]), "postgres": RAISES, "spark": RAISES}),
    "sum_and_avg_of_bigint": ("SELECT sum(x) AS s, avg(x) AS a FROM (SELECT CAST(1 AS BIGINT) AS x UNION ALL SELECT CAST(2 AS BIGINT)) t", {
        "duckdb": one(s=3, a=1.5), "postgres": one(s=Decimal(3), a=Decimal("1.5")), "spark": one(s=3, a=1.5)}),
    "bigint_sum_overflow": ("SELECT sum(x) AS v FROM (SELECT CAST(9223372036854775807 AS BIGINT) AS x UNION ALL SELECT CAST(1 AS BIGINT)) t", {
        "duckdb": one(v=2**63), "postgres": one(v=Decimal(2**63)), "spark": RAISES}),
    # a DECIMAL to BIGINT cast rounds in DuckDB and Postgres, truncates in Spark
    "decimal_to_bigint": (f"SELECT CAST({D.format('2.7')} AS BIGINT) AS a, CAST({D.format('-2.5')} AS BIGINT) AS b", {
        "duckdb": one(a=3, b=-3), "postgres": one(a=3, b=-3), "spark": one(a=2, b=-2)}),
    # round() of a double at .5: away from zero (DuckDB, Spark), to even (Postgres)
    "round_double_half": ({"duckdb": "SELECT round(CAST(2.5 AS DOUBLE)) AS a, round(CAST(0.5 AS DOUBLE)) AS b",
                           "postgres": "SELECT round(CAST(2.5 AS DOUBLE PRECISION)) AS a, round(CAST(0.5 AS DOUBLE PRECISION)) AS b",
                           "spark": "SELECT round(CAST(2.5 AS DOUBLE)) AS a, round(CAST(0.5 AS DOUBLE)) AS b"}, {
        "duckdb": one(a=3.0, b=1.0), "postgres": one(a=2.0, b=0.0), "spark": one(a=3.0, b=1.0)}),
    "round_double_to_places": ({"duckdb": "SELECT round(CAST(2.5 AS DOUBLE), 1) AS v",
                                "postgres": "SELECT round(CAST(2.5 AS DOUBLE PRECISION), 1) AS v",
                                "spark": "SELECT round(CAST(2.5 AS DOUBLE), 1) AS v"}, {
        "duckdb": one(v=2.5), "postgres": RAISES, "spark": one(v=2.5)}),  # Postgres: round(numeric, int) only
    "round_decimal_half": (f"SELECT round({D.format('2.5')}) AS a, round({D.format('-2.5')}) AS b, round({D.format('0.125')}, 2) AS c", {
        "duckdb": one(a=Decimal(3), b=Decimal(-3), c=Decimal("0.13")), "postgres": one(a=Decimal(3), b=Decimal(-3), c=Decimal("0.13")),
        "spark": one(a=Decimal(3), b=Decimal(-3), c=Decimal("0.13"))}),
    # these three skip NULLs in least/greatest (Snowflake, BigQuery, MySQL return NULL)
    "least_greatest_null": ("SELECT least(1, NULL) AS l, greatest(1, NULL) AS g", {
        "duckdb": one(l=1, g=1), "postgres": one(l=1, g=1), "spark": one(l=1, g=1)}),
    "concat_null": ("SELECT concat('a', NULL) AS c, 'a' || NULL AS p", {
        "duckdb": one(c="a", p=None), "postgres": one(c="a", p=None), "spark": one(c=None, p=None)}),
    "nulls_sort_first_in_spark": ("SELECT x FROM (SELECT 1 AS x UNION ALL SELECT NULL UNION ALL SELECT 2) t ORDER BY x", {
        "duckdb": [{"x": 1}, {"x": 2}, {"x": None}], "postgres": [{"x": 1}, {"x": 2}, {"x": None}], "spark": [{"x": None}, {"x": 1}, {"x": 2}]}),
    "strings_sort_by_code_point": ("SELECT s FROM (SELECT 'a' AS s UNION ALL SELECT 'B' UNION ALL SELECT 'é' UNION ALL SELECT 'z') t ORDER BY s", {
        e: [{"s": "B"}, {"s": "a"}, {"s": "z"}, {"s": "é"}] for e in ("duckdb", "postgres", "spark")}),  # Postgres: the harness's C collation
    "boolean_literals": ("SELECT TRUE AS t, FALSE AS f, NOT TRUE AS n, TRUE IS NOT DISTINCT FROM NULL AS d", {
        e: one(t=True, f=False, n=False, d=False) for e in ("duckdb", "postgres", "spark")}),
    "boolean_equals_integer": ("SELECT TRUE = 1 AS v", {"duckdb": one(v=True), "postgres": RAISES, "spark": RAISES}),
    "max_of_boolean": ("SELECT max(x) AS v FROM (SELECT TRUE AS x UNION ALL SELECT FALSE) t", {
        "duckdb": one(v=True), "postgres": RAISES, "spark": one(v=True)}),  # bool_or/bool_and work in all three
    "bool_or_and": ("SELECT bool_or(x) AS o, bool_and(x) AS a FROM (SELECT TRUE AS x UNION ALL SELECT FALSE) t", {
        e: one(o=True, a=False) for e in ("duckdb", "postgres", "spark")}),
    # INTERVAL '14' DAY is the portable spelling
    "interval_quoted_number_unit": ("SELECT DATE '2024-01-01' + INTERVAL '14' DAY AS v", {
        "duckdb": one(v=dt.datetime(2024, 1, 15)), "postgres": one(v=dt.datetime(2024, 1, 15)), "spark": one(v=dt.date(2024, 1, 15))}),
    "interval_bare_number": ("SELECT DATE '2024-01-01' + INTERVAL 14 DAY AS v", {
        "duckdb": one(v=dt.datetime(2024, 1, 15)), "postgres": RAISES, "spark": one(v=dt.date(2024, 1, 15))}),
    "timestamptz_plus_interval": ({"duckdb": "SELECT TIMESTAMPTZ '2024-03-30 12:00:00+00' + INTERVAL '1' DAY AS v",
                                   "postgres": "SELECT TIMESTAMPTZ '2024-03-30 12:00:00+00' + INTERVAL '1' DAY AS v",
                                   "spark": "SELECT TIMESTAMP '2024-03-30 12:00:00+00:00' + INTERVAL '1' DAY AS v"}, {
        e: one(v=dt.datetime(2024, 3, 31, 12, tzinfo=UTC)) for e in ("duckdb", "postgres", "spark")}),
    "date_minus_date": ("SELECT DATE '2024-03-01' - DATE '2024-02-01' AS v", {
        "duckdb": one(v=29), "postgres": one(v=29), "spark": one(v=dt.timedelta(days=29))}),
    # a TIMESTAMP literal is naive in DuckDB and Postgres (the offset is dropped!), an instant in Spark
    "timestamp_literal_with_offset": ("SELECT TIMESTAMP '2024-01-01 00:00:00+02:00' AS v", {
        "duckdb": one(v=dt.datetime(2024, 1, 1)), "postgres": one(v=dt.datetime(2024, 1, 1)),
        "spark": one(v=dt.datetime(2023, 12, 31, 22, tzinfo=UTC))}),
    "extract_day_of_week_sunday": ("SELECT extract(dow FROM DATE '2024-01-07') AS v", {
        "duckdb": one(v=0), "postgres": one(v=Decimal(0)), "spark": one(v=1)}),
    # regular expressions: regexp_like in Postgres 15+ and Spark; DuckDB has regexp_matches (and ~)
    "regexp_like": ("SELECT regexp_like('abc', 'b') AS v", {"duckdb": RAISES, "postgres": one(v=True), "spark": one(v=True)}),
    "regexp_matches": ("SELECT regexp_matches('abc', 'b') AS v", {"duckdb": one(v=True), "postgres": one(v=["b"]), "spark": RAISES}),
    "tilde_operator": ("SELECT 'abc' ~ 'b' AS v", {"duckdb": one(v=True), "postgres": one(v=True), "spark": RAISES}),
    "rlike": ("SELECT 'abc' RLIKE 'b' AS v", {"duckdb": RAISES, "postgres": RAISES, "spark": one(v=True)}),
    # LIKE: backslash is the default escape in Postgres and Spark, not in DuckDB: say ESCAPE
    "like_default_escape": ("SELECT 'a_b' LIKE 'a\\_b' AS a, 'a\\xb' LIKE 'a\\_b' AS b", {
        "duckdb": one(a=False, b=True), "postgres": one(a=True, b=False), "spark": one(a=True, b=False)}),
    "like_explicit_escape": ("SELECT 'a_b' LIKE 'a!_b' ESCAPE '!' AS a, 'axb' LIKE 'a!_b' ESCAPE '!' AS b", {
        e: one(a=True, b=False) for e in ("duckdb", "postgres", "spark")}),
    # Spark string literals take C escapes: '\b' is a backspace; double every backslash for Spark
    "backslash_in_string_literal": ("SELECT length('a\\b') AS v", {"duckdb": one(v=3), "postgres": one(v=3), "spark": one(v=2)}),
    # "..." is an identifier in DuckDB and Postgres, a string in Spark: quote identifiers with backticks there
    "double_quotes": ('SELECT "abc" AS v', {"duckdb": RAISES, "postgres": RAISES, "spark": one(v="abc")}),
    "substr_from_zero": ("SELECT substr('abc', 0, 2) AS v", {"duckdb": one(v="a"), "postgres": one(v="a"), "spark": one(v="ab")}),
    "type_double": ("SELECT CAST(1 AS DOUBLE) AS v", {"duckdb": one(v=1.0), "postgres": RAISES, "spark": one(v=1.0)}),
    "type_varchar": ("SELECT CAST(1 AS VARCHAR) AS v", {"duckdb": one(v="1"), "postgres": one(v="1"), "spark": RAISES}),
    "type_string": ("SELECT CAST(1 AS STRING) AS v", {"duckdb": one(v="1"), "postgres": RAISES, "spark": one(v="1")}),
    "try_cast": ("SELECT TRY_CAST('abc' AS BIGINT) AS v", {"duckdb": one(v=None), "postgres": RAISES, "spark": one(v=None)}),
    "qualify": ("SELECT x FROM (SELECT 1 AS x UNION ALL SELECT 2) t QUALIFY row_number() OVER (ORDER BY x) = 1", {
        "duckdb": one(x=1), "postgres": RAISES, "spark": one(x=1)}),
    "filter_clause": ("SELECT count(*) FILTER (WHERE x > 1) AS c FROM (SELECT 1 AS x UNION ALL SELECT 2) t", {
        e: one(c=1) for e in ("duckdb", "postgres", "spark")}),
    "in_list_with_null": ("SELECT 1 IN (2, NULL) AS a, 1 NOT IN (2, NULL) AS b", {e: one(a=None, b=None) for e in ("duckdb", "postgres", "spark")}),
}


@pytest.mark.parametrize("quirk", sorted(QUIRKS))
def test_dialect_quirk(engine, quirk):
    sql, expected = QUIRKS[quirk]
    sql = sql[engine.name] if isinstance(sql, dict) else sql
    want = expected[engine.name]
    if want is RAISES:
        with pytest.raises(Exception):
            engine.run(sql, [])
        return
    got = engine.run(sql, [])
    if callable(want):
        assert want(got), got
    else:
        assert_same(got, want)
