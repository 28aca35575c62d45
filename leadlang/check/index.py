"""Every occurrence of every declared name, with its span: the checker's last phase (`Policy.occurrences`).

Expression names were resolved while typing (`Policy.refs`); this phase resolves the names written
as bare words elsewhere — `bands SCORE`, a matrix's scores and band labels, `actions TARGET` and
its labels, `expect fired X.rule`, `expect ... because GATE`, a test's events source and field
names, an aggregate's source and column, the strings compared with a label — into `Policy.named`,
and records every occurrence (declarations included) of every name, in every `use`d file, with
the span of the characters that spell it. It runs on a policy without errors, so every name it
meets is declared.
"""

from __future__ import annotations

import re
from bisect import bisect_right

from leadlang.check.policy import Occurrence, Ref, band_column
from leadlang.span import Span
from leadlang.syntax import ast as A

_TOKEN = re.compile(r'#[^\n]*|"(?:\\.|[^"\\\n])*"|`[^`\n]+`|[A-Za-z_][A-Za-z0-9_]*')


class _Tokens:
    """The names written in one node's text (strings and comments skipped), read on demand, each with its span."""

    def __init__(self, text: str, span: Span, lines: list[int]):
        self.text, self.file, self.lines = text, span.file, lines
        self.pos, self.end, self.last = span.start, span.end, None

    def next(self, name: str, after: str | None = None) -> Span:
        """The span of the next written `name` (the word right after `after`, if given), from the cursor on."""
        for m in _TOKEN.finditer(self.text, self.pos, self.end):
            word = m.group()
            if word[0] in '#"':
                continue
            previous, self.last = self.last, word
            if _spelled(word) == name and (after is None or previous == after):
                self.pos = m.end()
                return self.span(m.start(), m.end())
        raise LookupError(name)  # the parser wrote the node from these words: never reached

    def span(self, start: int, end: int) -> Span:
        line, end_line = bisect_right(self.lines, start), bisect_right(self.lines, end)
        return Span(self.file, line, start - self.lines[line - 1] + 1, end_line, end - self.lines[end_line - 1] + 1, start, end)


def _spelled(word: str) -> str:
    return word[1:-1] if word.startswith("`") else word


def _head(span: Span, length: int, text: str) -> Span:
    """The first `length` characters of a name's span, after its backtick if quoted (`ucc` of `ucc_met`)."""
    skip = 1 if text[span.start:span.start + 1] == "`" else 0
    return Span(span.file, span.line, span.column + skip, span.line, span.column + skip + length, span.start + skip, span.start + skip + length)


