"""`python -m leadlang` runs the command line."""

from leadlang.cli import run

run()
