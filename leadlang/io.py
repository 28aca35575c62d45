"""Read the `--data` source files into typed rows, and write result rows as CSV, JSONL or Parquet.

Reading: DuckDB reads each file in-process (CSV as text, Parquet values cast to
text, JSONL values via `json_extract_string`; Python parses the CSV header so
columns match by exact name), then one SQL pass converts every declared column
and flags the first bad cell, so each bad value gets a one-line `DataError`
naming the file, 1-based data row, column, value and declaring policy line.
Empty or blank cells are missing. `int`: whole numbers within 64 bits, in
digits with at most a zero fraction (`-3`, `71.0`, `71.00`; not `71.5` or
`1e3`): the same rule for a CSV cell, a JSON number (JSON numbers are doubles,
so `7.1e1` is `71.0`) and a Parquet float or decimal. `number`: an exact
`Decimal` (`2.5`, `1e3` -> `1000`), rounded to 10 places half away from zero,
below 10^18 (language.md §21: DuckDB's `DECIMAL(28, 10)` converts it for both
engines; Parquet `decimal256` is refused). Messages about JSONL name the file's line
(blank lines count); about CSV and Parquet the data row. An empty (0-byte or
blank) file is an error: it has no header. A JSONL object with a key twice is
an error. DuckDB's own messages are never passed on with data in them: no
message quotes more of the data than the offending cell, cut at 40 characters.
`bool`: true/false, yes/no, 1/0 in any case. `date`: `YYYY-MM-DD`. `timestamp`:
ISO-8601 with `T` or a space, a date alone is midnight, no offset means UTC;
it becomes an aware UTC datetime.

Writing: CSV (header, RFC 4180 quoting, `\n` line ends), JSONL or Parquet.
Decimals are written exactly, in plain form with trailing fraction zeros
stripped and never an exponent (`Decimal("60.5200")` -> `60.52`, `1E+2` ->
`100`, `-0.00` -> `0`), so every engine's output reads the same whatever scale
it computed at; non-finite numbers are written as missing. Timestamps are UTC
with `Z` (naive ones count as UTC). Parquet numbers are `decimal128(38, s)`,
`s` = max(4, the largest scale the column needs), so values stay exact.
"""

from __future__ import annotations

import bisect
import csv
import datetime as dt
import json
import re
import shutil
import sys
import tempfile
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Context, Decimal
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import duckdb

if TYPE_CHECKING:  # pyarrow is imported where it is used: `leadlang score` on DuckDB rarely needs it
    import pyarrow as pa

from leadlang.diagnostics import DataError, did_you_mean
from leadlang.interrupt import reraise
from leadlang.outputs import atomic, atomic_open
from leadlang.syntax.ast import Accounts, Events, Field, Leads, Span, TypeRef

EXTENSIONS = ("csv", "parquet", "jsonl")
WRITE_TYPES = ("string", "int", "number", "bool", "date", "timestamp")
_UTC = dt.timezone.utc
_STRING = TypeRef("string")
_INT = r"[+-]?[0-9]+(\.0*)?"  # a whole number: digits, at most a fraction of zeros
_NUM = r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?"
_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_TS = _DATE + r"([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?"
_QUOTE = re.compile(r'[,"\r\n]')
_EXPECTED = {"int": "is not a whole number", "number": "is not a number", "bool": "is not a boolean (true/false, yes/no or 1/0)",
             "date": "is not a date (YYYY-MM-DD)", "timestamp": "is not an ISO-8601 timestamp (e.g. 2024-06-01T12:30:00Z)"}


ON_INVALID_ENUM = ("error", "null")
_INVALID_ENUM: ContextVar[str] = ContextVar("leadlang_on_invalid_enum", default="error")


@contextmanager
def on_invalid_enum(mode: str):
    """How the readers below treat a value outside its `enum(...)`, for the `with` block: `error` (the
    default) refuses it with a `DataError` naming the cell; `null` reads it as it is, and the engines
    then score it as missing, as the compiled SQL does in a warehouse (`interpret.enums`)."""
    if mode not in ON_INVALID_ENUM:
        raise ValueError(f"on_invalid_enum: {mode!r} is not one of {ON_INVALID_ENUM}")
    token = _INVALID_ENUM.set(mode)
    try:
        yield
    finally:
        _INVALID_ENUM.reset(token)


def _strict_enums() -> bool:
    return _INVALID_ENUM.get() == "error"


@dataclass
class Dataset:
    """The rows of every declared source, typed by the policy's declarations."""

    leads: list[dict] = field(default_factory=list)
    accounts: list[dict] = field(default_factory=list)
    events: dict[str, list[dict]] = field(default_factory=dict)


@dataclass(frozen=True)
class _Col:
    key: str  # the key in the row dicts
    name: str  # the column in the file
    type: TypeRef
    where: str  # "declared int at policies/x.lead:9", quoted in every message about it
    required: bool = False  # a row without a value is an error


def find_source_file(data_dir: Path, name: str, declared: str | None = None) -> Path:
    """`data_dir/<name>.csv|.parquet|.jsonl`; a DataError when there is none or more than one."""
    data_dir, note = Path(data_dir), (f" ({declared})" if declared else "")
    if not data_dir.is_dir():
        raise DataError(f"{data_dir}: the data directory does not exist{note}")
    found = [data_dir / f"{name}.{ext}" for ext in EXTENSIONS if (data_dir / f"{name}.{ext}").is_file()]
    if not found:
        raise DataError(f"{data_dir}: no data file for source `{name}`: expected {name}.csv, {name}.parquet or {name}.jsonl{note}")
    if len(found) > 1:
        raise DataError(f"{data_dir}: more than one data file for source `{name}` ({', '.join(p.name for p in found)}); keep one{note}")
    return found[0]


def _sources(leads: Leads, accounts: Accounts | None, events: Sequence[Events], data_dir: Path):
    """Each declared source: (name, file, columns, key column or None)."""
    yield ("leads", *_keyed(data_dir, "leads", leads.key, leads.account, leads.fields, leads.span))
    if accounts is not None:
        yield ("accounts", *_keyed(data_dir, "accounts", accounts.key, None, accounts.fields, accounts.span))
    for ev in events:
        at = f'events "{ev.name}", declared at {_at(ev.span)}'
        cols = [_Col("lead", ev.lead or "lead", _STRING, f"the lead column of {at}"),
                _Col("at", ev.at or "at", TypeRef("timestamp"), f"the time column of {at}", required=True),
                _Col("name", ev.event_name or "name", _STRING, f"the name column of {at}")]
        cols += [_field_col(f) for f in ev.fields if f.name not in ("lead", "at", "name")]
        yield ev.name, find_source_file(data_dir, ev.name, at), cols, None


def load_dataset(leads: Leads, accounts: Accounts | None, events: Sequence[Events], data_dir: Path) -> Dataset:
    """Read and check every declared source in `data_dir` (see the module docstring)."""
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        out = Dataset(leads=[])
        for name, path, cols, key in _sources(leads, accounts, events, data_dir):
            rows = _load(con, path, cols)
            if key is not None:
                _unique_keys(path, rows, cols[0])
            if name == "leads":
                out.leads = rows
            elif name == "accounts" and key is not None:
                out.accounts = rows
            else:
                out.events[name] = rows
        return out
    finally:
        con.close()


