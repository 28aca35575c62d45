"""L101: a band of a score that no lead can reach."""

from leadlang.lint.registry import rule
from leadlang.lint.rules import describe_range


@rule("L101", "unreachable-band", "error")
def check(ctx):
    """A band no lead can reach: the score's achievable range never meets its threshold.

    ## What it does
    Works out the range a score can take — the least and the most its rules can
    add (each `when` rule adds 0 or its points, each `per` rule 0 up to its cap),
    then the `clamp` — and flags every band whose values lie outside that range.
    Derived scores are followed through their expression.

    ## Why it matters
    A band no lead reaches is dead policy: the routing, matrix cells and actions
    built on it never happen, and reviewers are misled into thinking they do.
    It usually means a threshold was raised, or a rule removed or re-weighted,
    without revisiting the bands.

    ## Example
    ```lead
    score fit clamp 0 to 100 {
      software:  +30 when industry = "software"
      big:       +20 when employees >= 1000
    }
    # fit is at most 50: `high` is never reached
    bands fit { high >= 60, medium >= 30, low otherwise }
    ```

    ## Instead
    ```lead
    score fit clamp 0 to 100 {
      software:  +30 when industry = "software"
      big:       +20 when employees >= 1000
    }
    bands fit { high >= 50, medium >= 30, low otherwise }
    ```
    """
    a = ctx.analysis
    for score, bands in ctx.policy.bands.items():
        r = a.score_range(score)
        for band, low, high in a.band_ranges(score):
            if r.meets(low, high):
                continue
            if r.high < low:
                hint = f"lower the threshold to at most {r.high.normalize():f}, or give `{score}` more points"
            else:
                hint = f"every lead scores at least {r.low.normalize():f}, so a higher band takes it first"
            yield ctx.finding(band.span, f"band `{band.label}` of `{score}` is never reached: `{score}` is always {describe_range(r)}", hint)
