"""The `leadlang` command line: parse options, call one public function, render.

`app` holds the command group and its fault handling, `common` what the commands share; each other
module is one group of commands (`authoring`: check, test, lint, fmt, explain-code; `scoring`: score,
explain; `compare`: diff, backtest; `calibrate`: calibrate; `warehouse`: compile, dbt, init; `history`: history; `changes`: changes; `editor`: lsp). Importing a command module
registers its commands on `main`.
"""

from leadlang.cli import authoring, calibrate, compare, history, scoring, warehouse  # noqa: F401  (registers the commands)
from leadlang.cli import changes  # noqa: F401  (registers `changes`)
from leadlang.cli import editor  # noqa: F401  (registers `lsp`)
from leadlang.cli.app import main, run

__all__ = ["main", "run"]
