"""L104: a rule, gate, criterion member or classify branch whose condition is always true."""

from leadlang.lint.registry import rule

EFFECT = {
    "rule": "it adds its points to every lead",
    "gate": "it disqualifies every lead",
    "criterion": "every lead meets it",
    "branch": "every lead gets this label; the branches after it are never reached",
}


@rule("L104", "always-true", "warning")
def check(ctx):
    """A condition that is true for every lead, so its rule, gate, member or branch always fires.

    ## What it does
    Analyses the same conditions as L103 and flags those that are true for
    every possible lead — including leads whose fields are missing, so
    `count(product) >= 0` or `fit >= 0` for a score clamped at 0 are always
    true. A condition that is true whenever the values it tests are present,
    like `employees >= 0 or employees < 0`, is flagged too: for a lead whose
    `employees` is missing it is not true (three-valued logic), so all it
    really tests is `employees is present`.

    ## Why it matters
    A rule that always fires is a constant offset that moves every threshold;
    a gate that always fires disqualifies everyone; a criterion member that
    always holds lowers the bar of its `require K of`; a branch that always
    matches hides every branch after it. Usually a comparison or a connective
    is the wrong way round.

    ## Example
    ```lead
    score engagement {
      active: +10 when count(product in last 30 days) >= 0
    }
    ```

    ## Instead
    ```lead
    score engagement {
      active: +10 when count(product in last 30 days) > 0
    }
    ```
    """
    a = ctx.analysis
    for what, name, cond, span in a.conditions:
        verdict = a.verdict(cond)
        if verdict == "always":
            yield ctx.finding(cond.span, f"the condition of {what} `{name}` is always true: {EFFECT[what]}",
                              "check the comparison and the `and`/`or` between its parts")
        elif verdict is None and a.always_when_present(cond):
            yield ctx.finding(cond.span, f"the condition of {what} `{name}` is true for every lead whose values are present: it only tests that they are not missing",
                              "write `X is present` if that is the intent; otherwise check the comparison and the `and`/`or` between its parts")
