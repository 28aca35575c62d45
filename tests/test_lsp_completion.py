"""Completion (the context read from the text before the cursor, the items from the policy) and semantic tokens:
pure functions, then over stdio (pytest-lsp)."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsp_client import LOOP, T, apply, change, client, close, open_doc, position  # noqa: F401  (client: the fixture)

from leadlang.lsp.completion import context_at, context_at_offset, items, scan
from leadlang.lsp.semantic import KIND_TYPES, TOKEN_MODIFIERS, TOKEN_TYPES, tokens
from leadlang.syntax.comments import scan as scan_comments

ROOT = Path(__file__).resolve().parents[1]
PLG = ROOT / "policies" / "plg" / "plg.lead"


def at(text: str, marker: str = "|"):
    """The context at the last `marker` (removed from the text)."""
    offset = text.rindex(marker)
    return context_at_offset(text[:offset] + text[offset + 1:], offset)


HEAD = '''policy p "P"
leads from ref("l") key lead_id account account_id {
  industry enum("software", "fintech")
  employees int
  title string
}
accounts from ref("a") key account_id {
  tier enum("gold", "silver")
}
events product from ref("e") {
  lead user_id
  at occurred_at
  name event_name
  seats int
  plan string
}
'''


@pytest.mark.parametrize("text, kind, attrs", [
    ("signal s = segment is |", "label", {"subject": "segment"}),
    ("classify c {\n  a when fit is not |", "label", {"subject": "fit", "negated": True}),
    ("classify c {\n  a when fit is hi|", "label", {"subject": "fit", "prefix": "hi"}),
    ("signal s = industry in [|", "value", {"subject": "industry", "owner": "list"}),
    ('signal s = industry in ["software", |', "value", {"subject": "industry"}),
    ('signal s = account.tier not in ["gold", "si|', "value", {"subject": "account.tier", "in_string": True, "prefix": '"si'}),
    ("signal s = account.|", "attr", {"subject": "account"}),
    ("signal s = account.ti|", "attr", {"subject": "account", "prefix": "ti"}),
    ("criteria ucc require all {\n  a: ucc.|", "attr", {"subject": "ucc"}),
    ("disqualify {\n  x: industry = |", "value", {"subject": "industry"}),
    ("disqualify {\n  x: industry != \"f|", "value", {"subject": "industry", "in_string": True}),
    ("signal s = industry in |", "list", {"subject": "industry"}),
    ("signal s = count(|", "source", {"function": "count"}),
    ("signal s = sum(product.|", "column", {"source": "product", "function": "sum"}),
    ("signal s = count(product |", "aggregate", {"source": "product"}),
    ('signal s = count(product "lo|', "aggregate", {"source": "product", "in_string": True}),
    ('signal s = count(product "login" where |', "expr", {"scope": "event", "source": "product"}),
    ('signal s = count(product ["login", "si|', "event_name", {"source": "product", "in_string": True}),
    ('signal s = count(product [|', "event_name", {"source": "product"}),
    ('signal s = count(product where plan in [|', "value", {"subject": "plan"}),
    ('signal s = count(product where plan = |', "value", {"scope": "event", "subject": "plan"}),
    ('signal s = count(product where seats > 3 |', "operator", {"scope": "event"}),
    ("signal s = count(product in last |", "none", {}),
    ("signal s = lower(|", "expr", {}),
    ("signal s = least(employees, |", "expr", {}),
    ("|", "top", {}),
    ("score fit {\n  a: +1 when x > 1\n}\n|", "top", {}),
    ("score fit {\n  a: +1 when x > 1\n}\nsig|", "top", {"prefix": "sig"}),
    ("score fit {\n  |", "none", {"block": "score"}),
    ("score fit {\n  a: +10 |", "rule_tail", {}),
    ("score fit {\n  a: +10 when |", "expr", {"block": "score"}),
    ("score fit {\n  a: +10 when x >= 3\n      and |", "expr", {"block": "score"}),
    ("score fit {\n  a: +10 when employees |", "operator", {}),
    ("score fit {\n  a: +1 per employees, |", "cap", {}),
    ("leads from ref(\"l\") key k {\n  email |", "type", {}),
    ("events e from ref(\"e\") {\n  |", "event_roles", {}),
    ("bands |", "score", {"owner": "bands"}),
    ("bands fit { high |", "band", {}),
    ("bands fit { high >= 60, low |", "band", {}),
    ("actions |", "classification", {}),
    ("actions seg {\n  |", "action_label", {"owner": "seg"}),
    ("actions seg {\n  hot: route \"x\", |", "setting", {}),
    ("matrix m: eng by |", "score", {"owner": "matrix"}),
    ("matrix m: eng by fit {\n       | |", "matrix_label", {"subject": "fit", "header": True}),
    ("matrix m: eng by fit {\n       | low | high\n  |", "matrix_label", {"subject": "eng"}),
    ("classify c {\n  |", "otherwise", {}),
    ('test "t" {\n  |', "test", {}),
    ('test "t" {\n  expect |', "expect", {"scope": "test"}),
    ('test "t" {\n  expect not |', "expect", {"negated": True}),
    ('test "t" {\n  expect fired |', "component", {}),
    ('test "t" {\n  expect not fired fit.|', "rule", {"subject": "fit"}),
    ('test "t" {\n  expect disqualified because |', "gate", {}),
    ('test "t" {\n  expect segment is |', "label", {"subject": "segment", "scope": "test"}),
    ('test "t" {\n  lead { lead_id: "L1", |', "pair_key", {"subject": "lead"}),
    ('test "t" {\n  lead {\n    lead_id: "L1"\n    industry: |', "value", {"subject": "industry", "scope": "pair", "owner": "lead"}),
    ('test "t" {\n  account { |', "pair_key", {"subject": "account"}),
    ('test "t" {\n  product {\n    "|', "event_name", {"source": "product", "in_string": True}),
    ('test "t" {\n  product {\n    "login" 1 day ago { |', "pair_key", {"subject": "event", "source": "product"}),
    ("signal s = x # is |", "none", {}),
    ('signal s = "a # is |', "none", {}),
])
def test_context(text, kind, attrs):
    ctx = at(HEAD + text)
    assert ctx.kind == kind, ctx
    for name, want in attrs.items():
        assert getattr(ctx, name) == want, (name, ctx)


def test_context_position_and_start():
    text = "policy p \"P\"\nsignal s = fit is hi"
    ctx = context_at(text, 1, len("signal s = fit is hi"))
    assert (ctx.kind, ctx.prefix, text[ctx.start:]) == ("label", "hi", "hi")
    # past the end of a line or the text: clamped, never an error
    assert context_at(text, 1, 999).kind == "label"
    assert context_at(text, 40, 0).kind == "label"


def test_context_survives_any_text():
    """Odd bytes, unclosed brackets and stray closers give a context, never an exception."""
    for text in ["}}}]]) is", "\x00\ufeff`unclosed", 'score s {\n  a: +1 when ((["', "\\\n\\", "matrix : by {|||"]:
        for offset in range(len(text) + 1):
            context_at_offset(text, offset)
    assert [t.type for t in scan('x is not "ab')] == ["NAME", "IS_NOT", "PARTIAL"]


@pytest.fixture(scope="module")
def plg():
    from leadlang.check import load

    return load(str(PLG)), PLG.read_text(encoding="utf-8")


def labels_after(plg, snippet: str) -> list[str]:
    policy, text = plg
    offset = text.index(snippet) + len(snippet)
    return [i.label for i in sorted(items(context_at_offset(text, offset), policy), key=lambda i: i.sort_text)]


@pytest.mark.parametrize("snippet, first", [
    ("when segment is ", ["opportunity", "sales_ready", "ignore", "heartbreaker", "disqualified"]),
    ("pql when engagement is ", ["high", "low"]),
    ("no_budget:  budget_status = ", ['"approved"', '"planned"', '"none"']),
    ("count(", ["product", "marketing"]),
    ('count(product "', ["teammate_invited", "login", "dashboard_viewed"]),
    ("expect ucc.", ["urgency", "criticality", "complexity"]),
    ("expect fired engagement.", ["active_usage", "team_invites", "pricing", "demo_request", "logins", "dormant"]),
    ("expect disqualified because ", ["competitor", "student", "no_budget"]),
    ("actions segment {\n  ", ["opportunity", "sales_ready", "ignore", "heartbreaker", "disqualified"]),
])
def test_items_from_the_policy(plg, snippet, first):
    got = labels_after(plg, snippet)
    assert got[:len(first)] == first, got


def test_repaired_drops_the_line_then_the_declaration_being_written(plg):
    from leadlang.lsp.completion import repaired

    policy, text = plg
    at = text.index("pql when engagement is high") + len("pql when engagement is ")
    line = text[:at] + text[at + len("high"):]  # `pql when engagement is ` does not parse
    assert repaired(line, at, "p.lead").labels["engagement"] == ("high", "low")
    anchor = text.index("signal active_days_30")
    extra = "signal extra = count(product\n  in last 3 days whe"  # two broken lines: the whole signal goes
    broken = text[:anchor] + extra + "\n" + text[anchor:]
    got = repaired(broken, anchor + len(extra), "p.lead")
    assert "extra" not in got.signals and "active_days_30" in got.signals
    assert repaired("score {", 7, "p.lead") is None


def test_expression_items_carry_kind_detail_and_documentation(plg):
    policy, text = plg
    offset = text.index("target_industry: +30 when ") + len("target_industry: +30 when ")
    found = {i.label: i for i in items(context_at_offset(text, offset), policy)}
    assert {"industry", "employees", "email_domain", "invites_14d", "target_industries", "fit", "ucc", "segment", "stage",
            "domain", "lower", "count", "active_days"} <= set(found)
    assert found["industry"].kind == T.CompletionItemKind.Field and "enum" in found["industry"].detail
    assert found["email_domain"].kind == T.CompletionItemKind.Variable and "string" in found["email_domain"].detail
    assert "signal email_domain   = domain(email)" in found["email_domain"].documentation.value
    assert found["lower"].kind == T.CompletionItemKind.Function and found["lower"].detail.startswith("lower(")
    assert found["count"].insert_text == "count(${1})" and found["count"].insert_text_format == T.InsertTextFormat.Snippet
    assert found["count"].documentation is not None
    # the names of the lead's own fields come before functions
    ranked = sorted(found.values(), key=lambda i: i.sort_text)
    assert ranked.index(found["industry"]) < ranked.index(found["lower"])


# ------------------------------------------------------------- over stdio --


async def _complete(client, path: Path, text: str, at: int) -> list:
    result = await client.text_document_completion_async(T.CompletionParams(
        text_document=T.TextDocumentIdentifier(uri=path.resolve().as_uri()), position=position(text, at)))
    found = result.items if isinstance(result, T.CompletionList) else result
    return sorted(found or [], key=lambda i: i.sort_text or i.label)


@LOOP
async def test_completion_while_typing(client, tmp_path):
    """A buffer that no longer parses: band labels after `is`, fields, enum values, aggregates' columns, members."""
    text = PLG.read_text(encoding="utf-8")
    path = tmp_path / "plg.lead"
    path.write_text(text, encoding="utf-8")
    await open_doc(client, path, text)
    anchor = text.index("classify stage {\n") + len("classify stage {\n")
    version = 1

    async def typed(line: str) -> tuple[str, list]:
        nonlocal version
        version += 1
        new = text[:anchor] + line + "\n" + text[anchor:]
        await change(client, path, new, version)
        return new, await _complete(client, path, new, anchor + len(line))

    new, found = await typed("  hot when engagement is ")
    assert [i.label for i in found[:2]] == ["high", "low"]
    assert found[0].kind == T.CompletionItemKind.EnumMember and "engagement" in found[0].detail
    new, found = await typed("  hot when engagement is h")
    assert "  hot when engagement is high\n" in apply(new, [found[0].text_edit])
    new, found = await typed("  hot when emp")
    labels = [i.label for i in found]
    assert {"employees", "email", "industry", "invites_14d", "fit", "ucc"} <= set(labels)
    assert "  hot when employees\n" in apply(new, [next(i for i in found if i.label == "employees").text_edit])
    new, found = await typed('  hot when budget_status = "pl')
    assert [i.label for i in found] == ["approved", "planned", "none"]
    assert '  hot when budget_status = "planned"\n' in apply(new, [found[1].text_edit])
    new, found = await typed("  hot when sum(product.")
    assert [i.label for i in found] == ["seats"]
    new, found = await typed("  hot when ucc.")
    assert [i.label for i in found] == ["urgency", "criticality", "complexity"]
    close(client, path)


