"""Check the `--data` files and keep them in DuckDB as typed tables: the one path both engines read.

DuckDB reads each file in-process (CSV as text, Parquet values cast to text, JSONL values via
`json_extract_string`; Python parses the CSV header so columns match by exact name), and one
`CREATE TABLE ... AS SELECT` over the file converts every declared column and flags, per row, the
first cell that fails its check: the file is read once. Only when a flag is set is the file read
again, to name the first bad cell in a one-line `DataError` (file, 1-based data row, column,
value, declaring policy line). A Parquet file whose columns already have their declared types is
a view over the file instead (`parquet`).

Empty or blank cells are missing. `int`: whole numbers within 64 bits, in digits with at most a
zero fraction (`-3`, `71.0`, `71.00`; not `71.5` or `1e3`): the same rule for a CSV cell, a JSON
number (JSON numbers are doubles, so `7.1e1` is `71.0`) and a Parquet float or decimal. `number`:
an exact decimal (`2.5`, `1e3` -> `1000`), rounded to 10 places half away from zero, below 10^18
(language.md §21: DuckDB's `DECIMAL(28, 10)`; Parquet `decimal256` is refused). `bool`:
true/false, yes/no, 1/0 in any case. `date`: `YYYY-MM-DD`. `timestamp`: ISO-8601 with `T` or a
space, a date alone is midnight, no offset means UTC. An empty (0-byte or blank) file is an
error: it has no header. A JSONL object with a key twice is an error.
"""

from __future__ import annotations

import csv
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from leadlang.data import parquet
from leadlang.data.errors import bad_cell, duck_error, duplicate_json_key, empty_file, missing_column, row_name, run, twice
from leadlang.data.specs import DATE, INT, NUM, TS, Column, sources
from leadlang.diagnostics import DataError
from leadlang.sql.dialects import DIALECTS

lit, ident = DIALECTS["duckdb"].string_literal, DIALECTS["duckdb"].ident  # all quoting: the dialect's
ON_INVALID_ENUM = ("error", "null")
_INVALID_ENUM: ContextVar[str] = ContextVar("leadlang_on_invalid_enum", default="error")


@contextmanager
def on_invalid_enum(mode: str):
    """How the files are checked in the `with` block: a value outside its `enum(...)` is refused with a
    `DataError` naming the cell (`error`, the default), or read as it is (`null`), and the engines then
    score it as missing, as the compiled SQL does in a warehouse (`interpret.enums`)."""
    if mode not in ON_INVALID_ENUM:
        raise ValueError(f"on_invalid_enum: {mode!r} is not one of {ON_INVALID_ENUM}")
    token = _INVALID_ENUM.set(mode)
    try:
        yield
    finally:
        _INVALID_ENUM.reset(token)


def strict_enums() -> bool:
    return _INVALID_ENUM.get() == "error"


def register_dataset(con, policy, data_dir: Path, profiling=None) -> dict[str, str]:
    """Check every source the (checked) `policy` declares and keep each as a typed relation in `con`.

    Returns the relation of each source (`leads`, `accounts`, each events name) to read the rows from.
    Event relations keep the events block's own column names, so the compiled SQL reads them as it
    would read the warehouse relation. `__src_<name>` is the same rows with `__row`, the file's row.
    With `profiling` (a `leadlang.profile.Profiling`) each source's data profile is computed in the
    query that checks it, and put in `profiling.found`.
    """
    con.execute("SET TimeZone = 'UTC'")
    return {s.name: register_file(con, s.path, s.columns, f"__src_{s.name}", s.key,
                                  figures=None if profiling is None else profiling.figures(s.name, s.path, ident))
            for s in sources(policy, data_dir)}


def register_file(con, path: Path, columns: list[Column], table: str, key: str | None = None,
                  where: tuple[int, Sequence[str]] | None = None, figures=None) -> str:
    """Check one file against `columns` and keep it in `con` as the typed relation `table`: any file a
    command reads besides the declared sources (the outcomes of `backtest`, ...) goes through here.

    `table` has the columns (named as in the file) plus `__row`, the 1-based row in the file. With
    `key` (a column's name) no value of that column may repeat. With `where` = (column index, values),
    only the rows whose column holds one of the values are kept (a filter DuckDB pushes into the scan;
    the values are parameters) and checked, but messages name rows as in the whole file. Returns the
    relation to read the typed columns from: for a Parquet file of native types, a view DuckDB scans faster.
    With `figures` (a `leadlang.profile.Figures` over the typed columns), the query that checks the rows
    also computes the file's data profile, for `figures.take`.
    """
    path = Path(path)
    scan = parquet.register_native(con, path, columns, table, strict_enums(), figures) if where is None else None
    if scan is None:
        scan = _register_text(con, path, columns, table, where, figures)
    if key is not None:
        dup = first_duplicate(con, path, table, key)
        if dup:
            raise twice(path, next(c for c in columns if c.name == key), *dup)
    return scan


