"""Syntax tree -> chunks: each declaration, block line and closing brace as a layout `Doc`.

A `Chunk` is one logical line of output (it may wrap) and remembers the source
lines it came from, so `layout` can put every comment back next to it. Written
forms that the tree normalises away but a reader cares about (`1_000`,
`2.50`, `2024-06-01T12:00:00+02:00`, parentheses the author added) are read back
from the source through the nodes' spans.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from leadlang.fmt.doc import Cat
from leadlang.fmt.exprs import Chain, Expressions, decimal, name, points, string
from leadlang.syntax import ast as A

INDENT = 2


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


class Renderer(Expressions):
    """Declarations to chunks, in file order."""

    def __init__(self, text: str, masked: str, comment_lines: set[int], width: int, frozen: set[int] = frozenset()):
        self.text, self.masked, self.width = text, masked, width
        self.comment_lines = comment_lines
        self.frozen = frozen  # lines under `# fmt: off`: copied as they are, so they set no column
        self.chunks: list[Chunk] = []
        self._newlines: list[int] | None = None
        self._comment_lines: list[int] | None = None
        self._runs: dict[int, tuple[int, int]] = {}  # declaration index -> its run of adjacent one-liners
        self._run_pads: dict[tuple[int, int], int] = {}

    def widest(self, items, width) -> int:
        """The widest of `items` by `width`, leaving out those under `# fmt: off`."""
        return max((width(i) for i in items if i.span.line not in self.frozen), default=0)
        self.chunks: list[Chunk] = []

    # ---------------------------------------------------------- helpers --

    def line_of(self, offset: int) -> int:
        if self._newlines is None:  # found once: counting from the start each time is quadratic
            self._newlines = [m.start() for m in re.finditer("\n", self.text)]
        return bisect.bisect_left(self._newlines, offset) + 1

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
        """The widest name in the run of adjacent one-line declarations of this kind around `i`.

        Each run is found and measured once, for all its declarations (one kind, one `width`).
        """
        run = self._runs.get(i)
        if run is None:
            kind = self._kind(decls[i])
            lo = i
            while lo > 0 and self._kind(decls[lo - 1]) == kind and self._adjacent(decls[lo - 1], decls[lo]):
                lo -= 1
            hi = i
            while hi + 1 < len(decls) and self._kind(decls[hi + 1]) == kind and self._adjacent(decls[hi], decls[hi + 1]):
                hi += 1
            run = (lo, hi)
            self._runs.update(dict.fromkeys(range(lo, hi + 1), run))
        if run not in self._run_pads:
            self._run_pads[run] = self.widest(decls[run[0] : run[1] + 1], width)
        return self._run_pads[run]

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
        if self._comment_lines is None:
            self._comment_lines = sorted(self.comment_lines)
        k = bisect.bisect_left(self._comment_lines, d.span.line)  # the first comment at or below the bands
        return not (k < len(self._comment_lines) and self._comment_lines[k] < d.span.end_line)

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
