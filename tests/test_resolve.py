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
    for table in (policy.signals, policy.labels, policy.types, policy.refs, policy.texts, policy.event_types, policy.named, policy.occurs):
        with pytest.raises(TypeError):
            table["x"] = None
    with pytest.raises(TypeError):
        next(iter(policy.event_types.values()))["x"] = None
    moved = dataclasses.replace(policy, path="elsewhere.lead")  # a variant is a derived copy
    assert moved.path == "elsewhere.lead" and policy.path != moved.path and moved.refs is policy.refs


# ----------------------------------------------------------------------------------------------------
# The bare-word references (`Policy.named`) and every occurrence with its span (`Policy.occurrences`).


def _label_ref(policy, column: str, value) -> Ref | None:
    """What a string compared with the output column `column` names, from the output table alone."""
    out = next((o for o in policy.outputs if o.name == column), None)
    if out is None or not out.labels or value not in out.labels:
        return None
    if out.role == "reason":
        return Ref("gate", "disqualify", column, value)
    return Ref("label", out.source, column, value)


def _compared_strings(policy, node):
    """(literal, expected Ref) for each string compared with a label: `segment = "hot"`, `fit_band in [...]`."""
    def column(e):
        return policy.ref(e).column if isinstance(e, A.Name) else None

    def literals(e):
        if isinstance(e, A.Name) and policy.ref(e).kind == "let":
            e = policy.lets[e.name].expr
        return [i for i in (e.items if isinstance(e, A.ListLit) else (e,)) if isinstance(i, A.Literal) and i.kind == "string"]

    pairs = []
    if isinstance(node, A.Binary) and node.op in ("=", "!="):
        pairs = [(node.left, node.right), (node.right, node.left)]
    elif isinstance(node, A.InList):
        pairs = [(node.operand, node.items)]
    for subject, other in pairs:
        if column(subject) is not None:
            for lit in literals(other):
                ref = _label_ref(policy, column(subject), lit.value)
                if ref is not None:
                    yield lit, ref


def _expected_named(policy, module):
    """((node, field), Ref) for every bare-word reference of a module, from the declaration tables."""
    def score_or_criteria(name):
        return "score" if name in policy.scores else "criteria"

    for decl in module.decls:
        if isinstance(decl, A.Bands):
            yield (decl, "score"), Ref("score", decl.score, decl.score)
        elif isinstance(decl, A.Matrix):
            rows, cols = decl.rows_score, decl.cols_score
            yield (decl, "rows_score"), Ref("score", rows, rows)
            yield (decl, "cols_score"), Ref("score", cols, cols)
            for i, label in enumerate(decl.columns):
                yield (decl, f"columns[{i}]"), Ref("label", cols, band_column(cols), label)
            for row in decl.rows:
                yield (row, "band"), Ref("label", rows, band_column(rows), row.band)
        elif isinstance(decl, A.Actions):
            yield (decl, "target"), Ref("classification", decl.target, decl.target)
            for act in decl.actions:
                yield (act, "label"), Ref("label", decl.target, decl.target, act.label)
        elif isinstance(decl, A.Test):
            for item in decl.items:
                if isinstance(item, A.TestRow):
                    for p in item.pairs:
                        yield (p, "key"), Ref("lead_field" if item.kind == "lead" else "account_field", p.key)
                elif isinstance(item, A.TestEvents):
                    yield (item, "source"), Ref("events", item.source)
                    for line in item.lines:
                        for p in line.pairs:
                            yield (p, "key"), Ref("event_column", p.key)
                elif isinstance(item, A.ExpectFired):
                    c = item.component
                    if c == "disqualify":
                        yield (item, "rule"), Ref("gate", "disqualify", "disqualify_reason", item.rule)
                    else:
                        yield (item, "component"), Ref(score_or_criteria(c), c, c)
                        yield (item, "rule"), Ref("rule" if c in policy.scores else "member", c, None, item.rule)
                elif isinstance(item, A.ExpectBecause):
                    yield (item, "gate"), Ref("gate", "disqualify", "disqualify_reason", item.gate)
        for node in A.walk(decl):
            if isinstance(node, A.Aggregate):
                yield (node, "source"), Ref("events", node.source)
                if node.column is not None:
                    yield (node, "column"), Ref("event_column", node.column)
            for lit, ref in _compared_strings(policy, node):
                yield (lit, "value"), ref