@dataclass
class Chunk:
    """Some leads, in key order, with every event of theirs (in file order) and their accounts' rows."""

    leads: list[dict]
    accounts: list[dict]
    events: dict[str, list[dict]]


def stream_dataset(leads: Leads, accounts: Accounts | None, events: Sequence[Events], data_dir: Path, size: int = 10_000,
                   by_account: bool = False, as_of: dt.datetime | None = None):
    """Check every source as the DuckDB engine does (`register_dataset`: the same errors as `load_dataset`),
    then yield `Chunk`s of about `size` leads with every event of theirs (in file order) and their accounts' rows.

    DuckDB keeps the sources (spilling to disk beyond its memory limit), numbers the leads in
    key order and hands the leads (each joined to its account) and each source's events back
    in that order in record batches, so only one chunk's rows are Python objects at a time.
    With `by_account`, leads are numbered by account key (leads without an account last), then
    lead key, and a chunk never splits an account: all its leads and their events are in one
    chunk. Events of leads that are not in the leads file, with no lead, or (with `as_of`) after
    `as_of` are never handed out.
    """
    con, spill = duckdb.connect(), None
    try:
        con.execute("SET enable_progress_bar = false")  # the CLI shows its own steps
        spill = tempfile.mkdtemp(prefix="leadlang-")  # DuckDB keeps the sources here beyond its memory limit
        con.execute(f"SET temp_directory = {_lit(spill)}")
        con.execute("SET memory_limit = '768MB'")
        tables = register_dataset(con, leads, accounts, events, data_dir)
        yield from _chunks(con, tables, leads, accounts, events, data_dir, size, by_account, as_of)
    except duckdb.Error as err:  # a file DuckDB could not read as it scanned it again, out of disk for spilling, ...
        reraise(err)  # or Ctrl-C
        raise read_failure(err) or DataError(f"{data_dir}: cannot read the data: {str(err).splitlines()[0]}") from None
    finally:
        con.close()
        if spill:
            shutil.rmtree(spill, ignore_errors=True)


def _chunks(con, tables: dict[str, str], leads: Leads, accounts: Accounts | None, events: Sequence[Events], data_dir: Path,
            size: int, by_account: bool, as_of: dt.datetime | None):
    """`stream_dataset`'s chunks, from the sources `register_dataset` checked into `tables`."""
    cols_of = {name: cols for name, _, cols, _ in _sources(leads, accounts, events, data_dir)}
    q = lambda name: _lit(name, chr(34))  # noqa: E731
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
    streams = {}
    for ev in events:
        cols = cols_of[ev.name]
        at = f"e.{q(cols[1].name)}"
        future = "" if as_of is None else f" AND {at} <= CAST({_lit(as_of.isoformat())} AS TIMESTAMPTZ)"
        # `__src_<name>` is `register_dataset`'s relation with `__row`, the file's row
        table = q(f"__events_{len(streams)}")
        con.execute(f"CREATE TABLE {table} AS SELECT {', '.join(_read('e.' + q(c.name), c) + f' AS v{i}' for i, c in enumerate(cols))}, "
                    f"p.__pos, e.__row FROM {q(f'__src_{ev.name}')} e JOIN __leads p ON e.{q(cols[0].name)} = p.v0{future}")
        names = ", ".join(f"v{i}" for i in range(len(cols)))
        streams[ev.name] = _Peek(_positioned(con.cursor().sql(f"SELECT {names}, __pos FROM {table} ORDER BY __pos, __row"), [cols], size))
    batches = _positioned(con.cursor().sql("SELECT * FROM __leads ORDER BY __pos"), groups, size)
    account_key = accounts.key if accounts is not None else None
    for positions, lead_rows, *joined in _account_chunks(batches, size, leads.account if by_account else None):
        linked = {a[account_key]: a for a in (joined[0] if joined else ()) if a[account_key] is not None}
        yield Chunk(lead_rows, list(linked.values()), {name: s.until(positions[-1]) for name, s in streams.items()})


def _read(expr: str, col: _Col) -> str:
    """A typed column as `_python_values` reads it fastest: timestamps and numbers as text."""
    if col.type.name == "timestamp":  # UTC, whatever the session's zone
        return f"strftime(make_timestamp(epoch_us({expr})), '%Y-%m-%dT%H:%M:%S.%f+00:00')"
    if col.type.name == "number":
        return f"CAST({expr} AS VARCHAR)"
    return expr


def _positioned(rel, groups: list[list[_Col]], size: int):
    """(positions, rows of each group of columns) per record batch of `rel`, whose last column is `__pos`."""
    plans, at = [], 0
    for cols in groups:
        plans.append((at, tuple(c.key for c in cols), [c.type.name for c in cols], _build_rows(len(cols))))
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


def register_dataset(con: duckdb.DuckDBPyConnection, leads: Leads, accounts: Accounts | None, events: Sequence[Events], data_dir: Path) -> dict[str, str]:
    """Check every source like `load_dataset`, but keep each as a typed temp table in `con`.

    Returns the table name of each source (`leads`, `accounts`, each events name).
    Event tables keep the events block's own column names, so the compiled SQL
    reads them as it would read the warehouse relation.
    """
    con.execute("SET TimeZone = 'UTC'")
    return {name: register_source(con, path, cols, key, f"__src_{name}") for name, path, cols, key in _sources(leads, accounts, events, data_dir)}


def register_source(con: duckdb.DuckDBPyConnection, path: Path, cols: list[_Col], key: str | None, table: str) -> str:
    """Check one source of `_sources` and keep it as the typed relation `table` (see `_register`); a keyed
    source's keys must be unique. Returns the relation to read the rows from."""
    scan = _register(con, path, cols, table)
    if key is not None:
        dup = first_duplicate(con, path, table, cols[0].name)
        if dup:
            k, first, second = dup
            raise DataError(f"{path}: {cols[0].name} {_show(k)} appears twice, in {_rows(path, first, second)} ({cols[0].where})")
    return scan


def staged_sources(con: duckdb.DuckDBPyConnection, leads: Leads, accounts: Accounts | None, events: Sequence[Events], data_dir: Path):
    """For a data profile (`leadlang.profile`): each declared source copied in turn, as text and with no value
    checked, into the temp table `src`. Yields (source name, file, {column key: its text in `src`})."""
    for name, path, cols, _key in _sources(leads, accounts, events, data_dir):
        st = _stage(con, path, cols)
        yield name, path, {c.key: s for c, s in zip(cols, st.srcs)}


def first_duplicate(con: duckdb.DuckDBPyConnection, path: Path, relation: str, key: str) -> tuple | None:
    """The first repeated key of `relation` (which has `__row`), reading in row order:
    (key, its first row, the row that repeats it) — what the Python engine reports.

    A count per key first (no per-key lists or windows: cheap on millions of rows);
    the rows only when some key does repeat."""
    rel, k = _lit(relation, '"'), _lit(key, '"')
    if not _run(con, path, f"SELECT 1 FROM {rel} GROUP BY {k} HAVING count(*) > 1 LIMIT 1"):
        return None
    return tuple(_run(con, path, f"WITH d AS (SELECT {k} AS k, min(__row) AS r1 FROM {rel} GROUP BY 1 HAVING count(*) > 1) "
                                 f"SELECT d.k, d.r1, min(t.__row) AS r2 FROM {rel} t JOIN d ON t.{k} = d.k AND t.__row > d.r1 "
                                 f"GROUP BY 1, 2 ORDER BY r2 LIMIT 1")[0])


