"""The checked rows as Python values, for the interpreter: all at once (`load_dataset`), in chunks of
leads with their events (`stream_dataset`, `score --engine python`); one lead's rows are `one_lead`'s (`explain`).

Every path reads the typed tables `staging.register_file` made, so the rows and the errors are those
of the DuckDB engine. Rows are dicts keyed by `Column.key`: numbers are exact `Decimal`s, timestamps
aware UTC datetimes, missing is None; a streamed event is a tuple as the interpreter reads it
(`interpret.event_layout`: lead, time in microseconds since 1970-01-01 UTC, name, the columns it reads).
"""

from __future__ import annotations

import bisect
import datetime as dt
import shutil
import tempfile
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from leadlang.data.errors import read_failure, run
from leadlang.data.specs import Column, Source, sources
from leadlang.data.staging import ident, lit, register_dataset, register_file
from leadlang.diagnostics import DataError
from leadlang.interrupt import reraise
from leadlang.profile import Profiling


@dataclass
class Dataset:
    """The rows of every declared source, typed by the policy's declarations."""

    leads: list[dict] = field(default_factory=list)
    accounts: list[dict] = field(default_factory=list)
    events: dict[str, list[dict]] = field(default_factory=dict)


@dataclass
class Chunk:
    """Some leads, in key order, with every event of theirs (in file order, tuples laid out by
    `interpret.event_layout`) and their accounts' rows."""

    leads: list[dict]
    accounts: list[dict]
    events: dict[str, list[tuple]]


def _connect():
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")  # the CLI shows its own steps
    return con


def load_dataset(policy, data_dir: Path) -> Dataset:
    """Read and check every source the (checked) `policy` declares in `data_dir`, in file order."""
    con = _connect()
    try:
        out = Dataset()
        for s in sources(policy, data_dir):
            rows = _fetch(con, s)
            if s.name == "leads":
                out.leads = rows
            elif s.name == "accounts":
                out.accounts = rows
            else:
                out.events[s.name] = rows
        return out
    finally:
        con.close()


def _fetch(con, s: Source) -> list[dict]:
    """The rows of one source, checked (`register_file`), in file order."""
    table = f"__src_{s.name}"
    register_file(con, s.path, s.columns, table, s.key)
    select = ", ".join(_read(ident(c.name), c) + f" AS v{i}" for i, c in enumerate(s.columns))
    batch = run(con, s.path, f"SELECT {select} FROM {ident(table)} ORDER BY __row", arrow=True)
    columns = [_python_values(batch.column(i), c.kind) for i, c in enumerate(s.columns)]
    return _build_rows(len(s.columns))(tuple(c.key for c in s.columns), columns)


def stream_dataset(policy, data_dir: Path, size: int = 10_000, by_account: bool = False, as_of: dt.datetime | None = None,
                   inspect=None):
    """Check every source as the DuckDB engine does (`register_dataset`), then yield `Chunk`s of about
    `size` leads with every event of theirs (in file order) and their accounts' rows. An event is a tuple
    of the columns the interpreter reads, laid out by `interpret.event_layout`, its time in microseconds.

    DuckDB keeps the sources (spilling to disk beyond its memory limit), numbers the leads in
    key order and hands the leads (each joined to its account) and each source's events back
    in that order in record batches, so only one chunk's rows are Python objects at a time.
    With `by_account`, leads are numbered by account key (leads without an account last), then
    lead key, and a chunk never splits an account: all its leads and their events are in one
    chunk. Events of leads that are not in the leads file, with no lead, or (with `as_of`) after
    `as_of` are never handed out. `inspect(profile)`, if given, gets the data profile (`leadlang.profile`),
    computed as the files are checked, before the first chunk.
    """
    import duckdb

    con, spill = _connect(), None
    try:
        spill = tempfile.mkdtemp(prefix="leadlang-")  # DuckDB keeps the sources here beyond its memory limit
        con.execute(f"SET temp_directory = {lit(spill)}")
        con.execute("SET memory_limit = '768MB'")
        profiling = None if inspect is None else Profiling(policy)
        tables = register_dataset(con, policy, data_dir, profiling)
        if profiling is not None:
            inspect(profiling.profile())
        yield from _chunks(con, tables, policy, data_dir, size, by_account, as_of)
    except duckdb.Error as err:  # a file DuckDB could not read as it scanned it again, out of disk for spilling, ...
        reraise(err)  # or Ctrl-C
        raise read_failure(err) or DataError(f"{data_dir}: cannot read the data: {str(err).splitlines()[0]}") from None
    finally:
        con.close()
        if spill:
            shutil.rmtree(spill, ignore_errors=True)


