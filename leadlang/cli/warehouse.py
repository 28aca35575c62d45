"""Commands for a warehouse: `compile` (one SQL statement), `dbt` (models and tests) and `init` (a ready project)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from leadlang.cli.app import main
from leadlang.cli.common import EXIT_FINDINGS, POLICIES, POLICY, AsOf, fail, load_policy, policy_files, refuse, write_output
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
        sql = to_sql(checked, dialect, as_of, _settings().tables_for(policy, checked, dict(tables)), what="explain" if explain else "score")
    except DataError as err:  # a --table naming no relation of the policy, or no relation at all
        fail(err)
    if out is not None:
        write_output(out, sql)
    else:
        click.echo(sql, nl=False)


@main.command("dbt")
@POLICIES
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="The models directory, e.g. models/leadlang.")
@click.option("--dialect", default="duckdb", show_default=True, type=click.Choice(["duckdb", "postgres", "snowflake", "bigquery", "spark"]))
@click.option("--table", "tables", multiple=True, type=TableMap(), help="Read a declared relation from another: NAME=x is ref('x'), NAME=a.b is source('a', 'b') (repeatable).")
@click.option("--sources", is_flag=True, help="Write OUT/sources.yml declaring the source() tables the dbt project does not declare (never overwrites).")
@click.option("--history", is_flag=True, help="Also write <policy>_history (the labels over time, SCD2, incremental) and <policy>_changes.")
@click.option("--fail-on-change", is_flag=True, help="Exit 1 if a model file was created or changed, or is untracked by git (a pre-commit hook: add them and commit again).")
def dbt(policies: tuple[Path, ...], out: Path, dialect: str, tables, sources: bool, history: bool, fail_on_change: bool) -> None:
    """Write dbt models, properties YAML, data tests and unit tests for POLICIES into OUT.

    \b
    Examples:
      leadlang dbt                         # the project's policies, --out and tables from its settings
      leadlang dbt policies/plg.lead --out models/leadlang --table stg_leads=raw.leads
    Docs: docs/dbt.md
    """
    from leadlang.dbt import FailingTests, generate

    policies = policy_files(policies)
    checked = [load_policy(p) for p in policies]
    before = _files_under(out) if fail_on_change else {}
    try:
        result = generate(checked, out, dialect, _tables_of_all(policies, checked, dict(tables)), sources, history)
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
    if fail_on_change:
        written = [Path(f) for files in result.files.values() for f in files] + ([Path(result.sources)] if result.sources else [])
        stale = [f for f in written if before.get(f.resolve()) != f.read_bytes()] + _untracked(written)
        if stale:
            shown = ", ".join(dict.fromkeys(str(f) for f in stale))
            click.echo(f"error: models changed or not in git: {shown}; `git add` them and commit again", err=True)
            sys.exit(EXIT_FINDINGS)


def _files_under(folder: Path) -> dict[Path, bytes]:
    return {f.resolve(): f.read_bytes() for f in folder.rglob("*") if f.is_file()} if folder.is_dir() else {}


def _untracked(files: list[Path]) -> list[Path]:
    """The files git does not track (outside a git work tree or without git: none)."""
    import subprocess

    if not files:
        return []
    try:
        proc = subprocess.run(["git", "ls-files", "--others", "--exclude-standard", "--", *map(str, files)],
                              capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return []
    return [Path(line) for line in proc.stdout.splitlines() if line] if proc.returncode == 0 else []


def _settings():
    from leadlang.config import Config

    return click.get_current_context().find_object(Config) or Config()


def _tables_of_all(paths, policies, given: dict[str, str]) -> dict[str, str]:
    """The relation mappings of every policy of one `dbt` run; two policies mapping one name
    differently (their `[policy."..."]` tables) cannot share a models directory."""
    merged: dict[str, str] = dict(given)
    settings = _settings()
    for path, policy in zip(paths, policies):
        for name, relation in settings.tables_for(path, policy, {}).items():
            if name in given:  # the command line's mapping wins over every policy's
                continue
            if merged.setdefault(name, relation) != relation:
                fail(DataError(f"{path}: maps `{name}` to `{relation}`, another policy of this run to `{merged[name]}`; run `leadlang dbt` once per mapping"))
    return merged


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