@LOOP
async def test_completion_in_a_buffer_opened_broken(client, tmp_path):
    """No version of the buffer has checked: the names come from the text without the line being written."""
    text = PLG.read_text(encoding="utf-8")
    anchor = text.index("classify stage {\n") + len("classify stage {\n")
    line = "  hot when segment is "
    broken = text[:anchor] + line + "\n" + text[anchor:]
    path = tmp_path / "broken.lead"
    diagnostics = await open_doc(client, path, broken)
    assert [d.code for d in diagnostics if d.severity == T.DiagnosticSeverity.Error]
    found = await _complete(client, path, broken, anchor + len(line))
    assert [i.label for i in found[:5]] == ["opportunity", "sales_ready", "ignore", "heartbreaker", "disqualified"]
    close(client, path)


# ---------------------------------------------------------- semantic tokens --

POLICIES = sorted(ROOT.glob("policies/*/*.lead"))


@pytest.mark.parametrize("path", POLICIES, ids=lambda p: p.stem)
def test_semantic_tokens_colour_every_name_by_what_it_refers_to(path):
    from leadlang.check import load

    policy = load(str(path))
    text = policy.texts[policy.path]
    pieces = tokens(text, policy, policy.path)
    assert all(a[1] <= b[0] for a, b in zip(pieces, pieces[1:])), "ordered, never overlapping"
    assert all("\n" not in text[s:e] for s, e, _, _ in pieces)
    by_start = {s: (e, kind, mods) for s, e, kind, mods in pieces}
    for found in policy.occurs.values():
        for o in found:
            if o.span.file != policy.path:
                continue
            e, kind, mods = by_start[o.span.start]
            assert (e, kind) == (o.span.end, KIND_TYPES[o.kind]), (o, text[o.span.start:o.span.end])
            assert ("declaration" in mods) == o.declaration
    comments = [text[s:e] for s, e, kind, _ in pieces if kind == "comment"]
    assert comments == [c.text for c in scan_comments(text)[0]]


