"""Write result rows as CSV, JSONL or Parquet: all at once (`write_rows`, `write_table`) or chunk by chunk (`RowWriter`).

CSV: a header, RFC 4180 quoting, `\n` line ends. Decimals are written exactly, in plain form with
trailing fraction zeros stripped and never an exponent (`Decimal("60.5200")` -> `60.52`, `1E+2` ->
`100`, `-0.00` -> `0`), so every engine's output reads the same whatever scale it computed at;
non-finite numbers are written as missing. Timestamps are UTC with `Z` (naive ones count as UTC).
Parquet numbers are `decimal128(38, s)`, `s` = max(4, the largest scale the column needs), so
values stay exact. The DuckDB engine formats the same bytes in SQL (`engine.write_text`).
"""

from __future__ import annotations

import datetime as dt
import json
import operator
import re
import sys
import tempfile
from contextlib import nullcontext
from decimal import ROUND_HALF_EVEN, Context, Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from leadlang.data.specs import EXTENSIONS
from leadlang.diagnostics import DataError
from leadlang.outputs import atomic, atomic_open

if TYPE_CHECKING:  # pyarrow is imported where it is used: `leadlang score` on DuckDB rarely needs it
    import pyarrow as pa

WRITE_TYPES = ("string", "int", "number", "bool", "date", "timestamp")
_UTC = dt.timezone.utc
_QUOTE = re.compile(r'[,"\r\n]')


def _plain(d: Decimal | float | int) -> str | None:
    """Exact plain decimal text: no exponent, no trailing fraction zeros; None when not finite."""
    if not isinstance(d, Decimal):
        d = Decimal(d) if isinstance(d, int) else Decimal(repr(d))
    if not d.is_finite():
        return None
    text = format(d, "f")
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return "0" if text == "-0" else text


def cell_text(v: object, t: str) -> str | None:
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


def csv_line(cells: list[str]) -> str:
    """One RFC 4180 record; a field holding `,` `"` CR or LF is quoted (csv.writer leaves a lone CR bare)."""
    return ",".join('"' + c.replace('"', '""') + '"' if _QUOTE.search(c) else c for c in cells) + "\n"


def _json_value(v: object, t: str) -> str:
    text = cell_text(v, t)
    if text is None:
        return "null"
    if (t in ("int", "number") and not isinstance(v, (str, bool))) or (t == "bool" and isinstance(v, bool)):
        return text
    return json.dumps(text, ensure_ascii=False)


# the Python type whose values Arrow takes as they are in a column of each type: `cell_text`'s text parsed back is the value itself
_NATIVE = {"string": str, "int": int, "bool": bool, "date": dt.date, "timestamp": dt.datetime}


def _arrow_column(values: list, t: str) -> pa.Array:
    import pyarrow as pa

    if t != "number":
        native, kind = _NATIVE[t], _arrow_type(t)
        if all(v is None or type(v) is native for v in values):  # the interpreter's usual values: no text in between
            return pa.array(values, kind)  # Arrow takes a naive time as UTC, as `cell_text` does
        parse = {"string": str, "int": int, "bool": "true".__eq__, "date": dt.date.fromisoformat, "timestamp": dt.datetime.fromisoformat}[t]
        return pa.array([None if (c := cell_text(v, t)) is None else parse(c) for v in values], kind)
    texts = [None if v is None else _plain(v) for v in values]
    return _decimal_array(texts, _number_scale(*_digits(texts)))


def arrow_table(rows: list[dict], columns: list[tuple[str, str]]) -> pa.Table:
    """Rows as an Arrow table of the typed `columns`, as the Parquet writer types them."""
    import pyarrow as pa

    return pa.Table.from_arrays([_arrow_column([r[n] for r in rows], t) for n, t in columns], names=[n for n, _ in columns])


def _digits(texts: list[str | None]) -> tuple[int, int]:
    """The most digits before and after the point among plain decimal texts."""
    whole = max((len(s.split(".")[0].lstrip("-0")) for s in texts if s), default=0)
    places = max([0] + [len(s.split(".")[1]) for s in texts if s and "." in s])
    return whole, places


def _number_scale(whole: int, places: int) -> int:
    """A Parquet number column's scale: at least 4, every value's places, at most 38 digits in all."""
    return max(0, min(max(4, places), 38 - whole))  # beyond 38 digits, round half-even


