"""Test coverage: which rules, gates, members, classify branches and matrix cells the `test` blocks exercised.

An item is covered when the subject lead of at least one test (the first `lead`
of the block, the one its `expect` lines talk about) makes it fire:

| item | covered when |
| --- | --- |
| rule `score.id` | it fired: it added points (a `when` rule's condition was true; a `per` rule's value was present and not zero) |
| gate `disqualify.id` | its condition was true (even if an earlier gate gave the reason) |
| member `criteria.id` | its condition was true |
| branch of `classify` | it was the branch chosen (the first true one, or `otherwise`) |
| cell of `matrix` | the lead landed in it (a disqualified lead lands in no cell) |

The facts come from the interpreter's `LeadState` of each test (`fired`,
`branches`, the band values), so coverage never re-evaluates a condition.
Failed tests count like passing ones: coverage says what was exercised.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from leadlang.check.policy import Policy
from leadlang.syntax import ast as A
from leadlang.testing.runner import TestResult

KINDS = ("rule", "gate", "member", "branch", "cell")
_PLURAL = {"rule": "rules", "gate": "gates", "member": "members", "branch": "branches", "cell": "cells"}


@dataclass(frozen=True, slots=True)
class Item:
    """One thing a test can exercise; `name` is how reports show it."""

    kind: str  # one of KINDS
    name: str  # fit.free_email, disqualify.competitor, ucc.urgency, "stage: sql", "segment[high, low]: sales_ready"
    span: A.Span

    @property
    def where(self) -> str:
        return f"{self.span.file}:{self.span.line}"


@dataclass
class Coverage:
    """Every item of one policy and those its tests covered."""

    path: Path | str
    items: list[Item]
    covered: set[Item] = field(default_factory=set)

    @property
    def missed(self) -> list[Item]:
        return [i for i in self.items if i not in self.covered]

    @property
    def percent(self) -> float:
        """Covered items in percent; a policy with nothing to cover is 100% covered."""
        return 100.0 if not self.items else 100.0 * len(self.covered) / len(self.items)

    def by_kind(self) -> dict[str, tuple[int, int]]:
        """kind -> (covered, total), for the kinds the policy has."""
        out = {}
        for kind in KINDS:
            of_kind = [i for i in self.items if i.kind == kind]
            if of_kind:
                out[kind] = (sum(i in self.covered for i in of_kind), len(of_kind))
        return out


def items(policy: Policy) -> list[Item]:
    """Every coverable item of the policy, in declaration order."""
    out: list[Item] = []
    for sc in policy.scores.values():
        out += [Item("rule", f"{sc.name}.{r.id}", r.span) for r in getattr(sc, "rules", ())]
    out += [Item("gate", f"disqualify.{g.id}", g.span) for g in policy.gates]
    for cr in policy.criteria.values():
        out += [Item("member", f"{cr.name}.{m.id}", m.span) for m in cr.members]
    for c in policy.classifications.values():
        if isinstance(c, A.Matrix):
            out += [Item("cell", _cell(c, row.band, col, label), row.span) for row in c.rows for col, label in zip(c.columns, row.cells)]
        else:
            out += [Item("branch", f"{c.name}: {b.label}", b.span) for b in c.branches]
            out.append(Item("branch", f"{c.name}: otherwise {c.otherwise}", c.otherwise_span))
    return out


def _cell(m: A.Matrix, row: str, col: str, label: str) -> str:
    return f"{m.name}[{m.rows_score} {row}, {m.cols_score} {col}]: {label}"


def coverage(policy: Policy, results: list[TestResult], path: Path | str | None = None) -> Coverage:
    """What the subject leads of `results` (from `run_tests(policy)`) exercised."""
    everything = items(policy)
    by_name = {(i.kind, i.name, i.span): i for i in everything}
    hit: set[Item] = set()
    for r in results:
        s = r.state
        if s is None:
            continue
        for i in everything:
            if i.kind in ("rule", "gate", "member") and tuple(i.name.split(".", 1)) in s.fired:
                hit.add(i)
        for c in policy.classifications.values():
            if isinstance(c, A.Matrix):
                if s.values.get("disqualified"):
                    continue
                rb, cb = s.values[policy.band_column(c.rows_score)], s.values[policy.band_column(c.cols_score)]
                row = next(r for r in c.rows if r.band == rb)
                hit.add(by_name[("cell", _cell(c, rb, cb, row.cells[c.columns.index(cb)]), row.span)])
            elif c.name in s.branches:
                n = s.branches[c.name]
                if n < len(c.branches):
                    b = c.branches[n]
                    hit.add(by_name[("branch", f"{c.name}: {b.label}", b.span)])
                else:
                    hit.add(by_name[("branch", f"{c.name}: otherwise {c.otherwise}", c.otherwise_span)])
    return Coverage(path if path is not None else policy.path, everything, hit)


def total_percent(reports: list[Coverage]) -> float:
    """Covered items over all items of every policy, in percent (100 when there are none)."""
    total = sum(len(c.items) for c in reports)
    return 100.0 if not total else 100.0 * sum(len(c.covered) for c in reports) / total


def below(reports: list[Coverage], fail_under: float) -> bool:
    """Whether total coverage is under `fail_under` percent (compared exactly, not after rounding)."""
    total = sum(len(c.items) for c in reports)
    return total > 0 and sum(len(c.covered) for c in reports) * 100 < fail_under * total


def render_text(reports: list[Coverage]) -> str:
    lines: list[str] = []
    for c in reports:
        lines.append(f"coverage {c.path}: {c.percent:.1f}% ({len(c.covered)} of {len(c.items)})")
        kinds = c.by_kind()
        if kinds:
            lines.append("  " + ", ".join(f"{_PLURAL[k]} {hit}/{n}" for k, (hit, n) in kinds.items()))
        for i in c.missed:
            lines.append(f"  not covered: {i.where}: {i.kind} {i.name}")
    covered, total = sum(len(c.covered) for c in reports), sum(len(c.items) for c in reports)
    lines.append(f"total coverage: {total_percent(reports):.1f}% ({covered} of {total})")
    return "\n".join(lines)
