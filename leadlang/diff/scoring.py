"""Both policies' data registered once in one DuckDB connection; each policy scored whole when they cannot share one statement."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from pathlib import Path

from leadlang.diagnostics import DataError
from leadlang.diff.sides import Side


@dataclass
class _Source:
    """One data file registered for the diff: the columns it is checked for, and the policies reading it."""

    name: str
    path: Path
    cols: list
    key: str | None
    table: str


def register_both(con, old: Side, new: Side, data: Path) -> dict[str, dict[str, str]]:
    """Check and register the data files once for both policies: {"old"|"new": {source: relation}}.

    A source both policies declare alike — the same file, the same key, and every
    column both name of the same type — is registered once with the union of their
    columns (the usual case: a policy change rarely touches the sources); any other
    gets a relation of its own. On a bad file, each policy's sources are checked
    alone, in order, so the error is the one scoring OLD, then NEW, would report.
    """
    from leadlang.data.specs import sources as declared
    from leadlang.data.staging import register_file

    con.execute("SET TimeZone = 'UTC'")
    try:
        found = {name: declared(s.policy, data)
                 for name, s in (("old", old), ("new", new))}
        merged: list[_Source] = []
        use: dict[str, dict[str, _Source]] = {"old": {}, "new": {}}
        for side, sources in found.items():
            for name, path, cols, key in sources:
                src = next((m for m in merged if m.name == name and _fits(m, path, cols, key)), None)
                if src is None:
                    src = _Source(name, path, [], key, f"__src_{name}" if all(m.name != name for m in merged) else f"__src_{side}_{name}")
                    merged.append(src)
                by_name = {c.name: i for i, c in enumerate(src.cols)}
                for c in cols:
                    if c.name not in by_name:
                        src.cols.append(c)
                    elif c.required and not src.cols[by_name[c.name]].required:
                        src.cols[by_name[c.name]] = c
                use[side][name] = src
        relations = {id(src): register_file(con, src.path, src.cols, src.table, src.key) for src in merged}
        return {side: {name: relations[id(src)] for name, src in sources.items()} for side, sources in use.items()}
    except DataError as shared:
        _check_alone(old, new, data)
        raise DataError(f"{old.spec}: {shared}") from None


def _fits(src: _Source, path: Path, cols: list, key: str | None) -> bool:
    """Whether a source can be registered as `src` too: same file and key, no column of another type."""
    if src.path != path or (src.key is None) != (key is None) or (key is not None and src.cols[0].name != cols[0].name):
        return False
    types = {c.name: (c.kind, c.values) for c in src.cols}
    return all(types.get(c.name, (c.kind, c.values)) == (c.kind, c.values) for c in cols)


def _check_alone(old: Side, new: Side, data: Path) -> None:
    """Each policy's sources checked on their own, OLD first: raises the error scoring that policy would."""
    import duckdb

    from leadlang.data.staging import register_dataset

    for side in (old, new):
        con = duckdb.connect()
        try:
            register_dataset(con, side.policy, data)
        except DataError as err:
            raise DataError(f"{side.spec}: {err}") from None
        finally:
            con.close()


def plan_side(side: Side, tables: dict[str, str], as_of: dt.datetime):
    from leadlang.engine import relations_for
    from leadlang.sql import plan

    return plan(side.policy, "duckdb", as_of, relations_for(side.policy, tables))


_TEXT_ROLES = {"signal", "reason", "action", "policy", "as_of"}  # string columns of these roles: none a diff reads


def narrow(plan, policy):
    """The plan's outputs cut to what a diff reads and what could fail: the text columns of signals,
    reasons and actions, the policy and as-of go (no text column's value can be out of range)."""
    drop = {o.name for o in policy.outputs if o.role in _TEXT_ROLES and o.kind == "string" or o.role == "as_of"}
    return replace(plan, outputs=[(c, sql) for c, sql in plan.outputs if c not in drop])


