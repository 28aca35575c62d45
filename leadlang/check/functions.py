"""How a call of a built-in function is typed (E204, E203), by its entry in `leadlang/builtins.py`."""

from __future__ import annotations

from leadlang.aggregates import AGGREGATES
from leadlang.builtins import BUILTINS
from leadlang.check import types as T
from leadlang.check.types import Type
from leadlang.diagnostics import did_you_mean
from leadlang.syntax import ast as A



class Calls:
    """The checker's typing of function calls (a part of `check.checker.Checker`)."""

    def _call(self, e: A.Call) -> Type:
        """A built-in function, typed by its entry in leadlang/builtins.py."""
        fn = BUILTINS.get(e.func)
        args = [self.expr(a) for a in e.args]
        if fn is None:
            hints = did_you_mean(e.func, [*BUILTINS, *AGGREGATES])
            self.error("E204", f"unknown function `{e.func}`", e.span, *hints)
            return T.ANY
        low, high = fn.min_args, fn.max_args
        if len(args) < low or (high is not None and len(args) > high):
            want = f"{low}" if low == high else f"at least {low}"
            self.error("E204", f"`{e.func}` takes {want} argument{'s' if low != 1 or high is None else ''}, not {len(args)}", e.span)
            return T.ANY
        if fn.takes is not None:
            if not getattr(args[0], fn.takes.test):
                self.error("E203", f"`{e.func}` needs {fn.takes.says}, not {args[0]}", e.args[0].span)
            return args[0] if fn.returns is None else T.SCALARS[fn.returns]
        result = args[0]
        for a, node in zip(args[1:], e.args[1:]):
            merged = T.common(result, a)
            if merged is None:
                self.error("E203", f"`{e.func}` mixes {result} and {a}", node.span)
                return T.ANY
            result = merged
        if fn.compares and any(a.kind in ("list", "bool") for a in args):
            self.error("E203", f"`{e.func}` compares numbers, dates or strings", e.span)
        if result.kind == "list":
            self.error("E203", f"`{e.func}` cannot take lists", e.span)
        if result.kind == "label":
            return T.STRING
        return Type(result.kind) if result.values else result
