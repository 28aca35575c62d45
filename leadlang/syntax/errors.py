"""A Lark failure as one `E1xx` diagnostic: what was found, where, and what could come there instead."""

from __future__ import annotations

from lark import Token
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from leadlang.diagnostics import Diagnostic
from leadlang.span import Span
from leadlang.syntax import hints as fixes
from leadlang.syntax.grammar import KEYWORDS, lalr


def _expected(tokens: set[str]) -> str:
    names = sorted(_describe(t) for t in tokens if t not in ("_NL",))
    if not names:
        return ""
    shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
    return f"expected one of: {shown}"


_TERMINAL_WORDS = {
    "NAME": "a name", "QUOTED_NAME": "a `quoted name`", "STRING": "a string", "INT": "a whole number",
    "DECIMAL": "a number", "POINTS": "points like `+10`", "DURATION": "a duration like `14 days`",
    "TIMESTAMP": "a timestamp", "DATE": "a date", "LBRACE": "`{`", "RBRACE": "`}`", "LPAR": "`(`",
    "RPAR": "`)`", "LSQB": "`[`", "RSQB": "`]`", "COMMA": "`,`", "COLON": "`:`", "EQUAL": "`=`",
    "COMPARE": "a comparison", "ADD_OP": "`+` or `-`", "MUL_OP": "`*` or `/`", "VBAR": "`|`",
    "DOT": "`.`", "MORETHAN": "`>`", "MINUS": "`-`", "AGGREGATE": "an aggregate like `count(`",
    "TYPE_NAME": "a type", "$END": "end of file", "_NL": "end of line",
    "NOT_IN": "`not in`", "IS_NOT": "`is not`", "CONTAINS_ANY": "`contains any`", "STARTS_WITH": "`starts with`",
    "ENDS_WITH": "`ends with`", "IN_LAST": "`in last`", "HALF_LIFE": "`half-life`", "BY_ACCOUNT": "`by account`",
}


def _describe(terminal: str) -> str:
    if terminal in _TERMINAL_WORDS:
        return _TERMINAL_WORDS[terminal]
    pattern = lalr().get_terminal(terminal).pattern if _has_terminal(terminal) else None
    if pattern is not None and pattern.type == "str":
        return f"`{pattern.value}`"
    return terminal.lower().replace("_", " ")


def _has_terminal(name: str) -> bool:
    try:
        lalr().get_terminal(name)
        return True
    except KeyError:
        return False


def _token_text(tok: Token) -> str:
    if tok.type == "_NL":
        return "end of line"
    if tok.type == "$END":
        return "end of file"
    text = tok.value if len(tok.value) <= 30 else tok.value[:27] + "..."
    return f"`{text}`"


def syntax_diagnostic(path: str, text: str, err: UnexpectedInput) -> Diagnostic:
    accepted = getattr(err, "allowed", None) or getattr(err, "accepts", None) or getattr(err, "expected", None) or ()
    known = fixes.fix(path, text, err, set(accepted))
    if known is not None:  # a mistake with a known fix: say what to type
        return known
    line = getattr(err, "line", 0) or 0
    column = getattr(err, "column", 0) or 0
    hints: list[str] = []
    if isinstance(err, UnexpectedCharacters):
        ch = text[err.pos_in_stream] if 0 <= err.pos_in_stream < len(text) else ""
        if ch == '"':
            message, code = "string is not closed before the end of the line", "E102"
            hints.append('close it with `"`; a newline inside a string is written `\\n`')
        else:
            message, code = f"unexpected character `{ch}`" if ch.isprintable() else f"unexpected character U+{ord(ch):04X}", "E101"
        span = Span(path, line, column, line, column + 1, err.pos_in_stream, err.pos_in_stream + 1)
        expected = _expected(set(err.allowed or ()))
        if expected:
            hints.append(expected)
        return Diagnostic(code, "error", message, span, tuple(hints))
    if isinstance(err, UnexpectedEOF) or (isinstance(err, UnexpectedToken) and err.token.type == "$END"):
        lines = text.splitlines() or [""]
        line, column = len(lines), len(lines[-1]) + 1
        span = Span(path, line, column, line, column + 1, len(text), len(text))
        expected = _expected(set(err.expected)) if hasattr(err, "expected") else ""
        return Diagnostic("E103", "error", "unexpected end of file", span, (expected,) if expected else ("a `{` may not be closed",))
    assert isinstance(err, UnexpectedToken)
    tok = err.token
    span = Span(path, tok.line, tok.column, tok.end_line or tok.line, tok.end_column or tok.column + 1, tok.start_pos or 0, tok.end_pos or 0)
    if tok.type == "NAME" and tok.value in KEYWORDS:
        hints.append(f"`{tok.value}` is a keyword; a column of that name is written `` `{tok.value}` ``")
    expected = _expected(set(err.accepts or err.expected))
    if expected:
        hints.append(expected)
    return Diagnostic("E104", "error", f"unexpected {_token_text(tok)}", span, tuple(hints))
