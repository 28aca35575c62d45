"""The embedded engine: compile a policy to DuckDB SQL and run it in-process over `--data` files."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from leadlang.check.policy import Policy
from leadlang.diagnostics import DataError


@dataclass
class Scored:
    rows: list[dict]
    explain: list[dict]


def score_duckdb(policy: Policy, data_dir: Path, as_of: dt.datetime, explain: bool = False) -> Scored:
    """Score every lead of `data_dir` on DuckDB: the same rows as the Python engine."""
    import duckdb

    from leadlang.io import register_dataset
    from leadlang.progress import step
    from leadlang.sql import to_sql

    con = duckdb.connect()
    try:
        with step(f"checking the data files in {data_dir}"):
            tables = register_dataset(con, policy.leads, policy.accounts, list(policy.events.values()), data_dir)
        relations = {".".join(policy.leads.relation.parts): tables["leads"]}
        if policy.accounts is not None:
            relations[".".join(policy.accounts.relation.parts)] = tables["accounts"]
        for name, ev in policy.events.items():
            relations[".".join(ev.relation.parts)] = tables[name]
        with step(f"scoring with {policy.label} on DuckDB"):
            rows = _fetch(con, to_sql(policy, "duckdb", as_of, relations))
        with step("explaining"):
            why = _fetch(con, to_sql(policy, "duckdb", as_of, relations, what="explain")) if explain else []
        return Scored(rows, why)
    finally:
        con.close()


def _fetch(con, sql: str) -> list[dict]:
    import duckdb

    try:
        table = con.sql(sql).to_arrow_table()  # Arrow gives aware UTC datetimes and exact decimals
    except duckdb.Error as err:  # a value the warehouse cannot hold, e.g. a decimal overflow
        raise DataError(f"the DuckDB engine could not score the data: {str(err).splitlines()[0]}") from None
    return table.to_pylist()
