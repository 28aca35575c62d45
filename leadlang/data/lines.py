"""CSV and JSONL formatted in DuckDB SQL, byte for byte what `data.writers.write_rows` writes
(`engine.write_text` writes them with DuckDB's own CSV writer): CSV as cells DuckDB's writer quotes itself
(`cells_sql`), JSONL as one finished line per scored row (`lines_sql`)."""

from __future__ import annotations

import json
import re

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
    if t.startswith("DECIMAL"):  # plain digits, no trailing fraction zeros (DuckDB has no -0; a scale > 0 always prints its point)
        text = f"CAST({v} AS VARCHAR)"
        return text if t.endswith(",0)") else f"rtrim(rtrim({text}, '0'), '.')"
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


def _typed(con, sql: str, columns: list[tuple[str, str]]) -> tuple[list[tuple[str, str, str, str]], str] | None:
    """(per column of `sql`'s rows: its reference, name, kind and DuckDB type; the FROM clause naming them by
    position): DuckDB matches names ignoring case, and `Fit` and `fit` may both be outputs. None when `columns`
    are not the query's."""
    rel = con.sql(sql)  # bound, not run: the result's column types
    if len(rel.columns) != len(columns):
        return None
    refs = [DIALECTS["duckdb"].ident(f"__c{i}") for i in range(1, len(columns) + 1)]
    typed = [(ref, col, kind, str(t).upper()) for ref, (col, kind), t in zip(refs, columns, rel.types)]
    return typed, f"FROM (\n{sql}\n) AS scored({', '.join(refs)})"


def distinct_ignoring_case(names: list[str]) -> bool:
    """Whether no two names differ only in case: DuckDB would rename one of two such result columns."""
    return len({n.lower() for n in names}) == len(names)


def cells_sql(con, sql: str, columns: list[tuple[str, str]]) -> str | None:
    """A query of `columns` of `sql`'s rows that DuckDB's own CSV writer (default quoting, its header the column
    names) writes exactly as `data.writers.csv_line`: it quotes a field holding `,` `"` CR or LF and doubles its
    quotes, as leadlang does; integers, booleans and dates need no text of their own; decimals and times get
    leadlang's. An empty string becomes missing: DuckDB would quote it, leadlang writes both as nothing. None when
    a type is not handled or two names differ only in case (the writer would rename one)."""
    q = DIALECTS["duckdb"].ident
    found = _typed(con, sql, columns)
    if found is None or not distinct_ignoring_case([c for c, _ in columns]):
        return None
    cells = []
    for ref, col, kind, t in found[0]:
        if t == "VARCHAR":
            cell = f"NULLIF({ref}, '')"
        elif t in _INTEGERS or t == "BOOLEAN" or (t == "DATE" and kind != "timestamp") or (t.startswith("DECIMAL") and t.endswith(",0)")):
            cell = ref
        else:
            cell = _text_sql(ref, t, kind)
            if cell is None:
                return None
        cells.append(f"{cell} AS {q(col)}")
    return f"SELECT {', '.join(cells)} {found[1]}"


def plain(value: str) -> bool:
    """Whether a string is written as it is: no CSV quotes, no JSON escapes."""
    return json.dumps(value, ensure_ascii=False) == f'"{value}"' and not re.search(_CSV_QUOTE, value)


def lines_sql(con, sql: str, columns: list[tuple[str, str]], fmt: str, newline: bool = True, name: str = "line",
              words: frozenset[str] = frozenset()) -> str | None:
    """A query of one VARCHAR column `name`: each scored row as its finished CSV or JSONL line (with its
    newline unless `newline` is false); None when a type is not handled. `words`: string columns whose every
    value is `plain` (a policy's labels), written without looking for characters to escape."""
    found = _typed(con, sql, columns)
    if found is None:
        return None
    parts = []
    for ref, col, kind, t in found[0]:
        text = _text_sql(ref, t, kind)
        if text is None:
            return None
        if fmt == "csv":
            parts.append(f"coalesce({text}, '')" if col in words and t == "VARCHAR" else _csv_cell(text, t))
        else:
            parts.append(_lit(("{" if not parts else ", ") + json.dumps(col, ensure_ascii=False) + ": "))
            word = col in words and t == "VARCHAR"
            parts.append(f"CASE WHEN {text} IS NULL THEN 'null' ELSE '\"' || {text} || '\"' END" if word else _json_cell(text, t, kind))
    line = " || ',' || ".join(parts) if fmt == "csv" else " || ".join(parts) + " || '}'"
    return f"SELECT {line}{' || chr(10)' if newline else ''} AS {DIALECTS['duckdb'].ident(name)} {found[1]}"
