"""Parquet files whose columns already have their declared types: a view over the file, checked only for
what can still be wrong (a missing key or time, an enum value), instead of a typed copy read as text."""

from __future__ import annotations

from pathlib import Path

from leadlang.data.errors import bad_cell, empty_file, missing_column, run
from leadlang.data.specs import Column
from leadlang.diagnostics import DataError
from leadlang.sql.dialects import DIALECTS

lit, ident = DIALECTS["duckdb"].string_literal, DIALECTS["duckdb"].ident

# Parquet types that already are the declared type: no text round trip needed.
_NATIVE = {
    "string": ("VARCHAR",), "enum": ("VARCHAR",), "bool": ("BOOLEAN",), "date": ("DATE",),
    "int": ("BIGINT", "INTEGER", "SMALLINT", "TINYINT", "UINTEGER", "USMALLINT", "UTINYINT"),
    "number": ("BIGINT", "INTEGER", "SMALLINT", "TINYINT", "DECIMAL"),
    "timestamp": ("TIMESTAMP WITH TIME ZONE", "TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S"),
}


def register_native(con, path: Path, cols: list[Column], table: str, strict_enums: bool, figures=None) -> str | None:
    """`table` as a view over a Parquet file of native types (with `__row`, the 1-based row), checked (a
    value outside its enum too, when `strict_enums`), its profile by `figures` in the same pass (see
    `staging.checked`); the relation to read the typed columns from. None, having done nothing, for any other file."""
    from leadlang.data.staging import checked

    if not _native(con, path, cols):
        return None
    name, file = ident(table), lit(str(path))
    no_empty = no_empty_strings(con, path, cols)
    typed = ", ".join(f"CAST({_value(c, no_empty)} AS {c.duck_type}) AS {ident(c.name)}" for c in cols)
    run(con, path, f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT {typed}, file_row_number + 1 AS __row "
                   f"FROM read_parquet({file}, file_row_number = true)")
    scan = f"{table}__scan"
    run(con, path, f"CREATE OR REPLACE TEMP VIEW {ident(scan)} AS SELECT {typed} FROM read_parquet({file})")
    checks = [(i, f"{ident(c.name)} IS NULL") for i, c in enumerate(cols) if c.required]
    checks += [(i, f"{ident(c.name)} NOT IN ({', '.join(lit(v) for v in c.values)})") for i, c in enumerate(cols)
               if c.kind == "enum" and strict_enums]
    if checks or figures is not None:
        bad = f"CASE {' '.join(f'WHEN {check} THEN {i}' for i, check in checks)} END" if checks else "NULL::INTEGER"
        first, _, groups = checked(con, path, f"(SELECT *, {bad} AS __bad FROM {name})", "__bad", "__row", figures)
        if first:
            row, which = first
            raw = run(con, path, f"SELECT CAST({ident(cols[which].name)} AS VARCHAR) FROM {name} WHERE __row = {row}")[0][0]
            raise bad_cell(path, row, cols[which], raw)
        if figures is not None:
            figures.take(groups)
    return scan


def _native(con, path: Path, cols: list[Column]) -> bool:
    """Whether `path` is a Parquet file whose declared columns all already have their declared types."""
    if path.suffix != ".parquet" or empty_file(path) is not None:
        return False
    types = {row[0]: row[1] for row in run(con, path, f"DESCRIBE SELECT * FROM read_parquet({lit(str(path))})")}
    for col in cols:
        if col.name not in types:
            raise missing_column(path, col, list(types))
        kind = types[col.name].split("(")[0]
        if kind not in _NATIVE[col.kind]:
            return False
        if kind == "DECIMAL":
            precision, scale = (int(n) for n in types[col.name][len("DECIMAL("):-1].split(","))
            if scale > 10 or precision - scale > 18:
                return False  # more places or digits than a number holds: the text path rounds or refuses
    return True


def refuse_wide_decimals(con, path: Path, cols: list[Column]) -> None:
    """Refuse a Parquet decimal wider than 38 digits (decimal256), which DuckDB reads through a double."""
    names = {c.name: c for c in cols}
    rows = run(con, path, f"SELECT name, precision FROM parquet_schema({lit(str(path))}) WHERE precision > 38")
    for name, precision in rows:
        if name in names:
            col = names[name]
            raise DataError(f'{path}: column "{name}" is a decimal of {precision} digits, more than the 38 a number holds; '
                            f"store it as decimal(28, 10) or as text ({col.where})")


def _value(col: Column, no_empty: frozenset[str]) -> str:
    """A native Parquet column as the engine reads it: as on the text path, "" is missing."""
    name = ident(col.name)
    return f"NULLIF({name}, '')" if col.kind in ("string", "enum") and col.name not in no_empty else name


def no_empty_strings(con, path: Path, cols: list[Column]) -> frozenset[str]:
    """The string columns the Parquet file's statistics prove hold no "" (so need no NULLIF).

    A column qualifies when every row group has a non-empty minimum (a lower bound
    of its values) or holds only nulls; without statistics it does not."""
    names = [c.name for c in cols if c.kind in ("string", "enum")]
    if not names:
        return frozenset()
    rows = run(con, path, f"SELECT path_in_schema, bool_and(coalesce(stats_min_value <> '', stats_null_count = num_values, false)) "
                          f"FROM parquet_metadata({lit(str(path))}) WHERE path_in_schema IN ({', '.join(lit(n) for n in names)}) GROUP BY 1")
    return frozenset(name for name, ok in rows if ok)
