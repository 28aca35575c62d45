"""`leadlang backtest`: every figure against a direct Python computation over the interpreter's scores."""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import random
import statistics
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from leadlang.backtest import backtest
from leadlang.backtest.compute import wilson
from leadlang.backtest.report import render_html
from leadlang.check import load
from leadlang.cli import main
from leadlang.data.stream import load_dataset
from leadlang.interpret import evaluate

ROOT = Path(__file__).parent.parent
UTC = dt.timezone.utc
AS_OF = dt.datetime(2024, 6, 1, tzinfo=UTC)

POLICY = """\
policy fixture "back-test fixture"
  version "1"

leads from ref("leads") key lead_id {
  industry  enum("software", "retail", "other")
  size      int
  email     string
}

events web from ref("web") {
  lead  lead_id
  at    at
  name  name
}

score fit clamp 0 to 100 {
  software: +40 when industry = "software"
  big:      +1 per size, max 50
}

score engagement {
  visits: +10 per count(web "visit" in last 30 days), max 60
  demo:   +30 when count(web "demo" in last 30 days) > 0
}

bands fit        { high >= THRESHOLD, low otherwise }
bands engagement { high >= 40, low otherwise }

disqualify {
  test_account: email ends with "@test.com"
}

matrix segment: engagement by fit {
        | low         | high
  high  | opportunity | sales_ready
  low   | ignore      | heartbreaker
}

classify stage {
  sql  when segment is sales_ready
  mql  when fit >= 30 or engagement >= 20
  otherwise lead
}
"""