def _chunks(con, tables: dict[str, str], policy, data_dir: Path, size: int, by_account: bool, as_of: dt.datetime | None):
    """`stream_dataset`'s chunks, from the sources `register_dataset` checked into `tables`."""
    from leadlang.interpret import event_layout

    leads, accounts = policy.leads, policy.accounts
    cols_of = {s.name: s.columns for s in sources(policy, data_dir)}
    q = ident
    groups = [cols_of["leads"]]
    picked, join = [f"l.{q(c.name)}" for c in cols_of["leads"]], ""
    if accounts is not None and leads.account:
        groups.append(cols_of["accounts"])
        picked += [f"a.{q(c.name)}" for c in cols_of["accounts"]]
        join = f" LEFT JOIN {q(tables['accounts'])} a ON l.{q(leads.account)} = a.{q(accounts.key)}"
    order = (f"l.{q(leads.account)} NULLS LAST, " if by_account and leads.account else "") + f"l.{q(leads.key)}"
    columns = [_read(p, c) + f" AS v{i}" for i, (p, c) in enumerate(zip(picked, [c for g in groups for c in g]))]
    # real tables, not TEMP: each sorted read below runs on its own cursor, which sees only the database's tables
    con.execute(f"CREATE TABLE __leads AS SELECT {', '.join(columns)}, row_number() OVER (ORDER BY {order}) AS __pos "
                f"FROM {q(tables['leads'])} l{join}")
    streams, layout = {}, event_layout(policy)
    for name in policy.events:  # an event holds the columns the interpreter reads, as it lays them out
        by_key = {c.key: c for c in cols_of[name]}
        cols = [by_key[key] for key in layout[name]]
        at = f"e.{q(cols[1].name)}"
        future = "" if as_of is None else f" AND {at} <= CAST({lit(as_of.isoformat())} AS TIMESTAMPTZ)"
        # `__src_<name>` is `register_dataset`'s relation with `__row`, the file's row
        table = q(f"__events_{len(streams)}")
        reads = [f"epoch_us({at})" if i == 1 else _read("e." + q(c.name), c) for i, c in enumerate(cols)]  # the time as an int
        con.execute(f"CREATE TABLE {table} AS SELECT {', '.join(f'{r} AS v{i}' for i, r in enumerate(reads))}, "
                    f"p.__pos, e.__row FROM {q(f'__src_{name}')} e JOIN __leads p ON e.{q(cols[0].name)} = p.v0{future}")
        names = ", ".join(f"v{i}" for i in range(len(cols)))
        rel = con.cursor().sql(f"SELECT {names}, __pos FROM {table} ORDER BY __pos, __row")
        streams[name] = _Peek(_positioned(rel, [[c if i != 1 else _MICROS for i, c in enumerate(cols)]], size, tuples=True))
    batches = _positioned(con.cursor().sql("SELECT * FROM __leads ORDER BY __pos"), groups, size)
    account_key = accounts.key if accounts is not None else None
    for positions, lead_rows, *joined in _account_chunks(batches, size, leads.account if by_account else None):
        linked = {a[account_key]: a for a in (joined[0] if joined else ()) if a[account_key] is not None}
        yield Chunk(lead_rows, list(linked.values()), {name: s.until(positions[-1]) for name, s in streams.items()})


