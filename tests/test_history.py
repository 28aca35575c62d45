"""`leadlang history`: every row is `score --as-of t`'s row at its point, on every engine; `--changes` is what
consecutive scorings imply; bad series are one line, exit 2 (docs/history.md).

The engine test runs one series statement per engine (Spark pays one query) over data with events exactly
at every point, at `point - window` (and a microsecond either side) for every point and window, after the
last point, decayed events, `by account` pools and leads with no events, against the interpreter at each point.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
import re
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from conftest import checked
from engines import interpreted
from test_differential import assert_same_result, catalog_safe, tables_for

from leadlang.cli import main
from leadlang.diagnostics import DataError
from leadlang.history import changes, label_columns, points, series
from leadlang.interpret import evaluate
from leadlang.sql import DIALECTS, to_sql
from leadlang.sql.compiler import MAX_DECAYED_POINTS

UTC = dt.timezone.utc
PLG = "policies/plg/plg.lead"
PLG_DATA = "policies/plg/data"

SOURCES = '''
leads from ref("stg_leads") key lead_id account account_id {
  plan enum("free", "pro")
}

events ev from ref("stg_events") {
  lead lead_id
  at   at
  name name
  seats int
}
'''  # the leads and the `ev` events of both policies here (`_data` makes them)

POLICY = checked('''policy hist "History over windows"
  version "1"
  owner "tests"
''' + SOURCES + '''

events web from ref("stg_web") {
  lead lead_id
  at   at
  name name
}

signal logins_7d = count(ev "login" in last 7 days)
signal seats_30d = sum(ev.seats in last 30 days)
signal team_14d  = count(ev in last 14 days by account)
signal visits    = count(web)
signal warm      = count(web "visit" half-life 3 days)
signal last_seen = last(web)

score engagement clamp 0 to 100 {
  logins: +10 per logins_7d, max 40
  seats:  +1 per seats_30d, max 20
  team:   +15 when team_14d >= 3
  warm:   +5 per warm, max 30
}

bands engagement { high >= 50, mid >= 20, low otherwise }

criteria busy require 1 of {
  visits: visits >= 3
  plan:   plan = "pro"
}

disqualify {
  silent: last_seen is missing and logins_7d = 0
}

classify stage {
  hot when engagement is high and busy
  warm when engagement is mid
  otherwise cold
}
''', "hist.lead")

FROM = dt.datetime(2024, 5, 1, 6, 0, tzinfo=UTC)
WHEN = points(FROM, dt.datetime(2024, 5, 29, 6, 0, tzinfo=UTC), "1 week")  # 5 points


def _data(seed: int = 7):
    """Leads (some without events, some without account) and events on every edge of every point's windows."""
    rng = random.Random(seed)
    keys = [f"L{i:02d}" for i in range(24)] + ["L'q", "Lé"]
    leads = [{"lead_id": k, "account_id": rng.choice(["A1", "A2", "A3", None]), "plan": rng.choice(["free", "pro", None])} for k in keys]
    windows = [dt.timedelta(days=d) for d in (7, 14, 30)]
    us = dt.timedelta(microseconds=1)
    moments = [p + off for p in WHEN for off in (dt.timedelta(0), us, -us)]
    moments += [p - w + off for p in WHEN for w in windows for off in (dt.timedelta(0), us, -us)]
    moments += [WHEN[-1] + dt.timedelta(days=2), FROM - dt.timedelta(days=90)]  # after the last point, long before the first
    active = keys[:-6]  # the last six have no events
    ev = [{"lead": rng.choice(active + ["L-unknown"]), "at": rng.choice(moments) if rng.random() < 0.7 else FROM + dt.timedelta(seconds=rng.randrange(0, 86400 * 30)),
           "name": rng.choice(["login", "invite", None]), "seats": rng.choice([None, 1, 2, 5])} for _ in range(500)]
    web = [{"lead": rng.choice(active), "at": rng.choice(moments), "name": rng.choice(["visit", "other"])} for _ in range(150)]
    return leads, [], {"ev": ev, "web": web}


