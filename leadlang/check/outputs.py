"""The output columns of a policy (E309) and its `test` blocks (E201, E207, E209, E214, E215, E314)."""

from __future__ import annotations

import datetime as dt

from leadlang.check import timerange
from leadlang.check import types as T
from leadlang.check.policy import Output, band_column, met_column
from leadlang.check.types import Type
from leadlang.diagnostics import did_you_mean
from leadlang.syntax import ast as A


class Outputs:
    """The checker's output columns and test blocks (a part of `check.checker.Checker`)."""

    def _outputs(self) -> tuple[Output, ...]:
        outs: list[Output] = [Output(self.leads.key, "string", "key", "leads", description="the lead's key")]
        for s in self.signals.values():
            outs.append(Output(s.name, T.output_kind(self.types.get(id(s.expr), T.STRING)), "signal", s.name, description=f"signal {s.name}"))
        for sc in self.scores.values():
            outs.append(Output(sc.name, "number", "score", sc.name, description=f"score {sc.name}, rounded to 2 decimals"))
        for sc in self.scores.values():
            if sc.name in self.bands:
                outs.append(Output(band_column(sc.name), "string", "band", sc.name, self.labels[sc.name], f"band of score {sc.name}"))
        for cr in self.criteria.values():
            outs.append(Output(cr.name, "bool", "criteria", cr.name, description=f"whether criteria {cr.name} is met"))
            outs.append(Output(met_column(cr.name), "int", "criteria_met", cr.name, description=f"how many members of {cr.name} are true"))
        outs.append(Output("disqualified", "bool", "disqualified", description="whether any disqualify gate is true"))
        outs.append(Output("disqualify_reason", "string", "reason", labels=tuple(g.id for g in self.gates), description="the first true gate, in file order"))
        for c in self.classifications.values():
            outs.append(Output(c.name, "string", "classification", c.name, self.labels[c.name], f"classification {c.name}"))
        for a in self.actions.values():
            kinds: dict[str, tuple[str, A.Span]] = {}
            for act in a.actions:
                for s in act.settings:
                    kind = "number" if s.value.kind in ("int", "number") else s.value.kind
                    if s.key in kinds and kinds[s.key][0] != kind:
                        self.error("E307", f"action key `{s.key}` holds a {kind} here but a {kinds[s.key][0]} elsewhere", s.span, "a key's values must share one type")
                    kinds.setdefault(s.key, (kind, s.span))
            for key, (kind, span) in kinds.items():
                if kind == "number" and all(s.value.kind == "int" for act in a.actions for s in act.settings if s.key == key):
                    kind = "int"
                outs.append(Output(key, kind, "action", a.target, description=f"action `{key}` of {a.target}"))
        outs.append(Output("policy", "string", "policy", description="name@version of the policy"))
        outs.append(Output("as_of", "timestamp", "as_of", description="the as-of time the lead was scored at"))
        seen: dict[str, Output] = {}
        for o in outs:
            if o.name in seen:
                self.error("E309", f"output column `{o.name}` would be written twice: by {_what(seen[o.name])} and by {_what(o)}", self._span_of(o), "rename one of them")
            seen[o.name] = o
        return tuple(outs)

    def _span_of(self, o: Output) -> A.Span:
        if o.role == "action":
            for act in self.actions[o.source].actions:
                for setting in act.settings:
                    if setting.key == o.name:
                        return setting.span
        for table in (self.signals, self.scores, self.criteria, self.classifications):
            if o.source in table:
                return table[o.source].span
        return self.leads.span

    def _duration_in_range(self, d: A.Duration) -> bool:
        if d.seconds > timerange.MAX_SECONDS:
            self.error("E215", f"`{d.text}` is longer than the supported time range", d.span,
                       "times run from 0001-01-01 to 9999-12-31: a duration is at most 3652058 days")
            return False
        return True

    def _test_times(self, t: A.Test) -> None:
        """The test's events and the policy's longest window, counted back from its as-of time, stay in range."""
        given = next((i for i in t.items if isinstance(i, A.TestAsOf)), None)
        # without `as of` a test runs at the current time, so check from now
        as_of = given.at if given is not None else dt.datetime.now(dt.timezone.utc)
        shown = f"`as of {given.at.date()}`" if given is not None else "now (the test has no `as of`)"
        for item in t.items:
            for line in item.lines if isinstance(item, A.TestEvents) else ():
                if line.ago is not None and self._duration_in_range(line.ago) and timerange.back(as_of, line.ago.seconds) is None:
                    self.error("E215", f"`{line.ago.text} ago` from {shown} is before 0001-01-01, the earliest supported time", line.ago.span)
        window = self._longest_window()
        if window is not None and window.seconds <= timerange.MAX_SECONDS and timerange.back(as_of, window.seconds) is None:
            where = f"line {window.span.line}" if window.span.file == t.span.file else f"{window.span.file}:{window.span.line}"
            self.error("E215", f"`in last {window.text}` ({where}) from {shown} starts before 0001-01-01, the earliest supported time",
                       given.span if given is not None else t.span, "test as of a later time, or shorten the window")

    def _longest_window(self) -> A.Duration | None:
        """The policy's longest window, found once for all its tests (each walking the whole policy was quadratic)."""
        if not hasattr(self, "_window"):
            self._window = timerange.longest_window((self.main, *self.used))
        return self._window

    def _test(self, t: A.Test) -> None:
        self._test_times(t)
        has_lead = False
        for item in t.items:
            if isinstance(item, A.TestRow):
                if item.kind == "lead":
                    has_lead = True
                    self._pairs(item.pairs, self.lead_types, "lead field")
                elif self.accounts is None:
                    self.error("E209", "the policy declares no `accounts` source", item.span)
                else:
                    self._pairs(item.pairs, self.account_types, "account field")
            elif isinstance(item, A.TestEvents):
                ev = self.events.get(item.source)
                if ev is None:
                    self.error("E209", f"there is no events source `{item.source}`", item.span, *did_you_mean(item.source, self.events))
                    continue
                cols = {**self.event_types[item.source], ev.lead or "lead": T.STRING}
                for line in item.lines:
                    self._pairs(line.pairs, cols, f"column of `{item.source}`")
            elif isinstance(item, A.Expect):
                self.scope = "test"
                self.expect(item.expr, "bool", "`expect`")
                self.scope = "policy"
            elif isinstance(item, A.ExpectFired):
                if item.component == "disqualify":
                    ids = [g.id for g in self.gates]
                elif item.component in self.scores and isinstance(self.scores[item.component], A.PointsScore):
                    ids = [r.id for r in self.scores[item.component].rules]
                elif item.component in self.criteria:
                    ids = [m.id for m in self.criteria[item.component].members]
                else:
                    self.error("E201", f"`{item.component}` is not a points score, criteria or `disqualify`", item.span, *did_you_mean(item.component, [*self.scores, *self.criteria]))
                    continue
                if item.rule not in ids:
                    self.error("E201", f"`{item.component}` has no rule `{item.rule}`", item.span, *did_you_mean(item.rule, ids))
            elif isinstance(item, A.ExpectBecause):
                ids = [g.id for g in self.gates]
                if item.gate not in ids:
                    self.error("E201", f"there is no disqualify gate `{item.gate}`", item.span, *did_you_mean(item.gate, ids))
        if not has_lead:
            self.error("E314", f'test "{t.name}" gives no `lead {{ ... }}`', t.span)

    def _pairs(self, pairs, types: dict[str, Type], what: str) -> None:
        seen: set[str] = set()
        for p in pairs:
            if p.key in seen:
                self.error("E207", f"`{p.key}` is given twice", p.span)
            seen.add(p.key)
            t = types.get(p.key)
            if t is None:
                self.error("E214", f"`{p.key}` is not a {what}", p.span, *did_you_mean(p.key, types))
                continue
            if p.value is None:
                continue
            v = p.value
            ok = (
                (t.kind == "string" and v.kind == "string")
                or (t.kind == "int" and v.kind == "int")
                or (t.kind == "number" and v.kind in ("int", "number"))
                or (t.kind == "bool" and v.kind == "bool")
                or (t.kind == "date" and v.kind == "date")
                or (t.kind == "timestamp" and v.kind in ("timestamp", "date"))
            )
            if not ok:
                self.error("E203", f"`{p.key}` is declared {t.kind} but the test gives a {v.kind}", p.span)
            else:
                self._members(t, v)


def _what(o: Output) -> str:
    """An output column's origin, in the words of the policy."""
    return {
        "signal": f"signal `{o.source}`", "score": f"score `{o.source}`", "band": f"the bands of `{o.source}`",
        "criteria": f"criteria `{o.source}`", "criteria_met": f"criteria `{o.source}`",
        "classification": f"classification `{o.source}`", "action": f"the actions of `{o.source}`",
    }.get(o.role, "leadlang itself")
