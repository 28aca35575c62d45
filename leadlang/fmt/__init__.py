"""`leadlang fmt`: one canonical layout for `.lead` policies, comments kept, meaning unchanged.

`format_source(text)` parses the policy, lays every declaration out again from
its syntax tree (`render`), puts the comments back where they were (`layout`)
and then proves the result: the new text must parse to the same tree and hold
the same comments in the same order, and formatting it again must change
nothing. If any of that fails the formatter has a bug; it raises
`FormatterBug` instead of returning text that could mean something else.
"""

from __future__ import annotations

from leadlang.fmt.comments import FMT_OFF, FMT_ON, scan
from leadlang.fmt.layout import layout
from leadlang.fmt.render import Renderer
from leadlang.syntax import ast as A
from leadlang.syntax.parser import parse

WIDTH = 100

__all__ = ["WIDTH", "FormatterBug", "format_source"]


class FormatterBug(Exception):
    """The formatted text would not mean the same as the input (never the user's fault)."""


def _format(text: str, path: str, width: int, module: A.Module | None = None) -> str:
    """`text` laid out; `module` is its parse when the caller has it already."""
    module = parse(text, path) if module is None else module
    comments, masked = scan(text)
    frozen: set[int] = set()
    off = None
    for c in (c for c in comments if c.own_line):
        if off is None and FMT_OFF.fullmatch(c.text):
            off = c.line
        elif off is not None and FMT_ON.fullmatch(c.text):
            frozen.update(range(off, c.line + 1))
            off = None
    if off is not None:
        frozen.update(range(off, text.count("\n") + 2))
    chunks = Renderer(text, masked, {c.line for c in comments}, width, frozen).module(module)
    return layout(text, chunks, comments, width)


def format_source(text: str, path: str = "<string>", width: int = WIDTH) -> str:
    """The canonical form of one policy's text. Raises `LeadError` if it does not parse."""
    text = text.removeprefix("\ufeff")
    module = parse(text, path)
    result = _format(text, path, width, module)
    try:
        reread = parse(result, path)
    except Exception as err:  # any failure to re-read is the formatter's fault
        raise FormatterBug(f"{path}: the formatted text does not parse: {err}") from err
    if reread != module:
        raise FormatterBug(f"{path}: formatting would change the policy's meaning")
    if [c.text for c in scan(result)[0]] != [c.text for c in scan(text)[0]]:
        raise FormatterBug(f"{path}: formatting would lose or reorder a comment")
    if _format(result, path, width, reread) != result:
        raise FormatterBug(f"{path}: formatting is not stable (a second pass would change it)")
    return result