def _by_definition(policy, leads, accounts, events, when):
    """The interpreter at each point, the rows by key then as-of."""
    scored = [evaluate(policy, leads, accounts, events, t).rows for t in when]
    return [row for rows in zip(*scored) for row in rows]


def test_every_row_is_the_score_at_its_point(engine):
    leads, accounts, events = _data()
    oracle = _by_definition(POLICY, leads, accounts, events, WHEN)
    labels = {c: {r[c] for r in oracle} for c in ("engagement_band", "stage", "busy", "disqualified")}
    assert all(len(v) > 1 for v in labels.values()), labels  # the data moves every kind of label
    tables = tables_for(POLICY, leads, accounts, events)
    mapping = catalog_safe(engine, tables)
    with interpreted(engine):
        got = engine.run(to_sql(POLICY, engine.name, WHEN[0], mapping, series=WHEN), tables)
    assert_same_result(POLICY, SimpleNamespace(rows=oracle, explain=[]), got, [], engine.name)
    assert [r["as_of"] for r in got] == [t for _ in leads for t in WHEN]


DECAYED = checked('''policy pulse "Decayed account pulse"
  version "1"
  owner "tests"
''' + SOURCES + '''

signal pulse     = count(ev in last 10 days half-life 2 days by account)
signal lifetime  = sum(ev.seats "login" half-life 12 hours by account)
signal own_pulse = count(ev in last 10 days half-life 2 days)

score engagement {
  pulse: +1.5 per pulse, max 40
  seats: +0.25 per lifetime
}
''', "pulse.lead")


@pytest.mark.parametrize("days", [9, MAX_DECAYED_POINTS + 8])
def test_a_decayed_pool_is_summed_once_per_point_holding_each_interval(duckdb_engine, days):
    """A decayed `by account` aggregate sums each account's weights per interval once for each point holding it
    (partials per account and interval, no per-lead stage) up to `MAX_DECAYED_POINTS` points per interval, and
    joins each event to its points beyond; either way each row is the interpreter's at its point, with
    irregular steps (a series of days, its points at 06:00) and events on every edge."""
    when = points(FROM, FROM + dt.timedelta(days=days - 1), "1 day")
    leads, accounts, events = _data()
    events = {"ev": events["ev"] + [dict(e, at=p - dt.timedelta(days=10) + off) for e in events["ev"][:40] for p in when[::3]
                                    for off in (dt.timedelta(0), dt.timedelta(microseconds=1))]}
    oracle = _by_definition(DECAYED, leads, accounts, events, when)
    assert len({r["pulse"] for r in oracle}) > days and len({r["lifetime"] for r in oracle}) > days  # the weights move
    tables = tables_for(DECAYED, leads, accounts, events)
    sql = to_sql(DECAYED, "duckdb", when[0], catalog_safe(duckdb_engine, tables), series=when)
    pooled, joined = sql.count('GROUP BY "__account", "__iv"'), len(re.findall(r'"__ev_ev__\d+" AS \(', sql))
    # the lead's own decayed count always joins its events to the points; the lifetime pool (a column per point) beyond the limit
    assert (pooled, joined) == ((2, 1) if days <= MAX_DECAYED_POINTS else (1, 2))
    with interpreted(duckdb_engine):
        got = duckdb_engine.run(sql, tables)
    assert_same_result(DECAYED, SimpleNamespace(rows=oracle, explain=[]), got, [], "duckdb")


@pytest.mark.parametrize("dialect", ["snowflake", "bigquery"])
def test_the_series_compiles_to_one_statement(dialect):
    import sqlglot

    sql = to_sql(POLICY, dialect, WHEN[0], series=WHEN, only=["L01"])
    assert len([s for s in sqlglot.parse(sql, read=dialect) if s is not None]) == 1


def test_score_sql_is_unchanged_by_the_series_options():
    for d in DIALECTS:
        assert to_sql(POLICY, d, WHEN[0]) == to_sql(POLICY, d, WHEN[0], series=None, only=None)
        assert "UNION ALL" not in to_sql(POLICY, d, WHEN[0])


