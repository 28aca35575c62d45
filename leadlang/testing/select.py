"""Which `test` blocks to run: `leadlang test -k EXPR` and `POLICY::"test name"`.

`-k` takes pytest's keyword expressions over test names: a word matches a test whose name
contains it (case-insensitive), `and`, `or`, `not` and parentheses combine them, and a quoted
word keeps its spaces (`-k '"free email" and not student'`). A `POLICY::NAME` argument selects
the test of that exact name (quotes around the name are optional).
"""

from __future__ import annotations

import re
from typing import Callable

from leadlang.diagnostics import DataError

Match = Callable[[str], bool]

_TOKEN = re.compile(r"""\s*(?:(\()|(\))|"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|([^\s()"'][^\s()]*))""")
_OPERATORS = ("and", "or", "not")


def keyword(expr: str) -> Match:
    """The test-name predicate of a `-k` expression; a malformed one is a `DataError` naming where."""
    tokens = _tokens(expr)
    if not tokens:
        raise DataError("-k: the expression is empty")
    pos = 0

    def peek():
        return tokens[pos] if pos < len(tokens) else None

    def take(what: str) -> None:
        nonlocal pos
        tok = peek()
        if tok is None or tok[0] != what:
            found = "the end" if tok is None else repr(tok[1])
            raise DataError(f"-k {expr!r}: expected {what_words.get(what, what)} at {found}")
        pos += 1

    def parse_or() -> Match:
        left = parse_and()
        while (tok := peek()) is not None and tok[0] == "or":
            take("or")
            left = _either(left, parse_and())
        return left

    def parse_and() -> Match:
        left = parse_not()
        while (tok := peek()) is not None and tok[0] == "and":
            take("and")
            left = _both(left, parse_not())
        return left

    def parse_not() -> Match:
        tok = peek()
        if tok is not None and tok[0] == "not":
            take("not")
            inner = parse_not()
            return lambda name: not inner(name)
        if tok is not None and tok[0] == "(":
            take("(")
            inner = parse_or()
            take(")")
            return inner
        take("word")
        word = tok[1].lower()
        return lambda name: word in name.lower()

    what_words = {"word": "a word", ")": "')'", "(": "'('"}
    match = parse_or()
    if pos != len(tokens):
        raise DataError(f"-k {expr!r}: unexpected {tokens[pos][1]!r}")
    return match


def _either(a: Match, b: Match) -> Match:
    return lambda name: a(name) or b(name)


def _both(a: Match, b: Match) -> Match:
    return lambda name: a(name) and b(name)


def _tokens(expr: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(expr):
        m = _TOKEN.match(expr, pos)
        if m is None or m.end() == pos:  # only trailing spaces or an unclosed quote are left
            rest = expr[pos:].strip()
            if rest:
                raise DataError(f"-k {expr!r}: unclosed quote at {rest!r}")
            break
        pos = m.end()
        opened, closed, dq, sq, word = m.groups()
        if opened:
            out.append(("(", "("))
        elif closed:
            out.append((")", ")"))
        elif dq is not None or sq is not None:
            out.append(("word", re.sub(r"\\(.)", r"\1", dq if dq is not None else sq)))
        elif word is not None:
            out.append((word.lower(), word) if word.lower() in _OPERATORS else ("word", word))
    return out


def split_target(arg: str) -> tuple[str, str | None]:
    """`policy.lead::"test name"` -> (`policy.lead`, `test name`); a plain path -> (path, None)."""
    path, sep, name = arg.partition("::")
    if not sep:
        return arg, None
    name = name.strip()
    if len(name) >= 2 and name[0] == name[-1] and name[0] in "\"'":
        name = name[1:-1]
    if not name:
        raise DataError(f"{arg}: no test name after '::'")
    return path, name
