"""`leadlang calibrate`: points and thresholds learned from closed deals, as an edit of the policy's numbers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from leadlang.cli.app import main
from leadlang.cli.common import ON_INVALID_ENUM, POLICY, AsOf, fail, load_policy, protect_data, refuse, write_output
from leadlang.cli.compare import Capacity
from leadlang.diagnostics import DataError


def _scores(ctx, param, value: str | None) -> list[str] | None:
    if value is None:
        return None
    names = [v.strip() for v in value.split(",") if v.strip()]
    if not names:
        raise click.BadParameter("give score names separated by commas, e.g. fit,engagement", ctx, param)
    return names


@main.command()
@POLICY
@click.option("--data", "data", required=True, type=click.Path(path_type=Path), help="Directory with one file per source.")
@click.option("--outcomes", required=True, type=click.Path(path_type=Path), help="What happened to each lead (.csv, .parquet, .jsonl).")
@click.option("--as-of", type=AsOf(), required=True, help="Score as of this past time (UTC); events after it are ignored.")
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False, path_type=Path), help="Write the calibrated policy here (else print the diff).")
@click.option("--scores", callback=_scores, help="Calibrate only these points scores (comma-separated; default all).")
@click.option("--derived", is_flag=True, help="Also fit the weights of derived scores that sum points scores (`0.6 * fit + 0.4 * engagement`).")
@click.option("--capacity", "capacity", multiple=True, type=Capacity(), help="Thresholds so a label holds about N leads (repeatable).")
@click.option("--holdout", type=click.FloatRange(0, 1, max_open=True), default=0.3, show_default=True, help="Share of leads kept out of the fit.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the hold-out split.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="The report's format.")
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path), help="Also write the HTML report here.")
@ON_INVALID_ENUM
def calibrate(policy: Path, data: Path, outcomes: Path, as_of: dt.datetime, out: Path | None, scores, derived: bool, capacity,
              holdout: float, seed: int, fmt: str, report: Path | None) -> None:
    """Learn POLICY's points and thresholds from closed deals; write the calibrated policy (-o) or print its diff, and a report.

    \b
    Examples:
      leadlang calibrate plg.lead --data data --outcomes data/outcomes.csv --as-of 2024-06-01 -o plg.calibrated.lead
      leadlang calibrate plg.lead --data data --outcomes data/outcomes.csv --as-of 2024-06-01 --report calibration.html
    Docs: docs/calibrate.md
    """
    from leadlang import outputs
    from leadlang.calibrate import calibrate as run_calibrate
    from leadlang.calibrate.report import render_json, render_text
    from leadlang.fmt.files import Formatted, unified_diff

    old = load_policy(policy)
    protect_data(old, data)
    outputs.protect([outcomes])
    refuse(out, report)
    try:
        result = run_calibrate(old, data, outcomes, as_of, scores, list(capacity), holdout, seed, derived)
        if report is not None:
            from leadlang.backtest.calibration import calibration_html

            outputs.write_text(report, calibration_html(result, data, outcomes, as_of, result.holdout))
    except DataError as err:
        fail(err)
    for w in result.warnings:
        click.echo(f"warning: {w}", err=True)
    diff = unified_diff(Formatted(old.path, result.old_text, result.new_text), "calibrated")
    if out is not None:
        write_output(out, result.new_text)
        click.echo(render_json(result.report) if fmt == "json" else render_text(result.report))
    elif fmt == "json":  # one JSON document on standard output: the report, the diff in it
        click.echo(render_json(result.report | {"diff": diff}))
    else:  # the diff on standard output (for `git apply`), the report on standard error
        click.echo(diff, nl=False)
        click.echo(render_text(result.report), err=True)
    if out is not None:
        click.echo(f"calibrated policy -> {out}", err=True)
    if report is not None:
        click.echo(f"report -> {report}", err=True)
