"""Commands that compare policies over data: `diff` (OLD against NEW) and `backtest` (against outcomes)."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from leadlang.cli.app import main
from leadlang.cli.common import AS_OF, EXIT_FINDINGS, ON_INVALID_ENUM, POLICY, AsOf, PolicyFile, fail, load_policy, protect_data, refuse, write_output
from leadlang.diagnostics import DataError


@main.command("diff")
@click.argument("old")
@click.argument("new")
@click.option("--data", "data", required=True, type=click.Path(path_type=Path), help="Directory with one file per source.")
@AS_OF
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True)
@click.option("--limit", type=click.IntRange(min=0), help="Show at most this many moved leads (text and markdown: 20 by default; json: all).")
@click.option("--exit-code", is_flag=True, help="Exit 1 when any lead moved, like `git diff --exit-code`.")
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False, path_type=Path), help="Write the diff here.")
@ON_INVALID_ENUM
def diff_(old: str, new: str, data: Path, as_of: dt.datetime, fmt: str, limit: int | None, exit_code: bool, out: Path | None) -> None:
    """What changing OLD into NEW does to the leads of DATA: files or GIT_REV:path."""
    import json

    from leadlang.diff import Side, diff, render_markdown
    from leadlang.diff import render_text as render_diff

    sides = [Side(spec, load_policy(spec)) for spec in (old, new)]
    try:
        for side in sides:
            protect_data(side.policy, data)
        refuse(out)
        result = diff(*sides, data, as_of, limit=limit if fmt == "json" else (20 if limit is None else limit))
    except DataError as err:
        fail(err)
    shown = 20 if limit is None else limit
    if fmt == "json":
        report = json.dumps(result, indent=2, ensure_ascii=False) + "\n"
    else:
        report = render_markdown(result, shown) if fmt == "markdown" else render_diff(result, shown) + "\n"
    if out is not None:
        write_output(out, report)
    else:
        click.echo(report, nl=False)
    sys.exit(EXIT_FINDINGS if exit_code and result["moved_count"] else 0)


class Capacity(click.ParamType):
    """`LABEL=N` or `GROUP.LABEL=N`: how many leads of a label the team can work."""

    name = "LABEL=N"

    def convert(self, value, param, ctx):
        label, sep, n = value.partition("=")
        if not sep or not label.strip() or not n.strip().isdigit():
            self.fail(f"{value!r} is not LABEL=N with N a whole number, e.g. sales_ready=400", param, ctx)
        return label.strip(), int(n)


@main.command()
@POLICY
@click.argument("challenger", required=False, type=PolicyFile())
@click.option("--data", "data", required=True, type=click.Path(path_type=Path), help="Directory with one file per source.")
@click.option("--outcomes", required=True, type=click.Path(path_type=Path), help="What happened to each lead (.csv, .parquet, .jsonl).")
@click.option("--as-of", type=AsOf(), required=True, help="Score as of this past time (UTC); events after it are ignored.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path), help="Also write the HTML report here.")
@click.option("--capacity", "capacity", multiple=True, type=Capacity(), help="Does a label's volume fit N leads? (repeatable)")
@click.option("--history-from", "history_from", type=AsOf(), help="Also score at each point from here to --as-of, --every DURATION: time to qualify and win rate by entry week.")
@click.option("--every", "every", metavar="DURATION", help="With --history-from: the step between points, `7 days`, `1 week` ...")
@ON_INVALID_ENUM
def backtest(policy: Path, challenger: Path | None, data: Path, outcomes: Path, as_of: dt.datetime, fmt: str,
             report: Path | None, capacity, history_from: dt.datetime | None, every: str | None) -> None:
    """Back-test POLICY (and a CHALLENGER) against closed deals: win rate, lift and revenue per label, band and decile."""
    from leadlang.backtest import backtest as run_backtest
    from leadlang.backtest.report import render_html, render_json, render_text

    from leadlang import outputs

    if (history_from is None) != (every is None):
        raise click.UsageError("--history-from and --every go together", click.get_current_context())
    champion, other = load_policy(policy), load_policy(challenger) if challenger is not None else None
    protect_data(champion, data)
    outputs.protect([outcomes])
    refuse(report)
    try:
        history = None
        if history_from is not None:
            from leadlang.history import points

            history = (points(history_from, as_of, every), every)
        result = run_backtest(champion, data, outcomes, as_of, other, list(capacity), history=history)
        if report is not None:
            outputs.write_text(report, render_html(result))
    except DataError as err:
        fail(err)
    for f in filter(None, (result.champion, result.challenger)):
        for w in f.warnings:
            click.echo(f"warning: {f.policy}: {w}", err=True)
    click.echo(render_json(result) if fmt == "json" else render_text(result))
    if report is not None:
        click.echo(f"report -> {report}", err=True)
