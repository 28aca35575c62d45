"""The value types of leadlang expressions and how they combine."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Type:
    """`kind` is string, int, number, bool, date, timestamp, list, label or any.

    `values` holds an enum's declared values; `elem` a list's element type;
    `labels` the labels of a banded score or classification (kind `label`).
    """

    kind: str
    values: tuple[str, ...] = ()
    elem: Type | None = None
    labels: tuple[str, ...] = ()
    owner: str = ""  # the enum field, or the classification, a type came from

    def __str__(self) -> str:
        if self.kind == "list" and self.elem is not None:
            return f"list of {self.elem}"
        if self.values:
            return "enum"
        return self.kind

    @property
    def numeric(self) -> bool:
        return self.kind in ("int", "number", "any")

    @property
    def temporal(self) -> bool:
        return self.kind in ("date", "timestamp", "any")

    @property
    def textual(self) -> bool:
        return self.kind in ("string", "label", "any")


STRING = Type("string")
INT = Type("int")
NUMBER = Type("number")
BOOL = Type("bool")
DATE = Type("date")
TIMESTAMP = Type("timestamp")
ANY = Type("any")  # the type of an expression that already has an error

SCALARS = {"string": STRING, "int": INT, "number": NUMBER, "bool": BOOL, "date": DATE, "timestamp": TIMESTAMP}


def from_ref(name: str, values: tuple[str, ...] = (), owner: str = "") -> Type:
    """The type a source column declares."""
    if name == "enum":
        return Type("string", values=values, owner=owner)
    return SCALARS[name]


def common(a: Type, b: Type) -> Type | None:
    """The type both values fit in (for `coalesce`, `least`, comparisons), or None."""
    if a.kind == "any":
        return b
    if b.kind == "any":
        return a
    if a.numeric and b.numeric:
        return INT if a.kind == b.kind == "int" else NUMBER
    if a.temporal and b.temporal:
        return TIMESTAMP if "timestamp" in (a.kind, b.kind) else DATE
    if a.textual and b.textual:
        return STRING if (a.values or b.values or a.kind != b.kind) else a
    if a.kind == b.kind:
        return a
    return None


def output_kind(t: Type) -> str:
    """The column type an output carries (string, int, number, bool, date, timestamp)."""
    if t.kind in ("label", "any"):
        return "string"
    if t.kind == "list":
        return "string"
    return t.kind
