"""Read the `--data` source files into typed rows, and write result rows as CSV, JSONL or Parquet.

Reading: every file is read in-process by DuckDB. CSV cells arrive as text
(the header is parsed by Python so columns are matched by their exact name),
Parquet values are turned into text, JSONL values are taken with
`json_extract_string`; then one SQL pass converts every declared column and
flags the first cell that does not convert, so each bad value gets a one-line
`DataError` naming the file, row, column, value and declaring policy line.
Empty (or all-blank) cells are missing. Whole numbers accept `-3`, not `42.0`
or `1e3` (a whole-valued float in a Parquet float column is accepted);
numbers become exact `Decimal`s (JSON numbers are doubles, so JSONL number
text is DuckDB's shortest form); booleans are true/false, yes/no or 1/0 in any
case; dates are `YYYY-MM-DD`; timestamps are ISO-8601 (`T` or a space, a date
alone is midnight, no offset is UTC) and come back as aware UTC datetimes.

Writing: CSV (header, RFC 4180 quoting, `\\n` line ends), JSONL or Parquet.
Decimals are written in their plain, exact form with trailing fraction zeros
stripped and never an exponent: `Decimal("60.5200")` is `60.52`,
`Decimal("1E+2")` is `100`, `-0.00` is `0`, so every engine's output reads the
same whatever scale it computed at. Non-finite numbers are written as
missing. Timestamps are UTC with `Z`; naive datetimes are taken as UTC.
Parquet numbers are `decimal128(38, s)` with `s` = max(4, the largest scale the
column's values need), so values stay exact.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import sys
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Context, Decimal
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from leadlang.diagnostics import DataError, did_you_mean
from leadlang.syntax.ast import Accounts, Events, Leads, Span, TypeRef

EXTENSIONS = ("csv", "parquet", "jsonl")
WRITE_TYPES = ("string", "int", "number", "bool", "date", "timestamp")
_UTC = dt.timezone.utc

_INT = r"[+-]?[0-9]+"
_NUM = r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?"
_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_TS = _DATE + r"([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?"
_EXPECTED = {
    "int": "is not a whole number",
    "number": "is not a number",
    "bool": "is not a boolean (true/false, yes/no or 1/0)",
    "date": "is not a date (YYYY-MM-DD)",
    "timestamp": "is not an ISO-8601 timestamp (e.g. 2024-06-01T12:30:00Z)",
}


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
    where: str  # "declared int at policies/x.lead:9"


# ------------------------------------------------------------------ reading --


def find_source_file(data_dir: Path, name: str, declared: str | None = None) -> Path:
    """`data_dir/<name>.csv|.parquet|.jsonl`; a DataError when there is none or more than one."""
    data_dir = Path(data_dir)
    note = f" ({declared})" if declared else ""
    if not data_dir.is_dir():
        raise DataError(f"{data_dir}: the data directory does not exist{note}")
    found = [data_dir / f"{name}.{ext}" for ext in EXTENSIONS if (data_dir / f"{name}.{ext}").is_file()]
    if not found:
        raise DataError(f"{data_dir}: no data file for source `{name}`: expected {name}.csv, {name}.parquet or {name}.jsonl{note}")
    if len(found) > 1:
        raise DataError(f"{data_dir}: more than one data file for source `{name}` ({', '.join(p.name for p in found)}); keep one{note}")
    return found[0]


def load_dataset(leads: Leads, accounts: Accounts | None, events: Sequence[Events], data_dir: Path) -> Dataset:
    """Read and type-check every declared source in `data_dir` (see the module docstring)."""
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        out = Dataset()
        cols = _key_cols(leads.key, leads.account, leads.fields, leads.span, "lead")
        path = find_source_file(data_dir, "leads", f"the leads source, declared at {_loc(leads.span)}")
        out.leads = _load(con, path, cols)
        _check_keys(path, out.leads, cols[0])
        if accounts is not None:
            cols = _key_cols(accounts.key, None, accounts.fields, accounts.span, "account")
            path = find_source_file(data_dir, "accounts", f"the accounts source, declared at {_loc(accounts.span)}")
            out.accounts = _load(con, path, cols)
            _check_keys(path, out.accounts, cols[0])
        for ev in events:
            at = f'events "{ev.name}", declared at {_loc(ev.span)}'
            cols = [
                _Col("lead", ev.lead or "lead", TypeRef("string"), f"the lead column of {at}"),
                _Col("at", ev.at or "at", TypeRef("timestamp"), f"the time column of {at}"),
                _Col("name", ev.event_name or "name", TypeRef("string"), f"the name column of {at}"),
            ] + [_field_col(f.name, f.type, f.span) for f in ev.fields if f.name not in ("lead", "at", "name")]
            path = find_source_file(data_dir, ev.name, at)
            rows = _load(con, path, cols)
            for i, row in enumerate(rows, 1):
                if row["at"] is None:
                    raise DataError(f'{path}: row {i}, column "{cols[1].name}": the event has no time ({cols[1].where})')
            out.events[ev.name] = rows
        return out
    finally:
        con.close()


def _loc(span: Span) -> str:
    return f"{span.file}:{span.line}"


def _type_text(t: TypeRef) -> str:
    if t.name != "enum":
        return t.name
    text = "enum(" + ", ".join(json.dumps(v, ensure_ascii=False) for v in t.values) + ")"
    return text if len(text) <= 60 else "enum(...)"


def _field_col(name: str, t: TypeRef, span: Span) -> _Col:
    return _Col(name, name, t, f"declared {_type_text(t)} at {_loc(span)}")


def _key_cols(key: str, account: str | None, fields, span: Span, what: str) -> list[_Col]:
    spans = {f.name: f.span for f in fields}
    cols = [_Col(key, key, TypeRef("string"), f"the {what} key, declared at {_loc(spans.get(key, span))}")]
    if account:
        cols.append(_Col(account, account, TypeRef("string"), f"the account link, declared at {_loc(spans.get(account, span))}"))
    taken = {c.name for c in cols}
    return cols + [_field_col(f.name, f.type, f.span) for f in fields if f.name not in taken]


def _check_keys(path: Path, rows: list[dict], col: _Col) -> None:
    keys = [r[col.key] for r in rows]
    distinct = set(keys)
    if len(distinct) == len(keys) and None not in distinct:
        return
    seen: dict[str, int] = {}
    for i, k in enumerate(keys, 1):
        if k is None:
            raise DataError(f"{path}: row {i} has no {col.name} ({col.where})")
        first = seen.setdefault(k, i)
        if first != i:
            raise DataError(f"{path}: {col.name} {_show(k)} appears twice, in rows {first} and {i} ({col.where})")


def _show(value: object) -> str:
    text = value if isinstance(value, str) else str(value)
    if len(text) > 40:
        text = text[:40] + "…"
    return json.dumps(text, ensure_ascii=False)


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _one_line(error: Exception) -> str:
    """DuckDB's message, kept to its first sentences on one line."""
    lines = []
    for line in str(error).splitlines():
        line = line.strip()
        if line.startswith(("Possible", "file =")):
            break
        if line and not line.startswith("Original Line:"):
            lines.append(line)
    text = "; ".join(lines).split(" Error: ", 1)[-1]
    return text if len(text) <= 240 else text[:240] + "…"


