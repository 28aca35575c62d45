"""Back-testing: how a policy's labels, bands and scores matched what actually closed, as of a past date."""

from leadlang.backtest.compute import Backtest, Figures, backtest

__all__ = ["Backtest", "Figures", "backtest"]
