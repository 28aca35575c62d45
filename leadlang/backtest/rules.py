"""Each rule of each points score, per lead: its contribution and the value it reads, and how the leads it fired on did.

`contributions(policy, data_dir, as_of)` scores the leads on DuckDB as `leadlang score` does and, in the
same query, keeps every points rule's contribution per lead (`to_sql(..., what="contributions")`):

- `points`: the rule's contribution to the lead's score, unrounded (0 when it did not fire);
- `value`: what the rule reads — 1 or 0 for a `when` rule (its condition held or not), for a `per` rule
  the value after the cap (`points` ÷ the rule's points, so `max` caps it; a missing value is 0);
  with 0 points, a `when` rule's condition and a `per` rule's uncapped value;
- `fired`: `value` is not 0 (for a rule with points: its contribution is not 0, as `expect fired` says).

`register_contributions` lays them out in DuckDB as one long relation (key, score, rule, kind, fired, points,
value), joinable to the back-test's outcomes by key; `rule_figures` gives the per-rule table of `backtest`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from leadlang.check.policy import Policy
from leadlang.diagnostics import DataError, did_you_mean
from leadlang.span import Span
from leadlang.syntax import ast as A


@dataclass(frozen=True)
class RuleInfo:
    """One rule of a points score, as declared."""

    score: str
    id: str
    kind: str  # "when" or "per"
    points: Decimal
    cap: Decimal | None
    span: Span = field(compare=False)

    @property
    def name(self) -> str:
        return f"{self.score}.{self.id}"

    @property
    def points_column(self) -> str:
        return f"points:{self.name}"

    @property
    def value_column(self) -> str:
        return f"value:{self.name}"


def points_scores(policy: Policy) -> list[str]:
    return [s.name for s in policy.scores.values() if isinstance(s, A.PointsScore)]


def rules_of(policy: Policy, scores: list[str] | None = None) -> list[RuleInfo]:
    """Every rule of every points score (or of `scores`, checked: a name that is no points score is a
    `DataError`), scores and rules in declaration order."""
    known = points_scores(policy)
    for name in scores or ():
        if name not in known:
            what = "a derived score, it has no rules" if name in policy.scores else "no score of the policy"
            hint = did_you_mean(name, known)
            raise DataError(f"score `{name}`: {what}; its points scores are " + ", ".join(f"`{s}`" for s in known)
                            + (f"; {hint[0]}" if hint and name not in policy.scores else ""))
    wanted = known if scores is None else [s for s in known if s in scores]
    return [RuleInfo(s, r.id, r.kind, r.points, r.cap, r.span) for s in wanted for r in policy.scores[s].rules]


@dataclass
class Contributions:
    """One scoring pass: the scored rows and, in the same order, each rule's contribution and value per lead."""

    policy: Policy
    rules: list[RuleInfo]
    scored: object  # pyarrow.Table: the rows of `leadlang score`, ordered by key
    table: object  # pyarrow.Table: the key, then `points:SCORE.RULE` and `value:SCORE.RULE` (doubles) per rule

    def features(self, score: str):
        """(the score's rules, an n_leads × n_rules numpy array of their values), rows in `scored`'s order."""
        import numpy as np

        rules = [r for r in self.rules if r.score == score]
        if not rules:
            return rules, np.zeros((self.table.num_rows, 0))
        return rules, np.column_stack([self.table.column(r.value_column).to_numpy() for r in rules])

    def keys(self) -> list[str]:
        return self.table.column(0).to_pylist()


def contributions(policy: Policy, data_dir: Path, as_of: dt.datetime, scores: list[str] | None = None) -> Contributions:
    """Score `data_dir` as of `as_of` on DuckDB (events after it ignored) with every rule's contribution per lead."""
    from leadlang.engine import score_duckdb

    rules = rules_of(policy, scores)
    number = {r: i for i, r in enumerate(rules_of(policy), 1)}  # the query's columns are numbered in declaration order
    scored = score_duckdb(policy, Path(data_dir), as_of, contributions=True)
    table = scored.contributions
    columns = [table.column_names[0]] + [f"points:{number[r]}" for r in rules] + [f"value:{number[r]}" for r in rules]
    names = [table.column_names[0]] + [r.points_column for r in rules] + [r.value_column for r in rules]
    return Contributions(policy, rules, scored.table, table.select(columns).rename_columns(names))


def register_contributions(con, c: Contributions, name: str = "__contrib") -> str:
    """Register the contributions in `con` as the view `name`: one row per lead and rule,
    `key, score, rule, kind, fired, points, value` (an empty relation for a policy without rules)."""
    from leadlang.sql import DIALECTS

    d = DIALECTS["duckdb"]
    q, lit = d.ident, d.literal
    wide = f"{name}_wide"
    k = len(c.rules)  # DuckDB compares names ignoring case: the columns are numbered there
    con.register(wide, c.table.rename_columns(["key", *(f"p{i}" for i in range(k)), *(f"v{i}" for i in range(k))]))
    parts = [f"SELECT key, {lit(r.score)} AS score, {lit(r.id)} AS rule, {lit(r.kind)} AS kind, "
             f"v{i} <> 0 AS fired, p{i} AS points, v{i} AS value FROM {q(wide)}"
             for i, r in enumerate(c.rules)]
    empty = ("SELECT CAST(NULL AS VARCHAR) AS key, '' AS score, '' AS rule, '' AS kind, FALSE AS fired, "
             "CAST(NULL AS DOUBLE) AS points, CAST(NULL AS DOUBLE) AS value WHERE FALSE")
    con.execute(f"CREATE OR REPLACE TEMP VIEW {q(name)} AS " + ("\nUNION ALL ".join(parts) if parts else empty))
    return name


def number(x: Decimal | None) -> int | float | None:
    """A policy number as JSON: an int when whole."""
    return None if x is None else int(x) if x == x.to_integral_value() else float(x)


def rule_figures(con, view: str, rules: list[RuleInfo], totals: dict, leads: str = "bt") -> dict[str, list[dict]]:
    """Per points score, each rule in declared order: how often it fired on the leads of `leads` (a relation with
    `key`, `won`, `amount`, `days`, as the back-test's), and the figures of the leads it fired on and of the others.

    `totals` (`leads`, `won`, `revenue`) are the figures' denominators, as for a label's row.
    """
    from leadlang.backtest.compute import _sql, group_figures

    found = {(s, r, f): rest for s, r, f, *rest in _sql(con, f"""SELECT c.score, c.rule, c.fired, count(*), count(*) FILTER (WHERE b.won),
            CAST(sum(b.amount) AS DOUBLE), median(b.days), avg(c.value) FILTER (WHERE c.fired)
            FROM {view} AS c JOIN {leads} AS b ON b.key = c.key GROUP BY 1, 2, 3""")}
    out: dict[str, list[dict]] = {}
    for r in rules:
        sides = {}
        for fired in (True, False):
            n, won, revenue, median, mean = found.get((r.score, r.id, fired), (0, 0, None, None, None))
            revenue = None if totals["revenue"] is None else (revenue or 0.0)
            sides[fired] = (group_figures("fired" if fired else "not fired", n, won, revenue, median, totals), mean)
        fires = sides[True][0]["leads"]
        out.setdefault(r.score, []).append({
            "rule": r.id, "kind": r.kind, "points": number(r.points), "max": number(r.cap),
            "fires": fires, "fire_share": fires / totals["leads"] if totals["leads"] else None,
            "mean_value": sides[True][1] if r.kind == "per" else None,
            "fired": sides[True][0], "not_fired": sides[False][0],
        })
    return out
