"""Ctrl-C and SIGTERM: one way to stop, wherever the command is (loading, the DuckDB query, writing).

`install()` (the `leadlang` script does it) makes both signals raise
`KeyboardInterrupt` and remembers which one came; the CLI then exits
128 + the signal number (130 for Ctrl-C, 143 for SIGTERM) with one line.
DuckDB reports an interrupted query as its own error; `reraise` turns it
back into the interrupt so no command mistakes it for bad data.
"""

from __future__ import annotations

import signal

received: int | None = None  # the signal that stopped the command, once one has


def _handler(signum, frame) -> None:
    global received
    if received is None:  # the first signal interrupts; a second one is not a second traceback
        received = signum
        raise KeyboardInterrupt


def install() -> None:
    """Route SIGINT and SIGTERM to `KeyboardInterrupt`, remembering the signal."""
    signal.signal(signal.SIGINT, _handler)
    signal.signal(signal.SIGTERM, _handler)


def exit_code() -> int:
    """128 + the signal number: 130 for Ctrl-C (also when no handler saw it), 143 for SIGTERM."""
    return 128 + (received or signal.SIGINT)


def reraise(err: BaseException) -> None:
    """Raise KeyboardInterrupt when `err` is DuckDB's report of an interrupted query."""
    text = str(err)
    if received is not None or type(err).__name__ == "InterruptException" or text == "Query interrupted" or text.startswith("INTERRUPT Error"):
        raise KeyboardInterrupt from None
