"""Checked policy -> one SQL statement per dialect, through Jinja templates.

    to_sql(policy, "duckdb", as_of=None, tables={})          the scored rows
    to_sql(policy, "duckdb", what="explain")                 the explanation rows
    to_sql(policy, "duckdb", what="contributions")           the scored rows, then each points rule's contribution

Templates live in `templates/<dialect>/` and fall back to `templates/base/`,
so a dialect overrides only the statements whose shape truly differs.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from pathlib import Path
from typing import TYPE_CHECKING

from leadlang.diagnostics import DataError, did_you_mean
from leadlang.sql.dialects import DIALECTS, Dialect

if TYPE_CHECKING:  # jinja2 and the compiler are imported when SQL is made: the quoting of `dialects` alone
    import jinja2  # (the data checks of `explain`, `score --engine python`) does not pay for them

    from leadlang.check.policy import Policy
    from leadlang.sql.compiler import Plan

__all__ = ["DIALECTS", "Dialect", "check_tables", "plan", "relation_names", "render", "to_sql"]


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """Compiled templates kept in the user's temp dir (Jinja checks the source's
    checksum), so a `leadlang compile` does not compile them anew each run. The
    cache is only a speed-up: when it cannot be read or written, it is skipped."""
    import jinja2

    class _BytecodeCache(jinja2.FileSystemBytecodeCache):
        def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
            try:
                super().load_bytecode(bucket)
            except OSError:
                pass

        def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
            try:
                super().dump_bytecode(bucket)
            except OSError:
                pass

    try:
        return _BytecodeCache(pattern="__leadlang_%s.cache")
    except (OSError, RuntimeError):  # no usable temp dir
        return None


@functools.lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
        bytecode_cache=_bytecode_cache(),
    )


def relation_names(policy: Policy) -> list[str]:
    """The names `--table` may map: each declared relation, `x` for ref("x"), `a.b` for source("a", "b")."""
    rels = [policy.leads.relation, *([policy.accounts.relation] if policy.accounts else []), *(e.relation for e in policy.events.values())]
    return list(dict.fromkeys(".".join(r.parts) for r in rels))


def check_tables(tables: dict[str, str], known: list[str], max_parts: int = 3,
                 shape: str = "table, schema.table or database.schema.table") -> None:
    """Refuse a `--table NAME=TARGET` whose NAME is no relation in `known` (with a did-you-mean) or
    whose TARGET is not 1 to `max_parts` dot-separated parts, each a non-empty name of printable
    characters without quotes (`a..b`, `.a`, `"a".b` are refused). Raises `DataError` (exit code 2)."""
    for name, target in tables.items():
        shown = f"--table {name}={target}".encode("unicode_escape").decode("ascii")
        if name not in known:
            hint = did_you_mean(name, known)
            reads = ", ".join(f"`{k}`" for k in known)
            raise DataError(f"{shown}: `{name}` is not a relation the policy reads ({reads})" + (f"; {hint[0]}" if hint else ""))
        parts = target.split(".")
        if len(parts) > max_parts or any(not p or p != p.strip() or any(c in "\"'`" or not c.isprintable() for c in p) for p in parts):
            raise DataError(f"{shown}: `{target}` is not a relation name; write {shape}: names without quotes, joined by single dots")


def plan(policy: Policy, dialect: str, as_of: dt.datetime | None = None, tables: dict[str, str] | None = None, **hooks) -> Plan:
    """The pieces of SQL a policy compiles to (see `compiler.py`).

    `series` (a list of as-of times, `leadlang.history`) makes it the series' plan: one row per lead per point;
    `only` (lead keys) keeps those leads' rows of it.

    `hooks` are for generators that wrap the SQL (dbt): `relation_sql(Relation) -> text` writes
    each declared relation, `as_of_sql` is the as-of expression, both used verbatim.
    """
    from leadlang.sql.compiler import Compiler

    if tables:
        check_tables(tables, relation_names(policy))
    return Compiler(policy, DIALECTS[dialect], as_of, tables or {}, **hooks).plan()


def to_sql(policy: Policy, dialect: str, as_of: dt.datetime | None = None, tables: dict[str, str] | None = None, what: str = "score",
           series: list[dt.datetime] | None = None, only: list[str] | None = None) -> str:
    """One statement: `what` is `score` (one row per lead), `explain` (the fired rules) or `contributions`
    (the scored rows with, after their columns, for the Nth rule of `Plan.rules` (every rule of every points
    score, in declaration order) a column `points:N`, the rule's unrounded contribution to the lead's score
    (0 when it did not fire), then for each a column `value:N`, what the rule reads; doubles).

    With `series` (as-of times, ascending; `what="score"` only), the rows of `score` at each of them in one
    statement, ordered by key then as-of (`leadlang history`); `only` keeps the rows of those lead keys."""
    if series is not None and what != "score":
        raise ValueError("to_sql: a series gives the scored rows only")
    hooks = {} if series is None else {"series": list(series), "only": list(only or [])}
    return render(plan(policy, dialect, as_of, tables, **hooks), what)


def render(p: Plan, what: str = "score") -> str:
    """The statement of a plan: `what` is `score`, `explain` or `contributions` (see `to_sql`)."""
    from leadlang import __version__

    policy, d = p.policy, p.dialect
    if what == "contributions":
        # numbered, not named: engines compare column names ignoring case, and rule ids `A` and `a` may both exist
        points = [(f"points:{i}", sql) for i, (_, _, sql, _) in enumerate(p.rules, 1)]
        values = [(f"value:{i}", sql) for i, (_, _, _, sql) in enumerate(p.rules, 1)]
        p = dataclasses.replace(p, outputs=p.outputs + points + values)
        what = "score"
    template = _env().select_template([f"{d.name}/{what}.sql.j2", f"base/{what}.sql.j2"])
    last = d.ident(f"__step{len(p.layers)}" if p.layers else "__base")
    return template.render(plan=p, d=d, q=d.ident, policy=policy, last=last, version=__version__, what="" if what == "score" else what)
