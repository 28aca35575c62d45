"""Spans (1-based lines, columns in characters) to and from LSP positions (0-based, columns in the client's code units)."""

from __future__ import annotations

from lsprotocol import types as T

from leadlang.span import Span


def _units(text: str, encoding: str) -> int:
    if text.isascii():
        return len(text)
    if encoding == T.PositionEncodingKind.Utf32:
        return len(text)
    if encoding == T.PositionEncodingKind.Utf8:
        return len(text.encode("utf-8"))
    return len(text.encode("utf-16-le")) // 2


class Lines:
    """One file's lines, converting columns between characters and the client's units (UTF-16 unless negotiated)."""

    def __init__(self, text: str, encoding: str = T.PositionEncodingKind.Utf16):
        self.lines = text.split("\n")
        self.encoding = encoding

    def line(self, number: int) -> str:
        """The 1-based line `number` ('' past the end)."""
        return self.lines[number - 1] if 1 <= number <= len(self.lines) else ""

    def position(self, line: int, column: int) -> T.Position:
        """The client's position of a 1-based `line` and `column` (in characters)."""
        line = max(line, 1)
        text = self.line(line)
        return T.Position(line=line - 1, character=_units(text[:max(column, 1) - 1], self.encoding))

    def range(self, span: Span) -> T.Range:
        start = self.position(span.line, span.column)
        if (span.end_line, span.end_column) <= (span.line, span.column):
            return T.Range(start=start, end=start)
        return T.Range(start=start, end=self.position(span.end_line, span.end_column))

    def column(self, position: T.Position) -> tuple[int, int]:
        """The 1-based (line, column in characters) of a client's position."""
        text = self.line(position.line + 1)
        if text.isascii() or self.encoding == T.PositionEncodingKind.Utf32:
            return position.line + 1, min(position.character, len(text)) + 1
        units = 0
        for i, ch in enumerate(text):
            if units >= position.character:
                return position.line + 1, i + 1
            units += _units(ch, self.encoding)
        return position.line + 1, len(text) + 1

    def end(self) -> T.Position:
        """The position just past the last character."""
        return T.Position(line=len(self.lines) - 1, character=_units(self.lines[-1], self.encoding))