@dataclass
class _Reader:
    """A file's reader and each declared column's text in it."""

    ext: str
    rel: str  # `read_csv(...)`, ...
    picked: str  # the reader's columns the texts use
    srcs: list[str]  # each declared column's text
    paths: list[str]  # JSON paths, for jsonl


def csv_header(path: Path) -> list[str] | None:
    """The header row (None for an empty file), read by Python so names are exact."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            header = next(csv.reader(f, strict=True), None)
            more = f.read(4096).strip() if header == [] else ""
    except UnicodeDecodeError as e:
        raise duck_error(path, e) from None
    except csv.Error as e:
        raise DataError(f"{path}: cannot read the header row: {e}") from None
    if more:
        raise DataError(f"{path}: line 1 is empty; the first line must be the header row")
    if header and any("\n" in name or "\r" in name for name in header):  # a quote left open swallows the rows below
        raise DataError(f"{path}: cannot read the header row: a column name spans lines (a quote is not closed?)")
    return header or None


def file_columns(con, path: Path) -> list[str]:
    """The column names of a CSV, Parquet or JSONL file (JSONL: every key of any row), to see which optional ones it has."""
    if path.stat().st_size == 0:
        return []
    if path.suffix == ".csv":
        return csv_header(path) or []
    if path.suffix == ".parquet":
        return [row[0] for row in run(con, path, f"DESCRIBE SELECT * FROM read_parquet({lit(str(path))})")]
    rows = run(con, path, f"SELECT DISTINCT unnest(json_keys(json)) FROM read_ndjson_objects({lit(str(path))}) WHERE json_type(json) = 'OBJECT'")
    return [k for (k,) in rows]


def _reader(con, path: Path, cols: list[Column]) -> _Reader:
    """How DuckDB reads `path` as text; the file's columns checked against `cols` first."""
    ext, name = path.suffix[1:], lit(str(path))
    if (empty := empty_file(path)) is not None:
        raise empty
    if ext == "csv":
        header = csv_header(path)
        if header is None:
            raise DataError(f"{path}: the file has no header row")
        for col in cols:
            if header.count(col.name) != 1:
                raise missing_column(path, col, header) if col.name not in header else DataError(f'{path}: the header has more than one column "{col.name}" ({col.where})')
        spec = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(header)))
        rel = f"read_csv({name}, auto_detect = false, header = true, columns = {{{spec}}}, delim = ',', quote = '\"', escape = '\"', strict_mode = true)"
        srcs = [f"c{header.index(c.name)}" for c in cols]
        return _Reader(ext, rel, ", ".join(dict.fromkeys(srcs)), srcs, [])
    if ext == "parquet":
        rel = f"read_parquet({name})"
        types = {row[0]: row[1] for row in run(con, path, f"DESCRIBE SELECT * FROM {rel}")}
        parquet.refuse_wide_decimals(con, path, cols)
        srcs = []
        for col in cols:
            if col.name not in types:
                raise missing_column(path, col, list(types))
            src, kind = ident(col.name), types[col.name]
            text = src if kind == "VARCHAR" else f"CAST({src} AS VARCHAR)"
            if kind in ("FLOAT", "DOUBLE") and col.kind == "int":  # a whole 42.0 is the int 42
                text = f"CASE WHEN isfinite({src}) AND {src} = trunc({src}) THEN CAST(CAST({src} AS HUGEINT) AS VARCHAR) ELSE {text} END"
            srcs.append(text)
        return _Reader(ext, rel, ", ".join(dict.fromkeys(ident(c.name) for c in cols)), srcs, [])
    paths = [lit('$."' + c.name.replace("\\", "\\\\").replace('"', '\\"') + '"') for c in cols]
    return _Reader(ext, f"read_ndjson_objects({name})", "json", [f"json_extract_string(json, {p})" for p in paths], paths)


