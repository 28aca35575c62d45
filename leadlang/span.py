"""Where a thing stands in a source file: the `Span` every syntax node and diagnostic carries.

It sits below both `syntax` and `diagnostics`, so imports only run down the stack.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Span:
    """Where a node stands in its source file (1-based lines and columns)."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int
    start: int = 0
    end: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


NOWHERE = Span("<unknown>", 0, 0, 0, 0)
