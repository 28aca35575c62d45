"""Back-test figures: score the leads as of a date, join what happened to them, and aggregate in DuckDB.

DuckDB does every pass over the leads (one row per lead, so a million leads is
a few group-bys); Python only turns each group's counts into rates. The
definitions, one place for each (docs/backtest.md explains how to read them):

- a lead is *won* when its outcome row says so; lost, open and leads with no
  outcome row are not won;
- win rate = won / leads of the group, with a 95% Wilson score interval;
- lift = group win rate / overall win rate (the base rate);
- win share = group's won / all won; revenue share = group's won `amount` /
  all won `amount` (a won lead without an amount adds 0);
- days to close = whole days, rounded down, from as-of to `closed_at`, over
  won leads that have one; the group's figure is their median (the mean of the
  two middle values for an even count);
- ROC AUC of a score against won = P(won lead's score > not-won lead's score)
  + ½ P(equal), the Mann-Whitney statistic, over all pairs;
- deciles: `ntile(10) OVER (ORDER BY score DESC, key)`, so decile 1 holds the
  highest scores, sizes differ by at most one, and leads tied on a score are
  split across a boundary by key order (the scored output's order, which is
  by key, stands in for the key: an integer sorts faster than a string).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path

from leadlang.check.policy import Policy, band_column
from leadlang.diagnostics import DataError, did_you_mean
from leadlang.syntax.ast import Matrix

Z95 = 1.959963984540054  # the standard normal's 97.5% quantile
HISTOGRAM_BINS = 20
ROC_POINTS = 400  # at most this many points of each ROC curve are kept for drawing


def wilson(won: int, leads: int, z: float = Z95) -> tuple[float | None, float | None]:
    """The Wilson score interval for won/leads (None, None for no leads)."""
    if leads == 0:
        return None, None
    p, z2 = won / leads, z * z
    centre = (p + z2 / (2 * leads)) / (1 + z2 / leads)
    half = z * math.sqrt(p * (1 - p) / leads + z2 / (4 * leads * leads)) / (1 + z2 / leads)
    return max(0.0, centre - half), min(1.0, centre + half)


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else a / b


def _days(value: float | None) -> float | int | None:
    return None if value is None else int(value) if float(value).is_integer() else float(value)


@dataclass
class Figures:
    """One policy's back-test: the JSON figures, and what only the HTML report draws."""

    policy: str
    as_of: dt.datetime
    leads: int
    won: int
    lost: int
    open: int
    revenue: float | None
    outcomes: dict
    groups: dict[str, list[dict]]
    scores: dict[str, dict]
    matrices: dict[str, dict]
    charts: dict[str, dict] = field(repr=False)  # per score: roc points, histogram
    warnings: list[str] = field(default_factory=list)
    rules: dict[str, list[dict]] = field(default_factory=dict)  # per points score: each rule's figures (`rules.rule_figures`)
    history: dict | None = None  # with --history-from: time to qualify and entry cohorts (`timing.time_to_qualify`)

    @property
    def base_rate(self) -> float | None:
        return _ratio(self.won, self.leads)

    def to_json(self) -> dict:
        return {
            "policy": self.policy, "as_of": self.as_of.isoformat().replace("+00:00", "Z"),
            "leads": self.leads, "won": self.won, "lost": self.lost, "open": self.open,
            "base_rate": self.base_rate, "revenue": self.revenue, "outcomes": self.outcomes,
            "groups": self.groups, "scores": self.scores, "matrices": self.matrices, "rules": self.rules, "history": self.history,
            "warnings": self.warnings,
        }


@dataclass
class Backtest:
    """The champion policy's figures, and with a challenger its figures and the differences."""

    champion: Figures
    challenger: Figures | None = None
    differences: dict | None = None
    capacity: list[dict] = field(default_factory=list)

    def to_json(self) -> dict:
        out = self.champion.to_json() | {"capacity": self.capacity}
        if self.challenger is not None:
            out |= {"challenger": self.challenger.to_json(), "differences": self.differences}
        return out


def group_figures(label: str, leads: int, won: int, revenue: float | None, median_days, totals: dict) -> dict:
    """Every figure of one group from its counts and the overall totals (`leads`, `won`, `revenue`)."""
    rate = _ratio(won, leads)
    low, high = wilson(won, leads)
    return {
        "label": label, "leads": leads, "won": won, "win_rate": rate, "ci_low": low, "ci_high": high,
        "lift": _ratio(rate, _ratio(totals["won"], totals["leads"])),
        "win_share": _ratio(won, totals["won"]),
        "revenue_share": _ratio(revenue, totals["revenue"]) if revenue is not None else None,
        "median_days_to_close": _days(median_days), "revenue": revenue,
    }


