"""Progress for long work: a spinner with the current step on a terminal, silence elsewhere."""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager


@contextmanager
def step(message: str):
    """Show `message` while the block runs, on stderr, only when stderr is a terminal."""
    if not sys.stderr.isatty():
        yield
        return
    from rich.console import Console

    console = Console(stderr=True)
    started = time.perf_counter()
    with console.status(message):
        yield
    console.print(f"[dim]{message} — {time.perf_counter() - started:.1f}s[/dim]")