@pytest.mark.parametrize("path,policy", CHECKED, ids=[str(p.relative_to(ROOT)) for p, _ in CHECKED])
def test_every_bare_word_reference_is_resolved(path, policy):
    expected = {}
    for module in policy.modules:
        for (node, field), ref in _expected_named(policy, module):
            expected[(id(node), field)] = ref
            assert policy.ref(node, field) == ref, f"{getattr(node, 'span', '')}: {field} of {node}"
    assert len(expected) == len(policy.named)


def _spelled(policy, o) -> str:
    """The text an occurrence's span covers, without a name's backticks."""
    text = policy.texts[o.path]
    s = o.span
    lines = text.splitlines(keepends=True)
    assert (s.line, s.column) == (text.count("\n", 0, s.start) + 1, s.start - text.rfind("\n", 0, s.start))
    assert sum(map(len, lines[: s.line - 1])) + s.column - 1 == s.start
    return text[s.start:s.end].strip("`")


def _declared(policy):
    """(kind, name, file) of everything the policy declares, from its tables."""
    out = [("lead_field", policy.leads.key, policy.leads.span.file)]
    out += [("lead_field", f.name, f.span.file) for f in policy.leads.fields]
    out += [("event_column", f"{n}.{f.name}", f.span.file) for n, ev in policy.events.items() for f in ev.fields]
    out += [("events", n, ev.span.file) for n, ev in policy.events.items()]
    for kind, table in (("let", policy.lets), ("signal", policy.signals), ("score", policy.scores),
                        ("criteria", policy.criteria), ("classification", policy.classifications)):
        out += [(kind, n, d.span.file) for n, d in table.items()]
    for sc in policy.scores.values():
        out += [("rule", f"{sc.name}.{r.id}", r.span.file) for r in getattr(sc, "rules", ())]
    out += [("member", f"{c.name}.{m.id}", m.span.file) for c in policy.criteria.values() for m in c.members]
    out += [("gate", f"disqualify.{g.id}", g.span.file) for g in policy.gates]
    out += [("label", f"{s}.{b.label}", b.span.file) for s, bands in policy.bands.items() for b in bands.bands]
    for c in policy.classifications.values():
        labels = [x for x in policy.labels[c.name] if x != "disqualified" or isinstance(c, A.Classify)]
        out += [("label", f"{c.name}.{x}", c.span.file) for x in labels]
    return out


@pytest.mark.parametrize("path,policy", CHECKED, ids=[str(p.relative_to(ROOT)) for p, _ in CHECKED])
def test_every_occurrence_spells_its_name(path, policy):
    for (kind, name), found in policy.occurs.items():
        assert found == policy.occurrences(kind, name) and found
        for o in found:
            assert (o.kind, o.name) == (kind, name)
            assert _spelled(policy, o) == name.rsplit(".", 1)[-1] if kind != "events" else name, o
    for kind, name, file in _declared(policy):
        declarations = [o for o in policy.occurrences(kind, name) if o.declaration]
        assert declarations and all(o.path == file for o in declarations), (kind, name)
    # every name occurrence of the expressions and every bare word is among them
    spans = {o.span for found in policy.occurs.values() for o in found}
    names = [n for m in policy.modules for d in m.decls for n in A.walk(d) if isinstance(n, A.Name)]
    assert all(n.span in spans for n in names if policy.ref(n).kind not in ("criteria_met", "output"))