def run_side(con, side: Side, what: str, plan, data: Path, as_of: dt.datetime, target: str) -> None:
    """`CREATE TEMP TABLE target` from the side's `score` or `explain` statement of `plan`."""
    import duckdb

    from leadlang.engine import _out_of_range, _query_error
    from leadlang.interrupt import reraise
    from leadlang.sql import DIALECTS, render

    try:
        con.execute(f"CREATE TEMP TABLE {DIALECTS['duckdb'].ident(target)} AS {render(plan, what)}")
    except (duckdb.Error, RuntimeError) as err:
        reraise(err)  # or Ctrl-C
        if isinstance(err, (duckdb.OutOfRangeException, duckdb.ConversionException)):
            found = _out_of_range(side.policy, data, as_of, err)
        else:
            found = _query_error(err) if what == "score" else DataError(
                f"the DuckDB engine could not explain the moved leads: {str(err).splitlines()[0]}")
        raise DataError(f"{side.spec}: {found}") from None


def explain_moved(con, side: Side, name: str, tables: dict[str, str], data: Path, as_of: dt.datetime) -> None:
    """The explanation rows of the moved leads (table `moved`) with one policy, as the temp table `<name>_why`.

    The leads and their events are cut down to the moved ones first, unless the
    policy pools `by account` (its aggregates read colleagues' events, with or
    without an accounts source) or reads an accounts source: then nothing is cut.
    """
    from leadlang.sql import DIALECTS

    q = DIALECTS["duckdb"].ident
    policy = side.policy
    if not con.execute("SELECT count(*) FROM moved").fetchall()[0][0]:
        con.execute(f"CREATE TEMP TABLE {q(name + '_why')} AS SELECT NULL::VARCHAR AS {q(policy.key)}, NULL::VARCHAR AS component, "
                    "NULL::VARCHAR AS kind, NULL::VARCHAR AS rule, NULL::DECIMAL(38, 2) AS points WHERE false")
        return
    whole = plan_side(side, tables, as_of)
    if policy.accounts is None and not any(scan.by_account for scan in whole.scans):
        lead_column = {"leads": policy.key, **{source: ev.lead or "lead" for source, ev in policy.events.items()}}
        tables = dict(tables)
        for source, column in lead_column.items():
            view = f"__moved_{name}_{source}"
            con.execute(f"CREATE TEMP VIEW {q(view)} AS SELECT * FROM {q(tables[source])} "
                        f"WHERE {q(column)} IN (SELECT key FROM moved)")
            tables[source] = view
        whole = plan_side(side, tables, as_of)
    run_side(con, side, "explain", whole, data, as_of, f"{name}_why")


def rules_changed(old_key: str, new_key: str, old: str = "old_why", new: str = "new_why") -> str:
    """SQL of `(key, rules)`: for each lead of the table `moved` (its column `key`), the sorted names
    (`score.rule`, `disqualify.gate`, `criteria.member`) of what fired on one side only, or with other
    points, between the explanation tables `old` and `new` (`explain_moved`'s, keyed by `old_key` / `new_key`).
    A moved lead whose firing is alike on both sides has no row."""
    from leadlang.sql import DIALECTS

    q = DIALECTS["duckdb"].ident
    firing = "SELECT w.{k} AS key, w.component, w.kind, w.rule, w.points FROM {t} w SEMI JOIN moved m ON w.{k} = m.key"
    return f"""
        WITH a AS ({firing.format(k=q(old_key), t=q(old))}), b AS ({firing.format(k=q(new_key), t=q(new))}),
        changed AS (
            SELECT coalesce(a.key, b.key) AS key, coalesce(a.component, b.component) || '.' || coalesce(a.rule, b.rule) AS what
            FROM a FULL JOIN b ON a.key = b.key AND a.component = b.component AND a.kind = b.kind AND a.rule = b.rule
            WHERE a.key IS NULL OR b.key IS NULL OR a.points IS DISTINCT FROM b.points)
        SELECT key, list_sort(list_distinct(list(what))) AS rules FROM changed GROUP BY key"""
