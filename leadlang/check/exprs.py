"""Expression typing: names resolved in their scope, operators and aggregates typed (E201-E206, E209-E211)."""

from __future__ import annotations

import dataclasses

from leadlang.check import types as T
from leadlang.check.regex import regex_problem
from leadlang.check.policy import Ref, band_column
from leadlang.check.types import Type
from leadlang.diagnostics import did_you_mean
from leadlang.syntax import ast as A

_COLUMN_AGGREGATES = ("sum", "min", "max", "avg")
_COMPARISONS = ("=", "!=", "<", "<=", ">", ">=")


class Expressions:
    """The checker's typing of expressions (a part of `check.checker.Checker`).

    `scope` says where an expression stands: `policy`, `let` (literals only), `event` (an
    aggregate's `where`, reading `event_source`'s columns) or `test` (an `expect`, reading output columns).
    Every typed node goes into `types`; every dependency a name creates goes into `deps`."""

    def expect(self, e: A.Expr, want: str | None, what: str) -> Type:
        t = self.expr(e)
        if want == "bool" and t.kind not in ("bool", "any"):
            self.error("E203", f"{what} must be a condition (true or false), not {t}", e.span)
        elif want == "numeric" and not t.numeric:
            self.error("E203", f"{what} must be a number, not {t}", e.span)
        elif want is None and t.kind == "list":
            self.error("E203", f"{what} cannot be a list", e.span)
        return t

    def expr(self, e: A.Expr) -> Type:
        t = self._expr(e)
        self.types[id(e)] = t
        return t

    def _expr(self, e: A.Expr) -> Type:
        if isinstance(e, A.Literal):
            return T.SCALARS[e.kind]
        if isinstance(e, A.ListLit):
            return self._list(e)
        if isinstance(e, A.Name):
            return self._name(e)
        if isinstance(e, A.Attr):
            return self._attr(e)
        if isinstance(e, A.Disqualified):
            if self.scope in ("let", "event"):
                self.error("E201", "`disqualified` cannot be used here", e.span)
                return T.ANY
            self.deps.add(("disqualify", "disqualified"))
            self.refer(e, "disqualified", "disqualified", "disqualified")
            return T.BOOL
        if isinstance(e, A.Unary):
            t = self.expr(e.operand)
            if e.op == "not":
                if t.kind not in ("bool", "any"):
                    self.error("E203", f"`not` needs a condition, not {t}", e.operand.span)
                return T.BOOL
            if not t.numeric:
                self.error("E203", f"cannot negate {t}", e.operand.span)
                return T.ANY
            return t
        if isinstance(e, A.Binary):
            return self._binary(e)
        if isinstance(e, A.InList):
            left = self.expr(e.operand)
            right = self.expr(e.items)
            if right.kind != "list" and right.kind != "any":
                self.error("E203", f"`in` needs a list, not {right}", e.items.span, 'write a list like `["a", "b"]` or a `let` holding one')
            elif right.elem is not None and T.common(left, right.elem) is None:
                self.error("E203", f"cannot look for {left} in a list of {right.elem}", e.span)
            else:
                self._members(left, e.items)
            return T.BOOL
        if isinstance(e, A.Between):
            t, lo, hi = self.expr(e.operand), self.expr(e.low), self.expr(e.high)
            if not ((t.numeric and lo.numeric and hi.numeric) or (t.temporal and lo.temporal and hi.temporal)):
                self.error("E203", f"`between` compares numbers or dates, not {t} with {lo} and {hi}", e.span)
            return T.BOOL
        if isinstance(e, A.TextTest):
            return self._text(e)
        if isinstance(e, A.IsMissing):
            self.expr(e.operand)
            return T.BOOL
        if isinstance(e, A.IsLabel):
            return self._is_label(e)
        if isinstance(e, A.Call):
            return self._call(e)
        if isinstance(e, A.Aggregate):
            return self._aggregate(e)
        raise AssertionError(f"unknown expression {type(e).__name__}")

    def _list(self, e: A.ListLit) -> Type:
        if not e.items:
            self.error("E211", "a list cannot be empty", e.span)
            return Type("list", elem=T.ANY)
        elem: Type | None = None
        for item in e.items:
            t = self.expr(item)
            if not isinstance(item, A.Literal):
                self.error("E211", "list elements must be literals", item.span)
                continue
            merged = t if elem is None else T.common(elem, t)
            if merged is None:
                self.error("E211", f"a list holds values of one type: {t} after {elem}", item.span)
                continue
            elem = merged
        return Type("list", elem=elem or T.ANY)

    def refer(self, node: A.Expr, kind: str, name: str, column: str | None = None) -> None:
        """Record what a name occurrence refers to (`Policy.refs`): later stages read it, never re-derive it."""
        self.refs[id(node)] = Ref(kind, name, column)
        self.referred[id(node)] = (node, self.event_source.name if self.scope == "event" else None)  # for `index.py`

    def _name(self, e: A.Name) -> Type:
        n = e.name
        if self.scope == "event":
            cols = self.event_types.get(self.event_source.name, {}) if self.event_source else {}
            if n in cols:
                self.refer(e, "event_column", n)
                return cols[n]
            if n in self.lets:
                self.refer(e, "let", n)
                return self.types.get(id(self.lets[n].expr)) or self.expr(self.lets[n].expr)
            self.error("E201", f"`{n}` is not a column of events `{self.event_source.name if self.event_source else ''}` or a `let`", e.span, *did_you_mean(n, [*cols, *self.lets]))
            return T.ANY
        if n in self.lets:
            self.refer(e, "let", n)
            return self.types.get(id(self.lets[n].expr)) or self.expr(self.lets[n].expr)
        if self.scope == "let":
            self.error("E213", f"a `let` can only use literals, not `{n}`", e.span)
            return T.ANY
        if n in self.lead_types:
            self.refer(e, "lead_field", n)
            return self.lead_types[n]
        if n in self.signals:
            self.deps.add(("signal", n))
            self.refer(e, "signal", n, n)
            return self._signal(n)[0]
        if n in self.scores:
            self.deps.add(("score", n))
            self.refer(e, "score", n, n)
            return T.NUMBER
        if n in self.criteria:
            self.deps.add(("criteria", n))
            self.refer(e, "criteria", n, n)
            return T.BOOL
        if n.endswith("_met") and n[: -len("_met")] in self.criteria:
            self.deps.add(("criteria", n[: -len("_met")]))
            self.refer(e, "criteria_met", n[: -len("_met")], n)
            return T.INT  # how many members are true, e.g. `ucc_met >= 2`
        if n in self.classifications:
            self.deps.add(("classification", n))
            self.refer(e, "classification", n, n)
            return Type("label", labels=self.labels[n], owner=n)
        if self.scope == "test" and n in self.test_outputs:
            out = self.test_outputs[n]
            self.refer(e, "output", out.source or n, n)
            if out.labels:  # `fit_band`, `disqualify_reason`: compared with their labels like a classification
                return Type("label", labels=out.labels, owner=n)
            return T.SCALARS[out.kind]
        scope = [*self.lead_types, *self.lets, *self.signals, *self.scores, *self.criteria, *self.classifications]
        hints = did_you_mean(n, scope)
        if n in self.events:
            hints = (f"`{n}` is an events source; aggregate it, e.g. `count({n} in last 30 days)`",)
        elif self.accounts and n in self.account_types:
            hints = (f"account fields are read as `account.{n}`",)
        elif n.lower() in ("true", "false") and not hints:
            hints = (f"booleans are lower case: write `{n.lower()}`",)
        elif n.lower() in ("null", "none", "nil", "missing") and not hints:
            hints = ("an absent value is `missing`: test it with `X is missing` or `X is present`",)
        elif n.endswith("_band") and n[: -len("_band")] in self.bands:
            score = n[: -len("_band")]
            labels = [b.label for b in self.bands[score].bands]
            hints = (f"`{n}` is an output column; in a policy a band is tested with `is`: write `{score} is {labels[0]}` (labels: {', '.join(labels)})",)
        self._unknown_name(n, e.span, hints)
        return T.ANY

    def _unknown_name(self, n: str, span: A.Span, hints: tuple[str, ...]) -> None:
        """One E201 per unknown name and file, however often it is used: it lists the other lines."""
        seen = self.unknown.get((span.file, n))
        if seen is None:
            self.unknown[(span.file, n)] = (len(self.diags), [])
            self.error("E201", f"unknown name `{n}`", span, *hints)
            return
        index, lines = seen
        lines.append(span.line)
        first = self.diags[index]
        also = sorted(set(lines) - {first.span.line})
        if also:
            note = f"also used on line{'s' if len(also) > 1 else ''} {', '.join(map(str, also))}"
            self.diags[index] = dataclasses.replace(first, hints=(*(h for h in first.hints if not h.startswith("also used on line")), note))

    def _attr(self, e: A.Attr) -> Type:
        if e.base == "account" and e.base not in self.criteria:
            if self.accounts is None:
                self.error("E209", f"`account.{e.attr}` needs an `accounts` source", e.span)
                return T.ANY
            if not self.leads.account:
                self.error("E209", "the leads source has no `account` column to join accounts on", e.span, "declare it: `leads from ... key lead_id account account_id { ... }`")
                return T.ANY
            if e.attr not in self.account_types:
                self.error("E202", f"accounts have no field `{e.attr}`", e.span, *did_you_mean(e.attr, self.account_types))
                return T.ANY
            if self.scope in ("let", "event"):
                self.error("E201", f"`account.{e.attr}` cannot be used here", e.span)
            self.refer(e, "account_field", e.attr)
            return self.account_types[e.attr]
        if e.base in self.criteria and self.scope not in ("let", "event"):
            ids = [m.id for m in self.criteria[e.base].members]
            if e.attr not in ids:
                self.error("E202", f"criteria `{e.base}` has no member `{e.attr}`", e.span, *did_you_mean(e.attr, ids))
                return T.ANY
            self.deps.add(("criteria", e.base))
            self.refer(e, "member", e.base)
            return T.BOOL
        self.error("E201", f"unknown name `{e.base}.{e.attr}`", e.span, *did_you_mean(e.base, ["account", *self.criteria]))
        return T.ANY

    def _binary(self, e: A.Binary) -> Type:
        left, right = self.expr(e.left), self.expr(e.right)
        if e.op in ("and", "or"):
            for side, t in ((e.left, left), (e.right, right)):
                if t.kind not in ("bool", "any"):
                    self.error("E203", f"`{e.op}` joins conditions, not {t}", side.span)
            return T.BOOL
        if e.op in _COMPARISONS:
            if left.kind == "list" or right.kind == "list":
                self.error("E203", "a list cannot be compared with `" + e.op + "`", e.span, "use `in` to test membership")
                return T.BOOL
            both = T.common(left, right)
            if both is None:
                self.error("E203", f"cannot compare {left} with {right}", e.span)
            elif e.op not in ("=", "!=") and both.kind == "bool":
                self.error("E203", f"`{e.op}` does not order true and false", e.span)
            else:
                self._members(left, e.right)
                self._members(right, e.left)
            return T.BOOL
        # arithmetic
        for side, t in ((e.left, left), (e.right, right)):
            if not t.numeric:
                self.error("E203", f"`{e.op}` needs numbers, not {t}", side.span)
                return T.ANY
        if e.op == "/" or T.NUMBER in (left, right) or "number" in (left.kind, right.kind):
            return T.NUMBER
        return T.INT if left.kind == right.kind == "int" else T.NUMBER

    def _members(self, t: Type, other: A.Expr) -> None:
        """The strings compared with an enum (`=`, `!=`, `in`, `not in`, a `let`, a test's field) must be among
        its values (E205), those compared with a classification, matrix, band or reason among its labels (E206).

        One diagnostic per comparison, on the first wrong string, naming every wrong string of the list."""
        labelled = t.kind == "label"
        allowed = t.labels if labelled else t.values
        if not allowed:
            return
        if isinstance(other, A.Name) and other.name in self.lets:
            other = self.lets[other.name].expr
        items = other.items if isinstance(other, A.ListLit) else (other,)
        wrong = [i for i in items if isinstance(i, A.Literal) and i.kind == "string" and i.value not in allowed]
        if labelled:
            for i in items:
                if isinstance(i, A.Literal) and i.kind == "string" and i.value in allowed:
                    self.label_literals.setdefault(id(i), (i, self._label_ref(t.owner, i.value)))
        if not wrong:
            return
        code, what = ("E206", "label") if labelled else ("E205", "value")
        if len(wrong) == 1:
            message = f'"{wrong[0].value}" is not a {what} of `{t.owner}`'
            hints = list(did_you_mean(str(wrong[0].value), allowed))
        else:
            listed = ", ".join(f'"{i.value}"' for i in wrong)
            message = f"{listed} are not {what}s of `{t.owner}`"
            hints = [f'"{i.value}": {h}' for i in wrong for h in did_you_mean(str(i.value), allowed)]
        if len(hints) < len(wrong):
            hints.append(f"{what}s: {', '.join(allowed)}")
        self.error(code, message, wrong[0].span, *hints)

    def _label_ref(self, owner: str, label: str) -> Ref:
        """What a string compared with a label refers to: a label of a classification or banded score, or a gate."""
        out = self.test_outputs.get(owner) if self.scope == "test" else None
        if out is not None and out.role == "reason":
            return Ref("gate", "disqualify", owner, label)
        if out is not None and out.role == "band":
            return Ref("label", out.source, owner, label)
        return Ref("label", owner, owner, label)

    def _text(self, e: A.TextTest) -> Type:
        t = self.expr(e.operand)
        arg = self.expr(e.arg)
        if not t.textual:
            self.error("E203", f"`{e.op.replace('_', ' ')}` works on text, not {t}", e.operand.span)
        if e.op == "contains_any":
            if arg.kind != "list" or (arg.elem and not arg.elem.textual):
                self.error("E203", f"`contains any` needs a list of strings, not {arg}", e.arg.span)
        elif e.op == "matches":
            problem = regex_problem(e.arg.value)
            if problem:
                self.error("E210", f"regex {problem}", e.arg.span, "the portable subset: classes, anchors, alternation, quantifiers")
        elif not arg.textual:
            self.error("E203", f"`{e.op.replace('_', ' ')}` needs a string, not {arg}", e.arg.span)
        return T.BOOL

    def _is_label(self, e: A.IsLabel) -> Type:
        if not isinstance(e.operand, A.Name) or (e.operand.name not in self.bands and e.operand.name not in self.classifications):
            if self.expr(e.operand).kind == "any":  # already reported (an unknown name): one diagnostic per mistake
                return T.BOOL
            what = e.operand.name if isinstance(e.operand, A.Name) else "this"
            hint = f"`{what}` is a score without bands; add `bands {what} {{ ... }}`" if isinstance(e.operand, A.Name) and e.operand.name in self.scores else "`is LABEL` reads a banded score or a classification"
            if e.label in ("missing", "present"):
                hint = ""
            self.error("E206", f"`{what}` has no labels to test with `is {e.label}`", e.operand.span, hint)
            return T.BOOL
        name = e.operand.name
        self.expr(e.operand)
        if name in self.bands and name not in self.classifications:
            self.refer(e, "band", name, band_column(name))
        else:
            self.refer(e, "classification", name, name)
        labels = self.labels[name]
        if e.label not in labels:
            self.error("E206", f"`{e.label}` is not a label of `{name}`", e.label_span, *did_you_mean(e.label, labels), f"labels: {', '.join(labels)}")
        return T.BOOL

    def _aggregate(self, e: A.Aggregate) -> Type:
        if self.scope in ("let", "event"):
            self.error("E201", f"`{e.func}(...)` cannot be used here", e.span)
            return T.ANY
        ev = self.events.get(e.source)
        if ev is None:
            self.error("E209", f"there is no events source `{e.source}`", e.source_span, *did_you_mean(e.source, self.events))
            return T.ANY
        cols = self.event_types[e.source]
        self.aggregates[id(e)] = e  # its source and column words, for `index.py`
        col_type: Type | None = None
        if e.func in _COLUMN_AGGREGATES:
            if e.column is None:
                self.error("E204", f"`{e.func}` needs a column: `{e.func}({e.source}.COLUMN ...)`", e.span, *(f"numeric columns: {', '.join(n for n, t in cols.items() if t.numeric)}",) if any(t.numeric for t in cols.values()) else ())
                return T.ANY
            col_type = cols.get(e.column)
            if col_type is None:
                self.error("E202", f"events `{e.source}` have no column `{e.column}`", e.source_span, *did_you_mean(e.column, cols))
                return T.ANY
            allowed = col_type.numeric or (e.func in ("min", "max") and col_type.temporal)
            if not allowed:
                self.error("E203", f"`{e.func}` needs a numeric column, and `{e.column}` is {col_type}", e.source_span)
                return T.ANY
        elif e.column is not None:
            self.error("E204", f"`{e.func}` counts events and takes no column", e.source_span, f"write `{e.func}({e.source} ...)`")
        if e.names is not None and len(e.names) == 0:
            self.error("E211", "a list cannot be empty", e.span)
        if e.where is not None:
            saved_scope, saved_source = self.scope, self.event_source
            self.scope, self.event_source = "event", ev
            t = self.expr(e.where)
            self.scope, self.event_source = saved_scope, saved_source
            if t.kind not in ("bool", "any"):
                self.error("E203", f"`where` needs a condition, not {t}", e.where.span)
        for d in (e.window, e.half_life):
            if d is not None and d.seconds <= 0:
                self.error("E106", "a duration must be longer than zero", d.span)
            elif d is not None:
                self._duration_in_range(d)
        if e.half_life is not None and e.func not in ("count", "sum"):
            self.error("E204", f"`half-life` decays `count` and `sum`, not `{e.func}`", e.half_life.span)
        if e.by_account and not self.leads.account:
            self.error("E209", "`by account` needs the leads source to name its account column", e.span, "declare it: `leads from ... key lead_id account account_id { ... }`")
        if e.func == "count":
            return T.NUMBER if e.half_life else T.INT
        if e.func in ("active_days", "distinct_leads"):
            return T.INT
        if e.func in ("first", "last"):
            return T.TIMESTAMP
        if e.func == "avg":
            return T.NUMBER
        if e.func == "sum":
            return T.NUMBER if e.half_life else col_type
        return col_type
