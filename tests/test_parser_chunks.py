"""Parsing chunk by chunk (top-level declarations, each distinct text once) is the whole-file parse.

`parser.parse` cuts a policy into chunks at the starts of top-level
declarations (see `leadlang.syntax.chunks`) and falls back to the whole file
on any failure. These tests compare it with the whole-file parse itself
(`_parse_decls` on the full text): the same declarations, the same span on
every node (spans do not take part in `==`, so they are compared here field by
field), and on failure the same diagnostics, on every policy in the
repository, its repetitions, and generated and mutated policies.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzz import mutate_policy, policy_corpus
from leadlang.diagnostics import LeadError
from leadlang.syntax import chunks, parse
from leadlang.syntax import parser as P

REPO = Path(__file__).resolve().parent.parent
CORPUS = [p for p in policy_corpus() if "\x00" not in p.read_text(encoding="utf-8", errors="replace")]
TEXTS = {p: p.read_text(encoding="utf-8", errors="replace") for p in policy_corpus()}
PLG = (REPO / "policies" / "plg" / "plg.lead").read_text()


def _dump(value):
    """A node as nested tuples of every field, spans included."""
    if isinstance(value, tuple):
        return tuple(_dump(v) for v in value)
    names = getattr(type(value), "__dataclass_fields__", None)
    if names:
        return (type(value).__name__, *(_dump(getattr(value, n)) for n in names))
    return (type(value).__name__, value)


def _diags(err: LeadError):
    return [(d.code, d.severity, d.message, _dump(d.span), d.hints) for d in err.diagnostics]


def _whole(text: str, path: str):
    try:
        decls = P._parse_decls(text, path)
        P._depth_check(path, decls)
        return _dump(decls)
    except LeadError as err:
        return ("error", _diags(err))


def _chunked(text: str, path: str):
    try:
        return _dump(parse(text, path).decls)
    except LeadError as err:
        return ("error", _diags(err))


def _same(text: str, path: str = "p.lead") -> None:
    assert _chunked(text, path) == _whole(text, path)


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_policy_in_the_repository(path):
    text = path.read_text(encoding="utf-8", errors="replace")
    _same(text, str(path))
    _same(text * 3, str(path))  # repeated chunks: parsed once, spans moved


def test_repeated_policy_is_cut_and_its_copies_reuse_the_parse(monkeypatch):
    text = PLG * 20
    cuts = chunks.split(text)
    assert len(cuts) > 20 * 10
    calls = []
    real = P._parse_decls
    monkeypatch.setattr(P, "_parse_decls", lambda *a, **k: calls.append(a[0]) or real(*a, **k))
    module = parse(text, "x.lead")
    assert len(calls) == len({text[a:b] for (a, _), (b, _) in zip(cuts, cuts[1:] + [(len(text), 0)])})
    # the copies' nodes stand where their text does
    last = module.decls[-1].span
    assert text.count("\n", 0, last.start) + 1 == last.line
    assert text.splitlines()[last.line - 1][last.column - 1 :].startswith(text[last.start : last.end].splitlines()[0])
    monkeypatch.undo()
    assert _chunked(text, "x.lead") == _whole(text, "x.lead")


@pytest.mark.parametrize(
    "tail",
    [
        "signal s1 = a +\nscore",  # a line ending in an operator continues onto a keyword line
        "signal s1 = a and\nsignal s2 = 1",
        "signal s1 = 1 \\\nsignal s2 = 1",  # a `\` line join
        "signal s1 = f(\nsignal)",  # inside brackets
        'signal s1 = "a\nsignal s2 = 1',  # an unclosed string
        "score s {\n  r: +1 when x > 1\nscore t { }\n",  # an unclosed block
        "signal s1 = `q\nsignal s2 = 1",
        "signal s1 = 1 # { ( [\nsignal s2 = 2",  # brackets in a comment
        'signal s1 = "{" \nsignal s2 = 2',  # a brace in a string
        "policy again \"twice\"\nversion \"1\"",
        "signal s1 = 1\nsignal s1 = 99999999999999999999999999999999999999999",
        "test \"t\" {\n  as of 2024-99-01\n}\n",  # a bad literal: the whole file's E106
    ],
)
def test_cuts_next_to_continuations_and_errors(tail):
    text = PLG * 2 + tail + "\n" + PLG
    _same(text)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(min_value=0, max_value=2**32 - 1), st.integers(min_value=1, max_value=4))
def test_mutated_and_repeated_policies(seed, times):
    rng = random.Random(seed)
    _, text = mutate_policy(rng, list(TEXTS), TEXTS)
    if "\x00" in text:
        text = text.replace("\x00", " ")
    _same(text * times)
    _same(PLG + text + "\n" + PLG)


DECL_LINES = st.sampled_from(
    [
        "signal a = 1", "signal b = a +", "  and c > 1", "let l = [1,", "2]", "score s {", "  r: +1 when a > 1", "}",
        "bands s { high >= 1, low otherwise }", "# comment {", 'version "1"', "events e from ref(\"x\") {", "  lead id",
        "signal c = \"}\"", "signal d = `q", "(", ")", "or x", "signal e = 1 \\", "", "test \"t\" {", "  as of 2024-01-01",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(DECL_LINES, min_size=8, max_size=40))
def test_generated_line_soup(lines):
    text = "\n".join(lines) + "\n"
    _same(text)
    _same(text * 2)


def test_relocate_moves_every_span_and_keeps_nowhere():
    module = parse(PLG, "p.lead")
    moved = chunks.relocate(module.decls, 10, 500)
    before = [n for d in module.decls for n in _spans(d)]
    after = [n for d in moved for n in _spans(d)]
    assert len(before) == len(after) > 100
    for a, b in zip(before, after):
        if a is P.A.NOWHERE:
            assert b is P.A.NOWHERE
        else:
            assert (b.line, b.end_line, b.start, b.end, b.column, b.end_column, b.file) == (
                a.line + 10, a.end_line + 10, a.start + 500, a.end + 500, a.column, a.end_column, a.file)
    assert moved == module.decls  # spans aside, the same nodes


def _spans(value):
    if isinstance(value, P.A.Span):
        yield value
    elif isinstance(value, tuple):
        for v in value:
            yield from _spans(v)
    elif hasattr(type(value), "__dataclass_fields__"):
        for n in type(value).__dataclass_fields__:
            yield from _spans(getattr(value, n))