def _sql(con, sql: str, params=()) -> list[tuple]:
    import duckdb

    try:
        return con.execute(sql, params).fetchall()
    except duckdb.Error as err:
        raise DataError(f"the back-test could not be computed: {str(err).splitlines()[0]}") from None


def figures(policy: Policy, data_dir: Path, outcomes: Path, as_of: dt.datetime, leads=None, scored=None, history=None) -> Figures:
    """Score `data_dir` with `policy` as of `as_of` on DuckDB and compute every figure against `outcomes`.

    `leads`, if given, are the keys of the leads to measure (e.g. a hold-out set): every figure is then
    over those leads only, while outcome rows are still matched against all leads of `data_dir`.
    `scored`, if given, is this policy's `rules.contributions` on `data_dir` as of `as_of`, already computed.
    `history`, if given, is (the as-of points of a series ending at `as_of`, the step as written): the time to
    qualify and entry cohort figures (`timing.time_to_qualify`) are computed over those points too.
    """
    import duckdb
    import pyarrow as pa

    from leadlang.backtest.outcomes import TABLE, register_outcomes
    from leadlang.backtest.rules import contributions, register_contributions, rule_figures
    from leadlang.progress import step
    from leadlang.sql import DIALECTS

    if not Path(data_dir).is_dir():
        raise DataError(f"{data_dir}: no such data directory")
    q = DIALECTS["duckdb"].ident
    con = duckdb.connect()
    try:
        with step(f"reading the outcomes in {outcomes}"):
            has = register_outcomes(con, Path(outcomes), policy.key)
        contrib = scored if scored is not None else contributions(policy, Path(data_dir), as_of)
        scored = contrib.scored
        # the scored rows come ordered by key: their position breaks score ties as the key would, but sorts faster
        con.register("__scored", scored.append_column("__ord", pa.array(range(scored.num_rows), pa.int64())))
        scores = [o.name for o in policy.outputs if o.role == "score"]
        groups = [o for o in policy.outputs if o.role in ("band", "classification")]
        with step("computing the back-test figures"):
            cols = ", ".join([f"CAST(s.{q(s)} AS DOUBLE) AS {q('s:' + s)}" for s in scores] + [f"s.{q(g.name)} AS {q('g:' + g.name)}" for g in groups])
            _sql(con, f"""CREATE TEMP TABLE bt AS
                SELECT s.{q(policy.key)} AS key, s.__ord AS ord, {cols}, s.disqualified AS dq, coalesce(o.won, false) AS won, o.outcome,
                       CASE WHEN o.won THEN o.amount END AS amount,
                       CASE WHEN o.won THEN floor((epoch_us(o.closed_at) - epoch_us(CAST(? AS TIMESTAMPTZ))) / 86400000000.0) END AS days
                FROM __scored AS s LEFT JOIN {TABLE} AS o ON s.{q(policy.key)} = o.key""", [as_of])
            rows = _sql(con, f"SELECT count(*) FROM {TABLE}")[0][0]
            unmatched, examples = _sql(con, f"SELECT count(*), min_by(key, __row, 3) FROM {TABLE} AS o ANTI JOIN bt ON o.key = bt.key")[0]
            if leads is not None:
                con.register("__leads_kept", pa.table({"key": pa.array(list(leads), pa.string())}))
                _sql(con, "DELETE FROM bt WHERE key NOT IN (SELECT key FROM __leads_kept)")
            n, won, lost, open_, revenue, early, without = _sql(con, """SELECT count(*), count(*) FILTER (WHERE won),
                count(*) FILTER (WHERE outcome = 'lost'), count(*) FILTER (WHERE outcome = 'open'),
                CAST(sum(amount) AS DOUBLE), count(*) FILTER (WHERE days < 0), count(*) FILTER (WHERE outcome IS NULL) FROM bt""")[0]
            revenue = (revenue or 0.0) if has["amount"] else None
            totals = {"leads": n, "won": won, "revenue": revenue}
            out = Figures(
                policy=policy.label, as_of=as_of, leads=n, won=won, lost=lost, open=open_, revenue=revenue,
                outcomes={"rows": rows, "matched": rows - unmatched, "unmatched": unmatched, "leads_without_outcome": without,
                          "columns": ["outcome", *(c for c in ("amount", "closed_at") if has[c])]},
                groups={g.name: _group(con, q("g:" + g.name), g.labels, totals) for g in groups},
                scores={}, matrices={}, charts={},
            )
            for s in scores:
                out.scores[s], out.charts[s] = _score(con, q("s:" + s), totals)
            for c in policy.classifications.values():
                if isinstance(c, Matrix):
                    out.matrices[c.name] = _matrix(con, c, q, totals)
            out.rules = rule_figures(con, register_contributions(con, contrib), contrib.rules, totals)
        if history is not None:
            from leadlang.backtest.timing import time_to_qualify

            out.history = time_to_qualify(con, policy, Path(data_dir), *history, TABLE, "bt", has["closed_at"])
    finally:
        con.close()
    if unmatched:
        shown = ", ".join(f'"{k}"' for k in examples) + (", ..." if unmatched > len(examples) else "")
        out.warnings.append(f"{unmatched} of {rows} outcome rows have a {policy.key} that matches no lead in {data_dir} ({shown}); they are not counted")
    if early:
        out.warnings.append(f"{early} won leads closed before the as-of date {out.to_json()['as_of']} (negative days to close): was their outcome already known then?")
    if history is not None and not has["closed_at"]:
        out.warnings.append("the outcomes file has no closed_at column: days to close from each label are not computed")
    if n and not won:
        out.warnings.append("no lead is won: lift, win and revenue shares and AUC are undefined")
    return out


