"""A property of `leadlang history` (docs/history.md): for ANY series — from, a step of hours, days or weeks,
1 to 12 points — and data whose events sit at or a microsecond around every window boundary of every point,
the one-statement series is, cell for cell, the interpreter at each point (`--engine python`, the oracle), and
`--changes` is exactly the label changes those per-point rows imply.

The policies below use every aggregate (count, sum, min, max, avg, first, last, active_days, distinct_leads),
windows that are not multiples of the step (10 days, 36 hours, 5 hours), unbounded aggregates, `half-life`
decay with and without a window, `where` and event-name filters, `by account` (rolled up, distinct leads and
active days), int and number columns, and rules, bands, criteria, `disqualify` and a classification reading
them. The events are drawn mostly at each point p and at p - W for each window W of the policy (and 1 µs
either side), at UTC midnights near them (`active_days`), after the last point and long before the first.

DuckDB runs through `series`/`write_history`, the functions `leadlang history` calls; PostgreSQL and Spark
run the same series statement on a few examples only (Spark is the scarcest engine).
"""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import checked
from engines import interpreted
from hypothesis import HealthCheck, example, given, seed, settings
from hypothesis import strategies as st
from test_differential import assert_same_result, catalog_safe, tables_for
from test_history import _by_definition, _changes_by_hand

from leadlang.history import label_columns, points, series
from leadlang.history.series import write_history
from leadlang.sql import to_sql

UTC = dt.timezone.utc
US = dt.timedelta(microseconds=1)
DAY, HOUR = dt.timedelta(days=1), dt.timedelta(hours=1)
T0 = dt.datetime(2024, 1, 10, tzinfo=UTC)

ACCOUNTS = checked('''policy hprop_acct "History property: accounts"
  version "1"
  owner "tests"

leads from ref("leads") key lead_id account account_id {
  tier enum("smb", "ent")
}

events ev from ref("ev") {
  lead lead_id
  at   at
  name name
  seats  int
  amount number
}

signal logins_10d  = count(ev "login" in last 10 days)
signal seats_36h   = sum(ev.seats in last 36 hours)
signal amt_low     = min(ev.amount in last 10 days)
signal amt_high    = max(ev.amount where seats >= 1 in last 36 hours)
signal amt_avg     = avg(ev.amount ["login", "buy"] in last 10 days)
signal seats_min   = min(ev.seats)
signal seats_max   = max(ev.seats "buy")
signal first_login = first(ev "login" in last 10 days)
signal last_any    = last(ev)
signal first_any   = first(ev)
signal days_10d    = active_days(ev in last 10 days)
signal team_10d    = distinct_leads(ev in last 10 days by account)
signal team_seats  = sum(ev.seats in last 36 hours by account)
signal team_amt    = sum(ev.amount by account)
signal team_low    = min(ev.amount in last 10 days by account)
signal team_last   = last(ev "buy" by account)
signal team_days   = active_days(ev in last 36 hours by account)
signal team_avg    = avg(ev.seats in last 10 days by account)
signal team_buys   = count(ev "buy" where amount > 0 in last 36 hours by account)
signal team_ever   = distinct_leads(ev by account)
signal team_first  = first(ev in last 10 days by account)
signal team_top    = max(ev.amount by account)
signal team_warm   = count(ev "login" in last 36 hours half-life 1 day by account)
signal warm        = count(ev "login" in last 10 days half-life 3 days)
signal warm_amt    = sum(ev.amount half-life 2 days)
signal idle        = days_since(last_any)

score engagement clamp 0 to 100 {
  logins: +10 per logins_10d, max 40
  seats:  +2 per seats_36h, max 20
  team:   +15 when team_10d >= 2
  busy:   +10 when days_10d >= 2
  warm:   +5 per warm, max 25
  money:  +1 per warm_amt, max 10
  big:    +20 when amt_high > 100
  cheap:  -10 when amt_low < 0
  fresh:  +5 when idle <= 1
  buys:   +5 per team_buys, max 15
  crowd:  +1 per team_ever, max 5
  pooled: +2 per team_warm, max 8
}

bands engagement { high >= 50, mid >= 20, low otherwise }

criteria fit require 2 of {
  spend:   coalesce(team_amt, 0) > 0
  pool:    team_days >= 1 or team_seats >= 3
  steady:  amt_avg between 0 and 50
  buyer:   seats_max >= 2 or team_last is present
  early:   first_login is present and first_any < first_login
  shared:  team_first < first_any or team_top >= 40
}

disqualify {
  silent: last_any is missing and team_10d = 0
  odd:    seats_min < -3
}

classify stage {
  hot when engagement is high and fit
  warm when engagement is mid or team_low is present
  otherwise cold
}
''', "hprop_acct.lead")

