"""Resolve names, infer types and order the steps of a parsed policy."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Callable

from leadlang.check import timerange
from leadlang.check import types as T
from leadlang.check.policy import Output, Policy, Step
from leadlang.check.regex import regex_problem
from leadlang.check.types import Type
from leadlang.diagnostics import Diagnostic, LeadError, closest, did_you_mean
from leadlang.syntax import ast as A
from leadlang.syntax.parser import KEYWORDS, parse_file

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
_COLUMN_AGGREGATES = ("sum", "min", "max", "avg")
_COMPARISONS = ("=", "!=", "<", "<=", ">", ">=")


class _Checker:
    def __init__(self, main: A.Module, used: list[A.Module], texts: dict[str, str]):
        self.main = main
        self.used = used
        self.texts = texts
        self.diags: list[Diagnostic] = []
        self.types: dict[int, Type] = {}
        self.names: dict[str, tuple[str, A.Span]] = {}  # every declared name -> (what, where)
        self.deps: set[tuple[str, str]] = set()
        self.scope = "policy"
        self.event_source: A.Events | None = None
        self.signal_info: dict[str, tuple[Type, set]] = {}
        self.unknown: dict[tuple[str, str], tuple[int, list[int]]] = {}  # (file, name) -> its E201's index, the other lines using it

    # ----------------------------------------------------------- reporting --
    def error(self, code: str, message: str, span: A.Span, *hints: str) -> None:
        diag = Diagnostic(code, "error", message, span, tuple(h for h in hints if h))
        if diag not in self.diags:  # one mistake, one diagnostic: a `let` read twice is checked twice
            self.diags.append(diag)

    def declare(self, name: str, what: str, span: A.Span) -> bool:
        if name in KEYWORDS and not isinstance(name, A.QuotedName):
            self.error("E212", f"`{name}` is a keyword and cannot name a {what}", span, f"write it in backticks: `` `{name}` ``")
        if name in self.names:
            first_what, first = self.names[name]
            self.error("E207", f"`{name}` is already declared as a {first_what} at line {first.line}", span, "names must be unique across the policy")
            return False
        self.names[name] = (what, span)
        return True

    # -------------------------------------------------------- declarations --
    def _no_nul(self) -> None:
        """A NUL character (written `\\u0000`) in any string is refused: warehouses cannot keep it in text."""
        for module in (self.main, *self.used):
            text = self.texts.get(module.path)
            if text is not None and "\\u0000" not in text:
                continue  # a NUL reaches a string only through that escape (a NUL byte is a parse error)
            for node in A.walk(module):
                for name in getattr(node, "__dataclass_fields__", ()):
                    value = getattr(node, name)
                    texts = value if isinstance(value, tuple) else (value,)
                    if any(isinstance(t, str) and "\x00" in t for t in texts):
                        span = getattr(node, "span", None) or A.Span(module.path, 1, 1, 1, 2)
                        self.error("E216", "a string or name may not hold the NUL character `\\u0000`", span,
                                   "no warehouse keeps NUL in text; remove it")
                        break

    def run(self) -> Policy | None:
        self._no_nul()
        decls = list(self.main.decls)
        header = None
        version = owner = None
        for i, d in enumerate(decls):
            if isinstance(d, A.PolicyHeader):
                if header is not None:
                    self.error("E301", "a file holds exactly one `policy` declaration", d.span, f"the first is at line {header.span.line}")
                elif i != 0:
                    self.error("E301", "`policy` must be the first declaration of the file", d.span)
                header = d
            elif isinstance(d, (A.Version, A.Owner)):
                word = "version" if isinstance(d, A.Version) else "owner"
                if not (0 < i <= 2 and all(isinstance(x, (A.PolicyHeader, A.Version, A.Owner)) for x in decls[:i])):
                    self.error("E301", f"`{word}` belongs right after the `policy` line", d.span)
                elif isinstance(d, A.Version):
                    if version is not None:
                        self.error("E301", "`version` is given twice", d.span)
                    version = d.value
                else:
                    if owner is not None:
                        self.error("E301", "`owner` is given twice", d.span)
                    owner = d.value
        if header is None:
            self.error("E301", "the file has no `policy NAME \"Title\"` declaration", A.Span(self.main.path, 1, 1, 1, 2), 'start the file with e.g. `policy my_policy "My qualification policy"`')

        everything: list[A.Decl] = []
        for module in self.used:
            for d in module.decls:
                if isinstance(d, (A.PolicyHeader, A.Version, A.Owner, A.Use)):
                    continue
                if isinstance(d, (A.Leads, A.Accounts, A.Events, A.Let, A.Signal)):
                    everything.append(d)
                else:
                    self.error("E310", "a file brought in with `use` may only declare sources, lets and signals", d.span)
        everything.extend(d for d in decls if not isinstance(d, (A.PolicyHeader, A.Version, A.Owner, A.Use)))

        leads = [d for d in everything if isinstance(d, A.Leads)]
        accounts = [d for d in everything if isinstance(d, A.Accounts)]
        if not leads:
            self.error("E302", "the policy declares no `leads` source", A.Span(self.main.path, 1, 1, 1, 2), 'add e.g. `leads from ref("stg_leads") key lead_id { ... }`')
            return None
        for extra in leads[1:]:
            self.error("E302", "a policy has exactly one `leads` source", extra.span, f"the first is at {leads[0].span}")
        for extra in accounts[1:]:
            self.error("E302", "a policy has at most one `accounts` source", extra.span)
        self.leads = leads[0]
        self.accounts = accounts[0] if accounts else None
        self.lead_types = self._fields(self.leads.fields, "lead field", {self.leads.key: self.leads.span, **({self.leads.account: self.leads.span} if self.leads.account else {})})
        self.account_types: dict[str, Type] = {}
        if self.accounts:
            self.account_types = self._fields(self.accounts.fields, "account field", {self.accounts.key: self.accounts.span}, declare=False)
        self.events: dict[str, A.Events] = {}
        self.event_types: dict[str, dict[str, Type]] = {}
        for ev in (d for d in everything if isinstance(d, A.Events)):
            if not self.declare(ev.name, "event source", ev.span):
                continue
            missing = [role for role, col in (("lead", ev.lead), ("at", ev.at), ("name", ev.event_name)) if col is None]
            if missing:
                self.error("E311", f"events `{ev.name}` does not say which column holds the {', '.join(missing)}", ev.span, "an events block names its columns: `lead COL`, `at COL`, `name COL`")
            self.events[ev.name] = ev
            cols: dict[str, Type] = {}
            for f in ev.fields:
                if f.name in cols:
                    self.error("E207", f"column `{f.name}` is declared twice in events `{ev.name}`", f.span)
                cols[f.name] = self._type(f)
            self.event_types[ev.name] = cols

        # Names first, so references resolve in any order.
        self.lets = {d.name: d for d in everything if isinstance(d, A.Let) and self.declare(d.name, "let", d.span)}
        self.signals = {d.name: d for d in everything if isinstance(d, A.Signal) and self.declare(d.name, "signal", d.span)}
        self.scores = {d.name: d for d in everything if isinstance(d, (A.PointsScore, A.DerivedScore)) and self.declare(d.name, "score", d.span)}
        self.criteria = {d.name: d for d in everything if isinstance(d, A.Criteria) and self.declare(d.name, "criteria", d.span)}
        self.classifications = {d.name: d for d in everything if isinstance(d, (A.Matrix, A.Classify)) and self.declare(d.name, "classification", d.span)}
        self.gates = tuple(g for d in everything if isinstance(d, A.Disqualify) for g in d.gates)
        self.bands: dict[str, A.Bands] = {}
        self.labels: dict[str, tuple[str, ...]] = {}
        declared_bands = [d for d in everything if isinstance(d, A.Bands)]
        for b in declared_bands:
            self._bands(b, {d.score for d in declared_bands})
        for c in self.classifications.values():
            self.labels[c.name] = self._classification_labels(c)

        self.let_values = {name: self._let(d) for name, d in self.lets.items()}
        graph: dict[tuple[str, str], set[tuple[str, str]]] = {}
        spans: dict[tuple[str, str], A.Span] = {}

        def node(kind: str, name: str, span: A.Span, body: Callable[[], None]) -> None:
            self.deps = set()
            body()
            graph[(kind, name)] = self.deps
            spans[(kind, name)] = span

        for s in self.signals.values():
            graph[("signal", s.name)] = self._signal(s.name)[1]
            spans[("signal", s.name)] = s.span
        for sc in self.scores.values():
            node("score", sc.name, sc.span, lambda sc=sc: self._score(sc))
        for cr in self.criteria.values():
            node("criteria", cr.name, cr.span, lambda cr=cr: self._criteria(cr))
        node("disqualify", "disqualified", self.gates[0].span if self.gates else A.NOWHERE, self._gates)
        for c in self.classifications.values():
            node("classification", c.name, c.span, lambda c=c: self._classification(c))
        steps = self._order(graph, spans)
        self.actions: dict[str, A.Actions] = {}
        for a in (d for d in everything if isinstance(d, A.Actions)):
            self._actions(a)
        tests = tuple(d for d in decls if isinstance(d, A.Test))
        outputs = self._outputs()
        # `expect` lines read any output column: `fit_band`, `ucc_met`, action keys, the reason.
        self.test_outputs = {o.name: o for o in outputs}
        for t in tests:
            self._test(t)
        if any(d.is_error for d in self.diags):
            return None
        return Policy(
            path=self.main.path, name=header.name if header else "", title=header.title if header else "",
            version=version, owner=owner, leads=self.leads, accounts=self.accounts, events=self.events,
            lead_types=self.lead_types, account_types=self.account_types, event_types=self.event_types,
            lets=self.lets, let_values=self.let_values, signals=self.signals, scores=self.scores,
            bands=self.bands, criteria=self.criteria, gates=self.gates, classifications=self.classifications,
            labels=self.labels, actions=self.actions, tests=tests, steps=steps, outputs=outputs,
            types=self.types, modules=(self.main, *self.used), texts=self.texts,
        )

    def _type(self, f: A.Field) -> Type:
        if f.type.name == "enum":
            if len(set(f.type.values)) != len(f.type.values):
                self.error("E211", f"enum of `{f.name}` lists a value twice", f.type.span)
            return T.from_ref("enum", f.type.values, owner=f.name)
        return T.from_ref(f.type.name)

    def _fields(self, fields, what: str, implicit: dict[str, A.Span], declare: bool = True) -> dict[str, Type]:
        out: dict[str, Type] = {}
        for name, span in implicit.items():
            out[name] = T.STRING
            if declare:
                self.declare(name, what, span)
        for f in fields:
            if f.name in implicit:
                if f.type.name not in ("string",):
                    self.error("E203", f"`{f.name}` links rows and must be a string, not {f.type.name}", f.span)
                continue
            if declare:
                if not self.declare(f.name, what, f.span):
                    continue
            elif f.name in out:
                self.error("E207", f"`{f.name}` is declared twice", f.span)
                continue
            out[f.name] = self._type(f)
        return out

    def _let(self, d: A.Let) -> object:
        self.scope = "let"
        t = self.expr(d.expr)
        self.scope = "policy"
        value = d.expr
        if isinstance(value, A.Literal):
            return value.value
        if isinstance(value, A.ListLit):
            return tuple(i.value for i in value.items if isinstance(i, A.Literal))
        if t.kind != "any":
            self.error("E213", f"`let {d.name}` must be a literal or a list of literals", d.expr.span, "use a `signal` for a value computed per lead")
        return None

    def _bands(self, b: A.Bands, banded: set[str] = frozenset()) -> None:
        if b.score not in self.scores:
            meant = closest(b.score, self.scores)
            self.error("E201", f"`bands {b.score}`: there is no score `{b.score}`", b.score_span, *((f"did you mean `{meant}`?",) if meant else ()))
            if meant is not None and meant not in banded:
                # Read them as the bands of the score meant, so that its matrices and `is` tests
                # do not report the same typo again.
                self._bands(dataclasses.replace(b, score=meant), banded)
            return
        if b.score in self.bands:
            self.error("E303", f"score `{b.score}` already has bands at line {self.bands[b.score].span.line}", b.span)
            return
        seen: set[str] = set()
        last = None
        for i, band in enumerate(b.bands):
            if band.label in seen:
                self.error("E303", f"band `{band.label}` appears twice", band.span)
            seen.add(band.label)
            if band.threshold is None:
                if i != len(b.bands) - 1:
                    self.error("E303", "the `otherwise` band must come last", band.span)
            else:
                if last is not None and band.threshold >= last:
                    self.error("E303", f"band thresholds must strictly decrease: {band.threshold} follows {last}", band.span, "bands are checked top-down, highest first")
                last = band.threshold
        if not b.bands or b.bands[-1].threshold is not None:
            self.error("E303", f"bands of `{b.score}` need a last `LABEL otherwise`", b.span, f"e.g. `bands {b.score} {{ high >= 60, low otherwise }}`")
        self.bands[b.score] = b
        self.labels[b.score] = tuple(x.label for x in b.bands)

    def _classification_labels(self, c) -> tuple[str, ...]:
        if isinstance(c, A.Matrix):
            labels = [cell for row in c.rows for cell in row.cells]
            return tuple(dict.fromkeys([*labels, "disqualified"]))
        return tuple(dict.fromkeys([*(b.label for b in c.branches), c.otherwise]))

    # ------------------------------------------------------------- bodies --
    def expect(self, e: A.Expr, want: str | None, what: str) -> Type:
        t = self.expr(e)
        if want == "bool" and t.kind not in ("bool", "any"):
            self.error("E203", f"{what} must be a condition (true or false), not {t}", e.span)
        elif want == "numeric" and not t.numeric:
            self.error("E203", f"{what} must be a number, not {t}", e.span)
        elif want is None and t.kind == "list":
            self.error("E203", f"{what} cannot be a list", e.span)
        return t

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
        ids: set[str] = set()
        for r in sc.rules:
            if r.id in ids:
                self.error("E305", f"rule `{r.id}` appears twice in score `{sc.name}`", r.span)
            ids.add(r.id)
            if r.kind == "when":
                self.expect(r.expr, "bool", f"rule `{r.id}`")
            else:
                self.expect(r.expr, "numeric", f"the value of rule `{r.id}`")
                if r.cap is not None and r.cap < 0:
                    self.error("E303", f"`max {r.cap}` of rule `{r.id}` must not be negative", r.span, "the cap limits the rule's points in magnitude")

    def _criteria(self, cr: A.Criteria) -> None:
        ids: set[str] = set()
        for m in cr.members:
            if m.id in ids:
                self.error("E305", f"member `{m.id}` appears twice in criteria `{cr.name}`", m.span)
            ids.add(m.id)
            self.expect(m.cond, "bool", f"criterion `{cr.name}.{m.id}`")
        if cr.required is not None and not 1 <= cr.required <= len(cr.members):
            self.error("E306", f"criteria `{cr.name}` requires {cr.required} of {len(cr.members)} members", cr.span, f"K must be between 1 and {len(cr.members)}")

    def _gates(self) -> None:
        ids: set[str] = set()
        for g in self.gates:
            if g.id in ids:
                self.error("E305", f"gate `{g.id}` appears twice in `disqualify`", g.span)
            ids.add(g.id)
            self.expect(g.cond, "bool", f"gate `{g.id}`")

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

    # --------------------------------------------------------------- order --
    def _order(self, graph, spans) -> tuple[Step, ...]:
        order: list[tuple[str, str]] = []
        state: dict[tuple[str, str], int] = {}
        reported: set[frozenset] = set()

        def visit(start):
            # Iterative DFS: a chain of thousands of signals must not hit recursion limits.
            stack = [(start, iter(sorted(graph.get(start, ()))))]
            path = [start]
            state[start] = 1
            while stack:
                n, children = stack[-1]
                nxt = next(children, None)
                if nxt is None:
                    stack.pop()
                    path.pop()
                    state[n] = 2
                    order.append(n)
                    continue
                if nxt not in graph:
                    continue
                if state.get(nxt) == 1:
                    cycle = path[path.index(nxt):] + [nxt]
                    key = frozenset(cycle)
                    if key not in reported:
                        reported.add(key)
                        shown = " -> ".join(f"`{x[1]}`" for x in cycle)
                        self.error("E208", f"these declarations depend on each other in a cycle: {shown}", spans[nxt], "a value cannot depend on itself, directly or through others")
                elif nxt not in state:
                    state[nxt] = 1
                    path.append(nxt)
                    stack.append((nxt, iter(sorted(graph.get(nxt, ())))))

        for n in graph:
            if n not in state:
                visit(n)
        steps: list[Step] = []
        for kind, name in order:
            steps.append(Step(kind, name))
            if kind == "score" and name in self.bands:
                steps.append(Step("band", name))
        return tuple(steps)

    # ------------------------------------------------------------- outputs --
    def _outputs(self) -> tuple[Output, ...]:
        outs: list[Output] = [Output(self.leads.key, "string", "key", "leads", description="the lead's key")]
        for s in self.signals.values():
            outs.append(Output(s.name, T.output_kind(self.types.get(id(s.expr), T.STRING)), "signal", s.name, description=f"signal {s.name}"))
        for sc in self.scores.values():
            outs.append(Output(sc.name, "number", "score", sc.name, description=f"score {sc.name}, rounded to 2 decimals"))
        for sc in self.scores.values():
            if sc.name in self.bands:
                outs.append(Output(f"{sc.name}_band", "string", "band", sc.name, self.labels[sc.name], f"band of score {sc.name}"))
        for cr in self.criteria.values():
            outs.append(Output(cr.name, "bool", "criteria", cr.name, description=f"whether criteria {cr.name} is met"))
            outs.append(Output(f"{cr.name}_met", "int", "criteria_met", cr.name, description=f"how many members of {cr.name} are true"))
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

    # --------------------------------------------------------------- tests --
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

    # --------------------------------------------------------- expressions --
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

    def _name(self, e: A.Name) -> Type:
        n = e.name
        if self.scope == "event":
            cols = self.event_types.get(self.event_source.name, {}) if self.event_source else {}
            if n in cols:
                return cols[n]
            if n in self.lets:
                return self.types.get(id(self.lets[n].expr)) or self.expr(self.lets[n].expr)
            self.error("E201", f"`{n}` is not a column of events `{self.event_source.name if self.event_source else ''}` or a `let`", e.span, *did_you_mean(n, [*cols, *self.lets]))
            return T.ANY
        if n in self.lets:
            return self.types.get(id(self.lets[n].expr)) or self.expr(self.lets[n].expr)
        if self.scope == "let":
            self.error("E213", f"a `let` can only use literals, not `{n}`", e.span)
            return T.ANY
        if n in self.lead_types:
            return self.lead_types[n]
        if n in self.signals:
            self.deps.add(("signal", n))
            return self._signal(n)[0]
        if n in self.scores:
            self.deps.add(("score", n))
            return T.NUMBER
        if n in self.criteria:
            self.deps.add(("criteria", n))
            return T.BOOL
        if n.endswith("_met") and n[: -len("_met")] in self.criteria:
            self.deps.add(("criteria", n[: -len("_met")]))
            return T.INT  # how many members are true, e.g. `ucc_met >= 2`
        if n in self.classifications:
            self.deps.add(("classification", n))
            return Type("label", labels=self.labels[n], owner=n)
        if self.scope == "test" and n in self.test_outputs:
            out = self.test_outputs[n]
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
            return self.account_types[e.attr]
        if e.base in self.criteria and self.scope not in ("let", "event"):
            ids = [m.id for m in self.criteria[e.base].members]
            if e.attr not in ids:
                self.error("E202", f"criteria `{e.base}` has no member `{e.attr}`", e.span, *did_you_mean(e.attr, ids))
                return T.ANY
            self.deps.add(("criteria", e.base))
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
        labels = self.labels[name]
        if e.label not in labels:
            self.error("E206", f"`{e.label}` is not a label of `{name}`", e.label_span, *did_you_mean(e.label, labels), f"labels: {', '.join(labels)}")
        return T.BOOL

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

    def _aggregate(self, e: A.Aggregate) -> Type:
        if self.scope in ("let", "event"):
            self.error("E201", f"`{e.func}(...)` cannot be used here", e.span)
            return T.ANY
        ev = self.events.get(e.source)
        if ev is None:
            self.error("E209", f"there is no events source `{e.source}`", e.source_span, *did_you_mean(e.source, self.events))
            return T.ANY
        cols = self.event_types[e.source]
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


def _what(o: Output) -> str:
    """An output column's origin, in the words of the policy."""
    return {
        "signal": f"signal `{o.source}`", "score": f"score `{o.source}`", "band": f"the bands of `{o.source}`",
        "criteria": f"criteria `{o.source}`", "criteria_met": f"criteria `{o.source}`",
        "classification": f"classification `{o.source}`", "action": f"the actions of `{o.source}`",
    }.get(o.role, "leadlang itself")


