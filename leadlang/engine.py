"""The embedded engine: compile a policy to DuckDB SQL and run it in-process over `--data` files."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from leadlang.check.policy import Policy
from leadlang.diagnostics import DataError


@dataclass
class Scored:
    """The engine's result, kept as Arrow: rows become Python dicts only when asked for."""

    table: object  # pyarrow.Table
    explain_table: object | None

    @property
    def rows(self) -> list[dict]:
        return self.table.to_pylist()

    @property
    def explain(self) -> list[dict]:
        return [] if self.explain_table is None else self.explain_table.to_pylist()


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
            table = _fetch(con, to_sql(policy, "duckdb", as_of, relations))
        why = None
        if explain:
            with step("explaining"):
                why = _fetch(con, to_sql(policy, "duckdb", as_of, relations, what="explain"))
        return Scored(table, why)
    finally:
        con.close()


def _fetch(con, sql: str):
    import duckdb

    try:
        return con.sql(sql).to_arrow_table()  # Arrow gives aware UTC datetimes and exact decimals
    except duckdb.Error as err:  # a value the warehouse cannot hold, e.g. a decimal overflow
        raise DataError(f"the DuckDB engine could not score the data: {str(err).splitlines()[0]}") from None
