"""L205: an event column nothing reads."""

from leadlang.lint.registry import rule


@rule("L205", "unused-event-column", "warning")
def check(ctx):
    """A typed column of an `events` source that no aggregate or `where` clause reads.

    ## What it does
    Flags each extra column declared in an `events` block (beyond `lead`, `at`
    and `name`) that no `sum/min/max/avg(SOURCE.column ...)` and no
    `where` clause of that source uses. A source that is not used at all is
    left to L203.

    ## Why it matters
    Each declared column must be present in the data, is type-checked when the
    data is loaded, and is selected by the compiled SQL. A column nothing reads
    adds a requirement on the data for no benefit, or is the sign of a
    forgotten rule.

    ## Example
    ```lead
    score engagement {
      active: +10 when count(product in last 30 days) > 0
    }
    ```

    ## Instead
    ```lead
    score engagement {
      active: +10 when count(product in last 30 days) > 0
      seats:  +1 per sum(product.seats "seat_added" in last 30 days), max 20
    }
    ```
    """
    refs = ctx.analysis.references
    for name, ev in ctx.policy.events.items():
        if name not in refs["sources"]:
            continue
        for f in ev.fields:
            if (name, f.name) not in refs["columns"]:
                yield ctx.finding(f.span, f"column `{f.name}` of events `{name}` is never used", "remove it from the events block, or aggregate it")