SOURCES = checked('''policy hprop_sources "History property: two sources"
  version "1"
  owner "tests"

leads from ref("leads") key lead_id {
  plan enum("free", "pro")
}

events app from ref("app") {
  lead lead_id
  at   at
  name name
  qty  int
}

events web from ref("web") {
  lead lead_id
  at   at
  name name
  secs number
}

signal uses_7d   = count(app in last 7 days)
signal uses_5h   = count(app ["run", "save"] in last 5 hours)
signal qty_7d    = sum(app.qty where qty > 0 in last 7 days)
signal qty_all   = sum(app.qty)
signal qty_low   = min(app.qty in last 5 hours)
signal qty_top   = max(app.qty in last 7 days)
signal app_days  = active_days(app "run" in last 7 days)
signal app_ever  = active_days(app)
signal first_run = first(app "run")
signal last_save = last(app "save" in last 7 days)
signal visits_1d = count(web "visit" in last 1 day)
signal read_5h   = avg(web.secs in last 5 hours)
signal read_low  = min(web.secs where secs >= 0)
signal read_top  = max(web.secs in last 1 day)
signal read_sum  = sum(web.secs in last 7 days half-life 1 day)
signal warm_web  = count(web half-life 12 hours)
signal last_web  = last(web in last 1 day)

score activity clamp -20 to 100 {
  uses:   +5 per uses_7d, max 30
  burst:  +10 when uses_5h >= 2
  qty:    +1 per qty_7d, max 15
  days:   +5 per app_days, max 15
  visits: +4 per visits_1d, max 20
  warm:   +3 per warm_web, max 12
  read:   +1 per read_sum, max 10
  neg:    -20 when qty_low < 0 or read_low < 1
}

bands activity { active >= 40, some >= 10, none otherwise }

criteria engaged require all {
  used:  first_run is present
  seen:  coalesce(read_top, 0) > 2.5 or plan = "pro"
}

disqualify {
  gone: last_web is missing and last_save is missing and qty_all = 0
}

classify journey {
  champion when activity is active and engaged
  reader when read_5h is present and read_5h >= 1.5
  explorer when app_ever >= 2 or qty_top is present
  otherwise idle
}
''', "hprop_sources.lead")

# Each policy, with the windows its aggregates use (the boundaries p - W the events are drawn on) and its event
# sources with their extra columns.
POLICIES = {
    "acct": (ACCOUNTS, [10 * DAY, 36 * HOUR], {"ev": {"seats": "int", "amount": "number"}}, ["login", "buy", "view"]),
    "sources": (SOURCES, [7 * DAY, 5 * HOUR, DAY], {"app": {"qty": "int"}, "web": {"secs": "number"}}, ["run", "save", "visit", "other"]),
}

INTS = st.sampled_from([None, 0, 1, 2, 3, 5, -1, -4, 17])
NUMBERS = st.sampled_from([None, Decimal("0"), Decimal("1.5"), Decimal("-2.25"), Decimal("0.0000000001"), Decimal("123.456"), Decimal("-0.5"), Decimal("40")])
STEPS = st.one_of(st.integers(1, 48).map(lambda n: n * HOUR), st.integers(1, 10).map(lambda n: n * DAY), st.integers(1, 3).map(lambda n: 7 * n * DAY))
# From: a whole hour (midnight often), a minute, or any microsecond, in the first months of 2024.
FROMS = st.builds(lambda d, h, extra: dt.datetime(2024, 1, 10, tzinfo=UTC) + d * DAY + h * HOUR + extra,
                  st.integers(0, 120), st.sampled_from([0, 0, 6, 23]),
                  st.one_of(st.just(dt.timedelta(0)), st.integers(1, 59).map(lambda m: dt.timedelta(minutes=m)),
                            st.integers(1, 86_400_000_000 - 1).map(lambda u: dt.timedelta(microseconds=u))))