def write_csv(path: Path, header: list[str], rows: list[list]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    return path


def iso(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A policy (and a challenger with a lower fit threshold), 240 leads with events, and outcomes.

    Won leads get a burst of demo and visit events *after* the as-of date: a
    back-test that saw them would credit engagement with wins it could not know.
    """
    rng = random.Random(7)
    root = tmp_path_factory.mktemp("bt")
    data = root / "data"
    data.mkdir()
    (root / "champion.lead").write_text(POLICY.replace("THRESHOLD", "60"), encoding="utf-8")
    (root / "challenger.lead").write_text(POLICY.replace("THRESHOLD", "45").replace('version "1"', 'version "2"'), encoding="utf-8")
    leads, events, outcomes, propensity = [], [], [], {}
    for i in range(240):
        key = f"L{i:04d}"
        industry = rng.choice(["software", "retail", "other", ""])
        size = rng.choice([rng.randint(0, 100), ""])
        email = f"x{i}@test.com" if rng.random() < 0.06 else f"x{i}@acme.io"
        leads.append([key, industry, size, email])
        visits = rng.choice([0, 0, 1, 2, 3, 5, 8])
        for _ in range(visits):
            events.append([key, iso(AS_OF - dt.timedelta(days=rng.uniform(0, 45))), "visit"])
        if rng.random() < 0.2:
            events.append([key, iso(AS_OF - dt.timedelta(days=rng.uniform(0, 35))), "demo"])
        propensity[key] = visits / 8 + (industry == "software") * 0.5 + rng.random()
    for key, p in propensity.items():
        if key.endswith("7"):
            continue  # no outcome row: not won
        outcome = "won" if p > 1.1 else rng.choice(["lost", "open", "Lost ", "OPEN"])
        outcome = "Won" if outcome == "won" and rng.random() < 0.2 else outcome
        amount = rng.choice(["", str(rng.randint(1, 90) * 1000), f"{rng.uniform(100, 5000):.2f}"])
        # closed_at: fractional days after the as-of date, a few before it, some missing
        closed = rng.choice(["", iso(AS_OF + dt.timedelta(days=rng.uniform(-3, 120))), iso(AS_OF + dt.timedelta(days=rng.randint(1, 60)))])
        outcomes.append([key, outcome, amount, closed])
        if outcome.lower() == "won":  # leaking events: after the as-of date
            events += [[key, iso(AS_OF + dt.timedelta(days=d)), n] for d, n in ((1, "demo"), (2, "visit"), (3, "visit"))]
    outcomes += [["ZZ001", "won", "500", ""], ["ZZ002", "lost", "", ""]]  # keys of no lead
    write_csv(data / "leads.csv", ["lead_id", "industry", "size", "email"], leads)
    write_csv(data / "web.csv", ["lead_id", "at", "name"], events)
    write_csv(root / "outcomes.csv", ["lead_id", "outcome", "amount", "closed_at"], outcomes)
    return root


# ------------------------------------------------------------ reference --


def reference(policy_path: Path, data: Path, outcomes: Path, as_of: dt.datetime = AS_OF) -> dict:
    """Every figure computed directly in Python over the interpreter's rows and the outcomes file read by `csv`."""
    policy = load(policy_path)
    ds = load_dataset(policy, data)
    rows = evaluate(policy, ds.leads, ds.accounts, ds.events, as_of).rows
    with outcomes.open(encoding="utf-8") as f:
        out = {r[policy.key]: r for r in csv.DictReader(f)}
    keys = {r[policy.key] for r in rows}

    def won(r):
        o = out.get(r[policy.key])
        return o is not None and o["outcome"].strip().lower() in ("won", "true", "yes", "1")

    def amount(r):
        o = out.get(r[policy.key])
        return Decimal(o["amount"]) if o and o.get("amount") else Decimal(0)

    def days(r):
        o = out.get(r[policy.key])
        if not o or not o.get("closed_at"):
            return None
        closed = dt.datetime.fromisoformat(o["closed_at"].replace("Z", "+00:00"))
        return math.floor((closed - as_of).total_seconds() / 86400)

    n, w = len(rows), sum(map(won, rows))
    revenue = sum(amount(r) for r in rows if won(r))
    groups = {}
    for o in policy.outputs:
        if o.role not in ("band", "classification"):
            continue
        groups[o.name] = {}
        for label in o.labels:
            members = [r for r in rows if r[o.name] == label]
            wins = [r for r in members if won(r)]
            ds_ = [d for d in map(days, wins) if d is not None]
            rate = len(wins) / len(members) if members else None
            groups[o.name][label] = {
                "leads": len(members), "won": len(wins), "win_rate": rate,
                "lift": rate / (w / n) if rate is not None and w else None,
                "win_share": len(wins) / w if w else None,
                "revenue_share": float(sum(map(amount, wins)) / revenue) if revenue else None,
                "median_days_to_close": statistics.median(ds_) if ds_ else None,
            }
    scores = {}
    for o in policy.outputs:
        if o.role != "score":
            continue
        pos = [float(r[o.name]) for r in rows if won(r)]
        neg = [float(r[o.name]) for r in rows if not won(r)]
        auc = sum(1.0 if p > q else 0.5 if p == q else 0.0 for p in pos for q in neg) / (len(pos) * len(neg))
        ranked = sorted(rows, key=lambda r: (-r[o.name], r[policy.key]))
        sizes = [n // 10 + (1 if b < n % 10 else 0) for b in range(10)]
        deciles, start = [], 0
        for b, size in enumerate(s for s in sizes if s):
            chunk = ranked[start:start + size]
            start += size
            deciles.append({"decile": b + 1, "min": float(chunk[-1][o.name]), "max": float(chunk[0][o.name]), "leads": size,
                            "won": sum(map(won, chunk)), "win_rate": sum(map(won, chunk)) / size})
        scores[o.name] = {"auc": auc, "deciles": deciles}
    unmatched = [k for k in out if k not in keys]
    return {"leads": n, "won": w, "base_rate": w / n, "groups": groups, "scores": scores, "unmatched": len(unmatched),
            "without": sum(1 for r in rows if r[policy.key] not in out),
            "early": sum(1 for r in rows if won(r) and days(r) is not None and days(r) < 0)}


def close(a, b, tol=1e-9):
    return (a is None and b is None) or (a is not None and b is not None and math.isclose(a, b, rel_tol=tol, abs_tol=tol))


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def bt_json(world, *extra, policy="champion.lead", outcomes=None):
    r = run("backtest", world / policy, *extra, "--data", world / "data", "--outcomes", outcomes or world / "outcomes.csv",
            "--as-of", "2024-06-01", "--format", "json")
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout), r.stderr


# -------------------------------------------------------------- figures --


def test_every_group_figure_matches_a_direct_computation(world):
    got, _ = bt_json(world)
    ref = reference(world / "champion.lead", world / "data", world / "outcomes.csv")
    assert (got["leads"], got["won"]) == (ref["leads"], ref["won"]) and close(got["base_rate"], ref["base_rate"])
    assert set(got["groups"]) == {"fit_band", "engagement_band", "segment", "stage"} == set(ref["groups"])
    for name, rows in got["groups"].items():
        assert [r["label"] for r in rows] == list(ref["groups"][name])  # every declared label, in order
        for r in rows:
            want = ref["groups"][name][r["label"]]
            for k, v in want.items():
                assert close(r[k], v), (name, r["label"], k, r[k], v)
            low, high = wilson(r["won"], r["leads"])
            assert (r["ci_low"], r["ci_high"]) == (low, high)
    # the figures are not degenerate: several labels, wins spread over them
    assert sum(r["won"] > 0 for r in got["groups"]["segment"]) >= 3
    assert sum(r["leads"] for r in got["groups"]["stage"]) == got["leads"]


def test_auc_and_deciles_match_brute_force(world):
    got, _ = bt_json(world)
    ref = reference(world / "champion.lead", world / "data", world / "outcomes.csv")
    for name, want in ref["scores"].items():
        assert close(got["scores"][name]["auc"], want["auc"]), name
        mine = [{k: d[k] for k in ("decile", "min", "max", "leads", "won", "win_rate")} for d in got["scores"][name]["deciles"]]
        assert len(mine) == 10
        for a, b in zip(mine, want["deciles"]):
            assert a.keys() == b.keys() and all(close(a[k], b[k]) for k in a), (name, a, b)
        # decile 1 holds the highest scores
        assert mine[0]["max"] == max(d["max"] for d in mine)


def test_outcome_bookkeeping_and_warnings(world):
    got, stderr = bt_json(world)
    ref = reference(world / "champion.lead", world / "data", world / "outcomes.csv")
    assert got["outcomes"]["unmatched"] == ref["unmatched"] == 2
    assert got["outcomes"]["leads_without_outcome"] == ref["without"] == 24  # every key ending in 7
    assert got["won"] + got["lost"] + got["open"] + ref["without"] == got["leads"]
    assert 'warning: fixture@1: 2 of 218 outcome rows have a lead_id that matches no lead' in stderr and '"ZZ001"' in stderr
    if ref["early"]:
        assert f"{ref['early']} won leads closed before the as-of date" in stderr
    assert got["warnings"] and got["capacity"] == []


def test_no_leakage_from_events_after_the_as_of_date(world, tmp_path):
    """Won leads have demo and visit events after the as-of date; the back-test must not see them."""
    clean = tmp_path / "data"
    clean.mkdir()
    (clean / "leads.csv").write_bytes((world / "data/leads.csv").read_bytes())
    with (world / "data/web.csv").open(encoding="utf-8") as f:
        rows = list(csv.reader(f))
    kept = [r for r in rows[1:] if dt.datetime.fromisoformat(r[1].replace("Z", "+00:00")) <= AS_OF]
    assert len(kept) < len(rows) - 1  # there were future events to drop
    write_csv(clean / "web.csv", rows[0], kept)
    leaky, _ = bt_json(world)
    r = run("backtest", world / "champion.lead", "--data", clean, "--outcomes", world / "outcomes.csv", "--as-of", "2024-06-01", "--format", "json")
    honest = json.loads(r.stdout)
    for doc in (leaky, honest):
        doc.pop("warnings")
    assert leaky == honest
    # and the future events matter: as of a week later, engagement would "predict" the wins
    later = backtest(load(world / "champion.lead"), world / "data", world / "outcomes.csv", AS_OF + dt.timedelta(days=7))
    assert later.champion.scores["engagement"]["auc"] > leaky["scores"]["engagement"]["auc"] + 0.05


def test_revenue_days_and_shares_on_hand_made_data(tmp_path):
    """Six leads whose every figure is worked out by hand."""
    data = tmp_path / "data"
    data.mkdir()
    (tmp_path / "p.lead").write_text(POLICY.replace("THRESHOLD", "60"), encoding="utf-8")
    write_csv(data / "leads.csv", ["lead_id", "industry", "size", "email"],
              [["a", "software", 50, "a@x.io"], ["b", "software", 30, "b@x.io"], ["c", "retail", 10, "c@x.io"],
               ["d", "retail", 0, "d@x.io"], ["e", "other", 40, "e@test.com"], ["f", "", "", "f@x.io"]])
    write_csv(data / "web.csv", ["lead_id", "at", "name"], [])
    # fit: a 90, b 70, e 40, c 10, f 0, d 0; fit_band high = {a, b}
    write_csv(tmp_path / "o.csv", ["lead_id", "outcome", "amount", "closed_at"],
              [["a", "true", "300", "2024-06-11T23:59:59Z"], ["b", "1", "", "2024-06-02T00:00:00Z"], ["c", "yes", "100", "2024-05-31T12:00:00Z"],
               ["d", "false", "999", ""], ["e", "no", "", ""], ["f", "0", "", ""]])
    bt = backtest(load(tmp_path / "p.lead"), data, tmp_path / "o.csv", AS_OF).to_json()
    assert (bt["leads"], bt["won"], bt["lost"], bt["open"], bt["revenue"]) == (6, 3, 3, 0, 400.0)
    high, low = bt["groups"]["fit_band"]
    assert (high["label"], high["leads"], high["won"], high["win_rate"], high["lift"]) == ("high", 2, 2, 1.0, 2.0)
    assert high["win_share"] == pytest.approx(2 / 3) and high["revenue_share"] == 0.75  # 300 of 400; b has no amount
    assert high["median_days_to_close"] == 5.5  # floor: a 10 days (10.99...), b 1 day; median of two is their mean
    assert low["revenue_share"] == 0.25 and low["median_days_to_close"] == -1  # c closed half a day before: floor is -1
    assert (low["ci_low"], low["ci_high"]) == wilson(1, 4)
    assert any("1 won leads closed before the as-of date" in w for w in bt["warnings"])
    fit = bt["scores"]["fit"]
    # won scores {90, 70, 10}, not won {40, 0, 0}: pairs won>not 3+3+2 of 9 -> 8/9
    assert fit["auc"] == pytest.approx(8 / 9)
    # six leads: six deciles of one; ties at 0 split by key (d before f)
    assert [(d["decile"], d["min"], d["won"]) for d in fit["deciles"]] == [(1, 90, 1), (2, 70, 1), (3, 40, 0), (4, 10, 1), (5, 0, 0), (6, 0, 0)]
    seg = {r["label"]: r for r in bt["groups"]["segment"]}
    assert seg["disqualified"]["leads"] == 1 and seg["sales_ready"]["leads"] == 0 and seg["sales_ready"]["win_rate"] is None
    cells = {(c["row"], c["column"]): c for c in bt["matrices"]["segment"]["cells"]}
    assert cells[("low", "high")]["label"] == "heartbreaker" and cells[("low", "high")]["leads"] == 2 and cells[("low", "high")]["revenue"] == 300
    assert bt["matrices"]["segment"]["disqualified"]["leads"] == 1


def test_decile_boundaries_with_ties_and_uneven_sizes(tmp_path):
    """23 leads: deciles of 3,3,3,2,...; tied scores split across a boundary by key order."""
    data = tmp_path / "data"
    data.mkdir()
    (tmp_path / "p.lead").write_text(POLICY.replace("THRESHOLD", "60"), encoding="utf-8")
    sizes = [50, 50, 50, 50, 40, 40, 40, 30, 30, 30, 30, 30, 20, 20, 10, 10, 10, 10, 10, 5, 5, 0, 0]
    write_csv(data / "leads.csv", ["lead_id", "industry", "size", "email"], [[f"k{i:02d}", "retail", s, ""] for i, s in enumerate(sizes)])
    write_csv(data / "web.csv", ["lead_id", "at", "name"], [])
    write_csv(tmp_path / "o.csv", ["lead_id", "outcome"], [[f"k{i:02d}", "won" if i % 3 == 0 else "lost"] for i in range(23)])
    deciles = backtest(load(tmp_path / "p.lead"), data, tmp_path / "o.csv", AS_OF).champion.scores["fit"]["deciles"]
    assert [d["leads"] for d in deciles] == [3, 3, 3, 2, 2, 2, 2, 2, 2, 2]
    ranked = sorted(range(23), key=lambda i: (-sizes[i], f"k{i:02d}"))
    start = 0
    for d in deciles:
        members = ranked[start:start + d["leads"]]
        start += d["leads"]
        assert (d["min"], d["max"]) == (min(sizes[i] for i in members), max(sizes[i] for i in members))
        assert d["won"] == sum(i % 3 == 0 for i in members)
    assert deciles[0]["max"] == 50 and deciles[1]["max"] == 50 and deciles[1]["min"] == 40  # the four 50s straddle 1|2
    assert deciles[-1]["cum_leads"] == 23 and deciles[-1]["cum_win_share"] == 1.0


def test_wilson_interval():
    # textbook values (Newcombe 1998; Agresti & Coull 1998)
    assert wilson(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert wilson(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert wilson(81, 263) == pytest.approx((0.2553, 0.3662), abs=1e-4)
    assert wilson(0, 0) == (None, None)
    # the defining property: each bound p solves |p̂ - p| = z * sqrt(p(1-p)/n)
    z = 1.959963984540054
    for won, n in [(1, 3), (7, 40), (39, 40), (500, 1000)]:
        for p in wilson(won, n):
            assert (won / n - p) ** 2 == pytest.approx(z * z * p * (1 - p) / n, rel=1e-9, abs=1e-15)


@pytest.mark.parametrize("fmt", ["parquet", "jsonl"])
def test_outcomes_as_parquet_and_jsonl_with_booleans(world, tmp_path, fmt):
    with (world / "outcomes.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    won = [r["outcome"].strip().lower() == "won" for r in rows]
    amounts = [float(r["amount"]) if r["amount"] else None for r in rows]
    if fmt == "parquet":  # a real boolean column
        path = tmp_path / "o.parquet"
        pq.write_table(pa.table({"lead_id": [r["lead_id"] for r in rows], "outcome": won, "amount": amounts,
                                 "closed_at": [r["closed_at"] or None for r in rows]}), path)
    else:
        path = tmp_path / "o.jsonl"
        path.write_text("".join(json.dumps({"lead_id": r["lead_id"], "outcome": w, "amount": a, "closed_at": r["closed_at"] or None}) + "\n"
                                for r, w, a in zip(rows, won, amounts)), encoding="utf-8")
    got, _ = bt_json(world, outcomes=path)
    base, _ = bt_json(world)
    assert got["won"] == base["won"] and got["revenue"] == pytest.approx(base["revenue"])
    for name in base["groups"]:
        for a, b in zip(got["groups"][name], base["groups"][name]):
            assert a["won"] == b["won"] and close(a["revenue_share"], b["revenue_share"]) and a["median_days_to_close"] == b["median_days_to_close"]
    assert got["open"] == 0 and got["lost"] == base["lost"] + base["open"]  # a boolean has no "open"


# ----------------------------------------------------- challenger, capacity --


def test_challenger_side_by_side_with_differences(world):
    got, _ = bt_json(world, world / "challenger.lead")
    alone, _ = bt_json(world, policy="challenger.lead")
    assert got["policy"] == "fixture@1" and got["challenger"]["policy"] == "fixture@2"
    for k in ("groups", "scores", "leads", "won"):
        assert got["challenger"][k] == alone[k]
    # a lower fit threshold moves leads from low to high
    champ = {r["label"]: r for r in got["groups"]["fit_band"]}
    chall = {r["label"]: r for r in got["challenger"]["groups"]["fit_band"]}
    assert chall["high"]["leads"] > champ["high"]["leads"]
    for name, rows in got["differences"]["groups"].items():
        a = {r["label"]: r for r in got["groups"][name]}
        b = {r["label"]: r for r in got["challenger"]["groups"][name]}
        for d in rows:
            for k in ("leads", "won", "win_rate", "lift", "win_share"):
                x, y = a[d["label"]][k], b[d["label"]][k]
                assert close(d[k], None if x is None or y is None else y - x), (name, d["label"], k)
    assert got["differences"]["scores"]["fit"]["auc"] == 0  # the score itself did not change
    r = run("backtest", world / "champion.lead", world / "challenger.lead", "--data", world / "data",
            "--outcomes", world / "outcomes.csv", "--as-of", "2024-06-01")
    assert r.exit_code == 0 and "champion fixture@1 → challenger fixture@2" in r.stdout


def test_capacity(world):
    got, _ = bt_json(world, "--capacity", "sales_ready=5", "--capacity", "segment.ignore=100000")
    seg = {r["label"]: r for r in got["groups"]["segment"]}
    ready, ignore = got["capacity"]
    assert ready == {"policy": "fixture@1", "group": "segment", "label": "sales_ready", "capacity": 5, "leads": seg["sales_ready"]["leads"],
                     "won": seg["sales_ready"]["won"], "fits": seg["sales_ready"]["leads"] <= 5,
                     "over": max(0, seg["sales_ready"]["leads"] - 5), "utilisation": seg["sales_ready"]["leads"] / 5}
    assert seg["sales_ready"]["leads"] > 5 and not ready["fits"]
    assert ignore["fits"] and ignore["over"] == 0
    r = run("backtest", world / "champion.lead", "--data", world / "data", "--outcomes", world / "outcomes.csv", "--as-of", "2024-06-01",
            "--capacity", "high=10")
    assert r.exit_code == 2 and "`high` is a label of `fit_band`, `engagement_band`; write GROUP.LABEL" in r.stderr
    r = run("backtest", world / "champion.lead", "--data", world / "data", "--outcomes", world / "outcomes.csv", "--as-of", "2024-06-01",
            "--capacity", "sales_redy=10")
    assert r.exit_code == 2 and "has no label `sales_redy`; did you mean `sales_ready`?" in r.stderr
    r = run("backtest", world / "champion.lead", "--data", world / "data", "--outcomes", world / "outcomes.csv", "--as-of", "2024-06-01",
            "--capacity", "sales_ready=lots")
    assert r.exit_code == 2 and "is not LABEL=N" in r.stderr


# ----------------------------------------------------------- bad input --


@pytest.mark.parametrize("header, rows, message", [
    (["lead", "outcome"], [["L0001", "won"]], 'no column "lead_id" (the lead key, in the outcomes file); did you mean `lead`?'),
    (["lead_id", "result"], [["L0001", "won"]], 'no column "outcome" (won, lost, open or a boolean, in the outcomes file)'),
    (["lead_id", "outcome"], [["L0001", "won"], ["L0002", "maybe"]], 'row 2, column "outcome": "maybe" is not an outcome; use won, lost, open'),
    (["lead_id", "outcome"], [["L0001", "won"], ["L0002", ""]], "row 2 has no outcome"),
    (["lead_id", "outcome"], [["L0001", "won"], ["L0001", "lost"]], 'lead_id "L0001" appears twice, in rows 1 and 2; keep one outcome per lead'),
    (["lead_id", "outcome", "amount"], [["L0001", "won", "12k"]], 'row 1, column "amount": "12k" is not a number'),
    (["lead_id", "outcome", "closed_at"], [["L0001", "won", "next week"]], 'row 1, column "closed_at": "next week" is not an ISO-8601 timestamp'),
])
def test_bad_outcomes_exit_2_with_one_clear_line(world, tmp_path, header, rows, message):
    path = write_csv(tmp_path / "o.csv", header, rows)
    r = run("backtest", world / "champion.lead", "--data", world / "data", "--outcomes", path, "--as-of", "2024-06-01")
    assert r.exit_code == 2, r.output
    assert r.stderr.startswith(f"error: {path}: ") and message in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_missing_files_and_options_exit_2(world, tmp_path):
    base = ["backtest", world / "champion.lead", "--data", world / "data", "--as-of", "2024-06-01"]
    r = run(*base, "--outcomes", tmp_path / "nope.csv")
    assert r.exit_code == 2 and "nope.csv: no such outcomes file" in r.stderr
    (tmp_path / "o.xlsx").write_text("x")
    r = run(*base, "--outcomes", tmp_path / "o.xlsx")
    assert r.exit_code == 2 and "unknown outcomes format '.xlsx'" in r.stderr
    r = run("backtest", world / "champion.lead", "--data", tmp_path / "nodata", "--outcomes", world / "outcomes.csv", "--as-of", "2024-06-01")
    assert r.exit_code == 2 and "no such data directory" in r.stderr
    r = run("backtest", world / "champion.lead", "--data", world / "data", "--outcomes", world / "outcomes.csv")
    assert r.exit_code == 2 and "--as-of" in r.stderr
    r = run(*base, "--outcomes", world / "outcomes.csv", "--report", tmp_path / "no" / "dir" / "r.html")
    assert r.exit_code == 2 and "r.html: cannot write: No such file or directory" in r.stderr


# --------------------------------------------------------------- output --


def test_json_holds_the_documented_interface(world):
    got, _ = bt_json(world)
    assert {"leads", "won", "base_rate", "groups", "scores"} <= got.keys()
    row_keys = {"label", "leads", "won", "win_rate", "ci_low", "ci_high", "lift", "win_share", "revenue_share", "median_days_to_close"}
    assert all(row_keys <= r.keys() for rows in got["groups"].values() for r in rows)
    decile_keys = {"decile", "min", "max", "leads", "won", "win_rate"}
    assert all(decile_keys <= d.keys() for s in got["scores"].values() for d in s["deciles"])
    assert {"auc", "deciles"} <= got["scores"]["fit"].keys()


def test_text_report(world):
    r = run("backtest", world / "champion.lead", "--data", world / "data", "--outcomes", world / "outcomes.csv", "--as-of", "2024-06-01")
    assert r.exit_code == 0
    for part in ("fixture@1, as of 2024-06-01T00:00:00Z", "\nsegment\n", "\nstage\n", "fit  ROC AUC", "95% CI", "rev share", "median days"):
        assert part in r.stdout


def test_html_report_is_self_contained(world, tmp_path):
    out = tmp_path / "r.html"
    r = run("backtest", world / "champion.lead", world / "challenger.lead", "--data", world / "data", "--outcomes", world / "outcomes.csv",
            "--as-of", "2024-06-01", "--report", out, "--capacity", "sales_ready=5")
    assert r.exit_code == 0 and f"report -> {out}" in r.stderr
    html = out.read_text(encoding="utf-8")
    assert "<script" not in html and "http://" not in html.replace("http://www.w3.org", "") and "https://" not in html
    assert 'src="' not in html and "<link" not in html and "@import" not in html
    # two policies: per policy one matrix, and per score a distribution, a decile chart and a ROC curve
    assert html.count('class="chart matrix"') == 2
    for kind in ("distribution", "deciles", "roc"):
        assert html.count(f'class="chart {kind}"') == 4
    assert "sales_ready" in html and "Challenger vs champion" in html and "Capacity" in html


def test_example_policies_show_a_meaningful_backtest():
    """The README's command: on the sample outcomes, sales_ready converts far better than ignore."""
    r = run("backtest", ROOT / "policies/plg/plg.lead", "--data", ROOT / "policies/plg/data",
            "--outcomes", ROOT / "policies/plg/data/outcomes.csv", "--as-of", "2024-06-01", "--format", "json")
    assert r.exit_code == 0, r.output
    got = json.loads(r.stdout)
    seg = {x["label"]: x for x in got["groups"]["segment"]}
    assert seg["sales_ready"]["ci_low"] > seg["ignore"]["ci_high"]
    assert got["scores"]["fit"]["auc"] > 0.6 and got["scores"]["engagement"]["auc"] > 0.65
    for name in ("bant", "xeducation"):
        data = ROOT / f"policies/{name}/data"
        r = run("backtest", ROOT / f"policies/{name}/{name}.lead", "--data", data, "--outcomes", data / "outcomes.csv",
                "--as-of", "2024-06-01", "--format", "json")
        assert r.exit_code == 0, r.output
        got = json.loads(r.stdout)
        assert got["outcomes"]["unmatched"] == 0 and all(s["auc"] > 0.6 for s in got["scores"].values())


@contextmanager
def offline_page(chromium, path: Path):
    """`path` opened in Chromium with the network off; on leaving, no request may have failed (nothing fetched)."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, offline=True)
    try:
        page = context.new_page()
        failed = []
        page.on("requestfailed", lambda req: failed.append(req.url))
        page.goto(path.as_uri())
        yield page
        assert not failed
    finally:
        context.close()


def test_html_report_renders_in_a_real_browser(world, tmp_path, chromium):
    """Chromium opens the report offline, every chart has a drawn, non-empty box, and the page is not blank."""
    import io as _io

    from PIL import Image, ImageStat

    out = tmp_path / "r.html"
    bt = backtest(load(world / "champion.lead"), world / "data", world / "outcomes.csv", AS_OF, load(world / "challenger.lead"),
                  [("sales_ready", 5)])
    out.write_text(render_html(bt), encoding="utf-8")
    with offline_page(chromium, out) as page:
        charts = page.query_selector_all("svg.chart")
        kinds = [c.get_attribute("class") for c in charts]
        assert kinds.count("chart matrix") == 2 and kinds.count("chart roc") == 4 and kinds.count("chart deciles") == 4
        assert kinds.count("chart distribution") == 4 and kinds.count("chart ratebar") > 10
        for chart in charts:
            box = chart.bounding_box()
            assert box is not None and box["width"] > 10 and box["height"] > 10, chart.get_attribute("aria-label")
            marks = chart.query_selector_all("rect, polyline")
            assert any((b := m.bounding_box()) and b["width"] > 0 and b["height"] > 0 for m in marks), chart.get_attribute("aria-label")
        for roc in page.query_selector_all("svg.roc polyline.curve"):
            box = roc.bounding_box()
            assert box["width"] > 50 and box["height"] > 50  # a curve, not a dot
        shot = Image.open(_io.BytesIO(page.screenshot(full_page=True))).convert("L")
        assert shot.size[1] > 2000
        assert ImageStat.Stat(shot).stddev[0] > 20  # a blank page has none
        colours = Image.open(_io.BytesIO(page.screenshot())).convert("RGB").getcolors(maxcolors=1 << 16)
        assert colours is None or len(colours) > 50


@pytest.mark.parametrize("leads", [0, 1, 5])
def test_degenerate_data_renders(tmp_path, leads):
    """No leads, one lead, nobody won, every score tied: figures are null where undefined, nothing crashes."""
    data = tmp_path / "data"
    data.mkdir()
    (tmp_path / "p.lead").write_text(POLICY.replace("THRESHOLD", "60"), encoding="utf-8")
    write_csv(data / "leads.csv", ["lead_id", "industry", "size", "email"], [[f"k{i}", "retail", 0, ""] for i in range(leads)])
    write_csv(data / "web.csv", ["lead_id", "at", "name"], [])
    write_csv(tmp_path / "o.csv", ["lead_id", "outcome"], [[f"k{i}", "lost"] for i in range(leads)])
    bt = backtest(load(tmp_path / "p.lead"), data, tmp_path / "o.csv", AS_OF, load(tmp_path / "p.lead"), [("ignore", 1)])
    doc = bt.to_json()
    assert doc["won"] == 0 and doc["scores"]["fit"]["auc"] is None and len(doc["scores"]["fit"]["deciles"]) == leads
    assert all(r["win_share"] is None and r["lift"] is None for r in doc["groups"]["segment"])
    assert json.loads(json.dumps(doc, allow_nan=False)) == doc
    assert "<svg" in render_html(bt)
    r = run("backtest", tmp_path / "p.lead", "--data", data, "--outcomes", tmp_path / "o.csv", "--as-of", "2024-06-01")
    assert r.exit_code == 0 and ("no lead is won" in r.stderr) == (leads > 0)


# ------------------------------------------------------- rule contributions --


def rule_values(world) -> dict[str, dict[str, float]]:
    """Each fixture rule's value per lead, read straight from the CSV files: 1/0 for `when`, the capped value for `per`."""
    with (world / "data/leads.csv").open(encoding="utf-8") as f:
        leads = list(csv.DictReader(f))
    with (world / "data/web.csv").open(encoding="utf-8") as f:
        events = list(csv.DictReader(f))

    def count(key, name):
        ats = (dt.datetime.fromisoformat(e["at"].replace("Z", "+00:00")) for e in events if e["lead_id"] == key and e["name"] == name)
        return sum(AS_OF - dt.timedelta(days=30) < at <= AS_OF for at in ats)

    return {r["lead_id"]: {"fit.software": float(r["industry"] == "software"), "fit.big": float(min(int(r["size"] or 0), 50)),
                           "engagement.visits": float(min(count(r["lead_id"], "visit"), 6)),
                           "engagement.demo": float(count(r["lead_id"], "demo") > 0)} for r in leads}


def test_rule_contributions_per_lead(world):
    """One DuckDB pass gives, per lead and rule, the value the rule read (capped), its points and whether it fired:
    the values as computed from the files directly, fired and rounded points as the interpreter's explanation."""
    import duckdb

    from leadlang.backtest.rules import contributions, register_contributions

    policy = load(world / "champion.lead")
    c = contributions(policy, world / "data", AS_OF)
    assert [r.name for r in c.rules] == ["fit.software", "fit.big", "engagement.visits", "engagement.demo"]
    assert c.scored.column_names == [o.name for o in policy.outputs] and c.keys() == c.scored.column(0).to_pylist()
    ds = load_dataset(policy, world / "data")
    result = evaluate(policy, ds.leads, ds.accounts, ds.events, AS_OF)
    explained = {(e["lead_id"], f"{e['component']}.{e['rule']}"): e["points"] for e in result.explain}
    values = rule_values(world)
    con = duckdb.connect()
    register_contributions(con, c)
    rows = con.execute("SELECT key, score || '.' || rule, kind, fired, points, value FROM __contrib").fetchall()
    assert len(rows) == 240 * 4 and {k for k, *_ in rows} == set(values)
    for key, rule, kind, fired, points, value in rows:
        assert value == values[key][rule], (key, rule)
        assert fired == (value != 0) == ((key, rule) in explained), (key, rule)
        points_per = {"fit.software": 40, "fit.big": 1, "engagement.visits": 10, "engagement.demo": 30}[rule]
        assert points == value * points_per
        if fired:
            assert Decimal(str(points)).quantize(Decimal("0.01")) == explained[key, rule]
    assert {v for *_, v in rows} > {0.0, 1.0, 6.0, 50.0}  # capped per values and values between are there
    rules, matrix = c.features("fit")
    assert [r.id for r in rules] == ["software", "big"] and matrix.shape == (240, 2)
    assert [list(x) for x in matrix] == [[values[k]["fit.software"], values[k]["fit.big"]] for k in c.keys()]


def test_rule_contributions_of_chosen_scores_and_bad_names(world):
    from leadlang.backtest.rules import rules_of
    from leadlang.diagnostics import DataError

    policy = load(world / "champion.lead")
    assert [r.name for r in rules_of(policy, ["engagement"])] == ["engagement.visits", "engagement.demo"]
    with pytest.raises(DataError, match="score `engagment`: no score of the policy.*did you mean `engagement`"):
        rules_of(policy, ["engagment"])


def outcome_won(world) -> dict[str, bool]:
    with (world / "outcomes.csv").open(encoding="utf-8") as f:
        return {r["lead_id"]: r["outcome"].strip().lower() == "won" for r in csv.DictReader(f)}


def test_per_rule_figures_match_a_direct_computation(world):
    """Per rule: how many leads it fired on, and the win rate (Wilson interval, lift) of those and of the rest,
    computed here from the files with plain Python."""
    got, _ = bt_json(world)
    values, won = rule_values(world), outcome_won(world)
    n, w = len(values), sum(won.get(k, False) for k in values)
    assert list(got["rules"]) == ["fit", "engagement"]
    points = {"fit.software": (40, None, "when"), "fit.big": (1, 50, "per"), "engagement.visits": (10, 60, "per"), "engagement.demo": (30, None, "when")}
    for score, rows in got["rules"].items():
        for r in rows:
            name = f"{score}.{r['rule']}"
            assert (r["points"], r["max"], r["kind"]) == points[name]
            fired = [k for k in values if values[k][name] != 0]
            rest = [k for k in values if values[k][name] == 0]
            assert r["fires"] == len(fired) and close(r["fire_share"], len(fired) / n) and 0 < len(fired) < n
            if r["kind"] == "per":
                assert close(r["mean_value"], statistics.mean(values[k][name] for k in fired))
            for side, keys in (("fired", fired), ("not_fired", rest)):
                wins = sum(won.get(k, False) for k in keys)
                assert (r[side]["leads"], r[side]["won"]) == (len(keys), wins), (name, side)
                assert close(r[side]["win_rate"], wins / len(keys)) and close(r[side]["lift"], wins / len(keys) / (w / n))
                assert (r[side]["ci_low"], r[side]["ci_high"]) == wilson(wins, len(keys))
                assert close(r[side]["win_share"], wins / w)
    # the planted signal shows: software leads and heavy visitors win more often than the others
    by = {f"{s}.{r['rule']}": r for s, rows in got["rules"].items() for r in rows}
    assert by["fit.software"]["fired"]["ci_low"] > by["fit.software"]["not_fired"]["ci_high"]
    assert by["engagement.visits"]["fired"]["win_rate"] > by["engagement.visits"]["not_fired"]["win_rate"]


def test_per_rule_tables_in_text_and_html(world, tmp_path):
    r = run("backtest", world / "champion.lead", "--data", world / "data", "--outcomes", world / "outcomes.csv", "--as-of", "2024-06-01",
            "--report", tmp_path / "r.html")
    assert r.exit_code == 0
    text = r.stdout
    assert "\nfit rules\n" in text and "\nengagement rules\n" in text
    line = next(x for x in text.splitlines() if x.strip().startswith("visits"))
    assert "+10 per, max 60" in line
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert 'id="p1-rules-fit"' in html and 'id="p1-rules-engagement"' in html and "+1 per, max 50" in html


# ------------------------------------------------ calibrate's report pieces --


def brute_auc(pos: list[float], neg: list[float]) -> float:
    return sum(1.0 if p > q else 0.5 if p == q else 0.0 for p in pos for q in neg) / (len(pos) * len(neg))


@pytest.fixture(scope="module")
def holdout(world):
    """The champion (old) and challenger (new) measured on every third lead only, as calibrate's hold-out."""
    from leadlang.backtest.calibration import holdout_backtest
    from leadlang.backtest.rules import contributions

    old, new = load(world / "champion.lead"), load(world / "challenger.lead")
    keys = [f"L{i:04d}" for i in range(0, 240, 3)]
    bt = holdout_backtest(old, new, world / "data", world / "outcomes.csv", AS_OF, keys, scored=(contributions(old, world / "data", AS_OF), None))
    return old, new, keys, bt


def test_holdout_figures_are_over_the_given_leads_only(world, holdout):
    """AUC old and new, label counts and win rates old and new: on the hold-out leads, as computed here directly."""
    from leadlang.backtest.calibration import holdout_summary

    old, new, keys, bt = holdout
    won = outcome_won(world)
    summary = holdout_summary(bt)
    assert (summary["leads"], summary["won"]) == (len(keys), sum(won.get(k, False) for k in keys))
    for side, policy in (("old", old), ("new", new)):
        ds = load_dataset(policy, world / "data")
        rows = [r for r in evaluate(policy, ds.leads, ds.accounts, ds.events, AS_OF).rows if r["lead_id"] in set(keys)]
        for score in ("fit", "engagement"):
            pos = [float(r[score]) for r in rows if won.get(r["lead_id"])]
            neg = [float(r[score]) for r in rows if not won.get(r["lead_id"])]
            assert close(summary["scores"][score][f"auc_{side}"], brute_auc(pos, neg))
        for group in ("fit_band", "segment", "stage"):
            for entry in summary["groups"][group]:
                members = [r for r in rows if r[group] == entry["label"]]
                wins = sum(bool(won.get(r["lead_id"])) for r in members)
                assert (entry[f"leads_{side}"], entry[f"won_{side}"]) == (len(members), wins), (side, group, entry["label"])
                assert entry[f"ci_{side}"] == list(wilson(wins, len(members)))
    # the new fit threshold moves leads between fit bands on the hold-out
    fit_band = {e["label"]: e for e in summary["groups"]["fit_band"]}
    assert fit_band["high"]["leads_new"] > fit_band["high"]["leads_old"]
    # outcome rows of leads outside the hold-out are not "unmatched"; leads without an outcome are the hold-out's
    assert bt.champion.outcomes["unmatched"] == 2 and bt.champion.outcomes["leads_without_outcome"] == sum(k not in won for k in keys)


def test_rule_comparison_on_the_holdout(world, holdout):
    from leadlang.backtest.calibration import rule_comparison

    old, new, keys, bt = holdout
    fitted = {"fit": {"software": {"coef": 1.2, "ci_low": 0.4, "ci_high": 2.0}, "big": {"coef": None, "kept": "too few firings"}}}
    table = rule_comparison(bt, fitted)
    assert list(table) == ["fit"] and list(rule_comparison(bt)) == ["fit", "engagement"]
    values, won = rule_values(world), outcome_won(world)
    for r in table["fit"]:
        name = f"fit.{r['rule']}"
        fired = [k for k in keys if values[k][name] != 0]
        assert r["fires"] == len(fired) and close(r["fire_share"], len(fired) / len(keys))
        assert r["fired"]["won"] == sum(won.get(k, False) for k in fired)
        assert r["not_fired"]["leads"] == len(keys) - len(fired)
        assert (r["old_points"], r["new_points"]) == ((40, 40) if r["rule"] == "software" else (1, 1))
        assert {k: r[k] for k in fitted["fit"][r["rule"]]} == fitted["fit"][r["rule"]]


def test_calibration_report_renders_in_a_real_browser(world, holdout, tmp_path, chromium):
    """The calibration report: self-contained, and in Chromium offline each score's ROC curves old and new,
    the decile charts and the per-rule table with its coefficients are drawn."""
    from leadlang.backtest.calibration import render_calibration_html, rule_comparison

    old, new, keys, bt = holdout
    rules = rule_comparison(bt, {"fit": {"software": {"coef": 1.2, "ci_low": 0.4, "ci_high": 2.0}, "big": {"coef": 0.01, "kept": "too few firings"}}})
    report = {"training_leads": 160, "won_training": 40, "holdout": 1 / 3, "seed": 7,
              "bands": {"fit": {"labels": ["high", "low"], "old": [60.0], "new": [45.0]}},
              "tests": {"run": 2, "failed": [{"name": "a <b> lead", "line": 3, "failures": [{"line": 9, "expected": "fit is high", "actual": "low"}]}]}}
    html = render_calibration_html(bt, rules, report)
    assert "<script" not in html and "https://" not in html and 'src="' not in html and "<link" not in html
    assert "a &lt;b&gt; lead" in html and "kept: too few firings" in html and "+1.20" in html and "fixture@1" in html and "fixture@2" in html
    out = tmp_path / "calibration.html"
    out.write_text(html, encoding="utf-8")
    with offline_page(chromium, out) as page:
        kinds = [c.get_attribute("class") for c in page.query_selector_all("svg.chart")]
        assert kinds.count("chart roc") == 2 and kinds.count("chart deciles") == 4
        for roc in page.query_selector_all("svg.roc"):
            curves = roc.query_selector_all("polyline")
            assert len(curves) == 2 and all(c.bounding_box()["width"] > 50 for c in curves)
        rows = page.query_selector_all("#rules-fit tr")
        assert len(rows) == 3 and "+40" in rows[1].inner_text()
        assert page.query_selector("#thresholds") and page.query_selector("#tests") and page.query_selector("#compare-segment")


def test_calibration_html_of_a_calibrate_result(world):
    """`calibrate --report`'s page: the hold-out of the calibration's own split and seed, the AUCs its report
    gives, and every rule of every calibrated score with the fit's coefficient."""
    pytest.importorskip("sklearn")
    from leadlang.backtest.calibration import calibration_html
    from leadlang.calibrate import calibrate

    result = calibrate(load(world / "champion.lead"), world / "data", world / "outcomes.csv", AS_OF, seed=3)
    html = calibration_html(result, world / "data", world / "outcomes.csv", AS_OF)
    assert f'<span>hold-out leads</span><b>{result.report["holdout_leads"]}</b>' in html
    for name, s in result.report["scores"].items():
        auc = lambda v: "–" if v is None else f"{v:.3f}"  # noqa: E731
        assert f"<span>{name} AUC old → new</span><b>{auc(s['auc_old'])} → {auc(s['auc_new'])}</b>" in html
        assert html.count(f'id="rules-{name}"') == 1 and all(f"<tr><td>{r['rule']}</td>" in html for r in s["rules"])


def test_rules_whose_ids_differ_in_case_and_a_zero_point_rule(tmp_path):
    """`A` and `a` are two rules (DuckDB compares names ignoring case); a `+0` rule counts where its value is not 0."""
    (tmp_path / "p.lead").write_text("""policy edge "edge"
  version "1"

leads from ref("leads") key lead_id {
  size  int
}

score fit {
  A: +10 when size > 5
  a: +0 per size, max 3
  b: -2 per size, max 4
}
""", encoding="utf-8")
    data = tmp_path / "data"
    data.mkdir()
    write_csv(data / "leads.csv", ["lead_id", "size"], [["k1", 10], ["k2", ""], ["k3", 1], ["k4", 0]])
    write_csv(tmp_path / "o.csv", ["lead_id", "outcome"], [["k1", "won"], ["k2", "lost"], ["k3", "won"], ["k4", "lost"]])
    from leadlang.backtest.rules import contributions

    c = contributions(load(tmp_path / "p.lead"), data, AS_OF)
    assert c.table.to_pydict() == {"lead_id": ["k1", "k2", "k3", "k4"],
                                   "points:fit.A": [10.0, 0.0, 0.0, 0.0], "points:fit.a": [0.0] * 4, "points:fit.b": [-4.0, 0.0, -2.0, 0.0],
                                   "value:fit.A": [1.0, 0.0, 0.0, 0.0], "value:fit.a": [10.0, 0.0, 1.0, 0.0], "value:fit.b": [2.0, 0.0, 1.0, 0.0]}
    doc = backtest(load(tmp_path / "p.lead"), data, tmp_path / "o.csv", AS_OF).to_json()
    fires = {r["rule"]: (r["fires"], r["fired"]["won"]) for r in doc["rules"]["fit"]}
    assert fires == {"A": (1, 1), "a": (2, 2), "b": (2, 2)}


# ------------------------------------------------------- time to qualify --


def _quartiles(xs: list[int]) -> tuple:
    """Linear interpolation between closest ranks (DuckDB's quantile_cont)."""
    xs = sorted(xs)

    def q(p):
        h = (len(xs) - 1) * p
        lo = int(h)
        return xs[lo] if lo + 1 >= len(xs) else xs[lo] + (h - lo) * (xs[lo + 1] - xs[lo])

    return tuple(q(p) for p in (0.25, 0.5, 0.75)) if xs else (None, None, None)


def history_reference(policy_path: Path, data: Path, outcomes: Path, when: list[dt.datetime]) -> dict:
    """Time to qualify and entry cohorts computed directly: the interpreter at each point, first entries, days, weeks."""
    policy = load(policy_path)
    ds = load_dataset(policy, data)
    labels = [o.name for o in policy.outputs if o.role in ("band", "criteria", "disqualified", "classification")]
    with outcomes.open(encoding="utf-8") as f:
        out = {r[policy.key]: r for r in csv.DictReader(f)}
    won = lambda k: k in out and out[k]["outcome"].strip().lower() in ("won", "true", "yes", "1")  # noqa: E731
    closed = lambda k: dt.datetime.fromisoformat(out[k]["closed_at"].replace("Z", "+00:00")) if k in out and out[k]["closed_at"] else None  # noqa: E731
    entered: dict[tuple, dt.datetime] = {}
    for t in when:
        for r in evaluate(policy, ds.leads, ds.accounts, ds.events, t).rows:
            for c in labels:
                if r[c] is not None:
                    entered.setdefault((c, str(r[c]).lower() if isinstance(r[c], bool) else r[c], r[policy.key]), t)
    ref: dict = {c: {} for c in labels}
    for (c, label, key), t in entered.items():
        g = ref[c].setdefault(label, {"entered": 0, "won": 0, "days": [], "cohorts": {}})
        g["entered"] += 1
        week = (t - dt.timedelta(days=t.weekday())).date().isoformat()
        cohort = g["cohorts"].setdefault(week, [0, 0])
        cohort[0] += 1
        if won(key):
            g["won"] += 1
            cohort[1] += 1
            if closed(key) is not None:
                g["days"].append(math.floor((closed(key) - t).total_seconds() / 86400))
    return ref


def test_time_to_qualify_matches_a_direct_computation(world, tmp_path):
    start = dt.datetime(2024, 4, 13, tzinfo=UTC)
    when = [start + i * dt.timedelta(weeks=1) for i in range(8)]  # ..., 2024-06-01
    with (world / "outcomes.csv").open(encoding="utf-8") as f:  # a few won leads closed mid-series: labels entered after closing
        rows = [[r["lead_id"], r["outcome"], r["amount"], "2024-04-20T12:00:00Z" if r["lead_id"].endswith("3") else r["closed_at"]]
                for r in csv.DictReader(f)]
    outcomes = write_csv(tmp_path / "outcomes.csv", ["lead_id", "outcome", "amount", "closed_at"], rows)
    got, _ = bt_json(world, "--history-from", "2024-04-13", "--every", "1 week", outcomes=outcomes)
    h = got["history"]
    assert (h["from"], h["every"], h["points"]) == ("2024-04-13T00:00:00Z", "1 week", 8)
    ref = history_reference(world / "champion.lead", world / "data", outcomes, when)
    assert list(h["labels"]) == list(ref)
    for c, rows in h["labels"].items():
        assert {r["label"] for r in rows} == set(ref[c]), c
        for r in rows:
            want = ref[c][r["label"]]
            timed = [d for d in want["days"] if d >= 0]
            assert (r["entered"], r["won"], r["won_with_close"], r["won_entered_after_close"]) == \
                   (want["entered"], want["won"], len(timed), len(want["days"]) - len(timed)), (c, r)
            assert all(close(a, b) for a, b in zip((r["days_to_close"][k] for k in ("q1", "median", "q3")), _quartiles(timed))), (c, r)
            assert [(x["week"], x["leads"], x["won"]) for x in r["cohorts"]] == \
                   [(w, n, k) for w, (n, k) in sorted(want["cohorts"].items())], (c, r)
            assert all(close(x["win_rate"], x["won"] / x["leads"]) and (x["ci_low"], x["ci_high"]) == wilson(x["won"], x["leads"])
                       for x in r["cohorts"])
    assert any(r["won_entered_after_close"] for rows in h["labels"].values() for r in rows), "the fixture must close some leads early"
    assert bt_json(world)[0]["history"] is None  # only with --history-from

    r = run("backtest", world / "champion.lead", "--data", world / "data", "--outcomes", world / "outcomes.csv", "--as-of", "2024-06-01",
            "--history-from", "2024-04-13", "--every", "7 days", "--report", tmp_path / "r.html")
    assert r.exit_code == 0, r.output
    assert "time to qualify: 8 as-of points from 2024-04-13T00:00:00Z every 7 days" in r.stdout
    assert "segment: days from entering a label to close (won leads)" in r.stdout and "segment: win rate by week of entry" in r.stdout
    html = (tmp_path / "r.html").read_text()
    assert "Time to qualify" in html and 'id="p1-history-segment"' in html and "week of entry" in html


def test_time_to_qualify_bad_input_and_no_close_dates(world, tmp_path):
    base = ["backtest", world / "champion.lead", "--data", world / "data", "--outcomes", world / "outcomes.csv", "--as-of", "2024-06-01"]
    for extra, message in [(["--history-from", "2024-04-13"], "--history-from and --every go together"),
                           (["--every", "1 week"], "--history-from and --every go together"),
                           (["--history-from", "2024-04-13", "--every", "0 days"], "--every"),
                           (["--history-from", "2024-06-13", "--every", "1 day"], "is after --to")]:
        r = run(*base, *extra)
        assert r.exit_code == 2 and message in r.stderr and "Traceback" not in r.output, (extra, r.output)
    with (world / "outcomes.csv").open(encoding="utf-8") as f:
        rows = [[r["lead_id"], r["outcome"]] for r in csv.DictReader(f)]
    got, stderr = bt_json(world, "--history-from", "2024-05-18", "--every", "1 week", outcomes=write_csv(tmp_path / "o.csv", ["lead_id", "outcome"], rows))
    assert "no closed_at column: days to close from each label are not computed" in stderr
    seg = {r["label"]: r for r in got["history"]["labels"]["segment"]}
    assert all(r["days_to_close"] is None and r["won_entered_after_close"] is None for r in seg.values())
    assert sum(c["leads"] for r in seg.values() for c in r["cohorts"]) >= got["leads"]