# ------------------------------------------------------------------ the command --


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


PLG_ARGS = ["--data", PLG_DATA, "--from", "2024-05-18", "--to", "2024-06-01", "--every", "1 week"]
PLG_POINTS = ["2024-05-18", "2024-05-25", "2024-06-01"]


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    """`score --as-of t` at each point of the PLG series, as CSV files."""
    tmp = tmp_path_factory.mktemp("scored")
    for t in PLG_POINTS:
        assert run("score", PLG, "--data", PLG_DATA, "--as-of", t, "-o", tmp / f"{t}.csv").exit_code == 0
    return tmp


def test_history_lines_are_score_lines_by_key_then_as_of(scored, tmp_path):
    files = [(scored / f"{t}.csv").read_text(encoding="utf-8").splitlines() for t in PLG_POINTS]
    want = [files[0][0], *(line for lines in zip(*(f[1:] for f in files)) for line in lines)]  # score keeps key order
    assert len({line.split(",")[0] for line in want[1:]}) * 3 == len(want) - 1
    for engine in ("duckdb", "python"):
        r = run("history", PLG, *PLG_ARGS, "--engine", engine, "-o", tmp_path / f"{engine}.csv")
        assert r.exit_code == 0, r.output
        assert (tmp_path / f"{engine}.csv").read_text(encoding="utf-8").splitlines() == want, engine
    assert run("history", PLG, *PLG_ARGS).stdout == (tmp_path / "duckdb.csv").read_text(encoding="utf-8")


def test_history_jsonl_and_parquet_rows_are_score_rows(tmp_path):
    import pyarrow.parquet as pq

    for fmt in ("jsonl", "parquet"):
        assert run("score", PLG, "--data", PLG_DATA, "--as-of", PLG_POINTS[-1], "-o", tmp_path / f"s.{fmt}").exit_code == 0
        for engine in ("duckdb", "python") if fmt == "jsonl" else ("duckdb",):  # the Python engine's Parquet: `write_rows`, as score's
            assert run("history", PLG, *PLG_ARGS, "--engine", engine, "-o", tmp_path / f"{engine}.{fmt}").exit_code == 0
    lines = (tmp_path / "duckdb.jsonl").read_text(encoding="utf-8").splitlines()
    assert lines == (tmp_path / "python.jsonl").read_text(encoding="utf-8").splitlines()
    assert lines[2::3] == (tmp_path / "s.jsonl").read_text(encoding="utf-8").splitlines()
    score, history = pq.read_table(tmp_path / "s.parquet"), pq.read_table(tmp_path / "duckdb.parquet")
    assert history.schema == score.schema
    assert history.to_pylist()[2::3] == score.to_pylist()


def _changes_by_hand(rows: list[dict], labels: list[str], key: str) -> list[dict]:
    out = []
    for a, b in zip(rows, rows[1:]):
        if a[key] == b[key]:
            out += [{key: b[key], "column": c, "previous_as_of": a["as_of"], "as_of": b["as_of"], "old": a[c], "new": b[c]}
                    for c in sorted(labels) if a[c] != b[c]]
    return out


def test_changes_are_what_consecutive_scorings_imply(scored):
    """From `score --as-of t` at each point (CSV text), the label changes worked out here, vs `--changes`."""
    from leadlang.check import load

    rows = [r for t in PLG_POINTS for r in csv.DictReader(io.StringIO((scored / f"{t}.csv").read_text(encoding="utf-8")))]
    rows.sort(key=lambda r: (r["lead_id"], r["as_of"]))
    want = _changes_by_hand(rows, label_columns(load(PLG)), "lead_id")
    assert len(want) > 50 and {w["column"] for w in want} >= {"segment", "stage", "engagement_band", "ucc"}
    for engine in ("duckdb", "python"):
        r = run("history", PLG, *PLG_ARGS, "--changes", "--engine", engine)
        assert r.exit_code == 0
        assert list(csv.DictReader(io.StringIO(r.stdout))) == want, engine


