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

import csv
import datetime as dt
import json
import re
import shutil
import sys
import tempfile
from contextlib import nullcontext
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


def stream_dataset(leads: Leads, accounts: Accounts | None, events: Sequence[Events], data_dir: Path, size: int = 10_000):
    """Check every source as `load_dataset` does (same errors, same order), then yield `Chunk`s of
    `size` leads in key order: each source is kept in DuckDB (which spills to disk) and read back
    sorted by lead key in record batches, so only one chunk's rows are Python objects at a time.

    The accounts are read whole (one row per account). Events of leads that are not in
    the leads file, or with no lead, are never handed out.
    """
    con, spill = duckdb.connect(), None
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET enable_progress_bar = false")  # the CLI shows its own steps
        spill = tempfile.mkdtemp(prefix="leadlang-")  # DuckDB keeps the sources here beyond its memory limit
        con.execute(f"SET temp_directory = {_lit(spill)}")
        con.execute("SET memory_limit = '1GB'")
        tables, account_rows = {}, []
        for i, (name, path, cols, key) in enumerate(_sources(leads, accounts, events, data_dir)):
            if name == "accounts":
                account_rows = _load(con, path, cols)
                _unique_keys(path, account_rows, cols[0])
                continue
            table = f"__t{i}"
            _checked_table(con, path, cols, table)
            if key is not None:
                dup = first_duplicate(con, path, table, "v0")
                if dup:
                    k, first, second = dup
                    raise DataError(f"{path}: {cols[0].name} {_show(k)} appears twice, in {_rows(path, first, second)} ({cols[0].where})")
            tables[name] = (table, cols)
        by_key = {a[accounts.key]: a for a in account_rows} if accounts is not None else {}
        lead_table, lead_cols = tables.pop("leads")
        lead_batches = _sorted_rows(con, lead_table, lead_cols, size)
        streams = {name: _Peek(_sorted_rows(con, table, cols, size)) for name, (table, cols) in tables.items()}
        link = leads.account
        for chunk in lead_batches:
            high = chunk[-1][leads.key]
            found = {name: stream.until(high) for name, stream in streams.items()}
            linked = {r[link] for r in chunk} if link else ()
            yield Chunk(chunk, [by_key[a] for a in linked if a in by_key], found)
    finally:
        con.close()
        if spill:
            shutil.rmtree(spill, ignore_errors=True)


def _checked_table(con, path: Path, cols: list[_Col], table: str) -> None:
    """Check one source file like `_load`, and keep its converted columns `v0`, `v1`, ... and `__row` as `table`."""
    st = _stage(con, path, cols)
    first = _run(con, path, f"SELECT rowid, b FROM (SELECT rowid, {st.bad} AS b FROM src) WHERE b IS NOT NULL ORDER BY rowid LIMIT 1")
    if first:
        _raise_bad(con, path, cols, st, first[0][0], first[0][1])
    if st.ext == "jsonl":
        counts = _run(con, path, "SELECT count(*), " + ", ".join(f"count({v})" for v in st.values) + " FROM src")[0]
        _check_json_columns(con, path, cols, st, [counts[0] > 0 and n == 0 for n in counts[1:]])
    values = ", ".join(f"{v} AS v{i}" for i, v in enumerate(st.values))
    # not TEMP: each sorted read below runs on its own cursor, which sees the database's tables
    _run(con, path, f"CREATE OR REPLACE TABLE {_lit(table, chr(34))} AS SELECT {values}, rowid + 1 AS __row FROM src")
    con.execute("DROP TABLE src")


def _sorted_rows(con, table: str, cols: list[_Col], size: int):
    """Lists of at most `size` row dicts of a checked table, sorted by its first column (the key, or the
    events' lead), then file row; rows without one are left out."""
    keys, types = tuple(c.key for c in cols), [c.type.name for c in cols]
    build = _build_rows(len(cols))
    names = ", ".join(f"v{i}" for i in range(len(cols)))
    reader = con.cursor().sql(f"SELECT {names} FROM {_lit(table, chr(34))} WHERE v0 IS NOT NULL ORDER BY v0, __row").to_arrow_reader(size)
    for batch in reader:
        if batch.num_rows:
            yield build(keys, [_python_values(batch.column(i), t) for i, t in enumerate(types)])


class _Peek:
    """Rows from a stream of sorted row lists, handed out up to a key."""

    def __init__(self, batches):
        self.batches, self.rows, self.at = batches, [], 0

    def until(self, high: str) -> list[dict]:
        """Every row not yet handed out whose key (its first value) is at most `high`."""
        out = []
        while True:
            rows, at = self.rows, self.at
            if at == len(rows):
                self.rows, self.at = next(self.batches, None) or [], 0
                if not self.rows:
                    return out
                continue
            if next(iter(rows[-1].values())) <= high:
                out.extend(rows[at:] if at else rows)
                self.at = len(rows)
                continue
            end = at
            while next(iter(rows[end].values())) <= high:
                end += 1
            out.extend(rows[at:end])
            self.at = end
            return out


def register_dataset(con: duckdb.DuckDBPyConnection, leads: Leads, accounts: Accounts | None, events: Sequence[Events], data_dir: Path) -> dict[str, str]:
    """Check every source like `load_dataset`, but keep each as a typed temp table in `con`.

    Returns the table name of each source (`leads`, `accounts`, each events name).
    Event tables keep the events block's own column names, so the compiled SQL
    reads them as it would read the warehouse relation.
    """
    con.execute("SET TimeZone = 'UTC'")
    tables = {}
    for name, path, cols, key in _sources(leads, accounts, events, data_dir):
        table = f"__src_{name}"
        scan = _register(con, path, cols, table)
        if key is not None:
            dup = first_duplicate(con, path, table, cols[0].name)
            if dup:
                k, first, second = dup
                raise DataError(f"{path}: {cols[0].name} {_show(k)} appears twice, in {_rows(path, first, second)} ({cols[0].where})")
        table = scan
        tables[name] = table
    return tables


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


