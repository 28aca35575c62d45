"""`leadlang history`: every lead's `score` row at each as-of point of a series, or the label changes between them."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from leadlang.cli.app import main
from leadlang.cli.common import ON_INVALID_ENUM, POLICY, AsOf, check_inputs, fail, load_policy, protect_data, refuse
from leadlang.diagnostics import DataError


@main.command()
@POLICY
@click.option("--data", "data", required=True, type=click.Path(path_type=Path), help="Directory with one file per source.")
@click.option("--from", "from_", required=True, type=AsOf(), help="The first as-of point (UTC).")
@click.option("--to", "to", required=True, type=AsOf(), help="The last as-of point: the series stops at or before it (UTC).")
@click.option("--every", "every", required=True, metavar="DURATION", help="The step between points: `7 days`, `1 week`, `12 hours`, `1d` ...")
@click.option("--lead", "leads", multiple=True, metavar="KEY", help="Only this lead's rows (repeatable).")
@click.option("--changes", "changes", is_flag=True, help="Only the label changes between consecutive points: key, column, previous_as_of, as_of, old, new.")
@click.option("--engine", type=click.Choice(["duckdb", "python"]), default="duckdb", show_default=True, help="duckdb: one compiled statement, in-process; python: the reference interpreter at each point.")
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False, path_type=Path), help="Write here (.csv, .parquet, .jsonl).")
@ON_INVALID_ENUM
def history(policy: Path, data: Path, from_: dt.datetime, to: dt.datetime, every: str, leads: tuple[str, ...], changes: bool,
            engine: str, out: Path | None) -> None:
    """Score every lead of DATA at each as-of point from FROM to TO, every DURATION: `score`'s rows, by key then as-of."""
    from leadlang.history import points, write_history

    checked = load_policy(policy)
    protect_data(checked, data)
    refuse(out)
    try:
        when = points(from_, to, every)
        check_inputs(checked, data, when[-1])
        count = write_history(checked, data, when, list(dict.fromkeys(leads)) or None, changes, out, sys.stdout, engine)
    except DataError as err:
        fail(err)
    if out is not None:
        what = "label changes" if changes else f"rows ({len(when)} as-of points)"
        click.echo(f"wrote {count} {what} -> {out}", err=True)
