"""Commands that score data: `score` (every lead, with the data warnings) and `explain` (one lead)."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from leadlang import term
from leadlang.cli.app import main
from leadlang.cli.common import AS_OF, EXIT_FINDINGS, ON_INVALID_ENUM, POLICY, AsOf, check_inputs, fail, load_policy, protect_data, refuse
from leadlang.diagnostics import DataError, Sources, render_text


def _score(policy, data: Path, as_of: dt.datetime, engine: str, explain: bool = False, parquet: Path | None = None, text=None,
           warn=None):
    """Rows (and explanation rows) of every lead in `data`, on DuckDB (`--engine python` streams: `engine.score_python`).

    `warn(profile)` gets the data profile before scoring (the data-aware lint rules, `score`'s warnings)."""
    check_inputs(policy, data, as_of)
    from leadlang.engine import score_duckdb

    return score_duckdb(policy, data, as_of, explain=explain, parquet=parquet, text=text, inspect=warn)


@main.command()
@POLICY
@click.option("--data", "data", required=True, type=click.Path(path_type=Path), help="Directory with one file per source.")
@AS_OF
@click.option("--engine", type=click.Choice(["duckdb", "python"]), default="duckdb", show_default=True, help="duckdb: compiled SQL, in-process; python: the reference interpreter.")
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False, path_type=Path), help="Write here (.csv, .parquet, .jsonl).")
@click.option("--explain", "explain_out", type=click.Path(dir_okay=False, path_type=Path), help="Write the explanation rows here.")
@ON_INVALID_ENUM
@click.option("--strict", is_flag=True, help="Exit 1 without scoring when the data gets a warning (lint rules L4xx).")
@click.option("--summary", "summary", is_flag=False, flag_value="text", type=click.Choice(["text", "json"]), default=None,
              help="Print a summary instead of the rows (rows still go to -o): per score its distribution and band cut-offs, per label its count and share. `--summary json` for JSON.")
def score(policy: Path, data: Path, as_of: dt.datetime, engine: str, out: Path | None, explain_out: Path | None, strict: bool,
          summary: str | None) -> None:
    """Score every lead of DATA with POLICY: one row per lead, ordered by key.

    \b
    Examples:
      leadlang score policies/plg/plg.lead --data policies/plg/data --as-of 2024-06-01 -o scored.csv
      leadlang score                         # the project's policy, data and as-of (docs/config.md)
      leadlang score --summary               # how the leads spread over scores and labels
    Docs: docs/cli.md#leadlang-score
    """
    from leadlang import outputs
    from leadlang.interpret import EXPLAIN_COLUMNS
    from leadlang.data.writers import write_table

    checked = load_policy(policy)
    protect_data(checked, data)
    refuse(out, explain_out)
    warn = _DataWarnings(checked, as_of, strict)
    try:
        with outputs.together():  # -o and --explain: both files replaced, or neither
            if summary is not None:  # the rows as a table, summarized; written to -o too
                result = _score(checked, data, as_of, engine, explain=explain_out is not None, warn=warn)
                if out is not None:
                    write_table(result.table, [(o.name, o.kind) for o in checked.outputs], out)
                if explain_out is not None:
                    write_table(result.explain_table, [(checked.key, "string"), *EXPLAIN_COLUMNS], explain_out)
            elif engine == "python":  # the interpreter streams: each chunk's rows are written as it is scored
                from leadlang.engine import score_python

                check_inputs(checked, data, as_of)
                result, count = None, score_python(checked, data, as_of, out, sys.stdout, explain_out, inspect=warn)
            else:
                parquet = out if out is not None and out.suffix.lower() == ".parquet" else None
                text = (out, sys.stdout, explain_out)  # CSV and JSONL: DuckDB formats the lines as the query runs
                result = _score(checked, data, as_of, engine, explain=explain_out is not None, parquet=parquet, text=text, warn=warn)
                columns = [(o.name, o.kind) for o in checked.outputs]
                why_columns = [(checked.key, "string"), *EXPLAIN_COLUMNS]
                # DuckDB or Arrow straight to the file; rows only for CSV and JSONL
                if result.table is not None:
                    write_table(result.table, columns, out, stream=sys.stdout)
                if explain_out is not None and not result.explained:
                    write_table(result.explain_table, why_columns, explain_out)
    except DataError as err:
        fail(err)
    warn.show()
    if summary is not None:
        _show_summary(checked, result.table, summary)
    if out is not None:
        if result is not None:
            count = result.written if result.table is None else result.table.num_rows
        click.echo(f"scored {count} leads -> {out}", err=True)


def _show_summary(policy, table, fmt: str) -> None:
    from leadlang.summary import render_text, summarize

    found = summarize(policy, table)
    if fmt == "json":
        import json

        click.echo(json.dumps(found, indent=2, ensure_ascii=False))
    else:
        click.echo(render_text(found), nl=False)