def test_occurrences_across_use(tmp_path):
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "base.lead").write_text(
        'policy base "Base"\n\n'
        'leads from ref("leads") key lead_id {\n  employees int\n  industry enum("software", "retail")\n}\n\n'
        'events product from ref("events") {\n  lead user_id\n  at occurred_at\n  name event_name\n  seats int\n}\n\n'
        'let big = 1000\n'
        'signal `big company` = employees >= big\n'
        'signal seats_30 = sum(product.seats in last 30 days)\n')
    main = tmp_path / "main.lead"
    main.write_text(
        'policy main "Main"\n\nuse "shared/base.lead"\n\n'
        'score fit {\n  big: +30 when `big company`\n  seats: +1 per seats_30, max 20\n  huge: +10 when employees >= big * 10\n}\n\n'
        'bands fit { high >= 30, low otherwise }\n\n'
        'classify stage {\n  sql when fit is high\n  otherwise lead\n}\n\n'
        'actions stage {\n  sql: route "ae"\n  lead: route "nurture"\n}\n\n'
        'test "a big company" {\n  as of 2024-06-01T00:00:00Z\n  lead { employees: 5000 }\n'
        '  product {\n    "seat_added" 1 day ago x 2 { seats: 3 }\n  }\n'
        '  expect stage is sql\n  expect fit_band = "high"\n  expect fired fit.big\n}\n')
    policy = leadlang.load(main)
    base, here = str(tmp_path / "shared" / "base.lead"), str(main)

    def where(kind, name):
        return [(o.path, o.span.line, o.span.column, o.declaration) for o in policy.occurrences(kind, name)]

    # this file's occurrences first, then the used file's, each in text order; a quoted name's span has its backticks
    assert where("let", "big") == [(here, 8, 31, False), (base, 15, 5, True), (base, 16, 37, False)]
    assert where("signal", "big company") == [(here, 6, 17, False), (base, 16, 8, True)]
    assert where("event_column", "product.seats") == [(here, 27, 34, False), (base, 12, 3, True), (base, 17, 31, False)]
    assert where("score", "fit") == [(here, 5, 7, True), (here, 11, 7, False), (here, 14, 12, False),
                                     (here, 30, 10, False), (here, 31, 16, False)]  # `fit` of `fit_band`, of `fit.big`
    assert where("label", "fit.high") == [(here, 11, 13, True), (here, 14, 19, False), (here, 30, 22, False)]
    assert where("label", "stage.sql") == [(here, 14, 3, True), (here, 19, 3, False), (here, 29, 19, False)]
    assert where("rule", "fit.big") == [(here, 6, 3, True), (here, 31, 20, False)]
    assert where("classification", "stage") == [(here, 13, 10, True), (here, 18, 9, False), (here, 29, 10, False)]
    assert [o.declaration for o in policy.uses("let", "big")] == [False, False]
    assert policy.occurrence_at(here, 6, 20) == policy.occurrences("signal", "big company")[0]
    assert policy.occurrence_at(here, 6, 2) is None
    # the bare words, resolved: `fit_band` names score `fit`, its string a label of `fit`
    fired = next(i for i in policy.tests[0].items if isinstance(i, A.ExpectFired))
    assert policy.ref(fired, "rule") == Ref("rule", "fit", None, "big")
    actions = policy.actions["stage"]
    assert policy.ref(actions, "target") == Ref("classification", "stage", "stage")
    assert policy.ref(actions.actions[1], "label") == Ref("label", "stage", "stage", "lead")


def test_unused_let_and_signal_read_the_uses(tmp_path):
    """L201/L202 ask `policy.uses`: a `where` reading an event column of a let's name does not use the let;
    a let read only in a `use`d file is used."""
    from leadlang.lint import Settings, lint

    (tmp_path / "base.lead").write_text('policy base "Base"\n\nsignal small = employees < floor\n')
    main = tmp_path / "main.lead"
    main.write_text(
        'policy main "Main"\n  version "1"\n  owner "x"\n\nuse "base.lead"\n\n'
        'leads from ref("leads") key lead_id {\n  employees int\n}\n\n'
        'let floor = 2\nlet seats = 3\nsignal big = employees >= 1000\n\n'
        'events product from ref("events") {\n  lead user_id\n  at occurred_at\n  name event_name\n  seats int\n}\n\n'
        'score fit {\n  many: +10 when count(product where seats > 1 in last 30 days) > 0\n}\n')
    policy = leadlang.load(main)
    assert policy.uses("let", "seats") == () and len(policy.uses("let", "floor")) == 1
    found = {(d.code, d.message) for d in lint(policy, Settings())}
    assert ("L201", "`let seats` is never used") in found
    assert not any(m == "`let floor` is never used" for _, m in found)
    assert ("L202", "signal `big` is never used") in found
