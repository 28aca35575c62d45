"""Whatever the bytes, the parser answers with a diagnostic, never a traceback."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import checked
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadlang.diagnostics import LeadError
from leadlang.syntax import parse, parse_file

SPEC_EXAMPLE = (Path(__file__).parent / "cases" / "ok_all_features.lead").read_text()
ALPHABET = st.sampled_from(list(' \n\t{}()[]<>=!+-*/.,:|#"`\\') + list("abcdeinorstwxyz_0123456789") + ["é", "\u2028", "\x00", "\r"])
TOKENS = st.sampled_from(
    "policy leads from ref ( ) key { } score when per max , + 10 - fit : bands >= otherwise matrix | by "
    "classify test expect lead count product in last 14 days \" x \n and or not is missing".split(" ")
)


def _parse_and_check(text: str) -> None:
    try:
        checked(text, "fuzz.lead")
    except LeadError as err:
        assert err.diagnostics and all(d.code[0] == "E" for d in err.diagnostics)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(ALPHABET, max_size=200))
def test_random_text(text):
    _parse_and_check(text)


@settings(max_examples=300, deadline=None)
@given(st.lists(TOKENS, max_size=60))
def test_random_token_soup(tokens):
    _parse_and_check(" ".join(tokens))


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=len(SPEC_EXAMPLE)), st.integers(min_value=0, max_value=40))
def test_truncated_and_mutated_policy(cut, noise):
    rng = random.Random(cut * 7919 + noise)
    text = list(SPEC_EXAMPLE[:cut])
    for _ in range(noise):
        if text:
            text[rng.randrange(len(text))] = rng.choice(list("{}()\"\n:,x#|"))
    _parse_and_check("".join(text))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\n\n\n",
        "# only a comment",
        'policy p "T"\nsignal s = ' + "(" * 10_000 + "1" + ")" * 10_000 + "\n",
        'policy p "T"\nsignal s = ' + "[" * 10_000 + "\n",
        'policy p "T"\nsignal s = ' + " + ".join(["1"] * 5_000) + "\n",
        'policy p "T"\nsignal s = ' + "not " * 5_000 + "true\n",
        "\ufeffpolicy p \"T\"\n",
        "policy p \"T\"\x00",
    ],
    ids=["empty", "newlines", "comment", "deep-parens", "unclosed-brackets", "long-chain", "deep-not", "bom", "nul"],
)
def test_hostile_inputs(text):
    _parse_and_check(text)


def test_random_bytes_file(tmp_path):
    rng = random.Random(42)
    for i in range(50):
        path = tmp_path / f"r{i}.lead"
        path.write_bytes(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300))))
        try:
            parse_file(path)
        except LeadError as err:
            assert err.diagnostics[0].code.startswith("E1")


def test_five_megabyte_policy_is_a_diagnostic_not_a_crash(tmp_path):
    rules = "\n".join(f"  r{i}: +1 when employees > {i}" for i in range(60_000))
    text = f'policy big "Big"\nleads from ref("l") key id {{\n  employees int\n}}\nscore fit {{\n{rules}\n}}\n'
    assert len(text) > 2_000_000
    policy = checked(text, "big.lead")
    assert len(policy.scores["fit"].rules) == 60_000


def test_cli_never_prints_a_traceback(tmp_path):
    path = tmp_path / "bad.lead"
    path.write_bytes(b"policy \xff\xfe bad {{{{")
    proc = subprocess.run([sys.executable, "-m", "leadlang", "check", str(path)], capture_output=True, text=True)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "error[E100]" in proc.stderr and "not valid UTF-8" in proc.stderr


# ------------------------------------------- the shared-scanner lexing --
# The parser lets every parser state try a scanner shared by all states before
# compiling one of its own (see `_share_root_scanner`). It must lex exactly as
# Lark's contextual lexer does: same tokens, same errors.

REPO = Path(__file__).resolve().parent.parent
CORPUS = sorted([*REPO.glob("policies/*/*.lead"), *REPO.glob("tests/cases/*.lead"), *REPO.glob("tests/differential/*.lead")])


def _plain_lark():
    from lark import Lark

    from leadlang.syntax.grammar import _Lines, grammar_path

    return Lark(grammar_path().read_text(encoding="utf-8"), parser="lalr", lexer="contextual", postlex=_Lines(), propagate_positions=True, maybe_placeholders=True)


def _outcome(lark, text: str):
    from lark import Token, Tree
    from lark.exceptions import UnexpectedInput

    try:
        tree = lark.parse(text)
    except UnexpectedInput as err:
        token = getattr(err, "token", None)
        return ("error", type(err).__name__, getattr(err, "pos_in_stream", None), token and (token.type, str(token)), sorted(getattr(err, "expected", None) or getattr(err, "allowed", None) or ()))
    except Exception as err:  # the postlexer's depth limit
        return ("raised", type(err).__name__)
    return [(t.type, str(t), t.start_pos, t.end_pos) for t in tree.scan_values(lambda v: isinstance(v, Token))] if isinstance(tree, Tree) else tree


@pytest.fixture(scope="module")
def both_lexers():
    from leadlang.syntax.grammar import lalr

    return lalr(), _plain_lark()


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: str(p.relative_to(REPO)))
def test_shared_scanner_lexes_like_lark(both_lexers, path):
    fast, plain = both_lexers
    text = path.read_text(encoding="utf-8")
    assert _outcome(fast, text) == _outcome(plain, text)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(TOKENS, max_size=60))
def test_shared_scanner_lexes_like_lark_on_token_soup(both_lexers, tokens):
    fast, plain = both_lexers
    text = " ".join(tokens)
    assert _outcome(fast, text) == _outcome(plain, text)


def test_shared_scanner_is_in_use():
    from leadlang.syntax.grammar import lalr

    lexers = lalr().parser.lexer.lexer.lexers.values()
    assert all(isinstance(lexer.match, __import__("functools").partial) for lexer in lexers)


MISTAKES = st.sampled_from([
    "==", "&&", "||", "!", "<>", "=>", "'x'", "'", "\u201cx\u201d", "30d", "2w", "3mo", "1.5d", "+3d", "30", "half life",
    "within", "AND", "Otherwise", "else", "default", "if", ":", "otherwise:", "}", "let evs = 1\n", "evs", "True",
])


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=len(SPEC_EXAMPLE)), MISTAKES, st.booleans())
def test_a_common_mistake_anywhere_is_one_syntax_diagnostic_at_most(at, mistake, replace):
    """The hints for common mistakes (syntax/hints.py) never fail themselves: one E1xx diagnostic, inside the file."""
    text = SPEC_EXAMPLE[:at] + mistake + SPEC_EXAMPLE[at + (len(mistake) if replace else 0):]
    try:
        parse(text, "mistake.lead")
    except LeadError as err:
        [d] = err.diagnostics
        assert d.code.startswith("E1") and d.message
        assert 1 <= d.span.line <= text.count("\n") + 1 and 0 <= d.span.start <= d.span.end <= len(text)
