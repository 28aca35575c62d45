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


class PolicyFile(click.ParamType):
    """A policy file, or `GIT_REV:path`: the file as of a git revision, read by `load_policy` (`fs.locate`)."""

    name = "POLICY"
    _file = click.Path(exists=True, dir_okay=False, path_type=Path)

    def convert(self, value, param, ctx):
        if isinstance(value, str) and ":" in value and not Path(value).exists():
            return value  # GIT_REV:path; one that is not is refused when it is loaded
        return self._file.convert(value, param, ctx)


POLICY = click.argument("policy", type=PolicyFile())
POLICIES = click.argument("policies", nargs=-1, type=click.Path(exists=True, allow_dash=True, path_type=Path))


def policy_files(paths) -> list[Path]:
    """The policy files of a command that takes several: files as named, folders as every `*.lead`
    under them (minus what git ignores and the settings' `exclude`); none named: the settings'
    `policies`, else the working directory. Finding none is said on standard error, as ruff does."""
    from leadlang import config

    settings = click.get_current_context().find_object(config.Config) or config.Config()
    named = [str(p) for p in paths] or settings.get("policies") or ["."]
    found = config.expand(named, settings.get("exclude", ()))
    if not found:
        click.echo(f"warning: no .lead files in {', '.join(named)}", err=True)
    return [Path(p) for p in found]


def _on_invalid_enum(ctx, param, value: str) -> str:
    """`null`: the data files are read under `data.staging.on_invalid_enum("null")` for the whole command."""
    if value != "error":
        from leadlang.data.staging import on_invalid_enum

        ctx.with_resource(on_invalid_enum(value))
    return value


ON_INVALID_ENUM = click.option(
    "--on-invalid-enum", type=click.Choice(["error", "null"]), default="error", show_default=True, expose_value=False,
    callback=_on_invalid_enum, help="A data value outside its enum(...): stop with an error, or score it as missing (null), as the compiled SQL does.")


def render_diagnostics(diagnostics, sources: Sources, err: bool = True) -> str:
    """Diagnostics as text for standard error (or output), coloured when that stream gets colour."""
    return render_text(diagnostics, sources, paint=term.painter(sys.stderr if err else sys.stdout))


def fail(err: Exception, files=None) -> None:
    """Render a stage's failure and exit: 1 for policy errors (their lines quoted from `files`, an `fs.Files`,
    or from disk), 2 for unusable input."""
    if isinstance(err, LeadError):
        click.echo(render_diagnostics(err.diagnostics, Sources(files=files)), err=True)
        errors = sum(d.is_error for d in err.diagnostics)
        click.echo(f"{errors} error{'s' if errors != 1 else ''}", err=True)
        sys.exit(EXIT_FINDINGS)
    paint = term.painter(sys.stderr)
    click.echo(f"{paint('error:', 'error') if paint else 'error:'} {err}", err=True)
    sys.exit(EXIT_INPUT)


def load_policy(spec: str | Path):
    """The checked policy `spec` names: a file, or `GIT_REV:path` (`fs.locate`: read from git with the files it
    `use`s at that revision). A file and the files it `use`s become inputs no output may overwrite."""
    from leadlang import outputs
    from leadlang.check import load
    from leadlang.fs import WORK_TREE, locate

    try:
        files, path = locate(str(spec))
    except DataError as err:
        fail(err)
    on_disk = files is WORK_TREE
    if on_disk:
        outputs.protect([path])
    try:
        policy = load(path, files=files)
    except LeadError as err:
        fail(err, files)
    except OSError as err:
        fail(DataError(f"{path}: cannot read the policy: {err.strerror}" if on_disk else f"{spec}: {err.strerror}"))
    if on_disk:
        outputs.protect(m.path for m in policy.modules)
    return policy


def protect_data(policy, data: Path) -> None:
    """The data files `policy` reads from `data` become inputs too (a missing one is the reader's to report)."""
    from leadlang import outputs
    from leadlang.data.specs import find_source_file

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


def watchable(command):
    """Give a command `--watch`: run it, then again each time a policy or settings file under the
    folders it reads changes, until Ctrl-C (exit 130). Its exit codes become a line on standard error."""
    import functools

    @click.option("--watch", is_flag=True, help="Run again whenever a .lead or settings file changes (Ctrl-C stops).")
    @functools.wraps(command)
    def wrapper(*args, watch: bool, **kwargs):
        if not watch:
            return command(*args, **kwargs)
        try:
            import watchfiles
        except ImportError:
            fail(DataError("--watch needs the watchfiles package: pip install 'leadlang[watch]'"))
        named = [str(v) for value in kwargs.values() if isinstance(value, tuple) for v in value]
        roots = _watch_roots(named)
        while True:
            try:
                command(*args, **kwargs)
                code = 0
            except SystemExit as done:
                code = done.code or 0
            sys.stdout.flush()
            click.echo(f"[exit {code}] watching {', '.join(roots)} for changes to .lead and settings files; Ctrl-C stops", err=True)
            for _ in watchfiles.watch(*roots, watch_filter=_policy_or_settings, debounce=400, step=50):
                break
            click.echo("", err=True)

    return wrapper


def _watch_roots(named: list[str]) -> list[str]:
    """The folders to watch: the working directory, and those of the paths named (a `POLICY::test` too)."""
    import os

    roots = {os.getcwd()}
    for spec in named:
        path = Path(spec.split("::", 1)[0])
        if path.exists():
            roots.add(str((path if path.is_dir() else path.parent).resolve()))
    # a folder inside another is watched through it (watching is recursive)
    return sorted(r for r in roots if not any(r != o and r.startswith(o.rstrip(os.sep) + os.sep) for o in roots))


def _policy_or_settings(change, path: str) -> bool:
    name = Path(path).name
    return name.endswith(".lead") or name in ("leadlang.toml", "pyproject.toml")
