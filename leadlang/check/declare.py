"""Declarations: the header, `use`d declarations merged in, sources and their fields, names, lets, bands and labels."""

from __future__ import annotations

import dataclasses

from leadlang.check import types as T
from leadlang.check.types import Type
from leadlang.diagnostics import closest
from leadlang.syntax import ast as A
from leadlang.syntax.grammar import KEYWORDS


class Declarations:
    """The checker's declaration phase (a part of `check.checker.Checker`)."""

    def _header(self) -> tuple[A.PolicyHeader | None, str | None, str | None]:
        """The `policy` line, then `version` and `owner` right after it (E301)."""
        decls = self.main.decls
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
        return header, version, owner

    def _merged(self) -> list[A.Decl]:
        """The declarations of every `use`d file (sources, lets and signals only: E310), then this file's."""
        everything: list[A.Decl] = []
        for module in self.used:
            for d in module.decls:
                if isinstance(d, (A.PolicyHeader, A.Version, A.Owner, A.Use)):
                    continue
                if isinstance(d, (A.Leads, A.Accounts, A.Events, A.Let, A.Signal)):
                    everything.append(d)
                else:
                    self.error("E310", "a file brought in with `use` may only declare sources, lets and signals", d.span)
        everything.extend(d for d in self.main.decls if not isinstance(d, (A.PolicyHeader, A.Version, A.Owner, A.Use)))
        return everything

    def _sources(self, everything: list[A.Decl]) -> bool:
        """The leads, accounts and events sources and their field types; False without a `leads` source (E302)."""
        leads = [d for d in everything if isinstance(d, A.Leads)]
        accounts = [d for d in everything if isinstance(d, A.Accounts)]
        if not leads:
            self.error("E302", "the policy declares no `leads` source", A.Span(self.main.path, 1, 1, 1, 2), 'add e.g. `leads from ref("stg_leads") key lead_id { ... }`')
            return False
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
        return True

    def _names(self, everything: list[A.Decl]) -> None:
        """Every name declared first, so references resolve in any order; then the labels and the `let` values."""
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

    def declare(self, name: str, what: str, span: A.Span) -> bool:
        if name in KEYWORDS and not isinstance(name, A.QuotedName):
            self.error("E212", f"`{name}` is a keyword and cannot name a {what}", span, f"write it in backticks: `` `{name}` ``")
        if name in self.names:
            first_what, first = self.names[name]
            self.error("E207", f"`{name}` is already declared as a {first_what} at line {first.line}", span, "names must be unique across the policy")
            return False
        self.names[name] = (what, span)
        return True

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
