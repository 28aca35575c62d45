"""The checker resolves every name once (`Policy.refs`), and the checked policy cannot be changed."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

import leadlang
from leadlang.check.policy import Ref, band_column, met_column
from leadlang.diagnostics import LeadError
from leadlang.syntax import ast as A

ROOT = Path(__file__).resolve().parent.parent
LEAD_FILES = sorted(p for p in ROOT.rglob("*.lead") if not any(part.startswith(".") for part in p.relative_to(ROOT).parts))


def _checked():
    for path in LEAD_FILES:
        try:
            yield path, leadlang.load(path)
        except LeadError:
            continue  # the error cases of tests/cases: nothing is resolved


CHECKED = list(_checked())


def _expected(policy, node, source: A.Events | None) -> Ref:
    """What a name occurrence refers to, worked out from the declaration tables, independently of the checker."""
    if isinstance(node, A.IsLabel):
        name = node.operand.name
        return Ref("band", name, band_column(name)) if name in policy.bands else Ref("classification", name, name)
    if isinstance(node, A.Disqualified):
        return Ref("disqualified", "disqualified", "disqualified")
    if isinstance(node, A.Attr):
        return Ref("member", node.base) if node.base in policy.criteria else Ref("account_field", node.attr)
    n = node.name
    if source is not None:
        return Ref("event_column", n) if n in policy.event_types[source.name] else Ref("let", n)
    met = {met_column(c): c for c in policy.criteria}
    for kind, table, column in (("let", policy.lets, False), ("lead_field", policy.lead_types, False),
                                ("signal", policy.signals, True), ("score", policy.scores, True),
                                ("criteria", policy.criteria, True), ("criteria_met", met, True),
                                ("classification", policy.classifications, True)):
        if n in table:
            return Ref(kind, met.get(n, n), n if column else None)
    out = policy.output(n)  # an `expect` reading another output column
    return Ref("output", out.source or n, n)


def _occurrences(node, source: A.Events | None = None):
    """Every name occurrence under `node`, with the events source whose `where` it stands in, if any."""
    if isinstance(node, (A.Name, A.Attr, A.IsLabel, A.Disqualified)):
        yield node, source
    if isinstance(node, A.Aggregate) and node.where is not None:
        yield from _occurrences(node.where, node)  # the aggregate's events source
        return
    for child in A.children(node):
        yield from _occurrences(child, source)


def test_the_repository_policies_are_checked():
    assert len(CHECKED) >= 15, [str(p) for p, _ in CHECKED]
    assert {"plg.lead", "ucc.lead", "meddic.lead"} <= {p.name for p, _ in CHECKED}


@pytest.mark.parametrize("path,policy", CHECKED, ids=[str(p.relative_to(ROOT)) for p, _ in CHECKED])
def test_every_name_occurrence_is_resolved(path, policy):
    seen = 0
    for module in policy.modules:
        for decl in module.decls:
            for node, aggregate in _occurrences(decl):
                source = policy.events[aggregate.source] if aggregate is not None else None
                assert policy.ref(node) == _expected(policy, node, source), f"{node.span}: {node}"
                seen += 1
    assert seen == len(policy.refs)


def test_band_and_met_columns_are_output_columns():
    for _, policy in CHECKED:
        names = {o.name for o in policy.outputs}
        assert {band_column(s) for s in policy.bands} <= names
        assert {met_column(c) for c in policy.criteria} <= names
        assert all(r.column in names for r in policy.refs.values() if r.column is not None)


def test_the_checked_policy_is_read_only():
    policy = leadlang.load(ROOT / "policies" / "plg" / "plg.lead")
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.name = "other"
    for table in (policy.signals, policy.labels, policy.types, policy.refs, policy.texts, policy.event_types):
        with pytest.raises(TypeError):
            table["x"] = None
    with pytest.raises(TypeError):
        next(iter(policy.event_types.values()))["x"] = None
    moved = dataclasses.replace(policy, path="elsewhere.lead")  # a variant is a derived copy
    assert moved.path == "elsewhere.lead" and policy.path != moved.path and moved.refs is policy.refs
