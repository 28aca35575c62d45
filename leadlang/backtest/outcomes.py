"""Read the outcomes file (what happened to each lead) into DuckDB, checked like a `--data` source.

The file is CSV, Parquet or JSONL with one row per lead: the policy's key
column, `outcome`, and optionally `amount` and `closed_at`. `outcome` is `won`,
`lost` or `open`, or a boolean (true/yes/1 = won, false/no/0 = lost), in any
case. `amount` is a number, `closed_at` a timestamp (a date alone is midnight
UTC). It is checked and typed as an extra file of `leadlang.data` (`register_file`), with its one-line errors.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from leadlang.data.errors import row_name, rows_name, run, show
from leadlang.data.specs import EXTENSIONS, Column
from leadlang.data.staging import file_columns, first_duplicate, ident, lit, register_file
from leadlang.diagnostics import DataError

TABLE = "__src_outcomes"
WON = ("won", "true", "yes", "1")
NOT_WON = ("lost", "open", "false", "no", "0")
_WHERE = "the outcomes file"


def register_outcomes(con: duckdb.DuckDBPyConnection, path: Path, key: str) -> dict[str, bool]:
    """Load `path` as the temp table `__src_outcomes(key, outcome, won, amount, closed_at, __row)`.

    `outcome` is normalised to won, lost or open (a false boolean is lost),
    `won` says whether it is won; `amount` and `closed_at` are NULL when the file
    lacks the column. Returns which optional columns the file has.
    """
    path = Path(path)
    if path.suffix not in tuple(f".{e}" for e in EXTENSIONS):
        raise DataError(f"{path}: unknown outcomes format {path.suffix or '(no extension)'!r}; use .csv, .parquet or .jsonl")
    if not path.is_file():
        raise DataError(f"{path}: no such outcomes file")
    con.execute("SET TimeZone = 'UTC'")
    names = file_columns(con, path)
    has = {"amount": "amount" in names, "closed_at": "closed_at" in names}
    cols = [Column(key, key, "string", f"the lead key, in {_WHERE}", required=True),
            Column("outcome", "outcome", "string", f"won, lost, open or a boolean, in {_WHERE}", required=True)]
    cols += [Column(c, c, t, f"{'a number' if t == 'number' else 'a timestamp'}, in {_WHERE}")
             for c, t in (("amount", "number"), ("closed_at", "timestamp")) if has[c]]
    register_file(con, path, cols, "__outcomes_raw")
    allowed = ", ".join(lit(v) for v in WON + NOT_WON)
    bad = run(con, path, f"SELECT __row, outcome FROM __outcomes_raw WHERE lower(trim(outcome)) NOT IN ({allowed}) ORDER BY __row LIMIT 1")
    if bad:
        row, value = bad[0]
        raise DataError(f'{path}: {row_name(path, row)}, column "outcome": {show(value)} is not an outcome; use won, lost, open, or a boolean (true/false)')
    dup = first_duplicate(con, path, "__outcomes_raw", key)
    if dup:
        k, first, second = dup
        raise DataError(f"{path}: {key} {json.dumps(str(k), ensure_ascii=False)} appears twice, in {rows_name(path, first, second)}; keep one outcome per lead")
    won = ", ".join(lit(v) for v in WON)
    run(con, path, f"""CREATE OR REPLACE TEMP TABLE {TABLE} AS SELECT {ident(key)} AS key,
        CASE WHEN lower(trim(outcome)) IN ({won}) THEN 'won' WHEN lower(trim(outcome)) = 'open' THEN 'open' ELSE 'lost' END AS outcome,
        lower(trim(outcome)) IN ({won}) AS won,
        {'amount' if has['amount'] else 'CAST(NULL AS DECIMAL(38, 10))'} AS amount,
        {'closed_at' if has['closed_at'] else 'CAST(NULL AS TIMESTAMPTZ)'} AS closed_at, __row FROM __outcomes_raw""")
    return has
