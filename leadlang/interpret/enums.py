"""A value outside its enum is missing (language.md §4, "Values outside an enum").

A warehouse cannot stop a query on a bad cell, so the compiled SQL reads an `enum(...)` column as
`CASE WHEN col IN (values) THEN col END` (`sql.compiler`); the interpreter gives every row it is
handed the same meaning here, before it reads a value. `leadlang score` refuses such data unless
`--on-invalid-enum null` (`data.staging.on_invalid_enum`), so by default only rows given from Python reach this.
"""

from __future__ import annotations

from typing import Callable

from leadlang.check.policy import Policy

Rows = list  # of dicts (leads, accounts) or tuples (events)


def _cleaner(columns: dict, read: Callable, blank: Callable) -> Callable[[Rows], Rows]:
    """Rows -> the same rows, each one that holds a value outside its column's enum copied with None there.
    `columns`: column (a dict key, or a tuple position) -> its enum's values; `read(row, column)` a value,
    `blank(row, columns)` the copy."""
    if not columns:
        return lambda rows: rows
    items = tuple(columns.items())

    def clean(rows: Rows) -> Rows:
        out = rows
        for i, row in enumerate(rows):
            bad = [c for c, allowed in items if (v := read(row, c)) is not None and v not in allowed]
            if bad:
                if out is rows:
                    out = list(rows)
                out[i] = blank(row, bad)
        return out

    return clean


def _dicts(columns: dict[str, frozenset[str]]) -> Callable[[Rows], Rows]:
    return _cleaner(columns, dict.get, lambda row, bad: {**row, **dict.fromkeys(bad)})


def _tuples(columns: dict[int, frozenset[str]]) -> Callable[[Rows], Rows]:
    return _cleaner(columns, tuple.__getitem__, lambda row, bad: tuple(None if i in bad else v for i, v in enumerate(row)))


def enum_guard(policy: Policy, positions: dict[str, dict[str, int]]) -> Callable[[Rows, Rows, dict[str, Rows]], tuple[Rows, Rows, dict[str, Rows]]]:
    """`(leads, accounts, events) -> the same with every out-of-enum value None`; lead and account rows are
    dicts, event rows tuples laid out as `positions` says (`interpret.event_layout`: columns not read are
    not there). Rows are copied only where one changes, so data without such values costs one set lookup
    per enum cell."""
    def enums(types, skip) -> dict[str, frozenset[str]]:
        return {n: frozenset(t.values) for n, t in types.items() if t.values and n not in skip}

    leads = _dicts(enums(policy.lead_types, {policy.leads.key, policy.leads.account}))
    accounts = _dicts(enums(policy.account_types, {policy.accounts.key}) if policy.accounts else {})
    events = {name: _tuples({positions[name][c]: allowed for c, allowed in enums(types, {"lead", "at", "name"}).items() if c in positions[name]})
              for name, types in policy.event_types.items()}

    def guard(lead_rows: Rows, account_rows: Rows, event_rows: dict[str, Rows]):
        return (leads(lead_rows), accounts(account_rows),
                {name: events[name](rows) if name in events else rows for name, rows in event_rows.items()})

    return guard
