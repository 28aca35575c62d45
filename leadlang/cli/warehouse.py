"""Commands for a warehouse: `compile` (one SQL statement), `dbt` (models and tests) and `init` (a ready project)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from leadlang.cli.app import main
from leadlang.cli.common import EXIT_FINDINGS, POLICY, AsOf, fail, load_policy, refuse, write_output
from leadlang.diagnostics import DataError


class TableMap(click.ParamType):
    """`NAME=RELATION`: read `ref("NAME")` / `source("a", "b")` (NAME `a.b`) from RELATION."""

    name = "NAME=RELATION"

    def convert(self, value, param, ctx):
        name, sep, relation = value.partition("=")
        if not sep or not name.strip() or not relation.strip():
            self.fail(f"{value!r} is not NAME=RELATION, e.g. stg_leads=analytics.leads", param, ctx)
        return name.strip(), relation.strip()


@main.command("compile")
@POLICY
@click.option("--dialect", required=True, type=click.Choice(["duckdb", "postgres", "snowflake", "bigquery", "spark"]))
@click.option("--as-of", type=AsOf(), default=None, help="Fix the as-of time; default: the warehouse's current time when the SQL runs.")
@click.option("--table", "tables", multiple=True, type=TableMap(), help="Map a declared relation to another one (repeatable).")
@click.option("--explain", "explain", is_flag=True, help="Compile the explanation rows instead of the scored rows.")
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False, path_type=Path), help="Write the SQL here.")
def compile_(policy: Path, dialect: str, as_of, tables, explain: bool, out: Path | None) -> None:
    """Compile POLICY into one SQL statement for a warehouse."""
    from leadlang.sql import to_sql

    checked = load_policy(policy)
    refuse(out)
    try:
        sql = to_sql(checked, dialect, as_of, dict(tables), what="explain" if explain else "score")
    except DataError as err:  # a --table naming no relation of the policy, or no relation at all
        fail(err)
    if out is not None:
        write_output(out, sql)
    else:
        click.echo(sql, nl=False)


@main.command("dbt")
@click.argument("policies", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="The models directory, e.g. models/leadlang.")
@click.option("--dialect", default="duckdb", show_default=True, type=click.Choice(["duckdb", "postgres", "snowflake", "bigquery", "spark"]))
@click.option("--table", "tables", multiple=True, type=TableMap(), help="Read a declared relation from another: NAME=x is ref('x'), NAME=a.b is source('a', 'b') (repeatable).")
@click.option("--sources", is_flag=True, help="Write OUT/sources.yml declaring the source() tables the dbt project does not declare (never overwrites).")
@click.option("--history", is_flag=True, help="Also write <policy>_history (the labels over time, SCD2, incremental) and <policy>_changes.")
def dbt(policies: tuple[Path, ...], out: Path, dialect: str, tables, sources: bool, history: bool) -> None:
    """Write dbt models, properties YAML, data tests and unit tests for POLICIES into OUT."""
    from leadlang.dbt import FailingTests, generate

    checked = [load_policy(p) for p in policies]
    try:
        result = generate(checked, out, dialect, dict(tables), sources, history)
    except FailingTests as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(EXIT_FINDINGS)
    except DataError as err:
        fail(err)
    for name, files in result.files.items():
        n = result.unit_tests[name]
        click.echo(f"{name}: {', '.join(str(f) for f in files)} ({n} unit test{'s' if n != 1 else ''})")
    if result.sources:
        click.echo(f"sources: {result.sources} (a stub: set each source's schema)")
    if result.kept:
        click.echo(f"warning: {result.kept} exists and is kept; declare the policies' source() tables there", err=True)


@main.command()
@click.argument("directory", required=False, default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option("--history", is_flag=True, help="Include the history models (plg_history, plg_changes), as `leadlang dbt --history`.")
def init(directory: Path, history: bool) -> None:
    """Create a ready project in DIRECTORY: example policy, sample data, dbt on DuckDB, pre-commit."""
    from leadlang.dbt import init_project

    try:
        written = init_project(directory, history)
    except DataError as err:
        fail(err)
    click.echo(f"created {len(written)} files in {directory}; next: cd {directory} && dbt build")
