"""What the commands share: exit codes, the options and argument types, loading a policy, guarding outputs, failing with one line."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from leadlang import term
from leadlang.diagnostics import DataError, LeadError, Sources, render_text


EXIT_FINDINGS = 1
EXIT_INPUT = 2


class AsOf(click.ParamType):
    """`2024-06-01`, `2024-06-01T00:00:00Z` or `now`, always read as UTC."""

    name = "TIMESTAMP"

    def convert(self, value, param, ctx):
        if isinstance(value, dt.datetime):
            return value
        if value == "now":
            return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        from leadlang.syntax.literals import parse_timestamp

        try:
            return parse_timestamp(value)
        except (ValueError, OverflowError):
            self.fail(f"{value!r} is not a date or timestamp; use 2024-06-01, 2024-06-01T00:00:00Z or now", param, ctx)


AS_OF = click.option("--as-of", type=AsOf(), default="now", show_default=True, help="Score as of this time (UTC).")
POLICY = click.argument("policy", type=click.Path(exists=True, dir_okay=False, path_type=Path))


def _on_invalid_enum(ctx, param, value: str) -> str:
    """`null`: the data files are read under `io.on_invalid_enum("null")` for the whole command."""
    if value != "error":
        from leadlang.io import on_invalid_enum

        ctx.with_resource(on_invalid_enum(value))
    return value


ON_INVALID_ENUM = click.option(
    "--on-invalid-enum", type=click.Choice(["error", "null"]), default="error", show_default=True, expose_value=False,
    callback=_on_invalid_enum, help="A data value outside its enum(...): stop with an error, or score it as missing (null), as the compiled SQL does.")


def render_diagnostics(diagnostics, sources: Sources, err: bool = True) -> str:
    """Diagnostics as text for standard error (or output), coloured when that stream gets colour."""
    return render_text(diagnostics, sources, paint=term.painter(sys.stderr if err else sys.stdout))


def fail(err: Exception) -> None:
    """Render a stage's failure and exit: 1 for policy errors, 2 for unusable input."""
    if isinstance(err, LeadError):
        click.echo(render_diagnostics(err.diagnostics, Sources(getattr(err, "texts", {}))), err=True)
        errors = sum(d.is_error for d in err.diagnostics)
        click.echo(f"{errors} error{'s' if errors != 1 else ''}", err=True)
        sys.exit(EXIT_FINDINGS)
    paint = term.painter(sys.stderr)
    click.echo(f"{paint('error:', 'error') if paint else 'error:'} {err}", err=True)
    sys.exit(EXIT_INPUT)


def load_policy(path: Path):
    """The checked policy at `path`; it and the files it `use`s become inputs no output may overwrite."""
    from leadlang import outputs
    from leadlang.check import load

    outputs.protect([path])
    try:
        policy = load(path)
    except LeadError as err:
        fail(err)
    except OSError as err:
        fail(DataError(f"{path}: cannot read the policy: {err.strerror}"))
    outputs.protect(m.path for m in policy.modules)
    return policy


def protect_data(policy, data: Path) -> None:
    """The data files `policy` reads from `data` become inputs too (a missing one is the reader's to report)."""
    from leadlang import outputs
    from leadlang.io import find_source_file

    for name in ["leads", *(["accounts"] if policy.accounts is not None else []), *policy.events]:
        try:
            outputs.protect([find_source_file(data, name)])
        except DataError:
            pass


def refuse(*targets: Path | None) -> None:
    """Fail before any work when an output would replace an input, or two outputs are one file."""
    from leadlang import outputs

    named = [t for t in targets if t is not None]
    try:
        for i, target in enumerate(named):
            outputs.refuse(target)
            if other := next((o for o in named[:i] if outputs.same_file(o, target)), None):
                raise DataError(f"{target}: is also the other output ({other}); write each output to its own file")
    except DataError as err:
        fail(err)


def check_inputs(policy, data: Path, as_of: dt.datetime) -> None:
    """The data directory exists and the as-of time keeps every window in range (score, explain)."""
    if not data.is_dir():
        raise DataError(f"{data}: no such data directory")
    from leadlang.check.timerange import check_as_of

    check_as_of(policy, as_of)


def write_output(out: Path, text: str) -> None:
    """Write a command's text output to a file, atomically; one error line when it cannot."""
    from leadlang import outputs

    try:
        outputs.write_text(out, text)
    except DataError as err:
        fail(err)
