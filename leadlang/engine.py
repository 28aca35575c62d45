"""The embedded engine: compile a policy to DuckDB SQL and run it in-process over `--data` files."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from leadlang.check.policy import Policy
from leadlang.diagnostics import DataError
from leadlang.interrupt import reraise
from leadlang.outputs import atomic


@dataclass
class Scored:
    """The engine's result, kept as Arrow: rows become Python dicts only when asked for."""

    table: object | None  # pyarrow.Table; None when DuckDB wrote the file itself
    explain_table: object | None
    written: int | None = None  # rows DuckDB wrote straight to the output file

    @property
    def rows(self) -> list[dict]:
        return self.table.to_pylist()

    @property
    def explain(self) -> list[dict]:
        return [] if self.explain_table is None else self.explain_table.to_pylist()


# Parquet column types `io.write_rows` gives these outputs; a score always fits scale 4.
_PARQUET = {"string": "VARCHAR", "int": "BIGINT", "bool": "BOOLEAN", "date": "DATE", "timestamp": "TIMESTAMPTZ", "score": "DECIMAL(38, 4)"}


def _streamable(policy: Policy) -> bool:
    """Whether DuckDB can write the Parquet file itself with the Python writer's exact types.

    A `number` signal's scale depends on its values, which only the Python writer measures.
    """
    return all(o.kind != "number" or o.role == "score" for o in policy.outputs)


def relations_for(policy: Policy, tables: dict[str, str]) -> dict[str, str]:
    """Each relation the policy declares (`x` or `a.b`) -> the DuckDB table or view of its source."""
    relations = {".".join(policy.leads.relation.parts): tables["leads"]}
    if policy.accounts is not None:
        relations[".".join(policy.accounts.relation.parts)] = tables["accounts"]
    relations.update({".".join(ev.relation.parts): tables[name] for name, ev in policy.events.items()})
    return relations


def score_duckdb(policy: Policy, data_dir: Path, as_of: dt.datetime, explain: bool = False, parquet: Path | None = None) -> Scored:
    """Score every lead of `data_dir` on DuckDB: the same rows as the Python engine.

    With `parquet`, and when `_streamable`, DuckDB writes the rows to that file
    itself as the query runs; `Scored.table` is then None and `written` the count.
    """
    import duckdb

    from leadlang.check.timerange import check_as_of
    from leadlang.io import register_dataset
    from leadlang.progress import step
    from leadlang.sql import to_sql

    check_as_of(policy, as_of)
    con = duckdb.connect()
    try:
        with step(f"checking the data files in {data_dir}"):
            tables = register_dataset(con, policy.leads, policy.accounts, list(policy.events.values()), data_dir)
        relations = relations_for(policy, tables)
        sql = to_sql(policy, "duckdb", as_of, relations)
        table, written = None, None
        try:
            with step(f"scoring with {policy.label} on DuckDB"):
                if parquet is not None and _streamable(policy):
                    written = _copy(con, policy, sql, parquet)
                else:
                    table = _fetch(con, sql)
            why = None
            if explain:
                with step("explaining"):
                    why = _fetch(con, to_sql(policy, "duckdb", as_of, relations, what="explain"))
        except (duckdb.OutOfRangeException, duckdb.ConversionException) as err:
            raise _out_of_range(policy, data_dir, as_of, err) from None
        return Scored(table, why, written)
    finally:
        con.close()


def _out_of_range(policy: Policy, data_dir: Path, as_of: dt.datetime, err: Exception) -> DataError:
    """A value DuckDB could not hold: the interpreter, which checks every value it computes
    (`values.OutOfRange`), names the policy line and the lead, so both engines say the same."""
    from leadlang.interpret import evaluate
    from leadlang.io import load_dataset

    data = load_dataset(policy.leads, policy.accounts, list(policy.events.values()), data_dir)
    try:
        evaluate(policy, data.leads, data.accounts, data.events, as_of)
    except DataError as found:
        return found
    return DataError(f"the DuckDB engine could not score the data: a computed value is out of its range ({type(err).__name__})")


def _query_error(err: Exception) -> DataError:
    """A failed query as one line: a data file DuckDB could not read while scoring (it reads Parquet
    pages lazily) is named as the Python engine names it; anything else is the engine's first line."""
    import re

    from leadlang.io import _duck_error

    failed = re.search(r'Failed to read file "([^"]+)"', str(err))
    if failed:
        return _duck_error(Path(failed[1]), err)
    return DataError(f"the DuckDB engine could not score the data: {str(err).splitlines()[0]}")


def _fetch(con, sql: str):
    import duckdb

    try:
        return con.sql(sql).to_arrow_table()  # Arrow gives aware UTC datetimes and exact decimals
    except (duckdb.Error, RuntimeError) as err:  # a value the warehouse cannot hold, e.g. a decimal overflow
        reraise(err)  # or Ctrl-C
        if isinstance(err, (duckdb.OutOfRangeException, duckdb.ConversionException)):
            raise  # `score_duckdb` finds where
        raise _query_error(err) from None


def _copy(con, policy: Policy, sql: str, out: Path) -> int:
    """`COPY` the scored rows to a Parquet file, typed as `io.write_rows` types them."""
    import duckdb

    from leadlang.sql import DIALECTS

    q = DIALECTS["duckdb"].ident  # the dialect's one quoting rule
    cols = ", ".join(
        f"CAST({q(o.name)} AS {_PARQUET['score' if o.role == 'score' else o.kind]}) AS {q(o.name)}" for o in policy.outputs
    )
    with atomic(out) as tmp:  # DuckDB writes a temporary file; it replaces `out` once complete
        target = "'" + str(tmp).replace("'", "''") + "'"
        try:
            con.execute("SET preserve_insertion_order = true")
            # a projection keeps the compiled query's ORDER BY while insertion order is preserved
            return con.execute(f"COPY (SELECT {cols} FROM (\n{sql}\n) AS scored) TO {target} (FORMAT parquet)").fetchall()[0][0]
        except (duckdb.Error, RuntimeError) as err:
            reraise(err)
            if isinstance(err, duckdb.IOException):
                raise DataError(f"{out}: cannot write: {str(err).splitlines()[0]}") from None
            if isinstance(err, (duckdb.OutOfRangeException, duckdb.ConversionException)):
                raise  # `score_duckdb` finds where
            raise _query_error(err) from None
