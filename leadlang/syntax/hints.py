"""Parse errors that say what to type: the mistakes people make most, each as one diagnostic.

`errors.syntax_diagnostic` asks `fix` first; when it knows the mistake (`==`,
`&&`, `'single quotes'`, `30d`, `half life`, a `let` where event names go, a
classify without `otherwise`, a rule id without `:`, `+10 if ...`) the
diagnostic keeps its code (E101 for a character, E104 for a token, E106 for a
literal) and gets a message naming the mistake, a caret over all of it and a
hint with the text to write instead ([errors.md](../../docs/errors.md#e104--unexpected-token)).
Otherwise the parser's generic "unexpected ..., expected one of" stands.
"""

from __future__ import annotations

import re

from lark import Token
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from leadlang.diagnostics import Diagnostic
from leadlang.syntax import ast as A

# How people abbreviate duration units, and the unit leadlang spells.
_UNITS = {
    "m": "minute", "min": "minute", "mins": "minute", "minute": "minute", "minutes": "minute",
    "h": "hour", "hr": "hour", "hrs": "hour", "hour": "hour", "hours": "hour",
    "d": "day", "day": "day", "days": "day",
    "w": "week", "wk": "week", "wks": "week", "week": "week", "weeks": "week",
    "mo": "month", "mon": "month", "mos": "month", "month": "month", "months": "month",
    "y": "year", "yr": "year", "yrs": "year", "year": "year", "years": "year",
}
_DAYS_PER = {"month": 30, "year": 365}
_NOT_WHEN = frozenset(["if", "where", "whenever", "for", "on", "iff", "given"])


def plural(count: int, unit: str) -> str:
    return f"{count} {unit}{'' if count == 1 else 's'}"


def unfixed_length(count: int, unit: str) -> str:
    """The hint for a month or year duration, which has no fixed length."""
    return f"{unit}s have no fixed length; write days or weeks, e.g. `{plural(count * _DAYS_PER[unit], 'day')}`"


def _span(path: str, text: str, start: int, end: int) -> A.Span:
    """A span over `text[start:end]` (on one line)."""
    line = text.count("\n", 0, start) + 1
    column = start - (text.rfind("\n", 0, start) + 1) + 1
    return A.Span(path, line, column, line, column + (end - start), start, end)


def fix(path: str, text: str, err: UnexpectedInput, expected: set[str]) -> Diagnostic | None:
    """The diagnostic for a mistake this module knows, or None."""
    if isinstance(err, UnexpectedCharacters):
        return _character(path, text, err.pos_in_stream, expected)
    if isinstance(err, UnexpectedToken) and err.token.type != "$END":
        return _token(path, text, err.token, expected)
    return None


def _character(path: str, text: str, pos: int, expected: set[str]) -> Diagnostic | None:
    ch = text[pos] if 0 <= pos < len(text) else ""
    after = text[pos + 1] if pos + 1 < len(text) else ""
    if ch == "'":
        quoted = re.match(r"'([^'\n]*)'", text[pos:])
        if quoted is None:
            return Diagnostic("E101", "error", "strings are written in double quotes, not `'`", _span(path, text, pos, pos + 1), ('write `"text"`',))
        if "STRING" not in expected and "QUOTED_NAME" in expected:  # a name with spaces, not a string
            return Diagnostic("E101", "error", "a name with unusual characters is written in backticks, not single quotes",
                              _span(path, text, pos, pos + quoted.end()), (f"write `` `{quoted.group(1)}` ``",))
        body = quoted.group(1).replace("\\", "\\\\").replace('"', '\\"')
        return Diagnostic("E101", "error", "strings are written in double quotes, not single quotes", _span(path, text, pos, pos + quoted.end()), (f'write `"{body}"`',))
    if ch in "“”‘’":  # what a word processor makes of quotes
        quoted = re.match(r"[“”‘’]([^“”‘’\n]*)[“”‘’]", text[pos:])
        body = quoted.group(1).replace("\\", "\\\\").replace('"', '\\"') if quoted else "text"
        end = pos + (quoted.end() if quoted else 1)
        return Diagnostic("E101", "error", f"`{ch}` is a typographic quote; strings are written in straight double quotes", _span(path, text, pos, end), (f'write `"{body}"`',))
    if ch == "&":
        width = 2 if after == "&" else 1
        return Diagnostic("E101", "error", f"`{'&' * width}` is not an operator in leadlang", _span(path, text, pos, pos + width), ("write `and`",))
    if ch == "!" and after != "=":
        return Diagnostic("E101", "error", "`!` is not an operator in leadlang", _span(path, text, pos, pos + 1), ("write `not`, e.g. `not is_student`; `!=` is \"not equal\"",))
    return None