def _read(expr: str, col: Column) -> str:
    """A typed column as `_python_values` reads it fastest: timestamps and numbers as text."""
    if col.kind == "timestamp":  # UTC, whatever the session's zone
        return f"strftime(make_timestamp(epoch_us({expr})), '%Y-%m-%dT%H:%M:%S.%f+00:00')"
    if col.kind == "number":
        return f"CAST({expr} AS VARCHAR)"
    return expr


_MICROS = Column("at", "at", "micros", "")  # an event's time, read as microseconds since 1970-01-01 UTC


def _positioned(rel, groups: list[list[Column]], size: int, tuples: bool = False):
    """(positions, rows of each group of columns) per record batch of `rel`, whose last column is `__pos`;
    rows are dicts keyed by `Column.key`, or with `tuples`, tuples of the columns in order."""
    plans, at = [], 0
    for cols in groups:
        build = (lambda keys, columns: list(zip(*columns))) if tuples else _build_rows(len(cols))
        plans.append((at, tuple(c.key for c in cols), [c.kind for c in cols], build))
        at += len(cols)
    for batch in rel.to_arrow_reader(size):
        if batch.num_rows:
            yield (batch.column(at).to_pylist(),
                   *(build(keys, [_python_values(batch.column(first + i), t) for i, t in enumerate(types)]) for first, keys, types, build in plans))


def _account_chunks(batches, size: int, account: str | None):
    """Cut (positions, lead rows, ...) batches (parallel lists) into chunks of at least `size` leads (but the
    last), never between two leads of one account when `account` names the leads' account column."""
    pending: list[list] = []
    for batch in batches:
        pending = pending or [[] for _ in batch]
        for have, more in zip(pending, batch):
            have.extend(more)
        while len(pending[1]) >= size:
            rows, cut = pending[1], size
            if account is not None:
                last = rows[cut - 1][account]
                while last is not None and cut < len(rows) and rows[cut][account] == last:
                    cut += 1
                if cut == len(rows) and last is not None:
                    break  # the account may go on in the next batch
            yield [p[:cut] for p in pending]
            pending = [p[cut:] for p in pending]
    if pending and pending[1]:
        yield pending


class _Peek:
    """Rows from a stream of (positions, rows) batches sorted by position, handed out up to a position."""

    def __init__(self, batches):
        self.batches, self.positions, self.rows, self.at = batches, [], [], 0

    def until(self, high: int) -> list[dict]:
        """Every row not yet handed out whose position is at most `high`."""
        out = []
        while True:
            if self.at == len(self.rows):
                self.positions, self.rows = next(self.batches, ([], []))
                self.at = 0
                if not self.rows:
                    return out
            positions, at = self.positions, self.at
            end = bisect.bisect_right(positions, high, at)
            out.extend(self.rows[at:end] if at or end < len(positions) else self.rows)
            self.at = end
            if end < len(positions):
                return out


def _python_values(column, kind: str) -> list:
    """An Arrow column's (or a list's) values as the interpreter's: `_read`'s text of numbers and timestamps parsed."""
    values = column if isinstance(column, list) else column.to_pylist()
    if kind == "number":  # DuckDB's DECIMAL(28, 10) text, its fraction's trailing zeros dropped: `1000`, `2.5`
        return [None if v is None else Decimal(v.rstrip("0").rstrip(".") if "." in v else v) for v in values]
    if kind == "timestamp":
        parse = dt.datetime.fromisoformat
        return [None if v is None else parse(v) for v in values]
    return values


@lru_cache(maxsize=None)
def _build_rows(n: int):
    """`f(keys, columns) -> row dicts` for n columns: a dict display is twice as fast as dict(zip())."""
    names = [f"v{i}" for i in range(n)]
    body = ", ".join(f"K[{i}]: {v}" for i, v in enumerate(names))
    return eval(f"lambda K, C: [{{{body}}} for {', '.join(names)}, in zip(*C)]")  # generated from n only
