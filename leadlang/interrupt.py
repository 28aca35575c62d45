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
_raised = False


def _importing(frame) -> bool:
    """Whether Python is importing a module: a native extension (DuckDB's) aborts the process if interrupted there."""
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            return True
        frame = frame.f_back
    return False


def _handler(signum, frame) -> None:
    global received, _raised
    if signum == signal.SIGALRM:  # the retry of a signal that came during an import
        if received is None or _raised:
            return
    elif received is not None:  # the first signal interrupts; a second one is not a second traceback
        return
    else:
        received = signum
    if _importing(frame):
        signal.setitimer(signal.ITIMER_REAL, 0.02)  # try again once the import is done
        return
    _raised = True
    raise KeyboardInterrupt


def install() -> None:
    """Route SIGINT and SIGTERM to `KeyboardInterrupt`, remembering the signal (deferred out of imports)."""
    import atexit

    signal.signal(signal.SIGINT, _handler)
    signal.signal(signal.SIGTERM, _handler)
    signal.signal(signal.SIGALRM, _handler)
    atexit.register(_no_retry)


def _no_retry() -> None:
    """At exit, no retry pending: Python restores SIGALRM's default action as it shuts down, so a retry timer
    still running (a signal that came during an import just before the command finished) would kill the process."""
    signal.setitimer(signal.ITIMER_REAL, 0)


def exit_code() -> int:
    """128 + the signal number: 130 for Ctrl-C (also when no handler saw it), 143 for SIGTERM."""
    return 128 + (received or signal.SIGINT)


def reraise(err: BaseException) -> None:
    """Raise KeyboardInterrupt when `err` is DuckDB's report of an interrupted query."""
    text = str(err)
    if received is not None or type(err).__name__ == "InterruptException" or text == "Query interrupted" or text.startswith("INTERRUPT Error"):
        raise KeyboardInterrupt from None