def _token(path: str, text: str, tok: Token, expected: set[str]) -> Diagnostic | None:
    start, end = tok.start_pos or 0, tok.end_pos or 0
    before = text[start - 1] if start > 0 else ""
    after = text[end] if end < len(text) else ""
    value = tok.value
    if value == "=" and before == "=":
        left = re.search(r"([A-Za-z_][A-Za-z0-9_.]*|`[^`\n]+`)[ \t]*\Z", text[text.rfind("\n", 0, start) + 1 : start - 1])
        right = re.match(r"[ \t]*(\"(?:[^\"\\\n]|\\.)*\"|[^\s()\[\],}]+)", text[end:])
        example = f"{left.group(1)} = {right.group(1)}" if left and right else "="
        return Diagnostic("E104", "error", "`==` is not an operator in leadlang", _span(path, text, start - 1, end), (f"equality is one `=`: write `{example}`",))
    if value == ">" and before == "<":
        return Diagnostic("E104", "error", "`<>` is not an operator in leadlang", _span(path, text, start - 1, end), ("write `!=`",))
    if value in (">", "<") and before == "=":
        return Diagnostic("E104", "error", f"`={value}` is not an operator in leadlang", _span(path, text, start - 1, end), (f"write `{value}=`",))
    if value == "|" and after == "|" and "VBAR" not in expected:
        return Diagnostic("E104", "error", "`||` is not an operator in leadlang", _span(path, text, start, end + 1), ("write `or`",))
    if tok.type in ("INT", "DECIMAL", "POINTS") and "DURATION" in expected:
        return _duration(path, text, start)
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):  # a name, or a keyword out of place
        found = _name(path, text, tok, expected)
        if found is not None:
            return found
    if value in (":", "=") and re.search(r"\botherwise[ \t]*\Z", text[:start]):
        label = re.match(r"[ \t]*([A-Za-z_][A-Za-z0-9_]*)", text[end:])
        return Diagnostic("E104", "error", f"`otherwise` takes its label without `{value}`", _span(path, text, start, end),
                          (f"write `otherwise {label.group(1) if label else 'LABEL'}`",))
    if "COLON" in expected and len(expected - {"_NL"}) == 1:
        word = re.search(r"([A-Za-z_][A-Za-z0-9_]*|`[^`\n]+`)[ \t]*\Z", text[:start])
        if word is not None:
            line_end = text.find("\n", start)
            rest = text[start : len(text) if line_end < 0 else line_end].split("#")[0].strip()
            return Diagnostic("E104", "error", f"missing `:` after `{word.group(1)}`", _span(path, text, word.start(1), word.end(1)),
                              (f"write `{word.group(1)}: {rest}`",))
    if "OTHERWISE" in expected and "__ANON_1" in expected:  # a band label with neither `>= N` nor `otherwise`
        label = re.search(r"([A-Za-z_][A-Za-z0-9_]*|`[^`\n]+`)[ \t]*\Z", text[:start])
        if label is not None:
            return Diagnostic("E104", "error", f"band `{label.group(1)}` has no threshold", _span(path, text, label.start(1), label.end(1)),
                              (f"write `{label.group(1)} >= N`, or `{label.group(1)} otherwise` for the last band",))
    if tok.type == "RBRACE" and "OTHERWISE" in expected:
        block = _enclosing(text, start, "classify")
        where = f"classify `{block}`" if block else "a classify"
        return Diagnostic("E104", "error", f"{where} has no `otherwise LABEL` line", _span(path, text, start, end),
                          ("end it with e.g. `otherwise lead`: the label of a lead no branch matches",))
    return None


