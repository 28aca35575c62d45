"""The supported time range: every timestamp leadlang computes lies in 0001-01-01 .. 9999-12-31 (UTC).

A duration is at most the whole range (3,652,058 days). Looking back from an
as-of time (`in last D`, a test's `D ago`) must stay in the range: the checker
reports a test that would not (E215) and `check_as_of` refuses an `--as-of`
that would not, the same way on every engine.
"""

from __future__ import annotations

import datetime as dt

from leadlang.diagnostics import DataError
from leadlang.syntax import ast as A

EARLIEST = dt.datetime(1, 1, 1, tzinfo=dt.timezone.utc)
LATEST = dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.timezone.utc)
MAX_SECONDS = int((LATEST - EARLIEST).total_seconds())  # 3,652,058 days, 23:59:59


def back(as_of: dt.datetime, seconds: int) -> dt.datetime | None:
    """`as_of` minus `seconds`, or None when that is before `EARLIEST`."""
    if seconds > (as_of - EARLIEST).total_seconds():
        return None
    return as_of - dt.timedelta(seconds=seconds)


def longest_window(modules) -> A.Duration | None:
    """The longest `in last D` of any aggregate in `modules`: how far back from the as-of time a policy looks."""
    windows = [n.window for m in modules for n in A.walk(m) if isinstance(n, A.Aggregate) and n.window is not None]
    return max(windows, key=lambda d: d.seconds, default=None)


def check_as_of(policy, as_of: dt.datetime) -> None:
    """A DataError when scoring `policy` as of `as_of` would compute a time outside the supported range."""
    shown = as_of.isoformat().replace("+00:00", "Z")
    if not EARLIEST <= as_of <= LATEST:
        raise DataError(f"--as-of {shown}: outside the supported range 0001-01-01 to 9999-12-31")
    window = longest_window(policy.modules)
    if window is not None and back(as_of, window.seconds) is None:
        at = f"{window.span.file}:{window.span.line}"
        raise DataError(f"--as-of {shown}: `in last {window.text}` ({at}) would start before 0001-01-01, "
                        "the earliest supported time; score as of a later time")
