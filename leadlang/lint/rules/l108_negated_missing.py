"""L108: a negated comparison on a value that can be missing."""

from leadlang.lint.registry import rule
from leadlang.lint.rules import source_text
from leadlang.syntax import ast as A

_POSITIVE = (A.Binary, A.InList, A.Between, A.TextTest)


@rule("L108", "negated-missing", "hint")
def check(ctx):
    """A negated comparison (`!=`, `not in`, `not (...)`) on a value that can be missing.

    ## What it does
    Flags `x != "a"`, `x not in [...]` and `not (x ...)` where `x` can be
    missing (a lead or account field, `domain(...)`, `min`/`max`/`last` of
    events, a signal built on them), unless the same condition already says
    what happens when it is missing (`x is missing or ...`,
    `x is present and ...`, `coalesce`).

    ## Why it matters
    leadlang follows SQL's three-valued logic: a comparison with a missing
    value is unknown, and so is its negation, and an unknown condition does not
    fire. `country != "US"` therefore does *not* fire for a lead whose country
    is missing, which readers often expect it to. Saying it explicitly removes
    the doubt.

    ## Example
    ```lead
    score fit {
      international: +10 when country != "US"
    }
    ```

    ## Instead
    ```lead
    score fit {
      international: +10 when country is missing or country != "US"
    }
    ```
    """
    a = ctx.analysis
    policy = ctx.policy
    roots = [cond for _, _, cond, _ in a.conditions] + [s.expr for s in policy.signals.values()]
    for root in roots:
        guarded = {a.canon(n.operand) for n in _nodes(root) if isinstance(n, A.IsMissing)}
        for n in _nodes(root):
            subject = None
            if isinstance(n, A.Binary) and n.op == "!=":
                if a.const(n.right) is not None:
                    subject = n.left
                elif a.const(n.left) is not None:
                    subject = n.right
            elif isinstance(n, A.InList) and n.negated:
                subject = n.operand
            elif isinstance(n, A.Unary) and n.op == "not" and isinstance(n.operand, _POSITIVE):
                inner = n.operand
                subject = inner.left if isinstance(inner, A.Binary) and inner.op not in ("and", "or") else getattr(inner, "operand", None)
            if subject is None or not a.maybe_missing(subject) or a.canon(subject) in guarded:
                continue
            name, text = source_text(policy, subject), source_text(policy, n)
            yield ctx.finding(n.span, f"`{text}` is not true when `{name}` is missing",
                              f"if a missing `{name}` should count, write `{name} is missing or {text}`; to exclude it, `{name} is present and {text}`")


def _nodes(e):
    """The expression nodes of a condition, not descending into aggregates' `where`."""
    stack = [e]
    while stack:
        n = stack.pop()
        yield n
        if isinstance(n, A.Aggregate):
            continue
        for child in (getattr(n, f, None) for f in ("left", "right", "operand", "items", "low", "high", "arg")):
            if child is not None and not isinstance(child, (str, bool, tuple)):
                stack.append(child)
        if isinstance(n, A.Call):
            stack.extend(n.args)
