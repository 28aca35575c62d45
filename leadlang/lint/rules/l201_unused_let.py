"""L201: a `let` nothing reads."""

from leadlang.lint.registry import rule


@rule("L201", "unused-let", "warning")
def check(ctx):
    """A `let` constant that no expression, `where` clause or test reads.

    ## What it does
    Flags every `let` declared in the linted file whose name is never used.

    ## Why it matters
    An unused constant is noise at best; at worst it is the list someone meant
    to use (`target_industries`) while a rule spells out a different, stale
    list by hand.

    ## Example
    ```lead
    let target_industries = ["software", "fintech"]
    score fit {
      target: +30 when industry in ["software", "fintech", "retail"]
    }
    ```

    ## Instead
    ```lead
    let target_industries = ["software", "fintech", "retail"]
    score fit {
      target: +30 when industry in target_industries
    }
    ```
    """
    for name, let in ctx.policy.lets.items():
        if not ctx.policy.uses("let", name):
            yield ctx.finding(let.span, f"`let {name}` is never used", "remove it, or use it where its value is spelled out by hand",
                              fix=ctx.removal(let.span, f"Remove `let {name}`"))