def _name(path: str, text: str, tok: Token, expected: set[str]) -> Diagnostic | None:
    start, end = tok.start_pos or 0, tok.end_pos or 0
    word = tok.value
    low = word.lower()
    number = re.search(r"(\d[\d_]*)[ \t]*\Z", text[:start])
    if number is not None and low in _UNITS and "DURATION" not in expected:  # `<= 30d` where a number goes
        shown = text[number.start(1):end]
        return Diagnostic("E104", "error", f"`{shown}` is not a value here", _span(path, text, number.start(1), end),
                          (f"write `{number.group(1)}`: a duration goes only after `in last` or `half-life` and before `ago`; `days_since(...)` counts whole days",))
    if "HALF_LIFE" in expected and low in ("half", "halflife", "half_life", "halflive"):
        m = re.match(r"half[ \t_]*life\b", text[start:], re.IGNORECASE)
        stop = start + m.end() if m else end
        return Diagnostic("E104", "error", f"`{text[start:stop]}` is not a keyword in leadlang", _span(path, text, start, stop), ("write `half-life`, with a hyphen, e.g. `half-life 14 days`",))
    if "IN_LAST" in expected and low in ("within", "last", "during", "over", "since"):
        return Diagnostic("E104", "error", f"`{word}` is not a keyword in leadlang", _span(path, text, start, end), ("a window is written `in last DURATION`, e.g. `in last 30 days`",))
    if "WHEN" in expected and low in _NOT_WHEN:
        return Diagnostic("E104", "error", f"`{word}` is not a keyword in leadlang", _span(path, text, start, end), ("write `when`: a rule is `ID: +10 when CONDITION`, a classify branch `LABEL when CONDITION`",))
    if "WHEN" in expected and "OTHERWISE" not in expected:
        label = re.search(r"\b(else|default|otherwise)[ \t]+\Z", text[:start], re.IGNORECASE)  # `Otherwise` is a name
        if label is not None and _enclosing(text, start, "classify"):
            return Diagnostic("E104", "error", f"`{label.group(1)}` is not a keyword in leadlang",
                              _span(path, text, label.start(1), end), (f"the last line of a classify is `otherwise LABEL`: write `otherwise {word}`",))
    if "WHEN" in expected and expected <= {"WHEN", "PER", "_NL"}:
        return Diagnostic("E104", "error", f"missing `when` before `{word}`", _span(path, text, start, end),
                          (f"write `when {word} ...`" + (" (or `per` for points per unit)" if "PER" in expected else "") + ": a rule is `ID: +10 when CONDITION`, a classify branch `LABEL when CONDITION`",))
    if word != low and low in ("and", "or", "not", "when", "in", "is", "otherwise") and low.upper() in expected:
        return Diagnostic("E104", "error", f"`{word}` is not a keyword in leadlang", _span(path, text, start, end), (f"keywords are lower case: write `{low}`",))
    if "STRING" in expected and "LSQB" in expected and "IN_LAST" in expected:
        # The event names of an aggregate: a string or a list, written in place.
        let = re.search(rf"^let[ \t]+{re.escape(word)}[ \t]*=[ \t]*([^\n#]*?)[ \t]*(?:#.*)?$", text, re.MULTILINE)
        if let is not None:
            return Diagnostic("E104", "error", f"an aggregate's event names cannot come from the `let` `{word}`", _span(path, text, start, end),
                              (f"write them in place: `{let.group(1)}`",))
        return Diagnostic("E104", "error", f"`{word}` cannot name events here: an aggregate's event names are a string or a list", _span(path, text, start, end),
                          ('e.g. `count(product "login" in last 30 days)` or `count(product ["login", "view"])`',))
    return None


def _duration(path: str, text: str, start: int) -> Diagnostic:
    m = re.match(r"([+-]?\d[\d_]*(?:\.\d+)?)(?:[ \t]*([A-Za-z]+))?", text[start:])
    number = m.group(1) if m else text[start:start + 1]
    shown = m.group(0) if m else number
    span = _span(path, text, start, start + len(shown))
    unit = _UNITS.get((m.group(2) or "").lower()) if m else None
    whole = re.fullmatch(r"\d[\d_]*", number)
    count = int(number.replace("_", "")) if whole else None
    if count is None:
        return Diagnostic("E106", "error", f"`{shown}` is not a duration", span, ("a duration is a whole number of minutes, hours, days or weeks, e.g. `36 hours`",))
    if m.group(2) is None:
        return Diagnostic("E106", "error", f"`{shown}` is a number, not a duration", span, (f"give it a unit: write `{plural(count, 'day')}`",))
    if unit in _DAYS_PER:
        return Diagnostic("E106", "error", f"`{shown}` is not a duration leadlang accepts", span, (unfixed_length(count, unit),))
    if unit is not None:
        return Diagnostic("E106", "error", f"`{shown}` is not a duration", span, (f"write `{plural(count, unit)}`",))
    return Diagnostic("E106", "error", f"`{shown}` is not a duration", span, ("a duration is a number and a unit: minutes, hours, days or weeks, e.g. `30 days`",))


def _enclosing(text: str, pos: int, keyword: str) -> str | None:
    """The name of the last top-level `keyword NAME {` before `pos`, if that is the declaration `pos` is in."""
    decls = list(re.finditer(r"^([a-z]+)[ \t]+([A-Za-z_][A-Za-z0-9_]*|`[^`\n]+`)?", text[:pos], re.MULTILINE))
    if not decls or decls[-1].group(1) != keyword:
        return None
    return decls[-1].group(2) or ""