def _keyed(data_dir: Path, source: str, key: str, account: str | None, fields, span: Span):
    """The file and columns of the leads or accounts source: the key first."""
    spans = {f.name: f.span for f in fields}  # a key or link may be listed again as a string field
    cols = [_Col(key, key, _STRING, f"the {source[:-1]} key, declared at {_at(spans.get(key, span))}", required=True)]
    if account:
        cols.append(_Col(account, account, _STRING, f"the account link, declared at {_at(spans.get(account, span))}"))
    cols += [_field_col(f) for f in fields if f.name not in (key, account)]
    return find_source_file(data_dir, source, f"the {source} source, declared at {_at(span)}"), cols, key


def _unique_keys(path: Path, rows: list[dict], col: _Col) -> None:
    keys = [r[col.key] for r in rows]
    if len(set(keys)) == len(keys):
        return
    seen: dict[str, int] = {}
    for i, k in enumerate(keys, 1):
        if (first := seen.setdefault(k, i)) != i:
            raise DataError(f"{path}: {col.name} {_show(k)} appears twice, in {_rows(path, first, i)} ({col.where})")


def _at(span: Span) -> str:
    return f"{span.file}:{span.line}"


def _field_col(f: Field) -> _Col:
    text = "enum(" + ", ".join(json.dumps(v, ensure_ascii=False) for v in f.type.values) + ")" if f.type.name == "enum" else f.type.name
    return _Col(f.name, f.name, f.type, f"declared {text if len(text) <= 60 else 'enum(...)'} at {_at(f.span)}")


def _show(value: object) -> str:
    """A value for a message: double-quoted, escaped, cut at 40 characters."""
    text = str(value)
    return json.dumps(text if len(text) <= 40 else text[:40] + "…", ensure_ascii=False)


def _lit(text: str, quote: str = "'") -> str:
    """A SQL string literal, or with `quote='"'` an identifier."""
    return quote + text.replace(quote, quote * 2) + quote


_CSV_REASONS = (
    (re.compile(r"unterminated quote"), lambda m: "unterminated quote (a quoted value is not closed)"),
    (re.compile(r"Expected Number of Columns: (\d+) Found: (\d+)"), lambda m: f"Expected Number of Columns: {m[1]} Found: {m[2]}"),
    (re.compile(r"Maximum line size of (\d+) bytes exceeded"), lambda m: f"the line is longer than {m[1]} bytes"),
)


def read_failure(err: Exception) -> DataError | None:
    """A data file DuckDB could not read while it scanned it (it reads Parquet pages lazily), named as
    when the file is first checked; None for any other failure. Both engines report it this way."""
    failed = re.search(r'Failed to read file "([^"]+)"', str(err))
    return _duck_error(Path(failed[1]), err) if failed else None


def _duck_error(path: Path, error: Exception) -> DataError:
    """Why a file cannot be read, in one line that quotes no data: DuckDB's messages may quote
    whole rows (`Original Line: ...`, over several lines), so they are never passed on as they are."""
    if path.suffix != ".parquet":
        data = path.read_bytes()
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as e:
            line = data.count(b"\n", 0, e.start) + 1
            return DataError(f"{path}: the file is not UTF-8 text (line {line} has the byte 0x{data[e.start]:02X}); save it as UTF-8")
    text = str(error)
    if path.suffix == ".jsonl":
        return _jsonl_error(path)
    if path.suffix == ".csv":
        line = re.search(r"CSV Error on Line: (\d+)", text)  # DuckDB counts records (the header is 1), not lines
        where = "" if not line else "the header row: " if line[1] == "1" else f"row {int(line[1]) - 1}: "
        reason = next((why(m) for pattern, why in _CSV_REASONS if (m := pattern.search(text))), "it is not valid CSV")
        return DataError(f"{path}: cannot read the file: {where}{reason}")
    first = text.strip().splitlines()[0] if text.strip() else "unknown error"
    first = re.sub(r"(['\"])([^'\"]{40})[^'\"]+\1", r"\1\2…\1", first.split(" Error: ", 1)[-1])  # cut quoted values
    return DataError(f"{path}: cannot read the file: {first if len(first) <= 240 else first[:240] + '…'}")


def _jsonl_lines(path: Path):
    """(line number, text) of each non-blank line of a JSONL file: the lines DuckDB reads as rows."""
    with open(path, "rb") as f:  # lines end at LF only, as for DuckDB (a lone CR is JSON whitespace)
        for number, raw in enumerate(f, 1):
            line = raw.decode("utf-8", errors="replace").removeprefix("\ufeff")
            if line.strip():
                yield number, line


def _jsonl_error(path: Path) -> DataError:
    """The first line of a JSONL file that is not JSON (Python's parser finds it; DuckDB's line numbers are off)."""
    for number, line in _jsonl_lines(path):
        try:
            json.loads(line)
        except ValueError as e:
            why = getattr(e, "msg", "not JSON")
            return DataError(f"{path}: line {number} is not valid JSON: {why} (column {getattr(e, 'colno', 1)})")
    return DataError(f"{path}: cannot read the file as JSON Lines (one JSON object per line)")


def _jsonl_line(path: Path, row: int) -> int:
    """The file line of the `row`-th (1-based) JSON object."""
    for n, (number, _) in enumerate(_jsonl_lines(path), 1):
        if n == row:
            return number
    return row


def _row(path: Path, row: int) -> str:
    """How a message names a data row: `line N` of a JSONL file (blank lines count), else `row N`."""
    return f"line {_jsonl_line(path, row)}" if path.suffix == ".jsonl" else f"row {row}"


def _rows(path: Path, first: int, second: int) -> str:
    """Two data rows, as `_row` names them: `rows 2 and 4`, or `lines 3 and 7` of a JSONL file."""
    if path.suffix == ".jsonl":
        return f"lines {_jsonl_line(path, first)} and {_jsonl_line(path, second)}"
    return f"rows {first} and {second}"


def _duplicate_json_key(path: Path, row: int) -> DataError:
    """The error for a JSONL object with a key twice (the `row`-th object)."""
    number = _jsonl_line(path, row)
    for n, line in _jsonl_lines(path):
        if n == number:
            seen: set[str] = set()
            try:
                keys = [k for k, _ in json.loads(line, object_pairs_hook=lambda pairs: pairs)]
            except (ValueError, TypeError):
                break
            twice = next((k for k in keys if k in seen or seen.add(k)), None)
            if twice is not None:
                return DataError(f"{path}: line {number} has the key {_show(twice)} twice; keep one")
            break
    return DataError(f"{path}: line {number} has a key twice; keep one")