def test_the_api_gives_the_rows_and_changes_in_duckdb():
    import duckdb

    from leadlang.check import load

    policy = load(PLG)
    when = points(dt.datetime(2024, 5, 4, tzinfo=UTC), dt.datetime(2024, 6, 1, tzinfo=UTC), dt.timedelta(weeks=2))
    con = duckdb.connect()
    table = series(policy, PLG_DATA, when, con=con)
    assert table.to_pylist() == series(policy, PLG_DATA, when, engine="python").to_pylist()
    assert con.execute("SELECT count(*), count(DISTINCT as_of) FROM history").fetchone() == (table.num_rows, 3)
    moved = changes(policy, table).to_pylist()
    rows = table.to_pylist()
    text = [{k: ("true" if v is True else "false" if v is False else v) for k, v in r.items()} for r in rows]
    assert moved == _changes_by_hand(text, label_columns(policy), "lead_id")
    one = series(policy, PLG_DATA, when, leads=["L00002"], engine="python").to_pylist()
    assert one == [r for r in rows if r["lead_id"] == "L00002"]
    assert label_columns(policy) == ["fit_band", "engagement_band", "ucc", "disqualified", "segment", "stage"]


def test_lead_keeps_that_lead(tmp_path):
    r = run("history", PLG, "--data", PLG_DATA, "--from", "2024-05-01", "--to", "2024-06-01", "--every", "1 week", "--lead", "L00002", "--lead", "L00006")
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert [(x["lead_id"], x["as_of"][:10]) for x in rows] == [(k, d) for k in ("L00002", "L00006") for d in ("2024-05-01", "2024-05-08", "2024-05-15", "2024-05-22", "2024-05-29")]


def test_points():
    t0 = dt.datetime(2024, 1, 1, tzinfo=UTC)
    assert points(t0, t0, "1 day") == [t0]
    assert points(t0, t0 + dt.timedelta(days=10), "1 week") == [t0, t0 + dt.timedelta(days=7)]  # up to `to`, not past it
    assert points(t0, t0 + dt.timedelta(hours=1), "30 minutes")[-1] == t0 + dt.timedelta(hours=1)
    for every in ("2 weeks", "14 days", "14d", "2w", "14 Days", "336 hours", "20160 minutes"):
        assert points(t0, t0 + dt.timedelta(days=28), every) == [t0, t0 + dt.timedelta(days=14), t0 + dt.timedelta(days=28)], every
    assert len(points(t0, t0 + dt.timedelta(days=999), "1 day")) == 1000
    for bad in ("0 days", "1 month", "week", "-1 day", "1.5 days", ""):
        with pytest.raises(DataError):
            points(t0, t0 + dt.timedelta(days=1), bad)


@pytest.mark.parametrize("args, says", [
    (["--every", "0 days"], "longer than zero"),
    (["--every", "-1 day"], "write a duration"),
    (["--every", "1 month"], "no fixed length"),
    (["--from", "2024-06-01", "--to", "2024-05-01"], "is after --to"),
    (["--from", "2020-01-01", "--every", "1 day"], "at most 1000"),
    (["--lead", "L0002"], "did you mean"),
    (["--lead", "nobody", "--engine", "python"], "no lead with lead_id 'nobody'"),
    (["--from", "0001-01-02"], "range"),
])
def test_bad_series_is_one_line_exit_2(args, says):
    opts = {"--from": "2024-05-01", "--to": "2024-06-01", "--every": "1 week"}
    rest = []
    for i in range(0, len(args), 2):
        if args[i] in opts:
            opts[args[i]] = args[i + 1]
        else:
            rest += args[i:i + 2]
    r = run("history", PLG, "--data", PLG_DATA, *[x for kv in opts.items() for x in kv], *rest)
    assert r.exit_code == 2, r.output
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("error: ") and says in r.stderr, r.stderr
    assert r.stdout == ""