class _DataWarnings:
    """What `score` does with the data profile: the data-aware lint rules (`L4xx`, as the policy's lint settings
    and inline ignores select them) as warnings on standard error once the leads are scored (a run that fails
    shows its one error line only); with `strict`, any of them exits 1 before anything is scored."""

    def __init__(self, policy, as_of: dt.datetime, strict: bool):
        self.policy, self.as_of, self.strict = policy, as_of, strict
        self.found: list = []

    def __call__(self, profile) -> None:
        if profile is None:
            return
        from dataclasses import replace

        from leadlang.lint import all_rules, lint
        from leadlang.lint.config import load_settings

        known = all_rules()
        settings = load_settings(Path(self.policy.path), known)
        codes = tuple(c for c in known if c.startswith("L4") and settings.enabled(c, self.policy.path))
        self.found = lint(self.policy, replace(settings, select=codes), profile, self.as_of) if codes else []
        if self.found and self.strict:
            self.show()
            n = len(self.found)
            click.echo(f"error: --strict: {n} data warning{'s' if n != 1 else ''}; nothing was scored", err=True)
            sys.exit(EXIT_FINDINGS)

    def show(self) -> None:
        if self.found:
            click.echo(render_text(self.found, Sources(self.policy.texts)), err=True)


@main.command()
@POLICY
@click.option("--data", "data", required=True, type=click.Path(path_type=Path))
@click.option("--lead", "lead", required=True, help="The key of the lead to explain.")
@AS_OF
@click.option("--history", is_flag=True, help="The lead's timeline instead: at each as-of point --from .. --to, --every DURATION, where a label changed, what moved it.")
@click.option("--from", "from_", type=AsOf(), help="With --history: the first as-of point (UTC).")
@click.option("--to", "to", type=AsOf(), help="With --history: the last as-of point (UTC).")
@click.option("--every", "every", metavar="DURATION", help="With --history: the step between points, `7 days`, `1 week`, `12 hours` ...")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True,
              help="json: a stable schema (leadlang.explain/1, with --history leadlang.timeline/1); markdown: for a CRM note or ticket.")
@ON_INVALID_ENUM
def explain(policy: Path, data: Path, lead: str, as_of: dt.datetime, history: bool, from_: dt.datetime | None, to: dt.datetime | None,
            every: str | None, fmt: str) -> None:
    """Why a lead scored as it did: rules, bands, gates, criteria, cell and action (--history: how that changed over time).

    \b
    Examples:
      leadlang explain policies/plg/plg.lead --data policies/plg/data --lead L00042 --as-of 2024-06-01
      leadlang explain plg.lead --data data --lead L00042 --format markdown      # paste into the CRM
      leadlang explain plg.lead --data data --lead L00042 --history --from 2024-03-01 --to 2024-06-01 --every "1 week"
    Docs: docs/cli.md#leadlang-explain
    """
    from leadlang.explain import explanation, render_markdown, render_text, to_json
    from leadlang.interpret import evaluate, uses_account_events
    from leadlang.data.one_lead import close_keys, load_lead

    ctx = click.get_current_context()
    if history and (from_ is None or to is None or every is None):
        raise click.UsageError("--history needs --from, --to and --every", ctx)
    if not history and (from_ is not None or to is not None or every is not None):
        raise click.UsageError("--from, --to and --every go with --history", ctx)
    if history and fmt == "markdown":
        raise click.UsageError("--format markdown explains one as-of; the --history timeline is text or json", ctx)
    if history and ctx.get_parameter_source("as_of") is not click.core.ParameterSource.DEFAULT:
        raise click.UsageError("--as-of and --history exclude each other: the timeline's points are --from .. --to", ctx)
    checked = load_policy(policy)
    by_account = uses_account_events(checked)
    try:
        if history:
            from leadlang.history import points

            when = points(from_, to, every)
        for t in (when[0], when[-1]) if history else (as_of,):
            check_inputs(checked, data, t)
        rows = load_lead(checked, data, lead, by_account)
        if rows is None:
            from leadlang.diagnostics import did_you_mean

            hints = did_you_mean(lead, close_keys(checked, data, lead))
            raise DataError(f"no lead with {checked.key} {lead!r} in {data}" + (f"; {hints[0]}" if hints else ""))
        if history:
            from leadlang.history.timeline import render_text as render_timeline, timeline

            found = timeline(checked, rows, lead, when)
    except DataError as err:
        fail(err)
    if history:
        import json

        click.echo(json.dumps(found, indent=2, ensure_ascii=False) if fmt == "json" else render_timeline(found, paint=term.painter(sys.stdout)))
        return
    state = evaluate(checked, rows.leads, rows.accounts, rows.events, as_of).states[lead]
    doc = explanation(checked, state, as_of)
    if fmt == "json":
        click.echo(to_json(doc))
    elif fmt == "markdown":
        click.echo(render_markdown(doc), nl=False)
    else:
        click.echo(render_text(doc, paint=term.painter(sys.stdout)))