def _value_sql(t: TypeRef, src: str) -> tuple[str, str | None]:
    """SQL for the converted value, and for "this cell does not convert" (None: every cell does)."""
    if t.name in ("string", "enum"):
        v = f"NULLIF({src}, '')"
        return v, (f"{v} NOT IN ({', '.join(_lit(x) for x in t.values)})" if t.name == "enum" else None)
    v = f"NULLIF(trim({src}), '')"
    if t.name == "int":
        conv = f"CASE WHEN regexp_full_match({v}, '{_INT}') THEN TRY_CAST(regexp_replace({v}, '\\.0*$', '') AS BIGINT) END"
    elif t.name == "number":  # DuckDB's DECIMAL(28, 10) for both engines: 10 places, half away from zero; NULL from 10^18
        conv = f"CASE WHEN regexp_full_match({v}, '{_NUM}') THEN CAST(TRY_CAST({v} AS {_TYPED['number']}) AS VARCHAR) END"
    elif t.name == "bool":
        conv = f"CASE WHEN lower({v}) IN ('true', 'yes', '1') THEN true WHEN lower({v}) IN ('false', 'no', '0') THEN false END"
    elif t.name == "date":
        conv = f"CASE WHEN regexp_full_match({v}, '{_DATE}') THEN TRY_CAST({v} AS DATE) END"
    elif t.name == "timestamp":  # Python turns this text into an aware datetime fastest
        ts = f"CAST(TRY_CAST({v} AS TIMESTAMPTZ) AS TIMESTAMP)"
        conv = f"CASE WHEN regexp_full_match({v}, '{_TS}') THEN strftime({ts}, '%Y-%m-%dT%H:%M:%S.%f+00:00') END"
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
        checks += [(i, f"{q(c.name)} NOT IN ({', '.join(_lit(v) for v in c.type.values)})") for i, c in enumerate(cols) if c.type.name == "enum"]
        if checks:
            bad = " ".join(f"WHEN {check} THEN {i}" for i, check in checks)
            first = _run(con, path, f"SELECT __row, b FROM (SELECT __row, CASE {bad} END AS b FROM {name}) WHERE b IS NOT NULL ORDER BY __row LIMIT 1")
            if first:
                row, which = first[0]
                raw = _run(con, path, f"SELECT CAST({q(cols[which].name)} AS VARCHAR) FROM {name} WHERE __row = {row}")[0][0]
                raise _bad_cell(path, row, cols[which], raw)
        return scan
    st = _stage(con, path, cols)
    typed = []
    for c, value in zip(cols, st.values):
        if c.type.name == "timestamp":  # `_value_sql` gives text for Python; here the value itself
            value = f"CAST(CAST({value} AS TIMESTAMP) AS TIMESTAMPTZ)"
        typed.append(f"CAST({value} AS {_TYPED[c.type.name]}) AS {q(c.name)}")
    first = _run(con, path, f"SELECT rowid, b FROM (SELECT rowid, {st.bad} AS b FROM src) WHERE b IS NOT NULL ORDER BY rowid LIMIT 1")
    if first:
        _raise_bad(con, path, cols, st, first[0][0], first[0][1])
    if st.ext == "jsonl":
        counts = _run(con, path, "SELECT " + ", ".join(f"count({v})" for v in st.values) + " FROM src")[0]
        _check_json_columns(con, path, cols, st, [n == 0 for n in counts])
    _run(con, path, f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT {', '.join(typed)}, rowid + 1 AS __row FROM src")
    con.execute("DROP TABLE src")
    return table


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
    whole = max((len(s.split(".")[0].lstrip("-0")) for s in texts if s), default=0)
    scale = max([4] + [len(s.split(".")[1]) for s in texts if s and "." in s])
    scale = max(0, min(scale, 38 - whole))  # beyond 38 digits, round half-even
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
    import pyarrow as pa
    import pyarrow.parquet as pq

    fmt = "csv" if out is None else Path(out).suffix.lower()[1:]
    if fmt not in EXTENSIONS:
        raise DataError(f"{out}: unknown output format {Path(out).suffix or '(no extension)'!r}; use .csv, .parquet or .jsonl")
    if unknown := [f"{n}: {t}" for n, t in columns if t not in WRITE_TYPES]:
        raise ValueError(f"unknown column types: {', '.join(unknown)}")
    if fmt == "parquet":
        arrays = [_arrow_column([r.get(n) for r in rows], t) for n, t in columns]
        with atomic(out) as tmp:
            try:
                pq.write_table(pa.Table.from_arrays(arrays, names=[n for n, _ in columns]), str(tmp))
            except pa.ArrowException as e:
                raise DataError(f"{out}: cannot write: {e}") from None
        return
    # standard output streams as it goes (an OSError there is the CLI's to report); a file is written atomically
    with nullcontext(stream) if out is None else atomic_open(out) as f:
        if fmt == "csv":
            f.write(_csv_line([n for n, _ in columns]))
            for r in rows:
                f.write(_csv_line(["" if (c := _cell(r.get(n), t)) is None else c for n, t in columns]))
        else:
            keys = [json.dumps(n, ensure_ascii=False) for n, _ in columns]
            for r in rows:
                f.write("{" + ", ".join(f"{k}: {_json_value(r.get(n), t)}" for k, (n, t) in zip(keys, columns)) + "}\n")
