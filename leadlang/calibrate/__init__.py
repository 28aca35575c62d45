"""`leadlang calibrate`: points and thresholds learned from closed deals, proposed as an edit of the policy's numbers.

`features` scores the leads once on DuckDB and reads the outcomes as `backtest` does, `fit` fits each
points score, `thresholds` re-chooses band thresholds, `rewrite` edits the number literals in place,
`report` renders text and JSON; docs/calibrate.md explains the method.
"""

from __future__ import annotations

from leadlang.diagnostics import DataError


def require_sklearn() -> None:
    """scikit-learn is an optional extra: one clear line when it is missing."""
    try:
        import sklearn  # noqa: F401
    except ImportError:
        raise DataError("calibrate needs scikit-learn: pip install 'leadlang[calibrate]'") from None


from leadlang.calibrate.run import Calibration, calibrate  # noqa: E402

__all__ = ["Calibration", "calibrate", "require_sklearn"]
