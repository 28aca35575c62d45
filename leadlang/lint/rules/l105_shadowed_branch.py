"""L105: a classify branch (or `otherwise`) that earlier branches always take first."""

from leadlang.lint.registry import rule
from leadlang.syntax import ast as A


@rule("L105", "shadowed-branch", "error")
def check(ctx):
    """A `classify` branch that is never chosen because earlier branches always match first.

    ## What it does
    `classify` picks the first branch whose condition is true. This rule flags
    a branch whose condition implies an earlier branch's (or the earlier
    branches' together), so whenever it could match, an earlier one already
    has; and an `otherwise` that can never be reached because the branches
    above it cover every lead. A branch whose own condition is never true is
    left to L103.

    ## Why it matters
    A shadowed branch is dead policy: its label is never given, however
    reasonable its condition reads. It usually means a more specific branch was
    written after a more general one.

    ## Example
    ```lead
    classify stage {
      mql  when employees >= 200
      sql  when employees >= 1000 and industry = "software"
      otherwise lead
    }
    ```

    ## Instead
    ```lead
    classify stage {
      sql  when employees >= 1000 and industry = "software"
      mql  when employees >= 200
      otherwise lead
    }
    ```
    """
    a = ctx.analysis
    for c in ctx.policy.classifications.values():
        if not isinstance(c, A.Classify):
            continue
        earlier: list[A.Branch] = []
        for b in c.branches:
            if earlier and a.verdict(b.cond) != "never" and a.shadowed(b.cond, [e.cond for e in earlier]):
                alone = next((e for e in earlier if a.shadowed(b.cond, [e.cond])), None)
                hint = (f"whenever it matches, branch `{alone.label}` (line {alone.span.line}) matches first; move it above that branch or narrow the earlier condition"
                        if alone else "whenever it matches, one of the branches above matches first")
                yield ctx.finding(b.span, f"branch `{b.label}` of `{c.name}` is never chosen", hint)
            earlier.append(b)
        worlds = a.worlds(*(b.cond for b in c.branches)) if c.branches else None
        if worlds is not None and all(True in w for w in worlds):
            yield ctx.finding(c.otherwise_span, f"`otherwise {c.otherwise}` of `{c.name}` is never reached: some branch above always matches",
                              "remove the `otherwise` label's uses or narrow the branches above")