def _utf8_problem(path: Path) -> str | None:
    """`line N` (and the byte) when the file is not UTF-8; None when it is."""
    data = path.read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        return f"line {line} has the byte 0x{data[e.start]:02X}"
    return None


def _duck_error(path: Path, error: Exception) -> DataError:
    problem = _utf8_problem(path) if path.suffix != ".parquet" else None
    if problem:
        return DataError(f"{path}: the file is not UTF-8 text ({problem}); save it as UTF-8")
    return DataError(f"{path}: cannot read the file: {_one_line(error)}")


def _csv_header(path: Path) -> list[str] | None:
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            header = next(csv.reader(f), None)
            rest = f.read(1) if header == [] else ""
    except UnicodeDecodeError as e:
        raise _duck_error(path, e) from None
    except csv.Error as e:
        raise DataError(f"{path}: cannot read the header row: {e}") from None
    if header == [] and rest.strip():
        raise DataError(f"{path}: line 1 is empty; the first line must be the header row")
    return header or None


def _missing(path: Path, col: _Col, names: Sequence[str]) -> DataError:
    folded = [n for n in names if n.strip().casefold() == col.name.strip().casefold()]
    hint = f'; did you mean "{folded[0]}"?' if folded else "".join(f"; {h}" for h in did_you_mean(col.name, names))
    return DataError(f'{path}: no column "{col.name}" ({col.where}){hint}')