def _value_sql(col: Column, src: str) -> tuple[str, str | None]:
    """SQL for the converted value (DuckDB's, of the column's type), and for "this cell does not convert"
    (None: every cell does)."""
    if col.kind in ("string", "enum"):
        return f"NULLIF({src}, '')", None
    v = f"NULLIF(trim({src}), '')"
    if col.kind == "int":
        conv = f"CASE WHEN regexp_full_match({v}, '{INT}') THEN TRY_CAST(split_part({v}, '.', 1) AS BIGINT) END"  # `71.00` is 71
    elif col.kind == "number":  # DECIMAL(28, 10) for both engines: 10 places, half away from zero; NULL from 10^18
        conv = f"CASE WHEN regexp_full_match({v}, '{NUM}') THEN TRY_CAST({v} AS {col.duck_type}) END"
    elif col.kind == "bool":
        conv = f"CASE WHEN lower({v}) IN ('true', 'yes', '1') THEN true WHEN lower({v}) IN ('false', 'no', '0') THEN false END"
    elif col.kind == "date":
        conv = f"CASE WHEN regexp_full_match({v}, '{DATE}') THEN TRY_CAST({v} AS DATE) END"
    elif col.kind == "timestamp":  # the session's TimeZone is UTC
        conv = f"CASE WHEN regexp_full_match({v}, '{TS}') THEN TRY_CAST({v} AS {col.duck_type}) END"
    else:
        raise ValueError(f"unknown type {col.kind!r}")
    return conv, f"NULLIF(trim({src}), '') IS NOT NULL"


def _converted(cols: list[Column], rd: _Reader) -> tuple[list[str], list[str], str]:
    """(the converted columns `__v<i>` with what their checks need, read from the file's reader; the
    typed columns over those; the index of the first failed check of a row, NULL when none fails)."""
    inner, typed, bad = [], [], []
    if rd.ext == "jsonl":
        inner.append("json")
        bad += ["WHEN json_type(json) <> 'OBJECT' THEN -1", "WHEN len(json_keys(json)) <> len(list_distinct(json_keys(json))) THEN -2"]
    for i, (c, src) in enumerate(zip(cols, rd.srcs)):
        conv, present = _value_sql(c, src)
        v = f"__v{i}"
        inner.append(f"{conv} AS {v}")
        if c.required:
            check = f"{v} IS NULL"
        elif c.kind == "enum":  # refused, unless `--on-invalid-enum null` reads it for the engines to score as missing
            check = f"{v} NOT IN ({', '.join(lit(x) for x in c.values)})" if strict_enums() else None
        elif present is not None:  # a cell with text that does not convert
            inner.append(f"{present} AS __n{i}")
            check = f"__n{i} AND {v} IS NULL"
        else:
            check = None
        bad += [f"WHEN {check} THEN {i}"] if check else []
        typed.append(f"CAST({v} AS {c.duck_type}) AS {ident(c.name)}")
    return inner, typed, f"CASE {' '.join(bad)} END" if bad else "NULL::INTEGER"


def checked(con, path: Path, rel: str, bad: str, row: str, figures, more: Sequence[str] = ()) -> tuple[tuple | None, list, list[tuple]]:
    """One pass over `rel`: its first flagged row ((`row`, `bad`) of the least `row` whose `bad` is not NULL, or
    None), the sums of the `more` aggregates, and `figures`' grouped rows (for `figures.take`) on the way."""
    fold, columns, by = ([], [], "NULL") if figures is None else (figures.aggregates(), figures.columns(), figures.by())
    flags = [f"min({row}) FILTER (WHERE {bad} IS NOT NULL)", f"arg_min({bad}, {row}) FILTER (WHERE {bad} IS NOT NULL)"]
    groups = run(con, path, f"SELECT {by}, {', '.join([*fold, *flags, *more])} FROM (SELECT *{''.join(', ' + c for c in columns)} FROM {rel}) GROUP BY 1")
    at = 1 + len(fold)
    first = min(((g[at], g[at + 1]) for g in groups if g[at] is not None), default=None)
    return first, [sum(g[at + 2 + i] for g in groups) for i in range(len(more))], groups