class Index:
    """The checker's index of names (a part of `check.checker.Checker`)."""

    def _index(self) -> tuple[dict, dict]:
        """(`named`: (id(node), field) -> Ref for the bare-word references; occurrences: (kind, name) -> every one)."""
        self.named: dict[tuple[int, str], Ref] = {}
        self.occurs: dict[tuple[str, str], list[Occurrence]] = {}
        self.line_starts = {path: [0, *(m.end() for m in re.finditer("\n", text))] for path, text in self.texts.items()}
        for module in (self.main, *self.used):
            text = self._file_text(module)
            for decl in module.decls:
                self._index_decl(decl, text)
        self._expressions()
        files = {m.path: i for i, m in enumerate((self.main, *self.used))}
        return self.named, {k: tuple(sorted(v, key=lambda o: (files[o.span.file], o.span.start))) for k, v in self.occurs.items()}

    def _words(self, text: str, span: Span) -> _Tokens:
        return _Tokens(text, span, self._lines)

    def occur(self, kind: str, name: str, span: Span, declaration: bool = False) -> None:
        self.occurs.setdefault((kind, name), []).append(Occurrence(kind, name, span, declaration))

    def _bare(self, node: A.Node, field: str, ref: Ref, span: Span, kind: str | None = None, name: str | None = None) -> None:
        """A bare-word reference: what it refers to, and its occurrence."""
        self.named[(id(node), field)] = ref
        self.occur(kind or ref.kind, name or ref.name, span)

    # ------------------------------------------------------------ declarations --
    def _index_decl(self, d: A.Decl, text: str) -> None:
        words = self._words(text, d.span)
        if isinstance(d, A.Leads):
            self.occur("lead_field", d.key, words.next(d.key, after="key"), True)
            if d.account:
                self.occur("lead_field", d.account, words.next(d.account, after="account"), True)
            self._declared_fields(d.fields, "lead_field", "", text)
        elif isinstance(d, A.Accounts):
            self.occur("account_field", d.key, words.next(d.key, after="key"), True)
            self._declared_fields(d.fields, "account_field", "", text)
        elif isinstance(d, A.Events):
            self.occur("events", d.name, words.next(d.name), True)
            for role, column in (("lead", d.lead), ("at", d.at), ("name", d.event_name)):
                if column is not None:
                    self.occur("event_column", f"{d.name}.{column}", self._words(text, d.span).next(column, after=role), True)
            self._declared_fields(d.fields, "event_column", f"{d.name}.", text)
        elif isinstance(d, (A.Let, A.Signal, A.PointsScore, A.DerivedScore, A.Criteria, A.Matrix, A.Classify)):
            kind = {A.Let: "let", A.Signal: "signal", A.Criteria: "criteria", A.Matrix: "classification",
                    A.Classify: "classification"}.get(type(d), "score")
            self.occur(kind, d.name, words.next(d.name), True)
            if isinstance(d, A.Matrix):
                self._matrix(d, words)
            elif isinstance(d, A.Classify):
                for b in d.branches:
                    self.occur("label", f"{d.name}.{b.label}", self._words(text, b.span).next(b.label), True)
                self.occur("label", f"{d.name}.{d.otherwise}", words.next(d.otherwise, after="otherwise"), True)
            for item, what in ((getattr(d, "rules", ()), "rule"), (getattr(d, "members", ()), "member")):
                for r in item:
                    self.occur(what, f"{d.name}.{r.id}", self._words(text, r.span).next(r.id), True)
        elif isinstance(d, A.Disqualify):
            for g in d.gates:
                self.occur("gate", f"disqualify.{g.id}", self._words(text, g.span).next(g.id), True)
        elif isinstance(d, A.Bands):
            self._bare(d, "score", Ref("score", d.score, d.score), words.next(d.score))
            for b in d.bands:
                self.occur("label", f"{d.score}.{b.label}", self._words(text, b.span).next(b.label), True)
        elif isinstance(d, A.Actions):
            target = d.target
            self._bare(d, "target", Ref("classification", target, target), words.next(target))
            for act in d.actions:
                self._bare(act, "label", Ref("label", target, target, act.label), self._words(text, act.span).next(act.label),
                           name=f"{target}.{act.label}")
        elif isinstance(d, A.Test):
            self._test_names(d, text)

    def _declared_fields(self, fields, kind: str, prefix: str, text: str) -> None:
        for f in fields:
            self.occur(kind, prefix + f.name, self._words(text, f.span).next(f.name), True)

    def _matrix(self, m: A.Matrix, words: _Tokens) -> None:
        for field, score in (("rows_score", m.rows_score), ("cols_score", m.cols_score)):
            self._bare(m, field, Ref("score", score, score), words.next(score))
        for i, label in enumerate(m.columns):
            self._band_label(m, f"columns[{i}]", m.cols_score, label, words.next(label))
        for row in m.rows:
            self._band_label(row, "band", m.rows_score, row.band, words.next(row.band))
            for cell in row.cells:
                self.occur("label", f"{m.name}.{cell}", words.next(cell), True)

    def _band_label(self, node, field: str, score: str, label: str, span: Span) -> None:
        self._bare(node, field, Ref("label", score, band_column(score), label), span, name=f"{score}.{label}")

    # ------------------------------------------------------------------ tests --
    def _test_names(self, t: A.Test, text: str) -> None:
        account_fields = "account_field" if self.accounts is not None else None
        for item in t.items:
            if isinstance(item, A.TestRow):
                kind = "lead_field" if item.kind == "lead" else account_fields
                for p in item.pairs:
                    self._bare(p, "key", Ref(kind, p.key), self._words(text, p.span).next(p.key))
            elif isinstance(item, A.TestEvents):
                self._bare(item, "source", Ref("events", item.source), self._words(text, item.span).next(item.source))
                for line in item.lines:
                    for p in line.pairs:
                        self._bare(p, "key", Ref("event_column", p.key), self._words(text, p.span).next(p.key),
                                   name=f"{item.source}.{p.key}")
            elif isinstance(item, A.ExpectFired):
                words = self._words(text, item.span)
                component, rule = item.component, item.rule
                if component == "disqualify":
                    words.next("disqualify")
                    kind, what = "gate", Ref("gate", "disqualify", "disqualify_reason", rule)
                else:
                    kind = "rule" if component in self.scores else "member"
                    owner = "score" if component in self.scores else "criteria"
                    self._bare(item, "component", Ref(owner, component, component), words.next(component))
                    what = Ref(kind, component, None, rule)
                self._bare(item, "rule", what, words.next(rule), name=f"{component}.{rule}")
            elif isinstance(item, A.ExpectBecause):
                self._bare(item, "gate", Ref("gate", "disqualify", "disqualify_reason", item.gate),
                           self._words(text, item.span).next(item.gate, after="because"), name=f"disqualify.{item.gate}")

    # ------------------------------------------------------------ expressions --
    def _expressions(self) -> None:
        """The names in expressions as the typing resolved them (`refs`), aggregates' words, the strings compared with labels."""
        for node, source in self.referred.values():
            text = self._file_text(node)
            if isinstance(node, A.Name):
                self._name_occurrence(node, source, text)
            elif isinstance(node, A.Attr):
                words = self._words(text, node.span)
                if self.refs[id(node)].kind == "member":
                    self.occur("criteria", node.base, words.next(node.base))
                    self.occur("member", f"{node.base}.{node.attr}", words.next(node.attr))
                else:
                    self.occur("account_field", node.attr, words.next(node.attr, after="account"))
            elif isinstance(node, A.IsLabel):
                self.occur("label", f"{self.refs[id(node)].name}.{node.label}", node.label_span)
        for node in self.aggregates.values():
            words = self._words(self._file_text(node), node.source_span)
            self._bare(node, "source", Ref("events", node.source), words.next(node.source))
            if node.column is not None:
                self._bare(node, "column", Ref("event_column", node.column), words.next(node.column),
                           name=f"{node.source}.{node.column}")
        for node, ref in self.label_literals.values():
            self.named[(id(node), "value")] = ref
            inside = self._words(self._file_text(node), node.span).span(node.span.start + 1, node.span.end - 1)  # between the quotes
            self.occur(ref.kind, f"{ref.name}.{ref.item}" if ref.kind == "label" else f"disqualify.{ref.item}", inside)

    def _file_text(self, node: A.Node) -> str:
        self._lines = self.line_starts[node.span.file]
        return self.texts[node.span.file]

    def _name_occurrence(self, node: A.Name, source: str | None, text: str) -> None:
        ref = self.refs[id(node)]
        if ref.kind == "event_column":
            self.occur("event_column", f"{source}.{ref.name}", node.span)
        elif ref.kind == "criteria_met" or (ref.kind == "output" and ref.column != ref.name):
            owner = ref.name  # `ucc_met` names criteria `ucc`, `fit_band` score `fit`: the span of the owner's name
            kind = "criteria" if ref.kind == "criteria_met" or ref.name in self.criteria else "score" if ref.name in self.scores else None
            if kind is not None and node.name.startswith(owner):
                self.occur(kind, owner, _head(node.span, len(owner), text))
        elif ref.kind != "output":
            self.occur(ref.kind, ref.name, node.span)

