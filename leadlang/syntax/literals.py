"""Literals as the parser decodes them: string escapes, numbers, timestamps and durations."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from lark import Token


DURATION_UNITS = {"minute": 60, "hour": 3600, "day": 86400, "week": 7 * 86400}


class BadLiteral(Exception):
    def __init__(self, message: str, tok: Token, hint: str = ""):
        self.message, self.tok, self.hint = message, tok, hint


_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r", "/": "/"}


def unquote(tok: Token) -> str:
    """Decode a string literal's escapes; a bad escape is a syntax error."""
    body = tok.value[1:-1]
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        nxt = body[i + 1] if i + 1 < len(body) else ""
        if nxt in _ESCAPES:
            out.append(_ESCAPES[nxt])
            i += 2
        elif nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", body[i + 2 : i + 6]):
            code = int(body[i + 2 : i + 6], 16)
            if 0xD800 <= code <= 0xDFFF:
                raise BadLiteral(f"`\\u{body[i + 2 : i + 6]}` is a lone surrogate, not a character", tok)
            out.append(chr(code))
            i += 6
        else:
            raise BadLiteral(f"unknown escape `\\{nxt}` in string", tok, 'escapes are \\" \\\\ \\n \\t and \\uXXXX')
    return "".join(out)


def parse_timestamp(text: str) -> dt.datetime:
    """ISO-8601 timestamp (or date) to an aware UTC datetime."""
    value = text.strip()
    if len(value) == 10:
        d = dt.date.fromisoformat(value)
        return dt.datetime(d.year, d.month, d.day, tzinfo=dt.timezone.utc)
    if value.endswith("Z") or value.endswith("z"):
        value = value[:-1] + "+00:00"
    parsed = dt.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return parsed.astimezone(dt.timezone.utc)


def number(text: str) -> Decimal:
    return Decimal(text.replace("_", "").lstrip("+"))
