"""L202: a signal nothing reads."""

from leadlang.lint.registry import rule


@rule("L202", "unused-signal", "warning")
def check(ctx):
    """A `signal` that no score, gate, criterion, classification, other signal or test reads.

    ## What it does
    Flags every `signal` declared in the linted file whose name is never used
    in the policy or its tests.

    ## Why it matters
    Signals are computed for every lead (each aggregate is a scan of the
    events) and written as output columns. One that nothing uses costs work,
    widens the output, and often means a rule was meant to use it but repeats
    its expression instead. If the column is wanted downstream, say so by
    testing it, or silence the finding with `# leadlang: ignore[L202]`.

    ## Example
    ```lead
    signal email_domain = domain(email)
    score fit {
      free_email: -40 when domain(email) in ["gmail.com", "yahoo.com"]
    }
    ```

    ## Instead
    ```lead
    signal email_domain = domain(email)
    score fit {
      free_email: -40 when email_domain in ["gmail.com", "yahoo.com"]
    }
    ```
    """
    for name, signal in ctx.policy.signals.items():
        if not ctx.policy.uses("signal", name):
            yield ctx.finding(signal.span, f"signal `{name}` is never used", "it is still written as an output column; remove it if nothing downstream reads it",
                              fix=ctx.removal(signal.span, f"Remove signal `{name}` (and its output column)"))
