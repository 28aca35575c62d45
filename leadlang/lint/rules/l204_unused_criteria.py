"""L204: criteria nothing reads."""

from leadlang.lint.registry import rule


@rule("L204", "unused-criteria", "warning")
def check(ctx):
    """A `criteria` block whose verdict, count and members no classification, score, gate or test reads.

    ## What it does
    Flags each `criteria` of the linted file when neither `NAME`, `NAME_met`
    nor any `NAME.member` is used anywhere in the policy or its tests.

    ## Why it matters
    A framework checklist (BANT, MEDDIC, UCC) is written to drive routing.
    One that nothing reads is computed and written as output columns but
    changes no label: often the `classify` branch that should use it was
    forgotten.

    ## Example
    ```lead
    criteria ucc require 2 of {
      big:       employees >= 1000
      software:  industry = "software"
      senior:    title contains "VP"
    }
    classify stage {
      sql when employees >= 1000
      otherwise lead
    }
    ```

    ## Instead
    ```lead
    criteria ucc require 2 of {
      big:       employees >= 1000
      software:  industry = "software"
      senior:    title contains "VP"
    }
    classify stage {
      sql when ucc
      otherwise lead
    }
    ```
    """
    refs = ctx.analysis.references
    for name, cr in ctx.policy.criteria.items():
        if not refs["read"] & {("criteria", name), ("criteria_met", name), ("member", name)}:
            yield ctx.finding(cr.span, f"criteria `{name}` are never used", f"they are still written as output columns; use `{name}` in a classify branch or remove them")
