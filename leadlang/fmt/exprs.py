"""Expressions and literals as layout `Doc`s, with the parentheses their meaning needs.

Precedence follows LANGUAGE.md §5 (lowest first): `or`, `and`, `not`,
comparisons, `+ -`, `* /`, unary `-`, atoms. A sub-expression gets
parentheses when its operator binds looser than its place requires, or when
the author wrote them around a compound expression (they are read back from
the source, since the tree does not keep them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise

from leadlang.fmt.doc import Align, Cat, Fill, Group, Line, join
from leadlang.syntax import ast as A
from leadlang.syntax.grammar import KEYWORDS

_NUMBER = re.compile(r"-?\d[\d_]*(\.\d+)?")
_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?")
_TEXT_OPS = {"contains": "contains", "contains_any": "contains any", "starts_with": "starts with", "ends_with": "ends with", "matches": "matches"}
_LEVEL = {"or": 1, "and": 2, "=": 4, "!=": 4, "<": 4, "<=": 4, ">": 4, ">=": 4, "+": 5, "-": 5, "*": 6, "/": 6}
_ATOM = 8


@dataclass(eq=False)
class Chain:
    """The top-level `and`/`or` chain of a condition: where its comments can go."""

    group: Group
    operands: list[tuple[int, int]]  # source lines of each operand
    slots: list[Cat]  # after each operand, for a trailing comment


def name(n: str) -> str:
    return f"`{n}`" if isinstance(n, A.QuotedName) else n


def string(s: str) -> str:
    out = ['"']
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif not ch.isprintable() and ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def decimal(d: Decimal) -> str:
    return format(d, "f")


def points(d: Decimal) -> str:
    text = decimal(d.copy_abs())  # exact: abs() would round to the context's precision
    return ("-" if d.is_signed() else "+") + text


def _balanced(text: str, start: int, end: int) -> bool:
    """Are the brackets of `text[start:end]` balanced (not `a) and (b`)?"""
    depth = 0
    for ch in text[start:end]:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                return False
    return True


def _level(e) -> int:
    if isinstance(e, A.Binary):
        return _LEVEL[e.op]
    if isinstance(e, A.Unary):
        return 3 if e.op == "not" else 7
    if isinstance(e, (A.InList, A.Between, A.TextTest, A.IsMissing, A.IsLabel)):
        return 4
    if isinstance(e, A.Literal) and e.kind in ("int", "number") and e.value < 0:
        return 7
    return _ATOM


class Expressions:
    """Renders expressions; needs `text` (the source) and `masked` (its code only)."""

    text: str
    masked: str

    def parenthesised(self, e) -> bool:
        """Did the author write `( )` right around this node (not a call's parentheses)?"""
        span = getattr(e, "span", A.NOWHERE)
        if span is A.NOWHERE or span.end <= span.start:
            return False
        i = span.start - 1
        while i >= 0 and self.masked[i] in " \t\r\n\f\\":
            i -= 1
        if i < 0 or self.masked[i] != "(":
            return False
        j = span.end
        while j < len(self.masked) and self.masked[j] in " \t\r\n\f\\":
            j += 1
        if j >= len(self.masked) or self.masked[j] != ")":
            return False
        if not _balanced(self.masked, span.start, span.end):
            return False  # `(a) and (b)`: a chain's inner node (`_chain` in syntax/transform_exprs.py) between two operands' parentheses
        k = i - 1
        while k >= 0 and self.masked[k] in " \t\r\n\f\\":
            k -= 1
        if k < 0 or self.masked[k] == "`":
            return k < 0
        if self.masked[k].isalnum() or self.masked[k] == "_":
            m = re.search(r"[A-Za-z0-9_]+$", self.masked[: k + 1])
            return m is not None and m.group() in KEYWORDS
        return True

    def sub(self, e, need: int):
        doc = self.expr(e)
        if _level(e) < need or (_level(e) < _ATOM and self.parenthesised(e)):
            return Cat(["(", Align(doc), ")"])
        return doc

    def spine(self, e) -> list[tuple[str | None, object]]:
        """`a and b or c` as [(None, a), ("and", b), ("or", c)]: the chain down its left side.

        Going left, `and` may sit under `or` without parentheses (it binds
        tighter), so one chain can hold both and still read top to bottom.
        """
        if isinstance(e, A.Binary) and e.op in ("and", "or"):
            left, right = e.left, e.right
            if isinstance(left, A.Binary) and _LEVEL.get(left.op, 0) in (1, 2) and _LEVEL[left.op] >= _LEVEL[e.op] and not self.parenthesised(left):
                head = self.spine(left)
            else:
                head = [(None, left)]
            # the parser keeps a long chain balanced, ((a and b) and (c and d)): its right half reads on
            if isinstance(right, A.Binary) and right.op == e.op and not self.parenthesised(right):
                (_, first), *rest = self.spine(right)
                return head + [(e.op, first), *rest]
            return head + [(e.op, right)]
        return [(None, e)]

    def chain(self, e, top: bool = True) -> tuple[object, Chain | None]:
        """A condition, with its `and`/`or` chain breakable before each operator.

        The top-level chain keeps the author's choice to break it (a newline
        between two operands); a nested one breaks only when the line is full.
        """
        if not (isinstance(e, A.Binary) and e.op in ("and", "or")):
            return self.expr(e), None
        operands = self.spine(e)
        parts: list = []
        slots: list[Cat] = []
        for i, (op, operand) in enumerate(operands):
            if op is None:
                parts.append(self.sub(operand, _LEVEL[operands[1][0]]))
            else:
                parts += [Line(), op, " ", self.sub(operand, _LEVEL[op] + 1)]
            slots.append(Cat())
            parts.append(slots[-1])
        lines = [(o.span.line, o.span.end_line) for _, o in operands]
        broken = top and any(a[1] < b[0] for a, b in pairwise(lines))
        group = Group(Cat(parts), brk=broken)
        return Align(group), Chain(group, lines, slots)

    def expr(self, e):
        if isinstance(e, A.Binary):
            if e.op in ("and", "or"):
                return self.chain(e, top=False)[0]
            need = _LEVEL[e.op]
            left, right = (need, need) if need == 4 else (need, need + 1)
            return Cat([self.sub(e.left, left), f" {e.op} ", self.sub(e.right, right)])
        if isinstance(e, A.Unary):
            if e.op == "not":
                return Cat(["not ", self.sub(e.operand, 3)])
            inner = self.sub(e.operand, 7)
            negative = isinstance(e.operand, A.Unary) or (isinstance(e.operand, A.Literal) and _level(e.operand) == 7)
            return Cat(["- " if negative and not self.parenthesised(e.operand) else "-", inner])
        if isinstance(e, A.InList):
            return Cat([self.sub(e.operand, 5), " not in " if e.negated else " in ", self.sub(e.items, 5)])
        if isinstance(e, A.Between):
            return Cat([self.sub(e.operand, 5), " between ", self.sub(e.low, 5), " and ", self.sub(e.high, 5)])
        if isinstance(e, A.TextTest):
            return Cat([self.sub(e.operand, 5), f" {_TEXT_OPS[e.op]} ", self.sub(e.arg, 5)])
        if isinstance(e, A.IsMissing):
            return Cat([self.sub(e.operand, 5), " is present" if e.negated else " is missing"])
        if isinstance(e, A.IsLabel):
            return Cat([self.sub(e.operand, 5), " is not " if e.negated else " is ", name(e.label)])
        if isinstance(e, A.Literal):
            return self.literal(e)
        if isinstance(e, A.ListLit):
            return self.bracketed("[", [self.expr(i) for i in e.items], "]")
        if isinstance(e, A.Name):
            return name(e.name)
        if isinstance(e, A.Attr):
            return f"{name(e.base)}.{name(e.attr)}"
        if isinstance(e, A.Disqualified):
            return "disqualified"
        if isinstance(e, A.Call):
            return self.bracketed(f"{name(e.func)}(", [self.expr(a) for a in e.args], ")")
        if isinstance(e, A.Aggregate):
            return self.aggregate(e)
        raise TypeError(f"cannot format {type(e).__name__}")  # pragma: no cover

    def bracketed(self, open_: str, items: list, close: str, sep: str = ",") -> Cat:
        parts: list = []
        for i, item in enumerate(items):
            if i:
                parts.append(Line())
            parts.append(Cat([item, sep]) if i < len(items) - 1 else item)
        return Cat([open_, Align(Fill(parts)), close])

    def aggregate(self, e: A.Aggregate) -> Cat:
        clauses: list = [name(e.source) + (f".{name(e.column)}" if e.column is not None else "")]
        if e.names is not None:
            clauses.append(string(e.names[0]) if len(e.names) == 1 else self.bracketed("[", [string(n) for n in e.names], "]"))
        if e.where is not None:
            clauses.append(Cat(["where ", Align(self.expr(e.where))]))
        if e.window is not None:
            clauses.append(f"in last {e.window.text}")
        if e.half_life is not None:
            clauses.append(f"half-life {e.half_life.text}")
        if e.by_account:
            clauses.append("by account")
        return Cat([f"{e.func}(", Align(Fill(list(join(Line(), clauses).parts))), ")"])

    def source_text(self, span: A.Span) -> str:
        return self.text[span.start : span.end] if span is not A.NOWHERE else ""

    def literal(self, lit: A.Literal | None) -> str:
        if lit is None:
            return "missing"
        if lit.kind == "string":
            return string(lit.value)
        if lit.kind == "bool":
            return "true" if lit.value else "false"
        if lit.kind == "date":
            return lit.value.isoformat()
        if lit.kind in ("int", "number"):
            written = re.sub(r"\s+", "", self.source_text(lit.span))
            if _NUMBER.fullmatch(written) and ("." in written) == (lit.kind == "number"):
                number = Decimal(written.replace("_", ""))
                if number == lit.value:
                    return written
            text = str(lit.value) if lit.kind == "int" else decimal(lit.value)
            return text if lit.kind == "int" or "." in text else text + ".0"
        if lit.kind == "timestamp":
            written = self.source_text(lit.span).strip()
            if _MOMENT.fullmatch(written) and "T" in written:
                return written
            return lit.value.strftime("%Y-%m-%dT%H:%M:%S") + (f".{lit.value.microsecond:06d}" if lit.value.microsecond else "") + "Z"
        raise TypeError(f"cannot format a {lit.kind} literal")  # pragma: no cover

    def moment(self, span: A.Span, value) -> str:
        """The written form of a timestamp or date inside `span` (after its first token)."""
        m = _MOMENT.search(self.masked, span.start, span.end)
        if m:
            return self.text[m.start() : m.end()]
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")  # pragma: no cover

    # ---------------------------------------------------- declarations --
