"""Syntax tree -> chunks: each declaration, block line and closing brace as a layout `Doc`.

A `Chunk` is one logical line of output (it may wrap) and remembers the source
lines it came from, so `layout` can put every comment back next to it. Written
forms that the tree normalises away but a reader cares about (`1_000`,
`2.50`, `2024-06-01T12:00:00+02:00`, parentheses the author added) are read back
from the source through the nodes' spans.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise

from leadlang.fmt.doc import Align, Cat, Fill, Group, Line, join
from leadlang.syntax import ast as A
from leadlang.syntax.parser import KEYWORDS

INDENT = 2
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


@dataclass(eq=False)
class Chunk:
    first: int  # source lines it covers
    last: int
    indent: int
    doc: object
    blank: str = "keep"  # before it: "keep" the source's blank line, "always" or "never"
    opens: bool = False  # ends with `{`: no blank line right after it
    closes: bool = False  # a closing `}`: its leading comments sit one level in
    chain: Chain | None = None
    kind: str | None = None  # one-line declarations of one kind may stay adjacent


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
    text = decimal(abs(d))
    return ("-" if d.is_signed() else "+") + text


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


class Renderer:
    def __init__(self, text: str, masked: str, comment_lines: set[int], width: int, frozen: set[int] = frozenset()):
        self.text, self.masked, self.width = text, masked, width
        self.comment_lines = comment_lines
        self.frozen = frozen  # lines under `# fmt: off`: copied as they are, so they set no column
        self.chunks: list[Chunk] = []

    def widest(self, items, width) -> int:
        """The widest of `items` by `width`, leaving out those under `# fmt: off`."""
        return max((width(i) for i in items if i.span.line not in self.frozen), default=0)
        self.chunks: list[Chunk] = []

    # ---------------------------------------------------------- helpers --

    def line_of(self, offset: int) -> int:
        return self.text.count("\n", 0, offset) + 1

    def find(self, pattern: str, start: int, end: int | None = None) -> int:
        """Offset of the first match of `pattern` in the code (not comments or strings)."""
        m = re.compile(pattern).search(self.masked, start, len(self.masked) if end is None else end)
        return m.start() if m else start

    def emit(self, first: int, last: int, indent: int, doc, **kw) -> Chunk:
        chunk = Chunk(first, last, indent, doc, **kw)
        self.chunks.append(chunk)
        return chunk

    def opener(self, node, indent: int, doc, blank: str, kind=None) -> None:
        brace = self.find(r"\{", node.span.start)
        self.emit(node.span.line, self.line_of(brace), indent, Cat([doc, " {"]), blank=blank, opens=True, kind=kind)

    def closer(self, node, indent: int) -> None:
        self.emit(node.span.end_line, node.span.end_line, indent, "}", blank="never", closes=True)

    def item(self, node, indent: int, doc, chain: Chain | None = None) -> None:
        self.emit(node.span.line, node.span.end_line, indent, doc, chain=chain)

    # ------------------------------------------------------ expressions --

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
            left = e.left
            if isinstance(left, A.Binary) and _LEVEL.get(left.op, 0) in (1, 2) and _LEVEL[left.op] >= _LEVEL[e.op] and not self.parenthesised(left):
                return self.spine(left) + [(e.op, e.right)]
            return [(None, left), (e.op, e.right)]
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

    def module(self, module: A.Module) -> list[Chunk]:
        decls = list(module.decls)
        after_header = False
        for i, d in enumerate(decls):
            if isinstance(d, (A.Version, A.Owner)) and after_header:
                keyword = "version" if isinstance(d, A.Version) else "owner"
                self.emit(d.span.line, d.span.end_line, INDENT, f"{keyword} {string(d.value)}", blank="never")
                continue
            after_header = isinstance(d, A.PolicyHeader)
            self.decl(d, decls, i)
        return self.chunks

    def _kind(self, d) -> str | None:
        if isinstance(d, (A.Let, A.Signal, A.Use, A.DerivedScore, A.Version, A.Owner)):
            return type(d).__name__
        if isinstance(d, A.Bands) and self.one_line_bands(d):
            return "Bands"
        return None

    def _adjacent(self, prev, d) -> bool:
        """No blank line in the source between two declarations."""
        between = self.text[prev.span.end : d.span.start].split("\n")
        return all(line.strip() for line in between[1:-1])

    def _pad(self, decls: list, i: int, width) -> int:
        """The widest name in the run of adjacent one-line declarations of this kind around `i`."""
        kind = self._kind(decls[i])
        lo = i
        while lo > 0 and self._kind(decls[lo - 1]) == kind and self._adjacent(decls[lo - 1], decls[lo]):
            lo -= 1
        hi = i
        while hi + 1 < len(decls) and self._kind(decls[hi + 1]) == kind and self._adjacent(decls[hi], decls[hi + 1]):
            hi += 1
        return self.widest(decls[lo : hi + 1], width)

    def decl(self, d, decls: list, i: int) -> None:
        kind = self._kind(d)
        prev = decls[i - 1] if i else None
        blank = "keep" if kind and prev is not None and self._kind(prev) == kind and self._adjacent(prev, d) else "always"
        if isinstance(d, A.PolicyHeader):
            self.emit(d.span.line, d.span.end_line, 0, f"policy {name(d.name)} {string(d.title)}", blank=blank)
        elif isinstance(d, A.Version):
            self.emit(d.span.line, d.span.end_line, 0, f"version {string(d.value)}", blank=blank, kind=kind)
        elif isinstance(d, A.Owner):
            self.emit(d.span.line, d.span.end_line, 0, f"owner {string(d.value)}", blank=blank, kind=kind)
        elif isinstance(d, A.Use):
            self.emit(d.span.line, d.span.end_line, 0, f"use {string(d.path)}", blank=blank, kind=kind)
        elif isinstance(d, (A.Let, A.Signal)):
            keyword = "let" if isinstance(d, A.Let) else "signal"
            pad = self._pad(decls, i, lambda x: len(name(x.name)))
            doc, chain = self.chain(d.expr)
            head = f"{keyword} {name(d.name).ljust(pad)} = "
            self.emit(d.span.line, d.span.end_line, 0, Cat([head, doc]), blank=blank, chain=chain, kind=kind)
        elif isinstance(d, A.DerivedScore):
            pad = self._pad(decls, i, lambda x: len(self.score_head(x)))
            doc, chain = self.chain(d.expr)
            self.emit(d.span.line, d.span.end_line, 0, Cat([self.score_head(d).ljust(pad), " = ", doc]), blank=blank, chain=chain, kind=kind)
        elif isinstance(d, A.Bands):
            self.bands(d, decls, i, blank)
        elif isinstance(d, A.Leads):
            account = f" account {name(d.account)}" if d.account is not None else ""
            self.opener(d, 0, f"leads from {self.relation(d.relation)} key {name(d.key)}{account}", blank)
            self.fields([(f.span.line, f.span.end_line, name(f.name), self.type_doc(f.type)) for f in d.fields])
            self.closer(d, 0)
        elif isinstance(d, A.Accounts):
            self.opener(d, 0, f"accounts from {self.relation(d.relation)} key {name(d.key)}", blank)
            self.fields([(f.span.line, f.span.end_line, name(f.name), self.type_doc(f.type)) for f in d.fields])
            self.closer(d, 0)
        elif isinstance(d, A.Events):
            self.events(d, blank)
        elif isinstance(d, A.PointsScore):
            self.opener(d, 0, self.score_head(d), blank)
            pad = self.widest(d.rules, lambda r: len(name(r.id)) + 1)
            for r in d.rules:
                doc, chain = self.chain(r.expr)
                rest = [f"{(name(r.id) + ':').ljust(pad)} {points(r.points)} {r.kind} ", doc]
                if r.cap is not None:
                    rest.append(f", max {decimal(r.cap)}")
                self.item(r, INDENT, Cat(rest), chain=chain)
            self.closer(d, 0)
        elif isinstance(d, A.Criteria):
            require = "all" if d.required is None else f"{d.required} of"
            self.opener(d, 0, f"criteria {name(d.name)} require {require}", blank)
            self.members(d.members)
            self.closer(d, 0)
        elif isinstance(d, A.Disqualify):
            self.opener(d, 0, "disqualify", blank)
            self.members(d.gates)
            self.closer(d, 0)
        elif isinstance(d, A.Matrix):
            self.matrix(d, blank)
        elif isinstance(d, A.Classify):
            self.classify(d, blank)
        elif isinstance(d, A.Actions):
            self.opener(d, 0, f"actions {name(d.target)}", blank)
            pad = self.widest(d.actions, lambda a: len(name(a.label)) + 1)
            for a in d.actions:
                settings = [f"{name(s.key)} {self.literal(s.value)}" for s in a.settings]
                head = f"{(name(a.label) + ':').ljust(pad)} "
                self.item(a, INDENT, Cat([head, self.bracketed("", settings, "")]))
            self.closer(d, 0)
        elif isinstance(d, A.Test):
            self.test(d, blank)
        else:  # pragma: no cover
            raise TypeError(f"cannot format {type(d).__name__}")

    def relation(self, r: A.Relation) -> str:
        return f"{r.kind}({', '.join(string(p) for p in r.parts)})"

    def type_doc(self, t: A.TypeRef):
        if t.name == "enum":
            return self.bracketed("enum(", [string(v) for v in t.values], ")")
        return t.name

    def score_head(self, d) -> str:
        clamp = f" clamp {decimal(d.clamp.low)} to {decimal(d.clamp.high)}" if d.clamp else ""
        return f"score {name(d.name)}{clamp}"

    def fields(self, rows: list[tuple[int, int, str, object]]) -> None:
        """Block lines `NAME TYPE` (or an event role `lead COL`), the second column aligned."""
        pad = max((len(r[2]) for r in rows if r[0] not in self.frozen), default=0)
        for first, last, label, doc in sorted(rows, key=lambda r: r[0]):
            self.emit(first, last, INDENT, Cat([label.ljust(pad), "  ", doc]))

    def members(self, members) -> None:
        pad = self.widest(members, lambda m: len(name(m.id)) + 1)
        for m in members:
            doc, chain = self.chain(m.cond)
            self.item(m, INDENT, Cat([f"{(name(m.id) + ':').ljust(pad)} ", doc]), chain=chain)

    def events(self, d: A.Events, blank: str) -> None:
        self.opener(d, 0, f"events {name(d.name)} from {self.relation(d.relation)}", blank)
        rows = [(f.span.line, f.span.end_line, name(f.name), self.type_doc(f.type)) for f in d.fields]
        field_lines = {f.span.line for f in d.fields}
        brace = self.find(r"\{", d.span.start)
        lines = self.masked[brace : d.span.end].split("\n")
        first_line = self.line_of(brace)
        roles = {"lead": d.lead, "at": d.at, "name": d.event_name}
        for n, text in enumerate(lines):
            m = re.match(r"[\s{]*(lead|at|name)\b", text)
            line = first_line + n
            if m and line not in field_lines and roles.get(m.group(1)) is not None:
                rows.append((line, line, m.group(1), name(roles.pop(m.group(1)))))
        for role, column in roles.items():  # pragma: no cover - the scan above finds every role
            if column is not None:
                rows.append((d.span.line, d.span.line, role, name(column)))
        self.fields(rows)
        self.closer(d, 0)

    def one_line_bands(self, d: A.Bands) -> bool:
        """Bands stay on one line unless a comment sits among them."""
        return not any(d.span.line <= line < d.span.end_line for line in self.comment_lines)

    def band(self, b: A.Band) -> str:
        return f"{name(b.label)} otherwise" if b.threshold is None else f"{name(b.label)} >= {decimal(b.threshold)}"

    def bands(self, d: A.Bands, decls: list, i: int, blank: str) -> None:
        head = f"bands {name(d.score)}"
        text = ", ".join(self.band(b) for b in d.bands)
        if self.one_line_bands(d) and len(head) + len(text) + 6 <= self.width:
            pad = self._pad(decls, i, lambda x: len(name(x.score)) + 6)
            self.emit(d.span.line, d.span.end_line, 0, f"{head.ljust(pad)} {{ {text} }}", blank=blank, kind="Bands")
            return
        self.opener(d, 0, head, blank)
        for b in d.bands:
            self.item(b, INDENT, self.band(b))
        self.closer(d, 0)

    def matrix(self, d: A.Matrix, blank: str) -> None:
        self.opener(d, 0, f"matrix {name(d.name)}: {name(d.rows_score)} by {name(d.cols_score)}", blank)
        rows = [("", [name(c) for c in d.columns], d.header_span)] + [(name(r.band), [name(c) for c in r.cells], r.span) for r in d.rows]
        label_width = max((len(r[0]) for r in rows if r[2].line not in self.frozen), default=0)
        widths: list[int] = []
        for _, cells, span in rows:
            for k, cell in enumerate(cells):
                if k == len(widths):
                    widths.append(0)
                if span.line not in self.frozen:
                    widths[k] = max(widths[k], len(cell))
        for label, cells, span in rows:
            parts = [label.ljust(label_width)] + [cell.ljust(widths[k]) for k, cell in enumerate(cells)]
            self.emit(span.line, span.end_line, INDENT, " | ".join(parts).rstrip())
        self.closer(d, 0)

    def classify(self, d: A.Classify, blank: str) -> None:
        self.opener(d, 0, f"classify {name(d.name)}", blank)
        pad = self.widest(d.branches, lambda b: len(name(b.label)))
        for b in d.branches:
            doc, chain = self.chain(b.cond)
            self.item(b, INDENT, Cat([f"{name(b.label).ljust(pad)} when ", doc]), chain=chain)
        start = d.branches[-1].span.end if d.branches else self.find(r"\{", d.span.start)
        line = self.line_of(self.find(r"\botherwise\b", start, d.span.end))
        self.emit(line, line, INDENT, f"otherwise {name(d.otherwise)}")
        self.closer(d, 0)

    # ------------------------------------------------------------ tests --

    def test(self, d: A.Test, blank: str) -> None:
        self.opener(d, 0, f"test {string(d.name)}", blank)
        for item in d.items:
            if isinstance(item, A.TestAsOf):
                self.item(item, INDENT, f"as of {self.moment(item.span, item.at)}")
            elif isinstance(item, A.TestRow):
                self.pairs_block(item, item.kind, item.pairs)
            elif isinstance(item, A.TestEvents):
                self.opener(item, INDENT, name(item.source), "keep")
                for line in item.lines:
                    self.item(line, 2 * INDENT, self.event_line(line))
                self.closer(item, INDENT)
            elif isinstance(item, A.Expect):
                doc, chain = self.chain(item.expr)
                self.item(item, INDENT, Cat(["expect ", doc]), chain=chain)
            elif isinstance(item, A.ExpectFired):
                self.item(item, INDENT, f"expect {'not ' if item.negated else ''}fired {name(item.component)}.{name(item.rule)}")
            elif isinstance(item, A.ExpectBecause):
                self.item(item, INDENT, f"expect disqualified because {name(item.gate)}")
        self.closer(d, 0)

    def pair(self, p: A.Pair) -> str:
        return f"{name(p.key)}: {self.literal(p.value)}"

    def event_line(self, e: A.EventLine):
        when = f"{e.ago.text} ago" if e.ago is not None else f"at {self.moment(self._after_name(e), e.at)}"
        parts = [f"{string(e.name)} {when}"]
        if e.times != 1:
            parts.append(f" x {e.times}")
        if e.pairs:
            parts += [" { ", ", ".join(self.pair(p) for p in e.pairs), " }"]
        return "".join(parts)

    def _after_name(self, e: A.EventLine) -> A.Span:
        start = self.find(r'"', e.span.start) + 1
        start = self.find(r'"', start) + 1
        return A.Span(e.span.file, e.span.line, 0, e.span.end_line, 0, start, e.span.end)

    def pairs_block(self, row: A.TestRow, keyword: str, pairs) -> None:
        """`lead { a: 1, b: 2 }` on one line, or one line per source line of pairs."""
        one_line = f"{keyword} {{ {', '.join(self.pair(p) for p in pairs)} }}" if pairs else f"{keyword} {{}}"
        if row.span.line == row.span.end_line and INDENT + len(one_line) <= self.width:
            self.item(row, INDENT, one_line)
            return
        self.opener(row, INDENT, keyword, "keep")
        groups: list[list[A.Pair]] = []
        if row.span.line == row.span.end_line:
            groups = [list(pairs)]
        else:
            for p in pairs:
                if groups and groups[-1][-1].span.end_line == p.span.line:
                    groups[-1].append(p)
                else:
                    groups.append([p])
        for k, group in enumerate(groups):
            items = [self.pair(p) for p in group]
            last = k == len(groups) - 1
            doc = self.bracketed("", items, "" if last else ",")
            self.emit(group[0].span.line, group[-1].span.end_line, 2 * INDENT, doc)
        self.closer(row, INDENT)