def _register_text(con, path: Path, cols: list[Column], table: str, where, figures=None) -> str:
    """`register_file` for a file read as text: one pass over it converts and checks every cell."""
    rd = _reader(con, path, cols)
    inner, typed, flag = _converted(cols, rd)
    keep, params = ("", ()) if where is None else (f" WHERE {rd.srcs[where[0]]} IN ({', '.join('?' for _ in where[1])})", where[1])
    data = ident(f"{table}__typed")
    # A table's rowid keeps the file's row order (insertion order is preserved); a parallel SELECT's output need not.
    run(con, path, f"CREATE OR REPLACE TEMP TABLE {data} AS SELECT {', '.join(typed)}, {flag} AS __bad "
                   f"FROM (SELECT {', '.join(inner)} FROM {rd.rel}{keep})", params=params)
    names = ", ".join(ident(c.name) for c in cols)
    counts = [f"count({ident(c.name)})" for c in cols] if rd.ext == "jsonl" else []
    first, present, groups = checked(con, path, f"(SELECT rowid AS __r, * FROM {data})", "__bad", "__r", figures, counts)
    if first is not None:
        _raise_bad(con, path, cols, *first, where)
    if rd.ext == "jsonl":  # JSON has no header: a key that no row has is a missing column
        for i, col in enumerate(cols):
            if present[i] == 0 and not run(con, path, f"SELECT bool_or(json_exists(json, {rd.paths[i]})) FROM {rd.rel}")[0][0]:
                keys = run(con, path, f"SELECT DISTINCT unnest(json_keys(json)) FROM {rd.rel} WHERE json_type(json) = 'OBJECT'")
                raise missing_column(path, col, sorted(k for (k,) in keys))
    if figures is not None:
        figures.take(groups)
    run(con, path, f"CREATE OR REPLACE TEMP VIEW {ident(table)} AS SELECT {names}, rowid + 1 AS __row FROM {data}")
    scan = f"{table}__scan"  # the typed columns alone
    run(con, path, f"CREATE OR REPLACE TEMP VIEW {ident(scan)} AS SELECT {names} FROM {data}")
    return scan


def stage_text(con, path: Path, cols: list[Column]) -> list[str]:
    """Copy the whole file, as text and with no value checked, into the temp table `src` (its rowid is the
    file's row order); each column's text in `src`."""
    rd = _reader(con, path, cols)
    run(con, path, f"CREATE OR REPLACE TEMP TABLE src AS SELECT {rd.picked} FROM {rd.rel}")
    return rd.srcs


def _raise_bad(con, path: Path, cols: list[Column], row: int, which: int, where) -> None:
    """The one-line error for a flagged row (`row` counts from 0 in the registered rows): the file
    read again as text to name the first bad cell in it, by its row in the whole file."""
    rd = _reader(con, path, cols)
    run(con, path, f"CREATE OR REPLACE TEMP TABLE src AS SELECT {rd.picked} FROM {rd.rel}")
    if where is not None:  # the first flagged row among the matching ones, numbered in the whole file
        inner, _, flag = _converted(cols, rd)
        match = f"{rd.srcs[where[0]]} IN ({', '.join('?' for _ in where[1])})"
        row, which = run(con, path, f"SELECT r, b FROM (SELECT r, {flag} AS b FROM (SELECT rowid AS r, {', '.join(inner)} FROM src "
                                    f"WHERE {match})) WHERE b IS NOT NULL ORDER BY r LIMIT 1", params=where[1])[0]
    if which == -2:
        raise duplicate_json_key(path, row + 1)
    if which < 0:
        raise DataError(f"{path}: {row_name(path, row + 1)} is not a JSON object")
    raw = run(con, path, f"SELECT {rd.srcs[which]} FROM src WHERE rowid = {int(row)}")[0][0]
    raise bad_cell(path, row + 1, cols[which], raw)


def first_duplicate(con, path: Path, relation: str, key: str) -> tuple | None:
    """The first repeated key of `relation` (which has `__row`), reading in row order:
    (key, its first row, the row that repeats it) — what the Python engine reports.

    A count per key first (no per-key lists or windows: cheap on millions of rows);
    the rows only when some key does repeat."""
    rel, k = ident(relation), ident(key)
    if not run(con, path, f"SELECT 1 FROM {rel} GROUP BY {k} HAVING count(*) > 1 LIMIT 1"):
        return None
    return tuple(run(con, path, f"WITH d AS (SELECT {k} AS k, min(__row) AS r1 FROM {rel} GROUP BY 1 HAVING count(*) > 1) "
                                f"SELECT d.k, d.r1, min(t.__row) AS r2 FROM {rel} t JOIN d ON t.{k} = d.k AND t.__row > d.r1 "
                                f"GROUP BY 1, 2 ORDER BY r2 LIMIT 1")[0])


def staged_sources(con, policy, data_dir: Path):
    """For a data profile (`leadlang.profile`): each declared source copied in turn, as text and with no value
    checked, into the temp table `src`. Yields (source name, file, {column key: its text in `src`})."""
    for s in sources(policy, data_dir):
        yield s.name, s.path, {c.key: t for c, t in zip(s.columns, stage_text(con, s.path, s.columns))}
