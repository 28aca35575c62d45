"""L203: an events or accounts source nothing reads."""

from leadlang.lint.registry import rule


@rule("L203", "unused-source", "warning")
def check(ctx):
    """An `events` source no aggregate reads, or an `accounts` source no `account.FIELD` reads.

    ## What it does
    Flags each `events` source of the linted file that no aggregate
    (`count(SOURCE ...)`, `sum(SOURCE.col ...)`, ...) uses, and an `accounts`
    source whose fields are never read.

    ## Why it matters
    Every declared source must exist and be loaded to score (the CLI reads a
    file for it; the SQL joins it). An unused one costs a scan and a
    dependency for nothing, and often means the rules that should use it were
    never written.

    ## Example
    ```lead
    events marketing from ref("marketing_events") {
      lead contact_id
      at   happened_at
      name activity
    }
    score engagement {
      active: +10 when count(product in last 30 days) > 0
    }
    ```

    ## Instead
    ```lead
    events marketing from ref("marketing_events") {
      lead contact_id
      at   happened_at
      name activity
    }
    score engagement {
      active: +10 when count(product in last 30 days) > 0
      demo:   +25 when count(marketing "demo_requested" in last 30 days) > 0
    }
    ```
    """
    refs = ctx.analysis.references
    for name, ev in ctx.policy.events.items():
        if name not in refs["sources"]:
            yield ctx.finding(ev.span, f"events `{name}` are never used", f"aggregate them, e.g. `count({name} in last 30 days)`, or remove the source")
    accounts = ctx.policy.accounts
    if accounts is not None and "account" not in refs["attrs"]:
        yield ctx.finding(accounts.span, "the `accounts` source is never used", "read its fields as `account.FIELD`, or remove the source")
