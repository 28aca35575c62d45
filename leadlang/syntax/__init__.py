"""Text to syntax tree: the grammar's parser and the AST it builds."""

__all__ = ["parse", "parse_file"]


def __getattr__(name: str):
    # Loaded on first use: `leadlang.syntax.ast` is imported by modules the parser itself needs.
    if name in __all__:
        from leadlang.syntax import parser

        return getattr(parser, name)
    raise AttributeError(f"module 'leadlang.syntax' has no attribute {name!r}")
