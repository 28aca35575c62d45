"""A data profile: what the `--data` files hold, in one GROUP BY per source file (and one count per further
enum column).

The data-aware lint rules (`L4xx`) read it: each source's row count, how many rows have each declared
column, each enum column's and the events' name column's distinct values with their counts, and the
first and last event time. `profile_files` reads the files as text without checking a value (so `lint
--data` can name the values an enum does not declare); `profile_tables` reads the checked, typed tables
`score` has already registered in DuckDB, so the warnings of `score` cost one more aggregate, not a read
and check.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from leadlang.check.policy import Policy


@dataclass(frozen=True)
class SourceProfile:
    """The figures of one source file; columns are keyed by their declared name (events: `lead`, `at`, `name`, ...)."""

    name: str
    path: str
    rows: int
    present: dict[str, int] = field(default_factory=dict)  # column -> rows with a value
    values: dict[str, tuple[tuple[str, int], ...]] = field(default_factory=dict)  # enum / event name column -> (value, rows)
    first: dt.datetime | None = None  # events: the earliest and latest event time
    last: dt.datetime | None = None


@dataclass(frozen=True)
class Profile:
    sources: dict[str, SourceProfile]


def _lit(text: str, quote: str = "'") -> str:
    return quote + text.replace(quote, quote * 2) + quote


def _columns(policy: Policy) -> dict[str, list[tuple[str, str, str]]]:
    """Each source's profiled columns: (declared name, column in the file or table, type name)."""
    leads = policy.leads
    out = {"leads": [(f.name, f.name, f.type.name) for f in leads.fields if f.name != leads.key]}
    if leads.account and all(f.name != leads.account for f in leads.fields):
        out["leads"].insert(0, (leads.account, leads.account, "string"))
    if policy.accounts is not None:
        out["accounts"] = [(f.name, f.name, f.type.name) for f in policy.accounts.fields if f.name != policy.accounts.key]
    for name, ev in policy.events.items():
        cols = [("lead", ev.lead or "lead", "string"), ("at", ev.at or "at", "timestamp"), ("name", ev.event_name or "name", "event_name")]
        out[name] = cols + [(f.name, f.name, f.type.name) for f in ev.fields if f.name not in ("lead", "at", "name")]
    return out


def _query(con, path: Path, rel: str, cols: list[tuple[str, str, str]], typed: bool) -> tuple[int, dict, dict, object, object]:
    """The figures of `rel` by its first grouped column (enum or event name), the totals summed from those groups,
    and each further grouped column's values in a count of its own.

    Not GROUPING SETS: DuckDB computes each set as a separate aggregate over every column, nearly three times
    the work of one GROUP BY on an events file of millions of rows (measured by benchmarks/score_bench.py)."""
    exprs, present, grouped = [], [], []
    at = None
    for i, (_, column, kind) in enumerate(cols):
        src = column if not typed else _lit(column, '"')
        text = src if typed else f"NULLIF({src}, '')" if kind in ("string", "enum", "event_name") else f"NULLIF(trim({src}), '')"
        exprs.append(f"{text} AS c{i}")
        present.append(f"count(c{i})")
        if kind in ("enum", "event_name"):
            grouped.append(i)
        if kind == "timestamp" and cols[i][0] == "at":
            at = f"c{i}" if typed else f"TRY_CAST(c{i} AS TIMESTAMPTZ)"
    times = f"min({at}), max({at})" if at else "NULL, NULL"
    inner = f"(SELECT {', '.join(exprs) or '1 AS c0'} FROM {rel})"
    by = f"c{grouped[0]}" if grouped else "NULL"
    from leadlang.io import _run  # DuckDB's failure (a corrupt file) as io's one-line DataError about `path`

    groups = _run(con, path, f"SELECT {by}, count(*), {', '.join([*present, times])} FROM {inner} GROUP BY 1")
    rows = sum(g[1] for g in groups)
    present_of = {c[0]: sum(g[2 + i] for g in groups) for i, c in enumerate(cols)}
    firsts, lasts = [g[-2] for g in groups if g[-2] is not None], [g[-1] for g in groups if g[-1] is not None]
    first, last = min(firsts, default=None), max(lasts, default=None)
    values = {cols[i][0]: [] for i in grouped}
    for k, i in enumerate(grouped):
        counted = groups if k == 0 else _run(con, path, f"SELECT c{i}, count(*) FROM {inner} GROUP BY 1")
        values[cols[i][0]] = [(str(g[0]), g[1]) for g in counted if g[0] is not None]
    values = {c: tuple(sorted(vs, key=lambda p: (-p[1], p[0]))) for c, vs in values.items()}  # most frequent first
    return rows, present_of, values, first, last


def _source(name: str, path: str, figures) -> SourceProfile:
    rows, present, values, first, last = figures
    return SourceProfile(name, path, rows, present, values, _utc(first), _utc(last))


def _utc(t):
    if t is None:
        return None
    return t.replace(tzinfo=dt.timezone.utc) if t.tzinfo is None else t.astimezone(dt.timezone.utc)


def profile_files(policy: Policy, data_dir: Path) -> Profile:
    """Profile every declared source file of `data_dir`, read as text; values are not checked.

    Raises `DataError` for a missing directory, file or column, as every command does.
    """
    import duckdb

    from leadlang.io import staged_sources

    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        out: dict[str, SourceProfile] = {}
        columns = _columns(policy)
        for name, path, srcs in staged_sources(con, policy.leads, policy.accounts, list(policy.events.values()), data_dir):
            cols = [(key, srcs[key], kind) for key, _, kind in columns[name]]
            out[name] = _source(name, str(path), _query(con, path, "src", cols, typed=False))
        return Profile(out)
    finally:
        con.close()


def profile_tables(con, policy: Policy, tables: dict[str, str], data_dir: Path) -> Profile | None:
    """Profile the checked, typed tables `io.register_dataset` made in `con` (source name -> relation).

    None when a file cannot be read through (a Parquet view over a corrupt file): scoring reports that."""
    from leadlang.diagnostics import DataError
    from leadlang.io import find_source_file

    out: dict[str, SourceProfile] = {}
    try:
        for name, cols in _columns(policy).items():
            path = find_source_file(data_dir, name)
            out[name] = _source(name, str(path), _query(con, path, _lit(tables[name], '"'), cols, typed=True))
    except DataError:
        return None
    return Profile(out)