def _run(con: duckdb.DuckDBPyConnection, path: Path, sql: str, arrow: bool = False, params: Sequence = ()):
    """Run one statement (values only as `?` parameters); DuckDB's failures become a one-line DataError about `path`."""
    try:
        if arrow:
            return (con.execute(sql, list(params)).arrow() if params else con.sql(sql).to_arrow_table())
        return con.execute(sql, list(params)).fetchall() if params else con.execute(sql).fetchall()
    except duckdb.Error as e:
        reraise(e)
        raise _duck_error(path, e) from None


def _csv_header(path: Path) -> list[str] | None:
    """The header row (None for an empty file), read by Python so names are exact."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            header = next(csv.reader(f, strict=True), None)
            more = f.read(4096).strip() if header == [] else ""
    except UnicodeDecodeError as e:
        raise _duck_error(path, e) from None
    except csv.Error as e:
        raise DataError(f"{path}: cannot read the header row: {e}") from None
    if more:
        raise DataError(f"{path}: line 1 is empty; the first line must be the header row")
    if header and any("\n" in name or "\r" in name for name in header):  # a quote left open swallows the rows below
        raise DataError(f"{path}: cannot read the header row: a column name spans lines (a quote is not closed?)")
    return header or None


def _missing(path: Path, col: _Col, names: Sequence[str]) -> DataError:
    folded = [n for n in names if n.strip().casefold() == col.name.strip().casefold()]
    hints = [f'did you mean "{folded[0]}"?'] if folded else did_you_mean(col.name, names)
    return DataError(f'{path}: no column "{col.name}" ({col.where})' + "".join(f"; {h}" for h in hints))


def _value_sql(t: TypeRef, src: str, native: bool = False) -> tuple[str, str | None]:
    """SQL for the converted value, and for "this cell does not convert" (None: every cell does).

    A number or timestamp is text for Python (`_python_values`); with `native`, DuckDB's value itself."""
    if t.name in ("string", "enum"):
        v = f"NULLIF({src}, '')"
        return v, (f"{v} NOT IN ({', '.join(_lit(x) for x in t.values)})" if t.name == "enum" and _strict_enums() else None)
    v = f"NULLIF(trim({src}), '')"
    if t.name == "int":
        conv = f"CASE WHEN regexp_full_match({v}, '{_INT}') THEN TRY_CAST(regexp_replace({v}, '\\.0*$', '') AS BIGINT) END"
    elif t.name == "number":  # DuckDB's DECIMAL(28, 10) for both engines: 10 places, half away from zero; NULL from 10^18
        number = f"TRY_CAST({v} AS {_TYPED['number']})"
        conv = f"CASE WHEN regexp_full_match({v}, '{_NUM}') THEN {number if native else f'CAST({number} AS VARCHAR)'} END"
    elif t.name == "bool":
        conv = f"CASE WHEN lower({v}) IN ('true', 'yes', '1') THEN true WHEN lower({v}) IN ('false', 'no', '0') THEN false END"
    elif t.name == "date":
        conv = f"CASE WHEN regexp_full_match({v}, '{_DATE}') THEN TRY_CAST({v} AS DATE) END"
    elif t.name == "timestamp":  # Python turns this text into an aware datetime fastest
        ts = f"TRY_CAST({v} AS TIMESTAMPTZ)"  # the session's TimeZone is UTC
        ts = ts if native else f"strftime(CAST({ts} AS TIMESTAMP), '%Y-%m-%dT%H:%M:%S.%f+00:00')"
        conv = f"CASE WHEN regexp_full_match({v}, '{_TS}') THEN {ts} END"
    else:
        raise ValueError(f"unknown type {t.name!r}")
    return conv, f"{v} IS NOT NULL AND {conv} IS NULL"


def _bad_cell(path: Path, row: int, col: _Col, raw: object) -> DataError:
    t, text = col.type, "" if raw is None else str(raw)
    text = text if t.name in ("string", "enum") else text.strip()
    if not text:
        return DataError(f"{path}: {_row(path, row)} has no {col.name} ({col.where})")
    if t.name == "enum":
        allowed = ", ".join(json.dumps(v, ensure_ascii=False) for v in t.values)
        what = f"is not one of {allowed}" if len(allowed) <= 80 else "is not one of the declared values"
    elif t.name == "int" and re.fullmatch(_INT, text):
        what = "is out of range for a whole number (64-bit)"
    elif t.name == "number" and re.fullmatch(_NUM, text):
        what = "is out of range for a number (at most 18 digits before the point)"
    elif t.name in ("date", "timestamp") and re.fullmatch(_TS if t.name == "timestamp" else _DATE, text):
        what = f"is not a valid {t.name}"
    else:
        what = _EXPECTED[t.name]
    return DataError(f'{path}: {_row(path, row)}, column "{col.name}": {_show(text)} {what} ({col.where})')


@dataclass
class _Staged:
    """A source file copied into the temp table `src`, with the SQL that converts and checks each column."""

    ext: str
    srcs: list[str]  # each column's text in `src`
    values: list[str]  # each column converted
    bad: str  # `CASE ... END`: the index of the first column that does not convert, per row
    paths: list[str]  # JSON paths, for jsonl
    rel: str = ""  # the file's reader (`read_csv(...)`, ...)


def _empty(path: Path) -> DataError | None:
    """An empty file (0 bytes, or only blank lines) has no header: a source needs at least its columns."""
    size = path.stat().st_size
    if size > 65536 or (size and (path.suffix == ".parquet" or path.read_bytes().lstrip(b"\xef\xbb\xbf").strip())):
        return None
    what = {".csv": "it has no header row (a file with only the header row is fine)",
            ".jsonl": "it has no JSON object, so no columns", ".parquet": "0 bytes are not a Parquet file"}[path.suffix]
    return DataError(f"{path}: the file is empty: {what}")