def _group(con, col: str, labels: tuple[str, ...], totals: dict) -> list[dict]:
    """Figures for every label of one band or classification column, in declared order."""
    found = {r[0]: r[1:] for r in _sql(con, f"""SELECT {col}, count(*), count(*) FILTER (WHERE won), CAST(sum(amount) AS DOUBLE), median(days)
                                               FROM bt GROUP BY 1""")}
    order = list(labels) + sorted(k for k in found if k not in labels and k is not None)
    out = []
    for label in order:
        leads, won, revenue, median = found.get(label, (0, 0, None, None))
        revenue = None if totals["revenue"] is None else (revenue or 0.0)
        out.append(group_figures(label, leads, won, revenue, median, totals))
    return out


def _score(con, col: str, totals: dict) -> tuple[dict, dict]:
    """AUC and the decile table of one score; the ROC curve and outcome histograms for the report."""
    base = _ratio(totals["won"], totals["leads"])
    deciles, cum_leads, cum_won = [], 0, 0
    for d, lo, hi, leads, won in _sql(con, f"""SELECT decile, min(score), max(score), count(*), count(*) FILTER (WHERE won)
            FROM (SELECT {col} AS score, won, ntile(10) OVER (ORDER BY {col} DESC, ord) AS decile FROM bt) GROUP BY 1 ORDER BY 1"""):
        cum_leads, cum_won = cum_leads + leads, cum_won + won
        rate = won / leads
        deciles.append({"decile": d, "min": lo, "max": hi, "leads": leads, "won": won, "win_rate": rate, "lift": _ratio(rate, base),
                        "cum_leads": cum_leads, "cum_won": cum_won, "cum_win_rate": cum_won / cum_leads,
                        "cum_win_share": _ratio(cum_won, totals["won"])})
    # one row per distinct score, highest first, with the won / not-won counts at and above it
    roc = _sql(con, f"""SELECT score, p, n, sum(p) OVER w, sum(n) OVER w
            FROM (SELECT {col} AS score, count(*) FILTER (WHERE won) AS p, count(*) FILTER (WHERE NOT won) AS n FROM bt GROUP BY 1)
            WINDOW w AS (ORDER BY score DESC ROWS UNBOUNDED PRECEDING) ORDER BY score DESC""")
    pos = totals["won"]
    neg = totals["leads"] - pos
    auc = None
    if pos and neg:  # each not-won lead beats no won lead above it, ties count half
        auc = sum(n * ((tp - p) + p / 2) for _, p, n, tp, _ in roc) / (pos * neg)
    points = [(0.0, 0.0)] + [(fp / neg, tp / pos) for *_, tp, fp in roc] if pos and neg else []
    if len(points) > ROC_POINTS:
        step = len(points) / ROC_POINTS
        points = [points[int(i * step)] for i in range(ROC_POINTS)] + [points[-1]]
    hist = _sql(con, f"""WITH r AS (SELECT min({col}) AS lo, max({col}) AS hi FROM bt)
            SELECT coalesce(least(CAST(floor(({col} - lo) / nullif((hi - lo) / {HISTOGRAM_BINS}, 0)) AS INTEGER), {HISTOGRAM_BINS - 1}), 0) AS bin,
                   count(*) FILTER (WHERE won), count(*) FILTER (WHERE NOT won), any_value(lo), any_value(hi)
            FROM bt, r GROUP BY 1 ORDER BY 1""")
    lo, hi = (hist[0][3], hist[0][4]) if hist else (0.0, 0.0)
    bins = {b: (w, nw) for b, w, nw, *_ in hist}
    histogram = {"lo": lo, "hi": hi, "won": [bins.get(b, (0, 0))[0] for b in range(HISTOGRAM_BINS)],
                 "not_won": [bins.get(b, (0, 0))[1] for b in range(HISTOGRAM_BINS)]}
    return {"auc": auc, "deciles": deciles}, {"roc": points, "histogram": histogram}


