"""Text to syntax tree: the grammar's parser and the AST it builds."""

from leadlang.syntax.parser import parse, parse_file

__all__ = ["parse", "parse_file"]
