"""The calibrated policy as text: the old text with only its number literals (and the version string) changed.

Each literal is found inside its node's span (a rule's points and `max`, a score's
`clamp`, a band's threshold) and replaced in place; nothing else is rewritten. When
the old text was already in `leadlang fmt`'s layout the result is formatted too (a
changed number can change a column's alignment); a text that was not is left in its
own layout, so the diff stays on the numbers.
"""

from __future__ import annotations

import re
from decimal import Decimal

from leadlang.syntax import ast as A

NUMBER = r"[+-]?\d[\d_]*(?:\.\d[\d_]*)?"
_POINTS = re.compile(rf"^(?:`[^`]*`|[^\s:]+)\s*:\s*({NUMBER})")
_CAP = re.compile(rf",\s*max\s+({NUMBER})\s*$")
_CLAMP = re.compile(rf"^clamp\s+({NUMBER})\s+to\s+({NUMBER})")
_THRESHOLD = re.compile(rf">=\s*({NUMBER})\s*$")
_VERSION = re.compile(r'^version\s+("(?:[^"\\]|\\.)*")')
SUFFIX = "-calibrated"


def spell(value: Decimal, signed: bool) -> str:
    """A number as the policy writes it: `+35`/`-10` where the old literal had a sign, `40`/`-5` otherwise."""
    from leadlang.fmt.exprs import decimal, points

    return points(value) if signed or value < 0 else decimal(value)


def calibrated_version(version: str | None) -> str:
    """`"7"` -> `"7-calibrated"`; a version that already ends so is kept (calibrating twice adds nothing)."""
    v = version or ""
    return v if v.endswith(SUFFIX) else f"{v}{SUFFIX}" if v else SUFFIX.lstrip("-")


class Edits:
    """Replacements of literals in one text, by offset."""

    def __init__(self, text: str):
        self.text = text
        self.edits: list[tuple[int, int, str]] = []

    def _at(self, span, pattern: re.Pattern, group: int, new: str) -> None:
        piece = self.text[span.start:span.end]
        m = pattern.search(piece)
        if m is None:
            raise ValueError(f"{span}: no literal where one was expected")
        start, end = span.start + m.start(group), span.start + m.end(group)
        if self.text[start:end] != new:
            self.edits.append((start, end, new))

    def number(self, span, pattern, group, old: Decimal, new: Decimal) -> None:
        if new != old:
            m = pattern.search(self.text[span.start:span.end])
            self._at(span, pattern, group, spell(new, m is not None and m.group(group)[:1] in "+-"))

    def rule(self, rule: A.Rule, points: Decimal, cap: Decimal | None) -> None:
        self.number(rule.span, _POINTS, 1, rule.points, points)
        if rule.cap is not None and cap is not None:
            self.number(rule.span, _CAP, 1, rule.cap, cap)

    def clamp(self, clamp: A.Clamp, low: Decimal, high: Decimal) -> None:
        self.number(clamp.span, _CLAMP, 1, clamp.low, low)
        self.number(clamp.span, _CLAMP, 2, clamp.high, high)

    def threshold(self, band: A.Band, value: Decimal) -> None:
        self.number(band.span, _THRESHOLD, 1, band.threshold, value)

    def literal(self, node: A.Literal, value: Decimal) -> None:
        """A number literal of an expression (a derived score's weight), as written unsigned unless negative."""
        if Decimal(str(node.value)) != value:
            self.edits.append((node.span.start, node.span.end, spell(value, False)))

    def version(self, node: A.Version | None, value: str) -> None:
        from leadlang.fmt.exprs import string

        if node is not None:
            self._at(node.span, _VERSION, 1, string(value))

    def apply(self) -> str:
        out, last = [], 0
        for start, end, new in sorted(self.edits):
            out += [self.text[last:start], new]
            last = end
        return "".join(out) + self.text[last:]


def finish(old_text: str, new_text: str, path: str) -> str:
    """`new_text` through fmt when `old_text` was formatted already."""
    from leadlang.fmt.files import format_text

    try:
        if not format_text(old_text, path).changed:
            return format_text(new_text, path).after
    except Exception:  # a text fmt cannot lay out stays as edited
        pass
    return new_text
