"""Colour on terminals: whether a stream gets it, and the one painter every renderer uses.

`--color auto` (the default) colours a stream that is a terminal, unless
`NO_COLOR` is set (https://no-color.org); `FORCE_COLOR` colours it even when it
is not one. `--color always` and `--color never` decide alone. Renderers take a
`paint` argument: None (the default) leaves their text byte for byte as it is
without colour; `painter(stream)` is None too when that stream gets no colour,
so a renderer never needs to ask. rich is imported only to colour, keeping it
off the start-up of `leadlang check` when nothing is coloured.
"""

from __future__ import annotations

import functools
import os
from typing import Callable, TextIO

Paint = Callable[[str, str], str]
"""`paint(text, role)`: `text` styled as `role` (a key of STYLES)."""

MODES = ("auto", "always", "never")
_mode = "auto"

STYLES = {
    "error": "bold red",
    "warning": "bold yellow",
    "hint": "bold cyan",
    "info": "bold cyan",
    "location": "bold",
    "gutter": "blue",
    "note": "cyan",
    "pass": "bold green",
    "fail": "bold red",
    "plus": "green",
    "minus": "red",
    "muted": "dim",
}


def set_mode(mode: str) -> None:
    """The `--color` option's choice, for the rest of the command."""
    global _mode
    if mode not in MODES:
        raise ValueError(f"colour mode must be one of {', '.join(MODES)}, not {mode!r}")
    _mode = mode


def forced() -> bool:
    """Colour whatever the stream: `--color always`, or `FORCE_COLOR` in auto mode without `NO_COLOR`."""
    if _mode != "auto":
        return _mode == "always"
    return bool(os.environ.get("FORCE_COLOR")) and not os.environ.get("NO_COLOR")


def enabled(stream: TextIO) -> bool:
    """Does `stream` get colour?"""
    if _mode != "auto":
        return _mode == "always"
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):  # closed or not a file
        return False


def painter(stream: TextIO) -> Paint | None:
    """The painter for text written to `stream`, or None when it gets plain text."""
    return paint if enabled(stream) else None


@functools.lru_cache(maxsize=None)
def _style(role: str):
    from rich.color import ColorSystem
    from rich.style import Style

    return functools.partial(Style.parse(STYLES[role]).render, color_system=ColorSystem.STANDARD)


def paint(text: str, role: str) -> str:
    """`text` with the ANSI codes of `role`'s style (an empty text stays empty)."""
    return _style(role)(text) if text else text