def _value_sql(t: TypeRef, src: str) -> tuple[str, str | None]:
    """SQL for the converted value, and for "the cell is bad" (None: never bad)."""
    if t.name in ("string", "enum"):
        v = f"NULLIF({src}, '')"
        if t.name == "string":
            return v, None
        return v, f"{v} NOT IN ({', '.join(_lit(x) for x in t.values)})"
    v = f"NULLIF(trim({src}), '')"
    if t.name == "int":
        conv = f"CASE WHEN regexp_full_match({v}, '{_INT}') THEN TRY_CAST({v} AS BIGINT) END"
    elif t.name == "number":
        conv = f"CASE WHEN regexp_full_match({v}, '{_NUM}') THEN {v} END"
    elif t.name == "bool":
        conv = f"CASE WHEN lower({v}) IN ('true', 'yes', '1') THEN true WHEN lower({v}) IN ('false', 'no', '0') THEN false END"
    elif t.name == "date":
        conv = f"CASE WHEN regexp_full_match({v}, '{_DATE}') THEN TRY_CAST({v} AS DATE) END"
    elif t.name == "timestamp":
        ts = f"CAST(TRY_CAST({v} AS TIMESTAMPTZ) AS TIMESTAMP)"
        conv = f"CASE WHEN regexp_full_match({v}, '{_TS}') THEN strftime({ts}, '%Y-%m-%dT%H:%M:%S.%f+00:00') END"
    else:
        raise ValueError(f"unknown type {t.name!r}")
    return conv, f"{v} IS NOT NULL AND {conv} IS NULL"


def _bad_message(path: Path, row: int, col: _Col, raw: object) -> DataError:
    t, text = col.type, ("" if raw is None else str(raw)).strip()
    if t.name == "enum":
        allowed = ", ".join(json.dumps(v, ensure_ascii=False) for v in t.values)
        what = f"is not one of {allowed}" if len(allowed) <= 80 else "is not one of the declared values"
        text = "" if raw is None else str(raw)
    elif t.name == "int" and _fullmatch(_INT, text):
        what = "is out of range for a whole number (64-bit)"
    elif t.name in ("date", "timestamp") and _fullmatch(_TS if t.name == "timestamp" else _DATE, text):
        what = f"is not a valid {t.name}"
    else:
        what = _EXPECTED[t.name]
    return DataError(f'{path}: row {row}, column "{col.name}": {_show(text)} {what} ({col.where})')


def _fullmatch(pattern: str, text: str) -> bool:
    return re.fullmatch(pattern, text) is not None


