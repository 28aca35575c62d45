"""L405: the as-of time is before every event, or so long after the last that every window is empty."""

from leadlang.lint.registry import rule
from leadlang.syntax import ast as A


def _day(t) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ").replace("T00:00:00Z", "")


@rule("L405", "as-of-outside-data", "warning")
def check(ctx):
    """The as-of time is earlier than every event of a source, or later than its last event by more than every window over it.

    ## What it does
    With `lint --data DIR --as-of T` (and in `score`), compares the as-of time with
    the first and last event time of each events source that an aggregate reads.
    It flags an as-of time before the first event (events after the as-of time are
    ignored, so every aggregate over the source is 0 or missing), and one after the
    last event by more than the longest window of the aggregates over the source
    (when each of them has a window), for the same reason.

    ## Why it matters
    A wrong as-of time, such as a dbt var left at an old date or a stale extract,
    scores every lead with no engagement at all, and nothing fails.

    ## Example
    ```lead
    score engagement {
      active: +10 when count(product in last 2 days) > 0
    }
    ```

    ## Instead
    ```lead
    score engagement {
      active: +10 when count(product in last 7 days) > 0
    }
    ```
    """
    if ctx.data is None or ctx.as_of is None:
        return
    aggregates: dict[str, list[A.Aggregate]] = {}
    for module in ctx.policy.modules:
        for node in A.walk(module):
            if isinstance(node, A.Aggregate):
                aggregates.setdefault(node.source, []).append(node)
    for name, ev in ctx.policy.events.items():
        src = ctx.data.sources.get(name)
        if src is None or src.first is None or name not in aggregates:
            continue
        as_of = _day(ctx.as_of)
        if ctx.as_of < src.first:
            yield ctx.finding(ev.span, f"as of {as_of} is before every event of `{name}` (the first is {_day(src.first)}): "
                                       "every aggregate over it is 0", "score as of a time the data covers (`--as-of`, dbt's `leadlang_as_of`)")
            continue
        windows = [a.window for a in aggregates[name]]
        if any(w is None for w in windows):
            continue
        longest = max(windows, key=lambda w: w.seconds)
        gap = ctx.as_of - src.last
        if gap.total_seconds() > longest.seconds:
            yield ctx.finding(longest.span, f"the last event of `{name}` ({_day(src.last)}) is {gap.days} days before as of {as_of}, "
                                            f"longer than the longest window over it (`{longest.text}`): every aggregate over it is 0",
                              "score as of a time the data covers, or refresh the data")
