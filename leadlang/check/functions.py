"""The built-in functions a policy may call, and how a call is typed (E204, E203).

Kept apart on purpose: `leadlang/builtins.py` (one table of built-ins) is to replace it.
"""

from __future__ import annotations

from leadlang.check import types as T
from leadlang.check.types import Type
from leadlang.diagnostics import did_you_mean
from leadlang.syntax import ast as A

# name: (min args, max args or None, how the result type follows from the args)
FUNCTIONS: dict[str, tuple[int, int | None, str]] = {
    "lower": (1, 1, "string"),
    "upper": (1, 1, "string"),
    "trim": (1, 1, "string"),
    "length": (1, 1, "string->int"),
    "domain": (1, 1, "string"),
    "coalesce": (1, None, "common"),
    "days_since": (1, 1, "temporal->int"),
    "abs": (1, 1, "numeric"),
    "least": (2, None, "common"),
    "greatest": (2, None, "common"),
}
AGGREGATES = ("count", "sum", "min", "max", "avg", "first", "last", "active_days", "distinct_leads")


class Calls:
    """The checker's typing of function calls (a part of `check.checker.Checker`)."""

    def _call(self, e: A.Call) -> Type:
        spec = FUNCTIONS.get(e.func)
        args = [self.expr(a) for a in e.args]
        if spec is None:
            hints = did_you_mean(e.func, [*FUNCTIONS, *AGGREGATES])
            self.error("E204", f"unknown function `{e.func}`", e.span, *hints)
            return T.ANY
        low, high, rule = spec
        if len(args) < low or (high is not None and len(args) > high):
            want = f"{low}" if low == high else f"at least {low}"
            self.error("E204", f"`{e.func}` takes {want} argument{'s' if low != 1 or high is None else ''}, not {len(args)}", e.span)
            return T.ANY
        if rule == "string" or rule == "string->int":
            if not args[0].textual:
                self.error("E203", f"`{e.func}` needs a string, not {args[0]}", e.args[0].span)
            return T.INT if rule == "string->int" else T.STRING
        if rule == "temporal->int":
            if not args[0].temporal:
                self.error("E203", f"`{e.func}` needs a date or timestamp, not {args[0]}", e.args[0].span)
            return T.INT
        if rule == "numeric":
            if not args[0].numeric:
                self.error("E203", f"`{e.func}` needs a number, not {args[0]}", e.args[0].span)
            return args[0]
        result = args[0]
        for a, node in zip(args[1:], e.args[1:]):
            merged = T.common(result, a)
            if merged is None:
                self.error("E203", f"`{e.func}` mixes {result} and {a}", node.span)
                return T.ANY
            result = merged
        if any(a.kind in ("list", "bool") for a in args) and e.func != "coalesce":
            self.error("E203", f"`{e.func}` compares numbers, dates or strings", e.span)
        if result.kind == "list":
            self.error("E203", f"`{e.func}` cannot take lists", e.span)
        if result.kind == "label":
            return T.STRING
        return Type(result.kind) if result.values else result
