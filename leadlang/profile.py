"""A data profile: what the `--data` files hold, in one GROUP BY per source file.

The data-aware lint rules (`L4xx`) read it: each source's row count, how many rows have each declared
column, each enum column's and the events' name column's distinct values with their counts, and the
first and last event time. `profile_files` reads the files as text without checking a value (so `lint
--data` can name the values an enum does not declare); `score` gets the profile of the checked, typed
rows from the one pass that checks the files (`data.staging.register_dataset` with a `Profiling`): its
warnings cost a few more aggregates in that pass, not a second read of the files.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
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


def _ident(name: str) -> str:
    from leadlang.sql.dialects import DIALECTS

    return DIALECTS["duckdb"].ident(name)  # the dialect's one quoting rule


def _columns(policy: Policy) -> dict[str, list[tuple[str, str, str]]]:
    """Each source's profiled columns: (declared name, column in the file or table, type name); the key is
    not profiled, an events source's name column is of type `event_name`."""
    from leadlang.data.specs import columns

    return {name: [(c.key, c.name, "event_name" if key is None and c.key == "name" and i == 2 else c.kind)
                   for i, c in enumerate(cols) if c.name != key]
            for name, (cols, key, _) in columns(policy).items()}


@dataclass(frozen=True)
class Figures:
    """The aggregates of one source's profile, to run in a query of their own (`profile_files`) or folded into
    another over the same rows (`data.staging`'s check): `SELECT {by}, {aggregates}, ... FROM (SELECT {columns}, ...
    FROM rel) GROUP BY 1`, whose rows `read` turns into the figures.

    One GROUP BY, by the first grouped column (enum or event name), each further grouped column counted by a
    `histogram` in it. Not GROUPING SETS: DuckDB computes each set as a separate aggregate over every column,
    nearly three times the work of one GROUP BY on an events file of millions of rows (benchmarks/score_bench.py)."""

    name: str
    path: str
    cols: tuple[tuple[str, str, str], ...]  # (declared name, the column's SQL in the relation, type name)
    typed: bool  # the relation's columns are the checked, typed ones; else the file's text
    found: dict = field(default_factory=dict, compare=False)  # where `take` puts the profile, under `name`

    def columns(self) -> list[str]:
        """The relation's columns the aggregates read, as `__p<i>`."""
        out = []
        for i, (_, src, kind) in enumerate(self.cols):
            text = src if self.typed else f"NULLIF({src}, '')" if kind in ("string", "enum", "event_name") else f"NULLIF(trim({src}), '')"
            out.append(f"{text} AS __p{i}")
        return out or ["1 AS __p0"]

    def _grouped(self) -> list[int]:
        return [i for i, (_, _, kind) in enumerate(self.cols) if kind in ("enum", "event_name")]

    def by(self) -> str:
        grouped = self._grouped()
        return f"__p{grouped[0]}" if grouped else "NULL"

    def aggregates(self) -> list[str]:
        at = next((i for i, (key, _, kind) in enumerate(self.cols) if kind == "timestamp" and key == "at"), None)
        time = None if at is None else f"__p{at}" if self.typed else f"TRY_CAST(__p{at} AS TIMESTAMPTZ)"
        return ["count(*)", *(f"count(__p{i})" for i in range(len(self.cols))),
                *((f"min({time})", f"max({time})") if time else ("NULL", "NULL")),
                *(f"histogram(__p{i})" for i in self._grouped()[1:])]

    def read(self, groups: list[tuple]) -> SourceProfile:
        """The profile from the query's rows (their first `1 + len(aggregates())` values)."""
        n, grouped = len(self.cols), self._grouped()
        present = {c[0]: sum(g[2 + i] for g in groups) for i, c in enumerate(self.cols)}
        firsts, lasts = [g[2 + n] for g in groups if g[2 + n] is not None], [g[3 + n] for g in groups if g[3 + n] is not None]
        counted = [Counter() for _ in grouped]
        for g in groups:
            if grouped and g[0] is not None:
                counted[0][str(g[0])] += g[1]
            for k, histogram in enumerate(g[4 + n:4 + n + len(grouped) - 1], start=1):
                counted[k].update({str(v): c for v, c in (histogram or {}).items()})
        values = {self.cols[i][0]: tuple(sorted(c.items(), key=lambda p: (-p[1], p[0]))) for i, c in zip(grouped, counted)}  # most frequent first
        return SourceProfile(self.name, self.path, sum(g[1] for g in groups), present, values,
                             _utc(min(firsts, default=None)), _utc(max(lasts, default=None)))


    def take(self, groups: list[tuple]) -> None:
        self.found[self.name] = self.read(groups)


class Profiling:
    """The profile of the checked, typed rows, computed as `data.staging.register_dataset(..., profiling=...)` checks
    each file: `figures(source)` gives what to fold into the source's check, `found` is filled with the result."""

    def __init__(self, policy: Policy):
        self.columns = _columns(policy)
        self.found: dict[str, SourceProfile] = {}

    def figures(self, name: str, path: Path, ident) -> Figures:
        """The aggregates of source `name` over its typed relation, whose columns `ident` names."""
        return Figures(name, str(path), tuple((key, ident(column), kind) for key, column, kind in self.columns[name]), True, self.found)

    def profile(self) -> Profile:
        return Profile({name: self.found[name] for name in self.columns})


def _utc(t):
    if t is None:
        return None
    return t.replace(tzinfo=dt.timezone.utc) if t.tzinfo is None else t.astimezone(dt.timezone.utc)


def profile_files(policy: Policy, data_dir: Path) -> Profile:
    """Profile every declared source file of `data_dir`, read as text; values are not checked.

    Raises `DataError` for a missing directory, file or column, as every command does.
    """
    import duckdb

    from leadlang.data.errors import run  # DuckDB's failure (a corrupt file) as one DataError line about `path`
    from leadlang.data.staging import staged_sources

    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        out: dict[str, SourceProfile] = {}
        columns = _columns(policy)
        for name, path, srcs in staged_sources(con, policy, data_dir):
            fig = Figures(name, str(path), tuple((key, srcs[key], kind) for key, _, kind in columns[name]), False, out)
            fig.take(run(con, path, f"SELECT {fig.by()}, {', '.join(fig.aggregates())} FROM (SELECT {', '.join(fig.columns())} FROM src) GROUP BY 1"))
        return Profile(out)
    finally:
        con.close()
