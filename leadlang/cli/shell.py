"""`leadlang completion SHELL`: the shell's completion script, made by click for every command and option."""

from __future__ import annotations

import click

from leadlang.cli.app import main

SHELLS = ("bash", "zsh", "fish")


@main.command("completion")
@click.argument("shell", type=click.Choice(SHELLS))
def completion(shell: str) -> None:
    """Print the completion script of SHELL (commands, options, their choices and file paths).

    \b
    Examples:
      eval "$(leadlang completion bash)"                          # in ~/.bashrc
      leadlang completion fish > ~/.config/fish/completions/leadlang.fish
    Docs: docs/cli.md#shell-completion
    """
    from click.shell_completion import get_completion_class

    script = get_completion_class(shell)(main, {}, "leadlang", "_LEADLANG_COMPLETE").source()
    click.echo(script, nl=not script.endswith("\n"))