def _stage(con: duckdb.DuckDBPyConnection, path: Path, cols: list[_Col], where: tuple[int, Sequence[str]] | None = None) -> _Staged:
    """Copy a file into `src` as text; with `where` = (column index, values), only the rows whose
    column holds one of the values (a filter DuckDB pushes into the scan; the values are parameters)."""
    ext, name = path.suffix[1:], _lit(str(path))
    if (empty := _empty(path)) is not None:
        raise empty
    paths: list[str] = []
    if ext == "csv":
        header = _csv_header(path)
        if header is None:
            raise DataError(f"{path}: the file has no header row")
        for col in cols:
            if header.count(col.name) != 1:
                raise _missing(path, col, header) if col.name not in header else DataError(f'{path}: the header has more than one column "{col.name}" ({col.where})')
        spec = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(header)))
        rel = f"read_csv({name}, auto_detect = false, header = true, columns = {{{spec}}}, delim = ',', quote = '\"', escape = '\"', strict_mode = true)"
        srcs = [f"c{header.index(c.name)}" for c in cols]
        picked = ", ".join(dict.fromkeys(srcs))
    elif ext == "parquet":
        rel = f"read_parquet({name})"
        types = {row[0]: row[1] for row in _run(con, path, f"DESCRIBE SELECT * FROM {rel}")}
        _wide_decimals(con, path, cols)
        srcs = []
        for col in cols:
            if col.name not in types:
                raise _missing(path, col, list(types))
            src, kind = _lit(col.name, '"'), types[col.name]
            text = src if kind == "VARCHAR" else f"CAST({src} AS VARCHAR)"
            if kind in ("FLOAT", "DOUBLE") and col.type.name == "int":  # a whole 42.0 is the int 42
                text = f"CASE WHEN isfinite({src}) AND {src} = trunc({src}) THEN CAST(CAST({src} AS HUGEINT) AS VARCHAR) ELSE {text} END"
            srcs.append(text)
        picked = ", ".join(dict.fromkeys(_lit(c.name, '"') for c in cols))
    else:
        rel, picked = f"read_ndjson_objects({name})", "json"
        paths = [_lit('$."' + c.name.replace("\\", "\\\\").replace('"', '\\"') + '"') for c in cols]
        srcs = [f"json_extract_string(json, {p})" for p in paths]

    # A table's rowid keeps the file's row order; a parallel SELECT's output need not.
    keep = "" if where is None else f" WHERE {srcs[where[0]]} IN ({', '.join('?' for _ in where[1])})"
    _run(con, path, f"CREATE OR REPLACE TEMP TABLE src AS SELECT {picked} FROM {rel}{keep}", *([] if where is None else [False, where[1]]))
    values, checks = zip(*(_value_sql(c.type, s) for c, s in zip(cols, srcs)))
    bad = ("WHEN json_type(json) <> 'OBJECT' THEN -1 "
           "WHEN len(json_keys(json)) <> len(list_distinct(json_keys(json))) THEN -2 ") if ext == "jsonl" else ""
    for i, (col, value, check) in enumerate(zip(cols, values, checks)):
        check = f"{value} IS NULL" if col.required else check
        bad += f"WHEN {check} THEN {i} " if check else ""
    return _Staged(ext, srcs, list(values), f"CASE {bad}END" if bad else "NULL::INTEGER", paths, rel)


def _raise_bad(con, path: Path, cols: list[_Col], st: _Staged, row: int, which: int) -> None:
    """The one-line error for the first bad cell (`row` counts from 0)."""
    if which == -2:
        raise _duplicate_json_key(path, row + 1)
    if which < 0:
        raise DataError(f"{path}: {_row(path, row + 1)} is not a JSON object")
    raw = _run(con, path, f"SELECT {st.srcs[which]} FROM src WHERE rowid = {row}")[0][0]
    raise _bad_cell(path, row + 1, cols[which], raw)


def _check_json_columns(con, path: Path, cols: list[_Col], st: _Staged, empty: list[bool], whole: bool = True) -> None:
    """JSON has no header: a key that no row has is a missing column (asked of the whole file unless `src` is it)."""
    rel = "src" if whole else st.rel
    for i, col in enumerate(cols):
        if st.ext == "jsonl" and empty[i] \
                and not _run(con, path, f"SELECT bool_or(json_exists(json, {st.paths[i]})) FROM {rel}")[0][0]:
            keys = _run(con, path, f"SELECT DISTINCT unnest(json_keys(json)) FROM {rel} WHERE json_type(json) = 'OBJECT'")
            raise _missing(path, col, sorted(k for (k,) in keys))


def _load(con: duckdb.DuckDBPyConnection, path: Path, cols: list[_Col], where: tuple[int, Sequence[str]] | None = None) -> list[dict]:
    """Rows of one source file as dicts keyed by `_Col.key`; with `where`, only the matching rows (see `_stage`)."""
    import pyarrow.compute as pc

    st = _stage(con, path, cols, where)
    select = ", ".join(f"{v} AS v{i}" for i, v in enumerate(st.values)) + f", {st.bad} AS bad"
    table = _run(con, path, f"SELECT rowid AS row_id, {select} FROM src", arrow=True)
    order = table.column("row_id").combine_chunks()
    if len(order) > 1 and pc.min(pc.pairwise_diff(order)).as_py() < 0:
        table = table.take(pc.sort_indices(order))
    flags = table.column("bad")
    if flags.null_count < len(flags):
        if where is not None:
            _raise_bad_matching(con, path, cols, where)
        row = pc.index(pc.is_valid(flags), True).as_py()
        _raise_bad(con, path, cols, st, row, flags[row].as_py())
    columns = [_python_values(table.column(f"v{i}"), c.type.name) for i, c in enumerate(cols)]
    _check_json_columns(con, path, cols, st, [not c or all(v is None for v in c) for c in columns] if where is not None
                        else [bool(c) and all(v is None for v in c) for c in columns], whole=where is None)
    con.execute("DROP TABLE src")
    return _build_rows(len(cols))(tuple(c.key for c in cols), columns)


def _matching_rows(con, path: Path, cols: list[_Col], where: tuple[int, Sequence[str]]) -> tuple[_Staged, str]:
    """The whole file staged (its rowid is the file's row order), and the filter of `where` over it."""
    st = _stage(con, path, cols)
    return st, f"{st.srcs[where[0]]} IN ({', '.join('?' for _ in where[1])})"


def _raise_bad_matching(con, path: Path, cols: list[_Col], where: tuple[int, Sequence[str]]) -> None:
    """A fetched row has a bad cell: name it as reading the whole file would (its row in the file)."""
    st, match = _matching_rows(con, path, cols, where)
    row, which = _run(con, path, f"SELECT rowid, {st.bad} AS b FROM src WHERE {match} AND b IS NOT NULL ORDER BY rowid LIMIT 1", params=where[1])[0]
    _raise_bad(con, path, cols, st, row, which)


def _raise_twice(con, path: Path, cols: list[_Col], key: str) -> None:
    """`key` is on more than one row of a leads or accounts file: the message `score` gives for it."""
    st, match = _matching_rows(con, path, cols, (0, [key]))
    first, second = (r for (r,) in _run(con, path, f"SELECT rowid + 1 FROM src WHERE {match} ORDER BY rowid LIMIT 2", params=[key]))
    raise DataError(f"{path}: {cols[0].name} {_show(key)} appears twice, in {_rows(path, first, second)} ({cols[0].where})")


def close_keys(leads: Leads, accounts: Accounts | None, data_dir: Path, key: str, limit: int = 200) -> list[str]:
    """The `limit` lead keys nearest to `key` by edit distance: candidates for "did you mean", one scan of the key column."""
    path, cols, _ = _keyed(data_dir, "leads", leads.key, leads.account, leads.fields, leads.span)
    con = duckdb.connect()
    try:
        st = _stage(con, path, cols[:1])
        return [k for (k,) in _run(con, path, f"SELECT k FROM (SELECT DISTINCT {st.values[0]} AS k FROM src) WHERE k IS NOT NULL "
                                             f"ORDER BY levenshtein(k, ?), k LIMIT {int(limit)}", params=[key])]
    finally:
        con.close()


