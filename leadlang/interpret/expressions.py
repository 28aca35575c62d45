"""The interpreter's expressions, each compiled into a closure: over a `LeadState`, or over one
event tuple inside a `where` (`_compile(e, event=source)`). One `_c_<Node>` per expression node."""

from __future__ import annotations

import operator
import re
from typing import Callable

from leadlang.builtins import BUILTINS, FIRST_PRESENT, as_timestamp
from leadlang.interpret import values as V
from leadlang.interpret.aggregates import event_getter
from leadlang.syntax import ast as A

_PLAIN = ("string", "int", "number", "bool", "label")  # kinds compared as Python compares them (no date/timestamp mix)
_OPS = {"=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


class Expressions:
    """`Interpreter`'s part compiling expressions (`_compile`); aggregates are `Aggregates`'."""

    def _compile(self, e: A.Expr, event: str | bool) -> Callable:
        """A closure computing `e`: over a `LeadState`, or with `event` (the name of an events source), over
        one of its event tuples (a `where` condition, where the event's own columns are in scope)."""
        return getattr(self, "_c_" + type(e).__name__)(e, event)

    def _c_Literal(self, e: A.Literal, event: str | bool):
        value = e.value
        return lambda s: value

    def _c_ListLit(self, e: A.ListLit, event: str | bool):
        value = tuple(i.value for i in e.items)
        return lambda s: value

    def _c_Name(self, e: A.Name, event: str | bool):
        n, lets = e.name, self.policy.let_values
        if event:  # the event's own column wins, as the checker resolves it; then a `let`
            positions = self._positions[event]
            if n in positions:
                return event_getter(positions, n)
            value = lets.get(n)
            return lambda ev: value
        if n in lets:
            value = lets[n]
            return lambda s: value
        kind = self.policy.refs[id(e)].kind if id(e) in self.policy.refs else None
        if kind in ("signal", "score"):  # computed by an earlier step
            return lambda s: s.values.get(n)
        if kind == "lead_field" and n not in self._computed:  # no step computes a value of that name
            return lambda s: s.row.get(n)

        def name(s):
            values = s.values
            return values[n] if n in values else s.row.get(n)
        return name

    def _c_Attr(self, e: A.Attr, event: str | bool):
        if event:
            return lambda ev: None  # no criteria and no account inside `where`
        key, attr = (e.base, e.attr), e.attr

        def attr_(s):
            if key in s.members:
                return s.members[key]
            account = s.account
            return None if account is None else account.get(attr)
        return attr_

    def _c_Disqualified(self, e: A.Disqualified, event: str | bool):
        return lambda s: s.values["disqualified"]

    def _c_Unary(self, e: A.Unary, event: str | bool):
        f = self._compile(e.operand, event)
        if e.op == "not":
            return lambda s: None if (v := f(s)) is None else not v
        return lambda s: None if (v := f(s)) is None else -v

    def _c_Binary(self, e: A.Binary, event: str | bool):
        op, left, right = e.op, self._compile(e.left, event), self._compile(e.right, event)
        if op == "and":
            def and_(s):
                a = left(s)
                return False if a is False else V.logic_and(a, right(s))
            return and_
        if op == "or":
            def or_(s):
                a = left(s)
                return True if a is True else V.logic_or(a, right(s))
            return or_
        if op in ("+", "-", "*", "/"):
            arith = V.ARITHMETIC[op]

            def arithmetic(s):
                try:
                    return arith(left(s), right(s))
                except V.OutOfRange as err:
                    raise self._out_of_range(e, self._key(s), err) from None
            return arithmetic
        if self._plain(e.left) and self._plain(e.right):  # no date among timestamps: Python compares them as they are
            cmp = _OPS[op]
            if isinstance(e.right, A.Literal) and e.right.value is not None:  # `x >= 3`: the constant once
                const = e.right.value
                return lambda s: None if (a := left(s)) is None else cmp(a, const)

            def compare_plain(s):
                a, b = left(s), right(s)
                return None if a is None or b is None else cmp(a, b)
            return compare_plain
        compare = V.compare
        return lambda s: compare(op, left(s), right(s))

    def _plain(self, e: A.Expr) -> bool:
        t = self.policy.types.get(id(e))
        return t is not None and t.kind in _PLAIN

    def _c_InList(self, e: A.InList, event: str | bool):
        f, items, negated = self._compile(e.operand, event), self._compile(e.items, event), e.negated
        fixed = isinstance(e.items, A.ListLit) or (isinstance(e.items, A.Name) and e.items.name in self.policy.let_values and not event)
        if fixed:
            values = items(None)
            if values is not None and all(type(i) is str for i in values):  # text: `=` is membership
                members = frozenset(values)
                return lambda s: None if (v := f(s)) is None else (v in members) != negated
        compare = V.compare

        def in_list(s):
            v, found_in = f(s), items(s)
            if v is None or found_in is None:
                return None
            return any(compare("=", v, i) for i in found_in) != negated
        return in_list

    def _c_Between(self, e: A.Between, event: str | bool):
        f, low, high = self._compile(e.operand, event), self._compile(e.low, event), self._compile(e.high, event)
        compare, both = V.compare, V.logic_and

        def between(s):
            v = f(s)
            return both(compare(">=", v, low(s)), compare("<=", v, high(s)))
        return between

    def _c_TextTest(self, e: A.TextTest, event: str | bool):
        f, arg, op = self._compile(e.operand, event), self._compile(e.arg, event), e.op
        if op == "contains":
            test = lambda text, a: a in text  # noqa: E731
        elif op == "contains_any":
            test = lambda text, a: any(x in text for x in a)  # noqa: E731
        elif op == "starts_with":
            test = str.startswith
        elif op == "ends_with":
            test = str.endswith
        else:
            regex = self._regex

            def test(text, a):
                rx = regex.get(a)
                if rx is None:
                    rx = regex[a] = re.compile(a)
                return rx.search(text) is not None

        def text_test(s):
            text, a = f(s), arg(s)
            return None if text is None or a is None else test(text, a)
        return text_test

    def _c_IsMissing(self, e: A.IsMissing, event: str | bool):
        f, negated = self._compile(e.operand, event), e.negated
        return lambda s: (f(s) is None) != negated

    def _c_IsLabel(self, e: A.IsLabel, event: str | bool):
        which, label, negated = self.policy.ref(e).column, e.label, e.negated
        return lambda s: (s.values.get(which) == label) != negated

    def _c_Call(self, e: A.Call, event: str | bool):
        """A built-in function (leadlang/builtins.py) with its null behaviour."""
        fn, args = BUILTINS[e.func], [self._compile(a, event) for a in e.args]
        if fn.takes is None:  # one common type: a date among timestamps is its midnight UTC, as in SQL
            kinds = [getattr(self.policy.types.get(id(a)), "kind", None) for a in e.args]
            if "date" in kinds and "timestamp" in kinds:
                args = [(lambda f: lambda s: as_timestamp(f(s)))(a) if k == "date" else a for a, k in zip(args, kinds)]
        if fn.nulls == FIRST_PRESENT:
            def first_present(s):
                for a in args:
                    v = a(s)
                    if v is not None:
                        return v
                return None
            return first_present
        impl, as_of = fn.python, self.as_of
        if len(args) == 1:  # the common case, without building a list per call
            (arg,) = args
            if fn.as_of:
                def call_one_at(s):
                    x = arg(s)
                    return None if x is None else impl(x, as_of)
                return call_one_at

            def call_one(s):
                x = arg(s)
                return None if x is None else impl(x)
            return call_one

        def call(s):
            values = [a(s) for a in args]
            if None in values:  # a function of a missing value is missing
                return None
            return impl(*values, as_of) if fn.as_of else impl(*values)
        return call
