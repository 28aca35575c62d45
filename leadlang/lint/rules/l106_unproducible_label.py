"""L106: a matrix label that no reachable cell holds."""

from leadlang.lint.registry import rule
from leadlang.syntax import ast as A


@rule("L106", "unproducible-label", "error")
def check(ctx):
    """A matrix label that no lead can get: every cell holding it is in a band no lead reaches.

    ## What it does
    Works out which bands of the matrix's row and column scores can be reached
    (as for L101) and flags each label whose every cell lies in an unreachable
    row or column.

    ## Why it matters
    The label looks like a real segment — it may have actions, tests and
    downstream reports — but no lead is ever given it.

    ## Example
    ```lead
    score fit clamp 0 to 100 {
      software:  +30 when industry = "software"
    }
    score engagement clamp 0 to 100 {
      active:  +10 per count(product in last 30 days), max 100
    }
    bands fit        { high >= 60, low otherwise }
    bands engagement { high >= 50, low otherwise }

    # fit never reaches 60: nothing lands in the `high` column
    matrix segment: engagement by fit {
           | low      | high
      high | nurture  | sales_ready
      low  | ignore   | watch
    }
    ```

    ## Instead
    ```lead
    score fit clamp 0 to 100 {
      software:  +30 when industry = "software"
      big:       +40 when employees >= 1000
    }
    score engagement clamp 0 to 100 {
      active:  +10 per count(product in last 30 days), max 100
    }
    bands fit        { high >= 60, low otherwise }
    bands engagement { high >= 50, low otherwise }

    matrix segment: engagement by fit {
           | low      | high
      high | nurture  | sales_ready
      low  | ignore   | watch
    }
    ```
    """
    a = ctx.analysis
    for m in ctx.policy.classifications.values():
        if not isinstance(m, A.Matrix):
            continue
        rows, cols = a.reachable_bands(m.rows_score), a.reachable_bands(m.cols_score)
        first: dict[str, A.MatrixRow] = {}
        produced: set[str] = set()
        for row in m.rows:
            for column, label in zip(m.columns, row.cells):
                first.setdefault(label, row)
                if row.band in rows and column in cols:
                    produced.add(label)
        dead = [f"`{b}` of `{m.rows_score}`" for b in (r.band for r in m.rows) if b not in rows]
        dead += [f"`{b}` of `{m.cols_score}`" for b in m.columns if b not in cols]
        for label, row in first.items():
            if label not in produced:
                yield ctx.finding(row.span, f"label `{label}` of matrix `{m.name}` is never produced: every cell holding it is in a band no lead reaches",
                                  f"unreachable bands: {', '.join(dead)}")
