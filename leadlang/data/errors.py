"""The one-line `DataError`s about a data file: where (file, row or line, column, declaring policy line) and why.

DuckDB's own messages are never passed on with data in them: no message quotes more of the data than
the offending cell, cut at 40 characters. Messages about JSONL name the file's line (blank lines
count); about CSV and Parquet the data row.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Sequence

from leadlang.data.specs import DATE, INT, NUM, TS, Column
from leadlang.diagnostics import DataError, did_you_mean
from leadlang.interrupt import reraise

_EXPECTED = {"int": "is not a whole number", "number": "is not a number", "bool": "is not a boolean (true/false, yes/no or 1/0)",
             "date": "is not a date (YYYY-MM-DD)", "timestamp": "is not an ISO-8601 timestamp (e.g. 2024-06-01T12:30:00Z)"}
_CSV_REASONS = (
    (re.compile(r"unterminated quote"), lambda m: "unterminated quote (a quoted value is not closed)"),
    (re.compile(r"Expected Number of Columns: (\d+) Found: (\d+)"), lambda m: f"Expected Number of Columns: {m[1]} Found: {m[2]}"),
    (re.compile(r"Maximum line size of (\d+) bytes exceeded"), lambda m: f"the line is longer than {m[1]} bytes"),
)


def show(value: object) -> str:
    """A value for a message: double-quoted, escaped, cut at 40 characters."""
    text = str(value)
    return json.dumps(text if len(text) <= 40 else text[:40] + "…", ensure_ascii=False)


def run(con, path: Path, sql: str, arrow: bool = False, params: Sequence = ()):
    """Run one statement (values only as `?` parameters); DuckDB's failures become a one-line DataError about `path`."""
    import duckdb

    try:
        if arrow:
            return (con.execute(sql, list(params)).arrow() if params else con.sql(sql).to_arrow_table())
        return con.execute(sql, list(params)).fetchall() if params else con.execute(sql).fetchall()
    except duckdb.Error as e:
        reraise(e)
        raise duck_error(path, e) from None


def read_failure(err: Exception) -> DataError | None:
    """A data file DuckDB could not read while it scanned it (it reads Parquet pages lazily), named as
    when the file is first checked; None for any other failure. Both engines report it this way."""
    failed = re.search(r'(?:Failed to read file|Invalid string encoding found in Parquet file) "([^"]+)"', str(err))
    return duck_error(Path(failed[1]), err) if failed else None


def duck_error(path: Path, error: Exception) -> DataError:
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
    if "Invalid string encoding" in text:  # DuckDB quotes the value; say what is wrong, not the data
        return DataError(f"{path}: cannot read the file: a text value is not valid UTF-8; write its strings as UTF-8")
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


def row_name(path: Path, row: int) -> str:
    """How a message names a data row (1-based): `line N` of a JSONL file (blank lines count), else `row N`."""
    return f"line {_jsonl_line(path, row)}" if path.suffix == ".jsonl" else f"row {row}"


def rows_name(path: Path, first: int, second: int) -> str:
    """Two data rows, as `row_name` names them: `rows 2 and 4`, or `lines 3 and 7` of a JSONL file."""
    if path.suffix == ".jsonl":
        return f"lines {_jsonl_line(path, first)} and {_jsonl_line(path, second)}"
    return f"rows {first} and {second}"


def twice(path: Path, col: Column, key: object, first: int, second: int) -> DataError:
    """A key on two rows of a leads or accounts file."""
    return DataError(f"{path}: {col.name} {show(key)} appears twice, in {rows_name(path, first, second)} ({col.where})")


def duplicate_json_key(path: Path, row: int) -> DataError:
    """The error for a JSONL object with a key twice (the `row`-th object)."""
    number = _jsonl_line(path, row)
    for n, line in _jsonl_lines(path):
        if n == number:
            seen: set[str] = set()
            try:
                keys = [k for k, _ in json.loads(line, object_pairs_hook=lambda pairs: pairs)]
            except (ValueError, TypeError):
                break
            repeated = next((k for k in keys if k in seen or seen.add(k)), None)
            if repeated is not None:
                return DataError(f"{path}: line {number} has the key {show(repeated)} twice; keep one")
            break
    return DataError(f"{path}: line {number} has a key twice; keep one")


def missing_column(path: Path, col: Column, names: Sequence[str]) -> DataError:
    folded = [n for n in names if n.strip().casefold() == col.name.strip().casefold()]
    hints = [f'did you mean "{folded[0]}"?'] if folded else did_you_mean(col.name, names)
    return DataError(f'{path}: no column "{col.name}" ({col.where})' + "".join(f"; {h}" for h in hints))


def bad_cell(path: Path, row: int, col: Column, raw: object) -> DataError:
    """A cell (of the 1-based `row`) that is missing where required, outside its enum, or not of its type."""
    text = "" if raw is None else str(raw)
    text = text if col.kind in ("string", "enum") else text.strip()
    if not text:
        return DataError(f"{path}: {row_name(path, row)} has no {col.name} ({col.where})")
    if col.kind == "enum":
        allowed = ", ".join(json.dumps(v, ensure_ascii=False) for v in col.values)
        what = f"is not one of {allowed}" if len(allowed) <= 80 else "is not one of the declared values"
    elif col.kind == "int" and re.fullmatch(INT, text):
        what = "is out of range for a whole number (64-bit)"
    elif col.kind == "number" and re.fullmatch(NUM, text):
        what = "is out of range for a number (at most 18 digits before the point)"
    elif col.kind in ("date", "timestamp") and re.fullmatch(TS if col.kind == "timestamp" else DATE, text):
        what = f"is not a valid {col.kind}"
    else:
        what = _EXPECTED[col.kind]
    return DataError(f'{path}: {row_name(path, row)}, column "{col.name}": {show(text)} {what} ({col.where})')


def empty_file(path: Path) -> DataError | None:
    """An empty file (0 bytes, or only blank lines) has no header: a source needs at least its columns."""
    size = path.stat().st_size
    if size > 65536 or (size and (path.suffix == ".parquet" or path.read_bytes().lstrip(b"\xef\xbb\xbf").strip())):
        return None
    what = {".csv": "it has no header row (a file with only the header row is fine)",
            ".jsonl": "it has no JSON object, so no columns", ".parquet": "0 bytes are not a Parquet file"}[path.suffix]
    return DataError(f"{path}: the file is empty: {what}")