def load_lead(leads: Leads, accounts: Accounts | None, events: Sequence[Events], data_dir: Path, key: str, by_account: bool) -> Dataset | None:
    """Only the rows one lead's explanation needs, or None when no lead has `key`.

    The lead's row, its account's row, and the events of the lead — with
    `by_account`, of every lead of its account (their lead rows come too). Each
    file is read through DuckDB with the key filter pushed into the scan, and
    checked as `load_dataset` checks it: its columns, and every value of the
    fetched rows (a bad one gets the same message, naming its row in the file);
    the lead's and its account's keys must not repeat. Rows that are not
    fetched are not checked.
    """
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET enable_progress_bar = false")
        files = {name: (path, cols) for name, path, cols, _ in _sources(leads, accounts, events, data_dir)}
        path, cols = files["leads"]
        rows = _load(con, path, cols, where=(0, [key]))
        if not rows:
            return None
        if len(rows) > 1:
            _raise_twice(con, path, cols, key)
        out = Dataset(leads=rows)
        account = rows[0].get(leads.account) if leads.account else None
        if account is not None and accounts is not None:
            apath, acols = files["accounts"]
            out.accounts = _load(con, apath, acols, where=(0, [account]))
            if len(out.accounts) > 1:
                _raise_twice(con, apath, acols, account)
        if account is not None and by_account:
            out.leads = _load(con, path, cols, where=(1, [account]))  # the account's leads: theirs pool with the lead's events
        keys = sorted({r[leads.key] for r in out.leads})
        for ev in events:
            epath, ecols = files[ev.name]
            out.events[ev.name] = _load(con, epath, ecols, where=(0, keys))
        return out
    finally:
        con.close()


_TYPED = {"string": "VARCHAR", "enum": "VARCHAR", "int": "BIGINT", "number": "DECIMAL(28, 10)", "bool": "BOOLEAN", "date": "DATE", "timestamp": "TIMESTAMPTZ"}


# Parquet types that already are the declared type: no text round trip needed.
_NATIVE = {
    "string": ("VARCHAR",), "enum": ("VARCHAR",), "bool": ("BOOLEAN",), "date": ("DATE",),
    "int": ("BIGINT", "INTEGER", "SMALLINT", "TINYINT", "UINTEGER", "USMALLINT", "UTINYINT"),
    "number": ("BIGINT", "INTEGER", "SMALLINT", "TINYINT", "DECIMAL"),
    "timestamp": ("TIMESTAMP WITH TIME ZONE", "TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S"),
}


def _native_parquet(con, path: Path, cols: list[_Col]) -> bool:
    """Whether every declared column of a Parquet file already has its declared type."""
    if path.suffix != ".parquet" or _empty(path) is not None:
        return False
    types = {row[0]: row[1] for row in _run(con, path, f"DESCRIBE SELECT * FROM read_parquet({_lit(str(path))})")}
    for col in cols:
        if col.name not in types:
            raise _missing(path, col, list(types))
        kind = types[col.name].split("(")[0]
        if kind not in _NATIVE[col.type.name]:
            return False
        if kind == "DECIMAL":
            precision, scale = (int(n) for n in types[col.name][len("DECIMAL("):-1].split(","))
            if scale > 10 or precision - scale > 18:
                return False  # more places or digits than a number holds: the text path rounds or refuses
    return True


def _wide_decimals(con, path: Path, cols: list[_Col]) -> None:
    """Refuse a Parquet decimal wider than 38 digits (decimal256), which DuckDB reads through a double."""
    names = {c.name: c for c in cols}
    rows = _run(con, path, f"SELECT name, precision FROM parquet_schema({_lit(str(path))}) WHERE precision > 38")
    for name, precision in rows:
        if name in names:
            col = names[name]
            raise DataError(f'{path}: column "{name}" is a decimal of {precision} digits, more than the 38 a number holds; '
                            f"store it as decimal(28, 10) or as text ({col.where})")


def _native_value(col: _Col, no_empty: frozenset[str]) -> str:
    """A native Parquet column as the engine reads it: as on the text path, "" is missing."""
    name = _lit(col.name, '"')
    return f"NULLIF({name}, '')" if col.type.name in ("string", "enum") and col.name not in no_empty else name


def _no_empty_strings(con, path: Path, cols: list[_Col]) -> frozenset[str]:
    """The string columns the Parquet file's statistics prove hold no "" (so need no NULLIF).

    A column qualifies when every row group has a non-empty minimum (a lower bound
    of its values) or holds only nulls; without statistics it does not."""
    names = [c.name for c in cols if c.type.name in ("string", "enum")]
    if not names:
        return frozenset()
    rows = _run(con, path, f"SELECT path_in_schema, bool_and(coalesce(stats_min_value <> '', stats_null_count = num_values, false)) "
                           f"FROM parquet_metadata({_lit(str(path))}) WHERE path_in_schema IN ({', '.join(_lit(n) for n in names)}) GROUP BY 1")
    return frozenset(name for name, ok in rows if ok)


def _register(con: duckdb.DuckDBPyConnection, path: Path, cols: list[_Col], table: str) -> str:
    """Check one source file like `_load`, but keep it in DuckDB as the typed relation `table`.

    The relation has the declared columns plus `__row`, the 1-based row in the
    file, for messages. A Parquet file whose columns already have the declared
    types becomes a view over the file, checked only for what can still be
    wrong (a missing key or time, an enum value); anything else is read as
    text and converted cell by cell, exactly as for the Python engine.

    Returns the relation to read the rows from: `table` itself, or for such a
    Parquet file a second view without `__row`, which DuckDB scans faster.
    """
    name, q = _lit(table, '"'), (lambda c: _lit(c, '"'))
    if _native_parquet(con, path, cols):
        no_empty = _no_empty_strings(con, path, cols)
        typed = ", ".join(f"CAST({_native_value(c, no_empty)} AS {_TYPED[c.type.name]}) AS {q(c.name)}" for c in cols)
        _run(con, path, f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT {typed}, file_row_number + 1 AS __row "
                        f"FROM read_parquet({_lit(str(path))}, file_row_number = true)")
        scan = f"{table}__scan"
        _run(con, path, f"CREATE OR REPLACE TEMP VIEW {_lit(scan, chr(34))} AS SELECT {typed} FROM read_parquet({_lit(str(path))})")
        checks = [(i, f"{q(c.name)} IS NULL") for i, c in enumerate(cols) if c.required]
        checks += [(i, f"{q(c.name)} NOT IN ({', '.join(_lit(v) for v in c.type.values)})") for i, c in enumerate(cols)
                   if c.type.name == "enum" and _strict_enums()]
        if checks:
            bad = " ".join(f"WHEN {check} THEN {i}" for i, check in checks)
            first = _run(con, path, f"SELECT __row, b FROM (SELECT __row, CASE {bad} END AS b FROM {name}) WHERE b IS NOT NULL ORDER BY __row LIMIT 1")
            if first:
                row, which = first[0]
                raw = _run(con, path, f"SELECT CAST({q(cols[which].name)} AS VARCHAR) FROM {name} WHERE __row = {row}")[0][0]
                raise _bad_cell(path, row, cols[which], raw)
        return scan
    st = _stage(con, path, cols)
    # One pass over the staged text: each cell converted once, kept with the number of the first failed check of its row.
    inner, typed, bad = ["rowid"], [], []
    if st.ext == "jsonl":
        inner.append("json")
        bad += ["WHEN json_type(json) <> 'OBJECT' THEN -1", "WHEN len(json_keys(json)) <> len(list_distinct(json_keys(json))) THEN -2"]
    for i, (c, src) in enumerate(zip(cols, st.srcs)):
        conv, check = _value_sql(c.type, src, native=True)
        v = f"__v{i}"
        inner.append(f"{conv} AS {v}")
        if c.required:
            check = f"{v} IS NULL"
        elif c.type.name == "enum":  # refused, unless `--on-invalid-enum null` reads it for the engines to score as missing
            check = f"{v} NOT IN ({', '.join(_lit(x) for x in c.type.values)})" if _strict_enums() else None
        elif check is not None:  # a cell with text that does not convert
            inner.append(f"NULLIF(trim({src}), '') IS NOT NULL AS __n{i}")
            check = f"__n{i} AND {v} IS NULL"
        bad += [f"WHEN {check} THEN {i}"] if check else []
        typed.append(f"CAST({v} AS {_TYPED[c.type.name]}) AS {q(c.name)}")
    flag = f"CASE {' '.join(bad)} END" if bad else "NULL::INTEGER"
    _run(con, path, f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT {', '.join(typed)}, rowid + 1 AS __row, {flag} AS __bad "
                    f"FROM (SELECT {', '.join(inner)} FROM src)")
    first = _run(con, path, f"SELECT __row - 1, __bad FROM {name} WHERE __bad IS NOT NULL ORDER BY __row LIMIT 1")
    if first:
        _raise_bad(con, path, cols, st, first[0][0], first[0][1])
    if st.ext == "jsonl":
        counts = _run(con, path, "SELECT " + ", ".join(f"count({q(c.name)})" for c in cols) + f" FROM {name}")[0]
        _check_json_columns(con, path, cols, st, [n == 0 for n in counts])
    con.execute("DROP TABLE src")
    scan = f"{table}__scan"  # the typed columns alone
    _run(con, path, f"CREATE OR REPLACE TEMP VIEW {q(scan)} AS SELECT {', '.join(q(c.name) for c in cols)} FROM {name}")
    return scan


