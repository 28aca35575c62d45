"""L401: an event name the policy counts never occurs in the data."""

from leadlang.diagnostics import did_you_mean
from leadlang.lint.rules import string_span
from leadlang.lint.registry import rule
from leadlang.syntax import ast as A


@rule("L401", "unknown-event-name", "warning")
def check(ctx):
    """An event name in an aggregate (`count(product "x" ...)`) that no event of that source has in the `--data` files.

    ## What it does
    With `lint --data DIR` (and in `score`), compares every event name the policy
    aggregates over (`count(product "signup")`, `count(product ["a", "b"] ...)`)
    with the distinct names in that source's data file, and flags each name that
    never occurs, with the closest names that do.

    ## Why it matters
    A typo in an event name checks clean and scores without error: the aggregate
    is simply 0 for every lead, so its rule never fires and leads are routed as if
    nobody had done the thing. Only the data can tell.

    ## Example
    ```lead
    score engagement {
      synced: +20 when count(product "sync_complete" in last 30 days) > 0
    }
    ```

    ## Instead
    ```lead
    score engagement {
      synced: +20 when count(product "sync_completed" in last 30 days) > 0
    }
    ```
    """
    if ctx.data is None:
        return
    for module in ctx.policy.modules[:1]:
        for node in A.walk(module):
            if not isinstance(node, A.Aggregate) or not node.names or node.source not in ctx.data.sources:
                continue
            src = ctx.data.sources[node.source]
            seen = dict(src.values.get("name", ()))
            for name in dict.fromkeys(node.names):
                if name in seen:
                    continue
                hints = did_you_mean(name, seen)
                if not hints and seen:
                    top = ", ".join(f"`{n}`" for n in list(seen)[:5])
                    hints = (f"names in the data, most frequent first: {top}{', ...' if len(seen) > 5 else ''}",)
                yield ctx.finding(string_span(ctx.policy, node, name),
                                  f'no event of `{node.source}` is named "{name}" in {src.path} ({src.rows} events): the count is always 0', *hints)