def _use_problem(target: Path, given: Path, root: Path) -> str | None:
    """Why a `use`d file may not be read, or None: only `.lead` files inside the project.

    `target` is `given` resolved (symlinks followed), so a link out of the project is refused.
    """
    if given.suffix != ".lead" or target.suffix != ".lead":
        return "only .lead files can be used"
    if not target.is_relative_to(root):
        return f"{given.as_posix()} is outside the project ({root})"
    if target.exists() and not target.is_file():
        return f"{given.as_posix()} is not a file"
    return None


def _read_used(loader, shown: str) -> tuple[A.Module, str] | str:
    """Parse a used file, or say why it is not a policy without quoting any of it."""
    try:
        sub, text = loader(shown)
    except OSError as err:
        return f"cannot read {shown}: {err.strerror or err}"
    except LeadError as err:
        if any(d.code == "E100" for d in err.diagnostics):
            return f"{shown} is not a leadlang policy (not UTF-8 text)"
        if any(d.code == "E101" and "NUL" in d.message for d in err.diagnostics):
            return f"{shown} is not a leadlang policy (it holds NUL bytes)"
        raise
    return sub, text


def _resolve_uses(module: A.Module, texts: dict[str, str], diags: list[Diagnostic], loader, root: Path | None = None) -> list[A.Module]:
    """Every file `module` brings in with `use`, transitively, each once.

    Only `.lead` files inside the project (`project.project_root`, or `root`)
    are read; any other `use` is an `E308` at its line that quotes nothing of the target.
    """
    used: list[A.Module] = []
    seen = {str(Path(module.path).resolve())}
    queue = [module]
    while queue:
        current = queue.pop(0)
        for d in current.decls:
            if not isinstance(d, A.Use):
                continue
            given = Path(current.path).parent / d.path
            if root is None:
                from leadlang.project import project_root

                root = Path(project_root(module.path))
            root = root.resolve()
            try:
                target = given.resolve()
                problem = _use_problem(target, given, root)
                missing = problem is None and not target.exists()
            except (OSError, RuntimeError) as err:  # a symlink loop, a folder that cannot be searched
                target, problem, missing = given.absolute(), f"cannot read {given.as_posix()}: {getattr(err, 'strerror', None) or 'symlink loop'}", False
            if str(target) in seen:
                continue
            seen.add(str(target))
            if missing:
                diags.append(Diagnostic("E308", "error", f'`use "{d.path}"`: no such file', d.span, (f"looked for {given.as_posix()}, relative to the file that uses it",)))
                continue
            try:
                read = _read_used(loader, str(given)) if problem is None else problem
            except LeadError as err:  # a policy with errors: they point into it, as usual
                diags.extend(err.diagnostics)
                continue
            if isinstance(read, str):
                hint = "a policy may use .lead files in its project: its folder and below, or below the folder of a pyproject.toml with a [tool.leadlang] table"
                diags.append(Diagnostic("E308", "error", f'`use "{d.path}"`: {read}', d.span, (hint,)))
                continue
            sub, text = read
            texts[sub.path] = text
            used.append(sub)
            queue.append(sub)
    return used


def check_module(module: A.Module, texts: dict[str, str], loader=parse_file, root: str | Path | None = None) -> Policy:
    """Check a parsed module (and the files it uses). Raises `LeadError` on errors.

    `root` is the folder used files must lie in (default: the project of `module.path`)."""
    diags: list[Diagnostic] = []
    used = _resolve_uses(module, texts, diags, loader, None if root is None else Path(root))
    if diags:
        raise LeadError(diags)
    checker = _Checker(module, used, texts)
    policy = checker.run()
    errors = [d for d in checker.diags if d.is_error]
    if errors or policy is None:
        raise LeadError(sorted(checker.diags, key=lambda d: (d.span.file != module.path, d.span.file, d.span.line, d.span.column)))
    return policy


def load(path: str | Path, root: str | Path | None = None) -> Policy:
    """Parse and check one policy file: the usual entry point (`root` as in `check_module`)."""
    module, text = parse_file(path)
    return check_module(module, {module.path: text}, root=root)
