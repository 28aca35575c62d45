"""L103: a rule, gate, criterion member or classify branch whose condition is never true."""

from leadlang.lint.registry import rule

WHAT = {"rule": "rule", "gate": "gate", "criterion": "criterion", "branch": "branch"}


@rule("L103", "never-true", "error")
def check(ctx):
    """A condition that can never be true, so its rule, gate, member or branch never fires.

    ## What it does
    Analyses the condition of every `when` rule, `disqualify` gate, criterion
    member and `classify` branch: comparisons of one field that contradict each
    other (`employees > 1000 and employees < 50`), an empty range
    (`between 100 and 10`), a set of enum values that excludes every declared
    value, a band or label test that no lead can pass, `x is missing and x > 3`.
    It reports only what holds for every possible lead, following SQL's
    three-valued logic (a condition on a missing value is not true).

    ## Why it matters
    A condition that is never true is dead policy: the points are never added,
    the gate never disqualifies, the branch never labels anyone. It is nearly
    always a typo (`<` for `>`, `and` for `or`) or a leftover from an edit.

    ## Example
    ```lead
    score fit {
      mid_market: +25 when employees > 5000 and employees < 200
    }
    ```

    ## Instead
    ```lead
    score fit {
      mid_market: +25 when employees between 200 and 5000
    }
    ```
    """
    a = ctx.analysis
    for what, name, cond, span in a.conditions:
        if a.verdict(cond) == "never":
            yield ctx.finding(cond.span, f"the condition of {what} `{name}` is never true, so it never fires",
                              "its comparisons contradict each other or exclude every possible value")
