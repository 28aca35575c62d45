"""The portable regex subset `matches` accepts: what every warehouse reads alike."""

from __future__ import annotations

import re

# Constructs that some engines lack or read differently (RE2, PostgreSQL ARE,
# Java, Snowflake POSIX): refused so a policy means the same everywhere.
_FORBIDDEN = [
    (re.compile(r"\\[1-9]|\\k<"), "back-references are not portable"),
    (re.compile(r"\(\?<?[=!]"), "look-around is not portable"),
    (re.compile(r"\(\?(?!:)"), "inline flags and named groups are not portable; use `(?:...)` or `lower(x) matches ...`"),
    (re.compile(r"\\[bBAZzGpPQE]"), "this escape is not portable; use `^`/`$` anchors or a character class"),
    (re.compile(r"[*+?}][+]"), "possessive quantifiers are not portable"),
    (re.compile(r"\[\[:"), "POSIX classes like `[[:alpha:]]` are not portable; use `[A-Za-z]`"),
]


def regex_problem(pattern: str) -> str | None:
    """Why `pattern` is not in the portable subset, or None when it is fine."""
    unescaped = re.sub(r"\\\\", "", pattern)
    for rx, why in _FORBIDDEN:
        if rx.search(unescaped):
            return why
    try:
        re.compile(pattern)
    except re.error as err:
        return f"not a valid regular expression: {err.msg}"
    return None
