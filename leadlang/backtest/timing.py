"""`backtest --history-from TS --every DURATION`: time to qualify and win rate by entry cohort, from the
policy's scores over time (`leadlang.history.series`, one statement on DuckDB), aggregated in DuckDB.

The definitions (docs/backtest.md#time-to-qualify), one place for each:

- the series is the as-of points `--history-from`, `+ every`, ... up to and including the back-test's `--as-of`;
- a lead *enters* a label (a value of a label column: a band, a matrix or classification label, `true` or
  `false` of a criteria verdict or `disqualified`) at the first point of the series where it holds it; a lead
  holding it at `--history-from` enters it there (the series sees no earlier);
- days to close from a label = whole days, rounded down, from entering it to the outcome's `closed_at`, over
  the won leads with a `closed_at` that entered the label at or before it; the quartiles are DuckDB's
  `quantile_cont` (linear interpolation); won leads that entered it only after closing are counted apart;
- a label's entry cohort is the ISO week (Monday 00:00 UTC) in which its leads entered it; the cohort's win
  rate is its won leads over its leads, with a 95% Wilson interval as the back-test's groups.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from leadlang.check.policy import Policy

QUARTILES = (0.25, 0.5, 0.75)


def _days(v):
    return None if v is None else int(v) if float(v).is_integer() else float(v)


def time_to_qualify(con, policy: Policy, data_dir: Path, when: list[dt.datetime], every: str, outcomes: str, leads: str,
                    has_close: bool) -> dict:
    """The history figures of one policy: per label column, per label, the days from entering it to close of the
    won leads (count, quartiles) and the win rate of each weekly entry cohort.

    `con` holds the outcomes table `outcomes` (`key`, `won`, `closed_at`) and the back-test's leads table `leads`
    (`key`, `won`: the leads measured); the series of `policy` over `data_dir` at `when` is added to it."""
    from leadlang.backtest.compute import wilson
    from leadlang.history import label_columns, series
    from leadlang.progress import step
    from leadlang.sql import DIALECTS

    q = DIALECTS["duckdb"].ident
    labels = label_columns(policy)
    with step(f"scoring {policy.label} at {len(when)} as-of points"):
        series(policy, data_dir, when, con=con)
    entered = " UNION ALL ".join(
        f"SELECT {i} AS c, CAST({q(c)} AS VARCHAR) AS label, CAST({q(policy.key)} AS VARCHAR) AS key, min(as_of) AS entered "
        f"FROM history WHERE {q(c)} IS NOT NULL GROUP BY ALL" for i, c in enumerate(labels))
    close = "o.closed_at" if has_close else "CAST(NULL AS TIMESTAMPTZ)"
    con.execute(f"""CREATE OR REPLACE TEMP TABLE __entered AS
        SELECT e.c, e.label, e.key, e.entered, b.won,
               CASE WHEN b.won THEN floor((epoch_us({close}) - epoch_us(e.entered)) / 86400000000.0) END AS days
        FROM ({entered}) e JOIN {q(leads)} b ON e.key = b.key LEFT JOIN {q(outcomes)} o ON o.key = e.key""")
    timing = {(c, label): rest for c, label, *rest in con.execute(f"""
        SELECT c, label, count(*), count(*) FILTER (WHERE won), count(days) FILTER (WHERE days >= 0),
               quantile_cont(days, {list(QUARTILES)}) FILTER (WHERE days >= 0), count(*) FILTER (WHERE days < 0)
        FROM __entered GROUP BY ALL""").fetchall()}
    cohorts: dict[tuple, list] = {}
    for c, label, week, n, won in con.execute("""
            SELECT c, label, CAST(date_trunc('week', entered) AS DATE), count(*), count(*) FILTER (WHERE won)
            FROM __entered GROUP BY ALL ORDER BY 1, 2, 3""").fetchall():
        low, high = wilson(won, n)
        cohorts.setdefault((c, label), []).append({"week": week.isoformat(), "leads": n, "won": won, "win_rate": won / n,
                                                   "ci_low": low, "ci_high": high})
    kinds = {o.name: o for o in policy.outputs}
    out = {}
    for i, c in enumerate(labels):
        declared = [str(x) for x in (kinds[c].labels or policy.labels.get(kinds[c].source if kinds[c].role == "band" else c, ()))]
        if kinds[c].kind == "bool":
            declared = ["true", "false"]
        found = sorted(label for j, label in timing if j == i and label not in declared)
        rows = []
        for label in [*declared, *found]:
            if (i, label) not in timing:
                continue
            n, won, timed, quarts, after = timing[(i, label)]
            q1, median, q3 = (None, None, None) if quarts is None else quarts
            rows.append({"label": label, "entered": n, "won": won, "won_with_close": timed,
                         "days_to_close": {"q1": _days(q1), "median": _days(median), "q3": _days(q3)} if has_close else None,
                         "won_entered_after_close": after if has_close else None, "cohorts": cohorts.get((i, label), [])})
        out[c] = rows
    return {"from": when[0].isoformat().replace("+00:00", "Z"), "every": every, "points": len(when), "labels": out}

