"""`leadlang changes`: the leads whose labels changed between two as-of times (the routing feed)."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from leadlang.cli.app import main
from leadlang.cli.common import AS_OF, ON_INVALID_ENUM, POLICY, AsOf, fail, load_policy, protect_data, refuse, write_output
from leadlang.diagnostics import DataError


@main.command()
@POLICY
@click.option("--data", "data", required=True, type=click.Path(path_type=Path), help="Directory with one file per source.")
@click.option("--since", type=AsOf(), required=True, help="The earlier time (UTC): labels as of then are the old ones.")
@AS_OF
@click.option("--format", "fmt", type=click.Choice(["csv", "json", "markdown"]), default="csv", show_default=True,
              help="csv: one row per changed lead (with -o, the file's extension picks .csv, .jsonl or .parquet); json: one document; markdown: a ticket.")
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False, path_type=Path), help="Write the changes here.")
@ON_INVALID_ENUM
def changes(policy: str, data: Path, since: dt.datetime, as_of: dt.datetime, fmt: str, out: Path | None) -> None:
    """The leads of DATA whose labels under POLICY differ between --since and --as-of: old and new labels,
    the actions of the new ones, and the rules whose firing changed."""
    import json

    from leadlang.history.feed import changes as compute, feed_columns, feed_rows, render_markdown

    checked = load_policy(policy)
    try:
        protect_data(checked, data)
        refuse(out)
        result = compute(checked, str(policy), data, since, as_of)
        if fmt == "csv":
            from leadlang.data.writers import write_rows

            write_rows(feed_rows(result, checked), feed_columns(checked), out, stream=sys.stdout)
    except DataError as err:
        fail(err)
    if fmt != "csv":
        text = json.dumps(result, indent=2, ensure_ascii=False) + "\n" if fmt == "json" else render_markdown(result)
        if out is not None:
            write_output(out, text)
        else:
            click.echo(text, nl=False)
    if out is not None:
        click.echo(f"{result['changed_count']} of {result['leads']} leads changed -> {out}", err=True)
