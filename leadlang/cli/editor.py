"""`leadlang lsp`: the language server for editors, over standard input and output (docs/editors.md)."""

from __future__ import annotations

import click

from leadlang.cli.app import main
from leadlang.cli.common import fail
from leadlang.diagnostics import DataError


@main.command("lsp")
@click.option("--stdio", is_flag=True, help="Talk over standard input and output (the default and only transport; accepted for clients that pass it).")
def lsp(stdio: bool) -> None:
    """Run the language server (diagnostics, hover, definition, rename, formatting ...) for an editor."""
    try:
        from leadlang.lsp.server import serve
    except ModuleNotFoundError as err:
        if err.name not in ("pygls", "lsprotocol") and not (err.name or "").startswith(("pygls.", "lsprotocol.")):
            raise
        fail(DataError("the language server needs pygls: pip install 'leadlang[lsp]'"))
    serve()
