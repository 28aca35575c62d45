"""The `leadlang` command group: the `--color` option, and the one place a command's faults become exit codes."""

from __future__ import annotations

import sys

import click

from leadlang import __version__, interrupt, term
from leadlang.cli.common import EXIT_INPUT


def _color_first(args: list[str]) -> list[str]:
    """`args` with every `--color MODE` / `--color=MODE` (or `--colour`) moved to the front, up to a `--`."""
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest.extend(args[i:])
            break
        if arg in ("--color", "--colour") and i + 1 < len(args):
            front += [arg, args[i + 1]]
            i += 2
            continue
        if arg.startswith(("--color=", "--colour=")):
            front.append(arg)
        else:
            rest.append(arg)
        i += 1
    return front + rest


class _Commands(click.Group):
    """The command group; `invoke` is the one place a command's faults become exit codes.

    Ctrl-C or SIGTERM: one line, 130 (143 for SIGTERM). An OSError that reached
    here (unreadable file, full disk on standard output): one line naming the file,
    2. A closed pipe (`| head`): silence, 0. Standard output is flushed here, so a
    full disk is reported like any other write error and not at interpreter exit.
    """

    def parse_args(self, ctx, args):
        """`--color MODE` is the group's option, but may be written after the command too."""
        return super().parse_args(ctx, _color_first(args))

    def make_context(self, *args, **kwargs):
        try:  # a signal while the options are parsed
            return super().make_context(*args, **kwargs)
        except KeyboardInterrupt:
            _interrupted()

    def invoke(self, ctx):
        try:
            try:
                from leadlang import outputs

                outputs.reset()
                return super().invoke(ctx)
            finally:
                sys.stdout.flush()
        except BrokenPipeError:
            _quiet_stdout()
        except KeyboardInterrupt:
            _interrupted()
        except SystemExit:
            if interrupt.received is not None:  # a DuckDB "interrupted" that became an error on the way
                _interrupted()
            raise
        except OSError as err:
            if interrupt.received is not None:
                _interrupted()
            # outputs.py names its target; an OSError without a file name comes from standard output
            where = err.filename or "<stdout>"
            click.echo(f"error: {where}: {'cannot write: ' if err.filename is None else ''}{err.strerror or err}", err=True)
            _quiet_stdout(EXIT_INPUT)
        except Exception:
            if interrupt.received is not None:
                _interrupted()
            raise


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(version=__version__, prog_name="leadlang")
@click.option("--color", "--colour", "color", type=click.Choice(term.MODES), default="auto", show_default=True,
              help="Colour diagnostics and results: auto (on a terminal, unless NO_COLOR is set), always, never.")
@click.pass_context
def main(ctx: click.Context, color: str) -> None:
    """Qualification-as-code: check, test, score and explain `.lead` policies."""
    term.set_mode(color)
    if term.forced():
        ctx.color = True  # click would strip the codes from a stream that is not a terminal
    if ctx.invoked_subcommand in _NO_SETTINGS:
        return
    from leadlang import config
    from leadlang.diagnostics import DataError

    try:
        settings = config.load()
    except DataError as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(EXIT_INPUT)
    ctx.obj = settings
    name = ctx.invoked_subcommand  # only the command that runs: a one-policy default expands the policy folders
    ctx.default_map = {name: config.default_map(settings, name)} if name else {}


_NO_SETTINGS = ("lsp", "explain-code", "completion")  # commands the project's settings do not concern


def run() -> None:
    """The console script: `main` with Ctrl-C and SIGTERM as one clean exit (see `_Commands`)."""
    interrupt.install()
    try:
        main(standalone_mode=True)
    except BrokenPipeError:
        _quiet_stdout()
    except KeyboardInterrupt:
        _interrupted()


def _interrupted() -> None:
    """Ctrl-C or SIGTERM: one line, exit 130 (143); `outputs.atomic` has removed its temporary file."""
    try:
        click.echo("interrupted", err=True)
    except OSError:
        pass
    _quiet_stdout(interrupt.exit_code())


def _quiet_stdout(code: int = 0) -> None:
    import os

    # Python would complain again while flushing at exit; point stdout at nothing.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real file descriptor (tests capture stdout)
        pass
    sys.exit(code)
