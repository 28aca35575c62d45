"""The bodies of declarations: signals, scores, criteria, gates, matrices, actions (E303-E307)."""

from __future__ import annotations

from leadlang.check import types as T
from leadlang.check.types import Type
from leadlang.diagnostics import did_you_mean
from leadlang.syntax import ast as A


class Structure:
    """The checker's rules for declaration bodies (a part of `check.checker.Checker`)."""

    def _signal(self, name: str) -> tuple[Type, set]:
        """A signal's type and dependencies, worked out once on first use."""
        if name in self.signal_info:
            return self.signal_info[name]
        self.signal_info[name] = (T.ANY, set())  # stands in while a cycle is followed
        saved, self.deps = self.deps, set()
        s = self.signals[name]
        t = self.expect(s.expr, None, f"signal `{name}`")
        self.signal_info[name] = (t, self.deps)
        self.deps = saved
        return self.signal_info[name]

    def _score(self, sc) -> None:
        if sc.clamp and sc.clamp.low > sc.clamp.high:
            self.error("E303", f"clamp of `{sc.name}` goes from {sc.clamp.low} down to {sc.clamp.high}", sc.clamp.span)
        if isinstance(sc, A.DerivedScore):
            self.expect(sc.expr, "numeric", f"score `{sc.name}`")
            return
        self._unique_ids(sc.rules, "rule", f"score `{sc.name}`")
        for r in sc.rules:
            if r.kind == "when":
                self.expect(r.expr, "bool", f"rule `{r.id}`")
            else:
                self.expect(r.expr, "numeric", f"the value of rule `{r.id}`")
                if r.cap is not None and r.cap < 0:
                    self.error("E303", f"`max {r.cap}` of rule `{r.id}` must not be negative", r.span, "the cap limits the rule's points in magnitude")

    def _criteria(self, cr: A.Criteria) -> None:
        self._unique_ids(cr.members, "member", f"criteria `{cr.name}`")
        for m in cr.members:
            self.expect(m.cond, "bool", f"criterion `{cr.name}.{m.id}`")
        if cr.required is not None and not 1 <= cr.required <= len(cr.members):
            self.error("E306", f"criteria `{cr.name}` requires {cr.required} of {len(cr.members)} members", cr.span, f"K must be between 1 and {len(cr.members)}")

    def _gates(self) -> None:
        self._unique_ids(self.gates, "gate", "`disqualify`")
        for g in self.gates:
            self.expect(g.cond, "bool", f"gate `{g.id}`")

    def _unique_ids(self, items, what: str, where: str) -> None:
        """E305: an id given twice in one block (the rules of a score, the members of a criteria, the gates)."""
        ids: set[str] = set()
        for item in items:
            if item.id in ids:
                self.error("E305", f"{what} `{item.id}` appears twice in {where}", item.span)
            ids.add(item.id)

    def _classification(self, c) -> None:
        if isinstance(c, A.Classify):
            for b in c.branches:
                self.expect(b.cond, "bool", f"branch `{b.label}` of `{c.name}`")
            return
        self.deps.add(("disqualify", "disqualified"))
        ok = True
        for score, span in ((c.rows_score, c.span), (c.cols_score, c.span)):
            if score not in self.scores:
                self.error("E201", f"matrix `{c.name}`: there is no score `{score}`", span, *did_you_mean(score, self.scores))
                ok = False
            elif score not in self.bands:
                self.error("E304", f"matrix `{c.name}` needs bands for score `{score}`", span, f"add `bands {score} {{ ... }}`")
                ok = False
            else:
                self.deps.add(("score", score))
        for row in c.rows:
            if len(row.cells) != len(c.columns):
                self.error("E304", f"row `{row.band}` has {len(row.cells)} cells but the matrix has {len(c.columns)} columns", row.span)
            for cell in row.cells:
                if cell == "disqualified":
                    self.error("E304", "`disqualified` is given to disqualified leads and cannot label a cell", row.span)
        if not ok:
            return
        self._cover(c, c.cols_score, c.columns, c.header_span, "column")
        self._cover(c, c.rows_score, [r.band for r in c.rows], c.span, "row")

    def _cover(self, c: A.Matrix, score: str, got, span: A.Span, what: str) -> None:
        want = self.labels[score]
        for label in got:
            if label not in want:
                self.error("E304", f"matrix `{c.name}`: `{label}` is not a band of `{score}`", span, *did_you_mean(label, want))
        for label in want:
            n = list(got).count(label)
            if n == 0:
                self.error("E304", f"matrix `{c.name}` has no {what} for band `{label}` of `{score}`", span, "every band of both scores must appear exactly once")
            elif n > 1:
                self.error("E304", f"matrix `{c.name}` has {n} {what}s for band `{label}` of `{score}`", span)

    def _actions(self, a: A.Actions) -> None:
        if a.target not in self.classifications:
            self.error("E307", f"`actions {a.target}`: there is no classification `{a.target}`", a.target_span, *did_you_mean(a.target, self.classifications))
            return
        if a.target in self.actions:
            self.error("E307", f"classification `{a.target}` already has actions at line {self.actions[a.target].span.line}", a.span)
            return
        labels = self.labels[a.target]
        seen: set[str] = set()
        for act in a.actions:
            if act.label not in labels:
                self.error("E206", f"`{act.label}` is not a label of `{a.target}`", act.span, *did_you_mean(act.label, labels))
            if act.label in seen:
                self.error("E307", f"label `{act.label}` has two entries", act.span)
            seen.add(act.label)
            keys: set[str] = set()
            for s in act.settings:
                if s.key in keys:
                    self.error("E307", f"`{s.key}` is set twice for `{act.label}`", s.span)
                keys.add(s.key)
                self.types[id(s.value)] = T.SCALARS[s.value.kind] if s.value.kind in T.SCALARS else T.STRING
        self.actions[a.target] = a
