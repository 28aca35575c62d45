"""The Pygments lexer `leadlang.pygments.LeadLexer` (```lead code blocks in docs, READMEs, Jupyter).

Over every `.lead` file of the repository and every ```lead block of docs/ and the README: an Error
token only where leadlang's own parser stops (a policy that parses has none) and exactly the parser's
strings and comments lexed as strings and comments; every keyword of
grammar/leadlang.lark lexed as a keyword; the entry point registered in pyproject.toml loads the class
(tested on the class and on pyproject.toml's entry point, and through `get_lexer_by_name("lead")` when
the installed leadlang carries it — an editable install picks a new entry point up only when reinstalled).
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import subprocess
import sys
import tomllib

import pytest
from conftest import _in_ci
from pygments.token import Comment, Error, Keyword, Name, Number, Operator, String

from leadlang.diagnostics import LeadError
from leadlang.pygments import LeadLexer
from leadlang.syntax import parse
from lead_files import ROOT, SOURCES, VOCABULARY, grammar_keywords, parses, strings_and_comments

KEYWORD_TOKENS = (Keyword, Operator.Word, Name.Builtin)


def _parse_error_line(text: str) -> int | None:
    try:
        parse(text)
    except LeadError as err:
        return err.diagnostics[0].span.line
    return None


def _assert_errors_where_the_parser_stops(where: str, text: str):
    lines = {text.count("\n", 0, i) + 1 for i, tok, _ in LeadLexer().get_tokens_unprocessed(text) if tok in Error}
    if not lines:
        return
    stops = _parse_error_line(text)
    assert stops is not None, f"{where}: the parser takes it, the lexer has Error tokens on lines {sorted(lines)}"
    assert lines == {stops}, f"{where}: Error tokens on lines {sorted(lines)}, the parser stops on line {stops}"


@pytest.mark.parametrize("name", SOURCES)
def test_lexes(name):
    """Every policy file and every ```lead block of the docs: Error tokens only where the parser stops; in a
    text that parses, the strings and comments are exactly the parser's."""
    text = SOURCES[name]
    _assert_errors_where_the_parser_stops(name, text)
    if parses(text) is None:
        return
    strings, in_comments, after = strings_and_comments(text)
    lexed = list(LeadLexer().get_tokens_unprocessed(text))
    assert {i + k for i, tok, v in lexed if tok in String for k in range(len(v))} == strings
    assert {i + k for i, tok, v in lexed if tok in Comment for k in range(len(v))} - after == in_comments


def test_an_error_case_is_flagged():
    text = (ROOT / "tests/cases/syntax_hint_typographic_quotes.lead").read_text(encoding="utf-8")
    assert [v for _, tok, v in LeadLexer().get_tokens_unprocessed(text) if tok in Error] == ["\u201c", "\u201d"]


def test_every_grammar_keyword_is_a_keyword():
    text = VOCABULARY.read_text(encoding="utf-8")
    lexed = set()
    for _, tok, value in LeadLexer().get_tokens_unprocessed(text):
        if any(tok in kind for kind in KEYWORD_TOKENS) or tok in Keyword.Type or tok in Keyword.Constant:
            lexed |= set(re.findall(r"[A-Za-z_][A-Za-z_-]*", value))
    missing = sorted(w for w in grammar_keywords() if w not in lexed and w + "s" not in lexed)
    assert not missing, f"leadlang/pygments.py does not lex {missing} as keywords in {VOCABULARY.name}"


def test_token_types():
    text = 'score fit clamp 0 to 100 {\n  big: +1_000 when `Job Title` contains "a\\"b" # c\n}\n'
    toks = [(tok, v) for tok, v in LeadLexer().get_tokens(text) if v.strip()]
    assert toks[:3] == [(Keyword.Declaration, "score"), (Name.Function, "fit"), (Keyword, "clamp")]
    assert (Name.Label, "big") in toks and (Number.Integer, "1_000") in toks
    assert (Name.Variable, "`Job Title`") in toks and (Operator.Word, "contains") in toks
    assert (String.Escape, '\\"') in toks and (Comment.Single, "# c") in toks
    text = 'signal s = count(web "x" in last 2 weeks) + days_since(2024-01-01T00:00:00Z)'
    toks = [(tok, v) for tok, v in LeadLexer().get_tokens(text) if v.strip()]
    assert (Name.Builtin, "count") in toks and (Keyword, "in last") in toks and (Keyword.Type, "weeks") in toks
    assert (Name.Builtin, "days_since") in toks and (Number.Other, "2024-01-01T00:00:00Z") in toks
    text = "bands fit { hot >= 5, cold otherwise }\nmatrix m: fit by fit {\n  | hot | cold\n  hot | a | b\n}\nclassify c {\n  x when fit is hot\n  otherwise y\n}\n"
    labels = [v for tok, v in LeadLexer().get_tokens(text) if tok is Name.Label]
    assert labels == ["hot", "cold", "hot", "cold", "hot", "a", "b", "x", "y"]  # not `hot` after `is`: a name there


def test_the_entry_point_loads_the_lexer():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["entry-points"]["pygments.lexers"]
    assert importlib.metadata.EntryPoint("lead", declared["lead"], "pygments.lexers").load() is LeadLexer
    from pygments.lexers import find_lexer_class_for_filename

    installed = [ep for ep in importlib.metadata.entry_points(group="pygments.lexers") if ep.value == declared["lead"]]
    if not installed:
        if _in_ci():
            pytest.fail("the installed leadlang has no pygments.lexers entry point (pip install -e . again)", pytrace=False)
        pytest.skip("the installed leadlang predates its pygments entry point (pip install -e . again)")
    from pygments.lexers import get_lexer_by_name

    assert get_lexer_by_name("lead").__class__.__name__ == "LeadLexer"
    assert find_lexer_class_for_filename("plg.lead").__name__ == "LeadLexer"


def test_importing_leadlang_does_not_import_pygments():
    code = "import sys, leadlang, leadlang.cli, leadlang.check, leadlang.syntax; print('pygments' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.stdout.strip() == "False"