def _python_values(column: pa.ChunkedArray, type_name: str) -> list:
    values = column.to_pylist()
    if type_name == "number":  # DuckDB's DECIMAL(28, 10) text, its fraction's trailing zeros dropped: `1000`, `2.5`
        return [None if v is None else Decimal(v.rstrip("0").rstrip(".") if "." in v else v) for v in values]
    if type_name == "timestamp":
        parse = dt.datetime.fromisoformat
        return [None if v is None else parse(v) for v in values]
    return values


@lru_cache(maxsize=None)
def _build_rows(n: int):
    """`f(keys, columns) -> row dicts` for n columns: a dict display is twice as fast as dict(zip())."""
    names = [f"v{i}" for i in range(n)]
    body = ", ".join(f"K[{i}]: {v}" for i, v in enumerate(names))
    return eval(f"lambda K, C: [{{{body}}} for {', '.join(names)}, in zip(*C)]")  # generated from n only


# ------------------------------------------------------------------ writing --


def _plain(d: Decimal | float | int) -> str | None:
    """Exact plain decimal text: no exponent, no trailing fraction zeros; None when not finite."""
    if not isinstance(d, Decimal):
        d = Decimal(d) if isinstance(d, int) else Decimal(repr(d))
    if not d.is_finite():
        return None
    text = format(d, "f")
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return "0" if text == "-0" else text


def _cell(v: object, t: str) -> str | None:
    """The text of one value: a CSV cell, or the body of a JSON string; None when missing."""
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dt.datetime) and t != "date":
        return (v.astimezone(_UTC) if v.tzinfo else v).replace(tzinfo=None).isoformat() + "Z"
    if isinstance(v, dt.date):
        day = v.date() if isinstance(v, dt.datetime) else v
        return day.isoformat() + ("T00:00:00Z" if t == "timestamp" else "")
    if isinstance(v, (Decimal, float)) or (t == "number" and isinstance(v, int)):
        return _plain(v)
    return str(v)


def _csv_line(cells: list[str]) -> str:
    """One RFC 4180 record; a field holding `,` `"` CR or LF is quoted (csv.writer leaves a lone CR bare)."""
    return ",".join('"' + c.replace('"', '""') + '"' if _QUOTE.search(c) else c for c in cells) + "\n"


def _json_value(v: object, t: str) -> str:
    text = _cell(v, t)
    if text is None:
        return "null"
    if (t in ("int", "number") and not isinstance(v, (str, bool))) or (t == "bool" and isinstance(v, bool)):
        return text
    return json.dumps(text, ensure_ascii=False)


def _arrow_column(values: list, t: str) -> pa.Array:
    import pyarrow as pa

    if t != "number":
        parse = {"string": str, "int": int, "bool": "true".__eq__, "date": dt.date.fromisoformat, "timestamp": dt.datetime.fromisoformat}[t]
        kind = {"string": pa.string(), "int": pa.int64(), "bool": pa.bool_(), "date": pa.date32(), "timestamp": pa.timestamp("us", tz="UTC")}[t]
        return pa.array([None if (c := _cell(v, t)) is None else parse(c) for v in values], kind)
    texts = [None if v is None else _plain(v) for v in values]
    return _decimal_array(texts, _number_scale(*_digits(texts)))


def _digits(texts: list[str | None]) -> tuple[int, int]:
    """The most digits before and after the point among plain decimal texts."""
    whole = max((len(s.split(".")[0].lstrip("-0")) for s in texts if s), default=0)
    places = max([0] + [len(s.split(".")[1]) for s in texts if s and "." in s])
    return whole, places


def _number_scale(whole: int, places: int) -> int:
    """A Parquet number column's scale: at least 4, every value's places, at most 38 digits in all."""
    return max(0, min(max(4, places), 38 - whole))  # beyond 38 digits, round half-even


def _decimal_array(texts: list[str | None], scale: int) -> pa.Array:
    import pyarrow as pa

    quantum, context = Decimal(1).scaleb(-scale), Context(prec=38)
    decimals = [None if s is None else Decimal(s).quantize(quantum, ROUND_HALF_EVEN, context) for s in texts]
    return pa.array(decimals, pa.decimal128(38, scale))


def _arrow_type(t: str):
    import pyarrow as pa

    return {"string": pa.string(), "int": pa.int64(), "bool": pa.bool_(), "date": pa.date32(), "timestamp": pa.timestamp("us", tz="UTC")}[t]


def _decimal_column(col: pa.ChunkedArray) -> pa.ChunkedArray | None:
    """An engine's decimal column at the scale `_arrow_column` would pick; None if it is not decimal."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not pa.types.is_decimal(col.type):
        return None
    scale = 4
    for k in range(4, col.type.scale):  # the fewest places that keep every value exact, at least 4
        if pc.all(pc.equal(pc.round(col, k), col)).as_py() is not False:
            break
        scale = k + 1
    else:
        scale = max(4, col.type.scale) if col.type.scale > 4 else 4
    return col.cast(pa.decimal128(38, scale))


def write_table(table: pa.Table, columns: list[tuple[str, str]], out: Path | None, stream=sys.stdout) -> None:
    """Write an engine's Arrow result: Parquet straight from Arrow, other formats through `write_rows`.

    Both paths give the same file as `write_rows` over the same values.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    if out is None or Path(out).suffix.lower() != ".parquet":
        return write_rows(table.to_pylist(), columns, out, stream)
    arrays = []
    for n, t in columns:
        col = table.column(n)
        typed = _decimal_column(col) if t == "number" else None
        if typed is None:
            typed = _arrow_column(col.to_pylist(), t) if t == "number" else col.cast(_arrow_type(t))
        arrays.append(typed)
    with atomic(out) as tmp:
        try:
            pq.write_table(pa.Table.from_arrays(arrays, names=[n for n, _ in columns]), str(tmp))
        except pa.ArrowException as e:
            raise DataError(f"{out}: cannot write: {e}") from None


