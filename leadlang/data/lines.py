"""CSV and JSONL lines formatted in DuckDB SQL, one finished line per scored row, byte for byte what
`data.writers.write_rows` writes (`engine.write_text` writes them with DuckDB's own CSV writer)."""

from __future__ import annotations

import json

from leadlang.sql.dialects import DIALECTS

_JSON_ESCAPES = [("\\", "\\\\"), ('"', '\\"')] + [
    (chr(c), {8: "\\b", 12: "\\f", 10: "\\n", 13: "\\r", 9: "\\t"}.get(c, "\\u%04x" % c)) for c in range(32)
]
_CSV_QUOTE = r'[,"\r\n]'  # RE2: what `data.writers._QUOTE` matches
_JSON_SPECIAL = r'[\x00-\x1f"\\]'
_INTEGERS = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT")


def _lit(text: str) -> str:
    return DIALECTS["duckdb"].string_literal(text)  # the dialect's one literal-escaping rule


def _text_sql(v: str, duck_type: str, kind: str) -> str | None:
    """SQL for `data.writers.cell_text`'s text of column `v` (NULL when missing); None for a type not handled here."""
    t = duck_type.upper()
    if t == "VARCHAR":
        return v
    if t == "BOOLEAN":
        return f"CASE WHEN {v} THEN 'true' WHEN NOT {v} THEN 'false' END"
    if t in _INTEGERS:
        return f"CAST({v} AS VARCHAR)"
    if t.startswith("DECIMAL"):  # plain digits, no trailing fraction zeros (DuckDB has no -0)
        text = f"CAST({v} AS VARCHAR)"
        return text if t.endswith(",0)") else f"regexp_replace(regexp_replace({text}, '0+$', ''), '\\.$', '')"
    if t == "DATE":
        return f"CAST({v} AS VARCHAR)" + (" || 'T00:00:00Z'" if kind == "timestamp" else "")
    if t in ("TIMESTAMP WITH TIME ZONE", "TIMESTAMP"):
        ts = f"make_timestamp(epoch_us({v}))" if "ZONE" in t else v  # UTC, whatever the session's zone
        if kind == "date":
            return f"strftime({ts}, '%Y-%m-%d')"
        frac = f"epoch_us({ts}) % 1000000"
        return (
            f"strftime({ts}, '%Y-%m-%dT%H:%M:%S') || CASE WHEN {frac} = 0 THEN '' "
            f"ELSE '.' || lpad(CAST({frac} AS VARCHAR), 6, '0') END || 'Z'"
        )
    return None


def _csv_cell(text: str, duck_type: str) -> str:
    """A cell as `data.writers.csv_line` writes it: quoted only when holding , " CR or LF; missing is empty."""
    if duck_type.upper() != "VARCHAR":
        return f"coalesce({text}, '')"
    return (
        f"CASE WHEN {text} IS NULL THEN '' WHEN regexp_matches({text}, {_lit(_CSV_QUOTE)}) "
        f"THEN '\"' || replace({text}, '\"', '\"\"') || '\"' ELSE {text} END"
    )


def _json_cell(text: str, duck_type: str, kind: str) -> str:
    """A value as `data.writers._json_value` writes it: numbers and booleans bare, other text `json.dumps`-escaped."""
    t = duck_type.upper()
    if (kind in ("int", "number") and (t in _INTEGERS or t.startswith("DECIMAL"))) or (kind == "bool" and t == "BOOLEAN"):
        return f"coalesce({text}, 'null')"
    esc = text
    for raw, escaped in _JSON_ESCAPES:
        esc = f"replace({esc}, {'chr(%d)' % ord(raw) if ord(raw) < 32 else _lit(raw)}, {_lit(escaped)})"
    special = f"regexp_matches({text}, {_lit(_JSON_SPECIAL)})"
    return f"CASE WHEN {text} IS NULL THEN 'null' ELSE '\"' || CASE WHEN {special} THEN {esc} ELSE {text} END || '\"' END"


def lines_sql(con, sql: str, columns: list[tuple[str, str]], fmt: str, newline: bool = True, name: str = "line") -> str | None:
    """A query of one VARCHAR column `name`: each scored row as its finished CSV or JSONL line (with its
    newline unless `newline` is false); None when a type is not handled."""
    q = DIALECTS["duckdb"].ident
    rel = con.sql(sql)  # bound, not run: the result's column types
    types = dict(zip(rel.columns, (str(t) for t in rel.types)))
    parts = []
    for col, kind in columns:
        text = _text_sql(q(col), types.get(col, "?"), kind)
        if text is None:
            return None
        if fmt == "csv":
            parts.append(_csv_cell(text, types[col]))
        else:
            parts.append(_lit(("{" if not parts else ", ") + json.dumps(col, ensure_ascii=False) + ": "))
            parts.append(_json_cell(text, types[col], kind))
    line = " || ',' || ".join(parts) if fmt == "csv" else " || ".join(parts) + " || '}'"
    return f"SELECT {line}{' || chr(10)' if newline else ''} AS {q(name)} FROM (\n{sql}\n) AS scored"
