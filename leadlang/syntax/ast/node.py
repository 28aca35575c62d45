"""What every syntax tree node shares: frozen, slotted dataclasses compared without their spans; walking a tree."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from leadlang.span import NOWHERE, Span


class Node:
    """Equality, hashing and repr shared by every node, over the fields that compare.

    They behave as the ones `dataclass(eq=True, frozen=True)` would write for each
    class; written once here, they save Python generating and compiling three
    methods for each of the fifty-odd node classes every time leadlang starts.
    """

    __slots__ = ()

    def __eq__(self, other):
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(getattr(self, f) == getattr(other, f) for f in _compared(self.__class__))

    def __hash__(self):
        return hash((self.__class__.__name__, *(getattr(self, f) for f in _compared(self.__class__))))

    def __repr__(self):
        shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self) if f.repr)
        return f"{self.__class__.__qualname__}({shown})"


_COMPARED: dict[type, tuple[str, ...]] = {}


def _compared(cls: type) -> tuple[str, ...]:
    names = _COMPARED.get(cls)
    if names is None:
        names = _COMPARED[cls] = tuple(f.name for f in fields(cls) if f.compare)
    return names


def node(cls):
    """A syntax tree node: a frozen, slotted dataclass (see `Node`)."""
    return dataclass(frozen=True, slots=True, eq=False, repr=False)(cls)


class QuotedName(str):
    """A name written in backticks: it may be a keyword or hold spaces.

    It equals the plain string, so lookups need not care; only the keyword
    check (and the formatter) ask how it was written.
    """

    __slots__ = ()


def span_field() -> Span:
    """A node's span: `NOWHERE` unless given, and never part of equality."""
    return field(default=NOWHERE, compare=False, repr=False)


def children(node) -> list:
    """The nodes directly under `node`, in field order (spans are not nodes)."""
    out = []
    for name in getattr(node, "__dataclass_fields__", ()):
        value = getattr(node, name)
        if isinstance(value, tuple):
            out.extend(v for v in value if hasattr(v, "__dataclass_fields__") and not isinstance(v, Span))
        elif hasattr(value, "__dataclass_fields__") and not isinstance(value, Span):
            out.append(value)
    return out


def walk(node):
    """Every node under `node`, itself included, in source order (no recursion)."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(children(n)))