def test_semantic_tokens_of_plg(plg):
    policy, text = plg
    pieces = {(text[s:e], s): (kind, mods) for s, e, kind, mods in tokens(text, policy, policy.path)}

    def at(snippet: str, word: str):
        start = text.index(snippet) + snippet.index(word)
        return pieces[(word, start)]

    assert at("signal email_domain", "email_domain") == ("variable", ("declaration",))
    assert at("free_email:      -40 when email_domain", "email_domain") == ("variable", ())
    assert at("industry in target_industries", "target_industries") == ("variable", ("readonly",))
    assert at("industry in target_industries", "industry") == ("property", ())
    assert at("when segment is sales_ready", "segment") == ("enum", ())
    assert at("when segment is sales_ready", "sales_ready") == ("enumMember", ())
    assert at("pql when engagement is high", "engagement") == ("class", ())
    assert at("and ucc", "ucc") == ("struct", ())
    assert at("= domain(email)", "domain") == ("function", ("defaultLibrary",))
    assert at("count(product \"teammate_invited\"", "count") == ("function", ("defaultLibrary",))
    assert at("count(product \"teammate_invited\"", "product") == ("namespace", ())
    assert at("count(product \"teammate_invited\"", '"teammate_invited"') == ("string", ())
    assert at("in last 14 days", "in last") == ("keyword", ())
    assert at("in last 14 days", "14 days") == ("number", ())
    assert at("industry       enum(", "enum") == ("type", ())