@st.composite
def cases(draw, names=tuple(POLICIES), least: int = 1):
    """(policy name, the points, leads, events by source): a series and data on its every boundary; `least`: at
    least that many points, leads and events per source (so that even the simplest example has some of each)."""
    name = draw(st.sampled_from(names))
    policy, windows, sources, event_names = POLICIES[name]
    start, step, n = draw(FROMS), draw(STEPS), draw(st.integers(min(least, 12), 12))
    to = start + (n - 1) * step + draw(st.sampled_from([dt.timedelta(0), dt.timedelta(0), US, step / 2]))
    when = points(start, to, step)
    near = st.sampled_from([dt.timedelta(0), US, -US])
    starts = [p - w for p in when for w in windows]  # where each point's windows begin (exclusive)
    midnights = sorted({dt.datetime.combine((b - d).date(), dt.time(), UTC) for b in [*when, *starts] for d in (dt.timedelta(0), DAY)})
    moment = st.one_of(
        st.builds(add, st.sampled_from(when), near),  # at a point (inside), a microsecond after (outside)
        st.builds(add, st.sampled_from(starts), near),  # at a window's start (outside), a microsecond after (inside)
        st.builds(add, st.sampled_from(starts), near),
        st.builds(add, st.sampled_from(midnights), near),  # active_days' calendar dates
        st.integers(1, 20).map(lambda h: when[-1] + h * HOUR),  # after the last point
        st.integers(0, 10).map(lambda d: when[0] - (60 + d) * DAY),  # long before the first
        st.integers(0, int((when[-1] - when[0] + 2 * DAY).total_seconds())).map(lambda s: when[0] - DAY + dt.timedelta(seconds=s)),
    )
    keys = [f"L{i}" for i in range(draw(st.integers(min(least, 8), 8)))]
    leads = [{"lead_id": k, "account_id": draw(st.sampled_from(["A1", "A1", "A2", None])), "tier": draw(st.sampled_from(["smb", "ent", None])),
              "plan": draw(st.sampled_from(["free", "pro", None]))} for k in keys]
    with_events = keys[:max(1, len(keys) - draw(st.integers(0, 2)))]  # the last leads may have no events
    events = {}
    for source, columns in sources.items():
        event = st.fixed_dictionaries({
            "lead": st.sampled_from(with_events + ["L-unknown"]), "at": moment, "name": st.sampled_from([*event_names, None]),
            **{c: INTS if t == "int" else NUMBERS for c, t in columns.items()}})
        events[source] = draw(st.lists(event, min_size=least, max_size=max(40, least)))
    return name, when, leads, events


def add(t: dt.datetime, d: dt.timedelta) -> dt.datetime:
    return t + d


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, dt.datetime):
        return v.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(v, Decimal):
        return format(v, "f")
    return str(v)


def write_data(policy, leads, events, folder: Path) -> Path:
    """The rows as the CSV files `--data DIR` reads: leads.csv and one file per event source."""
    folder.mkdir()
    lead_columns = [policy.leads.key, *([policy.leads.account] if policy.leads.account else []), *policy.lead_types]
    files = {"leads": (list(dict.fromkeys(lead_columns)), leads)}
    for source, ev in policy.events.items():
        extra = list(policy.event_types[source])
        rows = [{ev.lead: e["lead"], ev.at: e["at"], ev.event_name: e["name"], **{c: e[c] for c in extra}} for e in events[source]]
        files[source] = ([ev.lead, ev.at, ev.event_name, *extra], rows)
    for source, (columns, rows) in files.items():
        with open(folder / f"{source}.csv", "w", newline="", encoding="utf-8") as f:
            out = csv.writer(f)
            out.writerow(columns)
            out.writerows([_cell(r.get(c)) for c in columns] for r in rows)
    return folder


