"""Qualification over time (docs/history.md): `leadlang history`'s series of scorings and their label changes."""

from leadlang.history.series import MAX_POINTS, changes, changes_rows, changes_sql, history_rows, label_columns, parse_every, points, series, write_history

__all__ = ["MAX_POINTS", "changes", "changes_rows", "changes_sql", "history_rows", "label_columns", "parse_every", "points", "series", "write_history"]