def test_semantic_tokens_of_a_text_that_does_not_check():
    text = 'signal s = lowr(y) is # a comment\nscore "unterminated'
    kinds = [(text[s:e], kind) for s, e, kind, _ in tokens(text)]
    assert kinds == [("signal", "keyword"), ("s", "variable"), ("=", "operator"), ("lowr", "variable"), ("y", "variable"),
                     ("is", "keyword"), ("# a comment", "comment"), ("score", "keyword"), ('"unterminated', "string")]


@LOOP
async def test_semantic_tokens_over_stdio(client, tmp_path, plg):
    text = PLG.read_text(encoding="utf-8")
    path = tmp_path / "plg.lead"
    await open_doc(client, path, text)
    legend = client.initialized.capabilities.semantic_tokens_provider.legend
    assert (list(legend.token_types), list(legend.token_modifiers)) == (TOKEN_TYPES, TOKEN_MODIFIERS)
    result = await client.text_document_semantic_tokens_full_async(T.SemanticTokensParams(
        text_document=T.TextDocumentIdentifier(uri=path.resolve().as_uri())))
    decoded, line, char = {}, 0, 0
    data = result.data
    for i in range(0, len(data), 5):
        line, char = line + data[i], (char if data[i] == 0 else 0) + data[i + 1]
        start = sum(len(x) + 1 for x in text.split("\n")[:line]) + char
        decoded[start] = (text[start:start + data[i + 2]], TOKEN_TYPES[data[i + 3]],
                          tuple(m for b, m in enumerate(TOKEN_MODIFIERS) if data[i + 4] >> b & 1))
    policy = plg[0]
    expected = {(text[s:e], kind, mods) for s, e, kind, mods in tokens(text, policy, policy.path)}
    assert set(decoded.values()) == expected
    high = text.index("pql when engagement is high") + len("pql when engagement is ")
    assert decoded[high] == ("high", "enumMember", ())
    close(client, path)