def _load(con: duckdb.DuckDBPyConnection, path: Path, cols: list[_Col]) -> list[dict]:
    """Rows of one source file as dicts keyed by `_Col.key`."""
    ext, name = path.suffix[1:], _lit(str(path))
    if path.stat().st_size == 0 or ext not in EXTENSIONS:
        return []
    if ext == "csv":
        header = _csv_header(path)
        if header is None:
            return []
        for col in cols:
            if header.count(col.name) != 1:
                raise _missing(path, col, header) if col.name not in header else DataError(f'{path}: the header has more than one column "{col.name}" ({col.where})')
        spec = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(header)))
        rel = f"read_csv({name}, auto_detect = false, header = true, columns = {{{spec}}}, delim = ',', quote = '\"', escape = '\"', strict_mode = true)"
        srcs = [f"c{header.index(c.name)}" for c in cols]
        picked = ", ".join(sorted(set(srcs)))
    elif ext == "parquet":
        rel = f"read_parquet({name})"
        types = dict(row[:2] for row in _run(con, path, f"DESCRIBE SELECT * FROM {rel}"))
        srcs = []
        for col in cols:
            if col.name not in types:
                raise _missing(path, col, list(types))
            src = _ident(col.name)
            if types[col.name] in ("FLOAT", "DOUBLE") and col.type.name == "int":
                src = f"CASE WHEN isfinite({src}) AND {src} = trunc({src}) THEN CAST(CAST({src} AS HUGEINT) AS VARCHAR) ELSE CAST({src} AS VARCHAR) END"
            elif types[col.name] != "VARCHAR":
                src = f"CAST({src} AS VARCHAR)"
            srcs.append(src)
        picked = ", ".join(dict.fromkeys(_ident(c.name) for c in cols))
    else:
        rel, picked = f"read_ndjson_objects({name})", "json"
        paths = [_lit('$."' + c.name.replace("\\", "\\\\").replace('"', '\\"') + '"') for c in cols]
        srcs = [f"json_extract_string(json, {p})" for p in paths]
    # A table keeps the file's row order in its rowid; a plain parallel SELECT need not.
    _run(con, path, f"CREATE OR REPLACE TEMP TABLE src AS SELECT {picked} FROM {rel}")
    values, checks = zip(*(_value_sql(c.type, s) for c, s in zip(cols, srcs)))
    bad = "WHEN json_type(json) <> 'OBJECT' THEN -1 " if ext == "jsonl" else ""
    bad += "".join(f"WHEN {check} THEN {i} " for i, check in enumerate(checks) if check)
    select = ", ".join(f"{v} AS v{i}" for i, v in enumerate(values))
    select += f", CASE {bad}END AS bad" if bad else ", NULL::INTEGER AS bad"
    table = _run(con, path, f"SELECT {select} FROM src ORDER BY rowid", arrow=True)
    flags = table.column("bad")
    if flags.null_count < len(flags):
        row = pc.index(pc.is_valid(flags), True).as_py()
        which = flags[row].as_py()
        if which < 0:
            raise DataError(f"{path}: row {row + 1} is not a JSON object")
        raw = _run(con, path, f"SELECT {srcs[which]} FROM src WHERE rowid = {row}")[0][0]
        raise _bad_message(path, row + 1, cols[which], raw)
    columns = [_python_values(table.column(i), c.type.name) for i, c in enumerate(cols)]
    for i, col in enumerate(cols):
        if ext == "jsonl" and columns[i] and all(v is None for v in columns[i]):
            if not _run(con, path, f"SELECT bool_or(json_exists(json, {paths[i]})) FROM src")[0][0]:
                keys = _run(con, path, "SELECT DISTINCT unnest(json_keys(json)) FROM src WHERE json_type(json) = 'OBJECT'")
                raise _missing(path, col, [k for (k,) in keys])
    con.execute("DROP TABLE src")
    return _build_rows(len(cols))(tuple(c.key for c in cols), columns)


def _run(con: duckdb.DuckDBPyConnection, path: Path, sql: str, arrow: bool = False):
    """Run one statement; DuckDB's failures become a one-line DataError about `path`."""
    try:
        return con.sql(sql).to_arrow_table() if arrow else con.execute(sql).fetchall()
    except duckdb.Error as e:
        raise _duck_error(path, e) from None


def _decimal(text: str) -> Decimal:
    d = Decimal(text)
    if ("e" in text or "E" in text) and d.as_tuple().exponent > 0 and d.adjusted() < 28:
        d = d.quantize(Decimal(1))
    return d


def _python_values(column: pa.ChunkedArray, type_name: str) -> list:
    values = column.to_pylist()
    if type_name == "number":
        return [None if v is None else _decimal(v) for v in values]
    if type_name == "timestamp":
        parse = dt.datetime.fromisoformat
        return [None if v is None else parse(v) for v in values]
    return values


@lru_cache(maxsize=None)
def _build_rows(n: int):
    """A function turning n column lists into row dicts; a dict display is ~2x faster than dict(zip())."""
    names = [f"v{i}" for i in range(n)]
    body = ", ".join(f"K[{i}]: {name}" for i, name in enumerate(names))
    loop = ", ".join(names) + ("," if n == 1 else "")
    return eval(f"lambda K, C: [{{{body}}} for {loop} in zip(*C)]")  # noqa: S307 - fixed, generated code


# ------------------------------------------------------------------ writing --


