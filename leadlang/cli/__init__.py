"""The `leadlang` command line: parse options, call one public function, render.

`app` holds the command group and its fault handling, `common` what the commands share; each other
module is one group of commands (`authoring`: check, test, lint, fmt, explain-code, config; `scoring`: score,
explain; `compare`: diff, backtest; `calibrate`: calibrate; `warehouse`: compile, dbt, init; `history`: history; `changes`: changes;
`editor`: lsp; `shell`: completion). Importing a command module registers its commands on `main`.
"""

from leadlang.cli import authoring, calibrate, changes, compare, editor, history, scoring, shell, warehouse  # noqa: F401  (registers the commands)
from leadlang.cli.app import main, run

__all__ = ["main", "run"]
