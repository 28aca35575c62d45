"""Text to syntax tree: the grammar's parser and the AST it builds.

`grammar` loads the Lark parser (with its speed-ups and the newline post-lexer), `transform` turns
Lark's tree into `ast` nodes (`literals` decodes strings, numbers and timestamps), `errors` turns a
Lark failure into one `E1xx` diagnostic (`hints` first: the common mistakes), `chunks` parses a long
policy a declaration at a time, and `parser` runs them: `parse`, `parse_file`.
"""

import sys

# Lark imports the third-party `regex` module whenever it is installed, only to
# offer `regex=True`, which leadlang does not use; skipping it saves a tenth of
# `leadlang check`'s start-up. Other code importing `regex` later still can.
# Done here, before any module of the package imports Lark.
_SKIP_REGEX = "regex" not in sys.modules
if _SKIP_REGEX:
    sys.modules["regex"] = None  # type: ignore[assignment]  # "import regex" raises ImportError
try:
    import lark  # noqa: F401
finally:
    if _SKIP_REGEX:
        del sys.modules["regex"]

from leadlang.syntax.parser import parse, parse_bytes, parse_file  # noqa: E402

__all__ = ["parse", "parse_bytes", "parse_file"]