def _plain(d: Decimal | float | int) -> str | None:
    """Exact plain decimal text: no exponent, no trailing fraction zeros; None when not finite."""
    if not isinstance(d, Decimal):
        d = Decimal(d) if isinstance(d, int) else Decimal(repr(d))
    if not d.is_finite():
        return None
    text = format(d, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _timestamp(v: object) -> str:
    if isinstance(v, dt.datetime):
        if v.tzinfo is not None:
            v = v.astimezone(_UTC).replace(tzinfo=None)
        return v.isoformat() + "Z"
    if isinstance(v, dt.date):
        return v.isoformat() + "T00:00:00Z"
    return str(v)


def _cell(v: object, t: str) -> str | None:
    """The text of one value (CSV cell, JSON string body); None when missing."""
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if t == "timestamp":
        return _timestamp(v)
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if t == "date" else _timestamp(v)
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, (Decimal, float)) or (t == "number" and isinstance(v, int)):
        return _plain(v)
    return str(v)


def _json_value(v: object, t: str) -> str:
    text = _cell(v, t)
    if text is None:
        return "null"
    if (t in ("int", "number") and not isinstance(v, (str, bool))) or (t == "bool" and isinstance(v, bool)):
        return text
    return json.dumps(text, ensure_ascii=False)


def _arrow_column(values: list, t: str) -> pa.Array:
    if t == "string":
        return pa.array([_cell(v, t) for v in values], pa.string())
    if t == "int":
        return pa.array([None if v is None else int(v) for v in values], pa.int64())
    if t == "bool":
        return pa.array([None if v is None else bool(v) for v in values], pa.bool_())
    if t == "date":
        return pa.array([v.date() if isinstance(v, dt.datetime) else v for v in values], pa.date32())
    if t == "timestamp":
        def utc(v):
            if v is None or isinstance(v, dt.datetime):
                return v if v is None or v.tzinfo else v.replace(tzinfo=_UTC)
            return dt.datetime(v.year, v.month, v.day, tzinfo=_UTC)
        return pa.array([utc(v) for v in values], pa.timestamp("us", tz="UTC"))
    texts = [None if v is None else _plain(v) for v in values]
    whole = max((len(s.split(".")[0].lstrip("-")) for s in texts if s), default=1)
    scale = max([4] + [len(s.split(".")[1]) for s in texts if s and "." in s])
    scale = max(0, min(scale, 38 - whole))
    quantum, context = Decimal(1).scaleb(-scale), Context(prec=38)
    decimals = [None if s is None else Decimal(s).quantize(quantum, ROUND_HALF_EVEN, context) for s in texts]
    return pa.array(decimals, pa.decimal128(38, scale))


def write_rows(rows: list[dict], columns: list[tuple[str, str]], out: Path | None, stream=sys.stdout) -> None:
    """Write `rows` with the ordered, typed `columns`; the format is `out`'s extension, CSV to `stream` without `out`."""
    fmt = "csv" if out is None else Path(out).suffix.lower()[1:]
    if fmt not in EXTENSIONS:
        raise DataError(f"{out}: unknown output format {Path(out).suffix or '(no extension)'!r}; use .csv, .parquet or .jsonl")
    for name, t in columns:
        if t not in WRITE_TYPES:
            raise ValueError(f"column {name!r} has unknown type {t!r}")
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            arrays = [_arrow_column([r.get(n) for r in rows], t) for n, t in columns]
            pq.write_table(pa.Table.from_arrays(arrays, names=[n for n, _ in columns]), str(out))
            return
        f = stream if out is None else open(out, "w", encoding="utf-8", newline="")
        try:
            if fmt == "csv":
                writer = csv.writer(f, lineterminator="\n")
                writer.writerow([n for n, _ in columns])
                for r in rows:
                    writer.writerow(["" if (c := _cell(r.get(n), t)) is None else c for n, t in columns])
            else:
                keys = [json.dumps(n, ensure_ascii=False) for n, _ in columns]
                for r in rows:
                    f.write("{" + ", ".join(f"{k}: {_json_value(r.get(n), t)}" for k, (n, t) in zip(keys, columns)) + "}\n")
        finally:
            if out is not None:
                f.close()
    except (OSError, pa.ArrowException) as e:
        raise DataError(f"{out}: cannot write the file: {getattr(e, 'strerror', None) or e}") from None