def _matrix(con, m, q, totals: dict) -> dict:
    """The matrix as drawn: each cell's label and figures (leads not disqualified), and the disqualified leads."""
    r, c = q("g:" + band_column(m.rows_score)), q("g:" + band_column(m.cols_score))
    found = {(a, b): rest for a, b, *rest in _sql(con, f"""SELECT {r}, {c}, count(*), count(*) FILTER (WHERE won), CAST(sum(amount) AS DOUBLE)
                                                         FROM bt WHERE NOT dq GROUP BY 1, 2""")}
    cells = []
    for row in m.rows:
        for col, label in zip(m.columns, row.cells):
            leads, won, revenue = found.get((row.band, col), (0, 0, None))
            cells.append({"row": row.band, "column": col, "label": label, "leads": leads, "won": won, "win_rate": _ratio(won, leads),
                          "revenue": None if totals["revenue"] is None else (revenue or 0.0)})
    dq_leads, dq_won, dq_rev = _sql(con, "SELECT count(*), count(*) FILTER (WHERE won), CAST(sum(amount) AS DOUBLE) FROM bt WHERE dq")[0]
    return {"rows": m.rows_score, "columns": m.cols_score, "row_bands": [row.band for row in m.rows], "column_bands": list(m.columns),
            "cells": cells, "disqualified": {"leads": dq_leads, "won": dq_won, "win_rate": _ratio(dq_won, dq_leads),
                                             "revenue": None if totals["revenue"] is None else (dq_rev or 0.0)}}


def differences(a: Figures, b: Figures) -> dict:
    """Challenger minus champion, for every group and score the two policies share (a missing label has no leads)."""
    keys = ("leads", "won", "win_rate", "lift", "win_share", "revenue_share", "median_days_to_close")
    empty = {k: 0 if k in ("leads", "won") else None for k in keys}

    def sub(x, y):
        return None if x is None or y is None else y - x

    groups = {}
    for name in (g for g in a.groups if g in b.groups):
        left, right = ({r["label"]: r for r in f.groups[name]} for f in (a, b))
        groups[name] = [{"label": label} | {k: sub(left.get(label, empty)[k], right.get(label, empty)[k]) for k in keys}
                        for label in dict.fromkeys([*left, *right])]
    scores = {s: {"auc": sub(a.scores[s]["auc"], b.scores[s]["auc"])} for s in a.scores if s in b.scores}
    return {"leads": b.leads - a.leads, "won": b.won - a.won, "base_rate": sub(a.base_rate, b.base_rate), "groups": groups, "scores": scores}


def capacity_check(figs: list[Figures], wanted: list[tuple[str, int]]) -> list[dict]:
    """For each `LABEL=N` (or `GROUP.LABEL=N`): does the label's lead count fit N, in each policy?"""
    out = []
    for spec, cap in wanted:
        group_name, _, label = spec.rpartition(".")
        for f in figs:
            hits = [(g, r) for g, rows in f.groups.items() for r in rows if r["label"] == label and group_name in ("", g)]
            if not hits and f is figs[0]:
                labels = {r["label"] for rows in f.groups.values() for r in rows}
                hint = did_you_mean(label, labels)
                raise DataError(f"--capacity {spec}={cap}: {f.policy} has no label `{label}`" + (f" in `{group_name}`" if group_name else "")
                                + (f"; {hint[0]}" if hint else ""))
            if len(hits) > 1:
                raise DataError(f"--capacity {spec}={cap}: `{label}` is a label of " + ", ".join(f"`{g}`" for g, _ in hits)
                                + f"; write GROUP.LABEL, e.g. {hits[0][0]}.{label}={cap}")
            for g, r in hits:
                out.append({"policy": f.policy, "group": g, "label": label, "capacity": cap, "leads": r["leads"], "won": r["won"],
                            "fits": r["leads"] <= cap, "over": max(0, r["leads"] - cap), "utilisation": _ratio(r["leads"], cap)})
    return out


def backtest(policy: Policy, data_dir: Path, outcomes: Path, as_of: dt.datetime, challenger: Policy | None = None,
             capacity: list[tuple[str, int]] = (), leads=None, scored: tuple = (None, None), history=None) -> Backtest:
    """Back-test `policy` (and a challenger) on `data_dir` as of `as_of` against the `outcomes` file.

    `leads` and `scored` (the champion's and the challenger's contributions, or None) as for `figures`:
    `calibrate` measures the old and the new policy on the hold-out leads this way. `history` as for `figures`.
    """
    champ = figures(policy, data_dir, outcomes, as_of, leads, scored[0], history)
    chall = figures(challenger, data_dir, outcomes, as_of, leads, scored[1], history) if challenger is not None else None
    figs = [champ] + ([chall] if chall else [])
    return Backtest(champ, chall, differences(champ, chall) if chall else None, capacity_check(figs, list(capacity)))
