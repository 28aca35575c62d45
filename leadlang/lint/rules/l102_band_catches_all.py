"""L102: a band that every lead lands in."""

from leadlang.lint.registry import rule
from leadlang.lint.rules import describe_range


@rule("L102", "band-catches-all", "warning")
def check(ctx):
    """A band every lead reaches: the score's achievable range lies inside one band.

    ## What it does
    Works out the range a score can take (as for L101) and flags the bands of a
    score when that whole range falls in a single band, so that every lead gets
    the same label.

    ## Why it matters
    Bands exist to tell leads apart. When every lead lands in one band, the
    banding (and every matrix row, `is` test and action built on it) makes no
    difference: usually a threshold is out of scale with the points.

    ## Example
    ```lead
    score fit clamp 0 to 100 {
      software:  +30 when industry = "software"
      big:       +20 when employees >= 1000
    }
    # fit is at most 50: every lead is `low`
    bands fit { high >= 80, low otherwise }
    ```

    ## Instead
    ```lead
    score fit clamp 0 to 100 {
      software:  +30 when industry = "software"
      big:       +20 when employees >= 1000
    }
    bands fit { high >= 40, low otherwise }
    ```
    """
    a = ctx.analysis
    for score, bands in ctx.policy.bands.items():
        reached = a.reachable_bands(score)
        if len(reached) == 1 and len(bands.bands) > 1:
            (label,) = reached
            r = a.score_range(score)
            yield ctx.finding(bands.span, f"every lead lands in band `{label}` of `{score}`: `{score}` is always {describe_range(r)}",
                              "move the thresholds into the range the score can take")