def changes_by_definition(policy, rows: list[dict]) -> list[dict]:
    """The label changes the per-point rows imply, worked out here (`true`/`false` for a verdict, as `--changes` writes it)."""
    text = [{k: ("true" if v is True else "false" if v is False else v) for k, v in r.items()} for r in rows]
    return _changes_by_hand(text, label_columns(policy), policy.key)


def first_difference(want: list[dict], got: list[dict], key: str) -> str:
    if len(want) != len(got):
        return f"{len(want)} rows by the interpreter, {len(got)} by DuckDB"
    for w, g in zip(want, got):
        bad = [c for c in w if w[c] != g.get(c)]
        if bad or list(w) != list(g):
            return f"{w[key]!r} at {w['as_of']}: " + "; ".join(f"{c}: interpreter {w[c]!r}, duckdb {g.get(c)!r}" for c in bad)
    return "same"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=cases(), keep=st.none() | st.sets(st.integers(0, 7), min_size=1, max_size=3))
# what the property shrank to with a bound broken: an event at p - W (outside the window), at p (inside)
@example(case=("acct", [T0], [{"lead_id": "L0", "account_id": "A1"}],
               {"ev": [{"lead": "L0", "at": T0 - 10 * DAY, "name": "login", "seats": None, "amount": None}]}), keep=None)
@example(case=("acct", [T0], [{"lead_id": "L0", "account_id": "A1"}],
               {"ev": [{"lead": "L0", "at": T0, "name": "login", "seats": None, "amount": None}]}), keep={0})
def test_history_is_the_interpreter_at_every_point(case, keep, tmp_path_factory):
    """`keep`: some leads for `--lead` (the other leads of their account still pool `by account`)."""
    name, when, leads, events = case
    policy = POLICIES[name][0]
    data = write_data(policy, leads, events, tmp_path_factory.mktemp("data") / "d")
    want = series(policy, data, when, engine="python").to_pylist()  # `history --engine python`: the interpreter at each point
    assert [(r[policy.key], r["as_of"]) for r in want] == [(r["lead_id"], t) for r in sorted(leads, key=lambda r: r["lead_id"]) for t in when]
    got = series(policy, data, when).to_pylist()  # `history`: one DuckDB statement
    assert got == want, first_difference(want, got, policy.key)
    moved = changes_by_definition(policy, want)
    if keep is not None:
        only = sorted({leads[i % len(leads)]["lead_id"] for i in keep})
        got = series(policy, data, when, leads=only).to_pylist()
        kept = [r for r in want if r[policy.key] in only]
        assert got == kept, first_difference(kept, got, policy.key)

    out = data.parent / "changes.parquet"
    assert write_history(policy, data, when, None, True, out, None) == len(moved)
    import pyarrow.parquet as pq

    assert pq.read_table(out).to_pylist() == moved


# ------------------------------------------------------------- PostgreSQL and Spark, a few examples --


@pytest.mark.parametrize("name, examples", [("postgres", 4), ("spark", 2)])
def test_the_series_statement_on_other_engines(request, name, examples):
    """The same generated cases (a fixed seed: the same few on every run) through `to_sql(..., series=points)` on
    PostgreSQL and Spark, against the interpreter at each point."""
    engine = request.getfixturevalue(f"{name}_engine")

    @seed(15)
    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(case=cases(least=5))
    def agree(case):
        policy_name, when, leads, events = case
        policy = POLICIES[policy_name][0]
        rows = [{k: v for k, v in r.items() if k in policy.lead_types or k in ("lead_id", policy.leads.account)} for r in leads]
        oracle = _by_definition(policy, rows, [], events, when)
        tables = tables_for(policy, rows, [], events)
        mapping = catalog_safe(engine, tables)
        with interpreted(engine):
            got = engine.run(to_sql(policy, engine.name, when[0], mapping, series=when), tables)
        assert_same_result(policy, SimpleNamespace(rows=oracle, explain=[]), got, [], engine.name)
        assert [(r["lead_id"], r["as_of"]) for r in got] == [(r["lead_id"], r["as_of"]) for r in oracle]

    agree()
