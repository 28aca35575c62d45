"""Files for `leadlang fmt`: which to format, reading them as policies, and diffs."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from leadlang.fmt import format_source
from leadlang.syntax.parser import parse_file

STDIN = "-"


@dataclass(frozen=True, slots=True)
class Formatted:
    path: str
    before: str
    after: str

    @property
    def changed(self) -> bool:
        return self.before != self.after


def format_text(text: str, path: str) -> Formatted:
    """Format one policy's text, keeping Windows line endings if the file uses them."""
    first_line = text.split("\n", 1)
    crlf = len(first_line) > 1 and first_line[0].endswith("\r")
    after = format_source(text.replace("\r\n", "\n"), path)
    if crlf:
        after = after.replace("\n", "\r\n")
    return Formatted(path, text, after)


def format_file(path: str) -> Formatted:
    """Read (as `check` does: UTF-8, a bad byte is a diagnostic) and format one file."""
    _, text = parse_file(path)
    return format_text(text, path)


def unified_diff(result: Formatted, after: str = "formatted") -> str:
    """A unified diff from the file as it is to the file as `fmt` (or `after`: `calibrate`) would write it."""
    lines = difflib.unified_diff(
        result.before.splitlines(keepends=True),
        result.after.splitlines(keepends=True),
        fromfile=f"{result.path}\t(original)",
        tofile=f"{result.path}\t({after})",
    )
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)