def _decimal_array(texts: list[str | None] | pa.Array, scale: int) -> pa.Array:
    """Plain decimal texts (`_plain`'s) as `decimal128(38, scale)`: Arrow reads them exactly when every
    value has at most `scale` places; beyond 38 digits they are rounded half-even."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        return pc.cast(texts if isinstance(texts, pa.Array) else pa.array(texts, pa.string()), pa.decimal128(38, scale))
    except pa.ArrowInvalid:  # some value has more places than the scale: Decimal rounds it
        texts = texts.to_pylist() if isinstance(texts, pa.Array) else texts
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


def _columns(rows: list[dict], names: list[str]) -> list[list]:
    """The values of each named column over `rows`, as `[r.get(n) for r in rows]` per name, read row by row once."""
    try:
        values = list(map(operator.itemgetter(*names), rows))
    except KeyError:  # a row without some column: it is missing there
        return [[r.get(n) for r in rows] for n in names]
    return [values] if len(names) == 1 else [list(c) for c in zip(*values)] if rows else [[] for _ in names]


def _quoted(c: str | None) -> str:
    """A cell's CSV field: empty when missing, quoted as `csv_line` quotes it."""
    if c is None:
        return ""
    return '"' + c.replace('"', '""') + '"' if _QUOTE.search(c) else c


def _csv_field(t: str):
    """`_quoted(cell_text(v, t))` for one column, with the common value type of `t` first: the text of
    an int, a finite decimal or a bool never needs quotes."""
    other = lambda v: "" if v is None else _quoted(cell_text(v, t))  # noqa: E731
    if t == "string":
        return lambda v: (_quoted(v) if _QUOTE.search(v) else v) if type(v) is str else other(v)
    if t == "int":
        return lambda v: str(v) if type(v) is int else other(v)
    if t == "number":  # equal decimals have one plain text (`60.5` and `60.50`): scores repeat a few values
        plain = _remembered(lambda v: _plain(v) or "")
        return lambda v: plain(v) if type(v) is Decimal else other(v)
    if t == "bool":
        return lambda v: "true" if v is True else "false" if v is False else other(v)
    if t == "timestamp":  # one instant, one text: most timestamp columns (`as_of`) repeat one value
        return _remembered(other)
    return other


def _remembered(text_of):
    """`text_of`, remembering the texts of the last few thousand values (equal values have equal texts)."""
    seen: dict = {}

    def field(v) -> str:
        text = seen.get(v)
        if text is None:
            if len(seen) > 4096:
                seen.clear()
            text = seen[v] = text_of(v)
        return text

    return field


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
        self._fields = [(n, _csv_field(t)) for n, t in columns]
        self._plains: dict = {}  # a Parquet number column's `_plain`, remembered (`_remembered`)
        self._target = None  # the open text file (or stream) lines go to, from the first `write` on
        self._direct = self.fmt != "parquet" and ordered
        if not self._direct:
            self._spill_dir = Path(self._stack.enter_context(tempfile.TemporaryDirectory(prefix="leadlang-rows-")))

    def _open(self):
        """The text file (or stream) the lines go to, opened on first use, the CSV header written."""
        if self._target is None:
            self._target = self._stack.enter_context(nullcontext(self.stream) if self.out is None else atomic_open(self.out))
            if self.fmt == "csv":
                self._target.write(csv_line([n for n, _ in self.columns]))
        return self._target

    def __enter__(self) -> RowWriter:
        return self

    def __exit__(self, kind, err, tb) -> None:
        if kind is None:
            self.close()
        else:
            self._stack.__exit__(kind, err, tb)

    def _lines(self, rows: list[dict]) -> list[str]:
        """The rows' CSV or JSONL lines, made column by column: each column's cells, then the lines."""
        if not rows:
            return []
        columns = _columns(rows, [n for n, _ in self.columns])
        if self.fmt == "csv":
            cells = [list(map(field, values)) for (_, field), values in zip(self._fields, columns)]
            return [line + "\n" for line in map(",".join, zip(*cells))]
        keys = [json.dumps(n, ensure_ascii=False) + ": " for n, _ in self.columns]
        cells = [[key + _json_value(v, t) for v in values] for key, (_, t), values in zip(keys, self.columns, columns)]
        return ["{" + ", ".join(line) + "}\n" for line in zip(*cells)]

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
            for (n, t), values in zip(self.columns, _columns(rows, [n for n, _ in self.columns])):
                if t == "number":
                    plain = self._plains.setdefault(n, _remembered(_plain))
                    texts = [None if v is None else plain(v) for v in values]
                    whole, places = _digits(set(texts))  # scores repeat a few values
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
        import duckdb

        from leadlang.sql.dialects import DIALECTS

        lit = DIALECTS["duckdb"].string_literal
        con = self._stack.enter_context(duckdb.connect())
        con.execute(f"SET temp_directory = {lit(str(self._spill_dir))}")
        con.execute("SET memory_limit = '512MB'")
        con.execute("SET preserve_insertion_order = true")
        yield from con.sql(f"SELECT * EXCLUDE (__key, __n) FROM read_parquet({lit(str(path))}) ORDER BY __key, __n").to_arrow_reader(65536)

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
                        arrays = [_decimal_array(batch.column(n), scales[n]) if t == "number" else batch.column(n) for n, t in self.columns]
                        writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
            except pa.ArrowException as e:
                raise DataError(f"{self.out}: cannot write: {e}") from None