def write_rows(rows: list[dict], columns: list[tuple[str, str]], out: Path | None, stream=sys.stdout) -> None:
    """Write `rows` with the ordered, typed `columns`; `out`'s extension picks the format, CSV to `stream` without it."""
    with RowWriter(columns, out, stream) as writer:
        writer.write(rows)


def _cell_function(t: str):
    """`_cell(v, t)` for one column, with the common value type of `t` first."""
    if t == "string":
        return lambda v: v if type(v) is str else _cell(v, t)
    if t == "int":
        return lambda v: str(v) if type(v) is int else _cell(v, t)
    if t == "number":
        return lambda v: _plain(v) if type(v) is Decimal else _cell(v, t)
    if t == "bool":
        return lambda v: "true" if v is True else "false" if v is False else _cell(v, t)
    return lambda v: _cell(v, t)


class RowWriter:
    """Rows written as they come, chunk by chunk (`write`), as `write_rows` writes them all at once.

    CSV and JSONL lines go out as each chunk is written: to `stream` without `out`, else to a
    temporary file renamed onto `out` by `close`. A Parquet number column's scale depends on every
    value, so Parquet rows are kept in a spill file (numbers as text) and converted by `close`.
    With `ordered=False` the chunks may come in any order: rows are spilled with their `key`
    and written by `close` in key order (rows of one key in the order they came), sorted by DuckDB.
    Memory is one chunk's rows either way. Use it as a context manager: an exception discards the file.
    """

    def __init__(self, columns: list[tuple[str, str]], out: Path | None, stream=sys.stdout, ordered: bool = True, key: str | None = None):
        from contextlib import ExitStack

        self.fmt = "csv" if out is None else Path(out).suffix.lower()[1:]
        if self.fmt not in EXTENSIONS:
            raise DataError(f"{out}: unknown output format {Path(out).suffix or '(no extension)'!r}; use .csv, .parquet or .jsonl")
        if unknown := [f"{n}: {t}" for n, t in columns if t not in WRITE_TYPES]:
            raise ValueError(f"unknown column types: {', '.join(unknown)}")
        self.columns, self.out, self.stream, self.ordered, self.key = columns, out, stream, ordered, key
        self.count, self._stack, self._spill, self._digits = 0, ExitStack(), None, {}
        self._cells = [(n, _cell_function(t)) for n, t in columns]
        self._target = None  # the open text file (or stream) lines go to, from the first `write` on
        self._direct = self.fmt != "parquet" and ordered
        if not self._direct:
            self._spill_dir = Path(self._stack.enter_context(tempfile.TemporaryDirectory(prefix="leadlang-rows-")))

    def _open(self):
        """The text file (or stream) the lines go to, opened on first use, the CSV header written."""
        if self._target is None:
            self._target = self._stack.enter_context(nullcontext(self.stream) if self.out is None else atomic_open(self.out))
            if self.fmt == "csv":
                self._target.write(_csv_line([n for n, _ in self.columns]))
        return self._target

    def __enter__(self) -> RowWriter:
        return self

    def __exit__(self, kind, err, tb) -> None:
        if kind is None:
            self.close()
        else:
            self._stack.__exit__(kind, err, tb)

    def _lines(self, rows: list[dict]) -> list[str]:
        if self.fmt == "csv":
            return [_csv_line(["" if (c := cell(r.get(n))) is None else c for n, cell in self._cells]) for r in rows]
        keys = [json.dumps(n, ensure_ascii=False) for n, _ in self.columns]
        return ["{" + ", ".join(f"{k}: {_json_value(r.get(n), t)}" for k, (n, t) in zip(keys, self.columns)) + "}\n" for r in rows]

    def write(self, rows: list[dict]) -> None:
        """Write (or spill) one chunk of rows."""
        if self._direct:
            self._open().write("".join(self._lines(rows)))
        else:
            self._spill_rows(rows)
        self.count += len(rows)

    def _spill_rows(self, rows: list[dict]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        arrays, names = [], []
        if self.fmt == "parquet":
            for n, t in self.columns:
                values = [r.get(n) for r in rows]
                if t == "number":
                    texts = [None if v is None else _plain(v) for v in values]
                    whole, places = _digits(texts)
                    had = self._digits.get(n, (0, 0))
                    self._digits[n] = (max(had[0], whole), max(had[1], places))
                    arrays.append(pa.array(texts, pa.string()))
                else:
                    arrays.append(_arrow_column(values, t))
                names.append(n)
        else:
            arrays.append(pa.array(self._lines(rows), pa.string()))
            names.append("__line")
        if not self.ordered:
            arrays += [pa.array([r.get(self.key) for r in rows], pa.string()), pa.array(range(self.count, self.count + len(rows)), pa.int64())]
            names += ["__key", "__n"]
        table = pa.Table.from_arrays(arrays, names=names)
        if self._spill is None:
            self._spill = self._stack.enter_context(pq.ParquetWriter(str(self._spill_dir / "rows.parquet"), table.schema))
        self._spill.write_table(table)

    def _spilled(self):
        """The spilled rows' record batches, in key order unless `ordered`."""
        import pyarrow.parquet as pq

        if self._spill is None:
            return
        self._spill.close()
        path = self._spill_dir / "rows.parquet"
        if self.ordered:
            yield from pq.ParquetFile(str(path)).iter_batches(batch_size=65536)
            return
        con = self._stack.enter_context(duckdb.connect())
        con.execute(f"SET temp_directory = {_lit(str(self._spill_dir))}")
        con.execute("SET memory_limit = '512MB'")
        con.execute("SET preserve_insertion_order = true")
        yield from con.sql(f"SELECT * EXCLUDE (__key, __n) FROM read_parquet({_lit(str(path))}) ORDER BY __key, __n").to_arrow_reader(65536)

    def close(self) -> None:
        """Write what was spilled, and put the file in place."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        with self._stack:
            if self.fmt != "parquet":
                f = self._open()
                for batch in self._spilled():
                    f.write("".join(batch.column(0).to_pylist()))
                return
            scales = {n: _number_scale(*self._digits.get(n, (0, 0))) for n, t in self.columns if t == "number"}
            schema = pa.schema([(n, pa.decimal128(38, scales[n]) if t == "number" else _arrow_type(t)) for n, t in self.columns])
            tmp = self._stack.enter_context(atomic(self.out))
            try:
                with pq.ParquetWriter(str(tmp), schema) as writer:
                    for batch in self._spilled():
                        arrays = [_decimal_array(batch.column(n).to_pylist(), scales[n]) if t == "number" else batch.column(n) for n, t in self.columns]
                        writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
            except pa.ArrowException as e:
                raise DataError(f"{self.out}: cannot write: {e}") from None
