"""The Python reference interpreter: the oracle every SQL engine must agree with."""

from leadlang.interpret.evaluator import EXPLAIN_COLUMNS, Interpreter, LeadState, Result, evaluate, evaluate_chunks, event_layout, uses_account_events

__all__ = ["EXPLAIN_COLUMNS", "Interpreter", "LeadState", "Result", "evaluate", "evaluate_chunks", "event_layout", "uses_account_events"]
