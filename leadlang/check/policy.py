"""The checked policy: declarations resolved, typed and put in evaluation order."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from functools import cached_property
from types import MappingProxyType
from typing import Callable, Mapping, Union

from leadlang.check.types import Type
from leadlang.span import Span
from leadlang.syntax import ast as A

Classification = Union[A.Matrix, A.Classify]
Score = Union[A.PointsScore, A.DerivedScore]


@dataclass(frozen=True, slots=True)
class Output:
    """One column of the scored output."""

    name: str
    kind: str  # string, int, number, bool, date, timestamp
    role: str  # key, signal, score, band, criteria, criteria_met, disqualified, reason, classification, action, policy, as_of
    source: str = ""  # the declaration it comes from
    labels: tuple[str, ...] = ()  # accepted values of band and classification columns
    description: str = ""


@dataclass(frozen=True, slots=True)
class Step:
    """One named value to compute per lead, in dependency order."""

    kind: str  # signal, score, band, criteria, disqualify, classification
    name: str


def band_column(score: str) -> str:
    """The output column holding the band of a banded score: the one place its name is made."""
    return f"{score}_band"


def met_column(criteria: str) -> str:
    """The output column holding how many members of a criteria are true."""
    return f"{criteria}_met"


@dataclass(frozen=True, slots=True)
class Ref:
    """What one name occurrence of the policy refers to, as the checker resolved it.

    kind: lead_field, account_field, event_column, let, signal, score, criteria, criteria_met
    (`ucc_met`), member (`ucc.budget`), classification, band (the operand of `x is LABEL` for a
    banded score), disqualified, output (an `expect` reading any other output column); and for the
    bare words of `Policy.named`: events, rule, gate, label;
    name: the declaration's name (the score of a band, the criteria of `ucc_met`, a column's own name,
    the owner of a rule, member, gate (`disqualify`) or label);
    column: the output column that holds the value read, or None (fields, lets, members);
    item: the rule, member, gate or label within `name` (bare words only)."""

    kind: str
    name: str
    column: str | None = None
    item: str | None = None


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One place a declared name is written: its declaration or a reference, with the span that spells it.

    kind: lead_field, account_field, events, event_column, let, signal, score, criteria, member,
    rule, gate, classification, label; name: the name, or `owner.item` for an event column
    (`product.seats`), member (`ucc.urgency`), rule (`fit.free_email`), gate
    (`disqualify.competitor`) and label (`segment.sales_ready`, `fit.high`)."""

    kind: str
    name: str
    span: Span
    declaration: bool = False

    @property
    def path(self) -> str:
        """The file it is written in (this policy's or a `use`d one)."""
        return self.span.file


@dataclass(frozen=True)
class Policy:
    """What every later stage reads: the interpreter, SQL, dbt, lint and fmt.

    Frozen, its tables read-only: a stage that needs a variant makes one (`dataclasses.replace`)."""

    path: str
    name: str
    title: str
    version: str | None
    owner: str | None
    leads: A.Leads
    accounts: A.Accounts | None
    events: dict[str, A.Events]
    lead_types: dict[str, Type]
    account_types: dict[str, Type]
    event_types: dict[str, dict[str, Type]]
    lets: dict[str, A.Let]
    let_values: dict[str, object]
    signals: dict[str, A.Signal]
    scores: dict[str, Score]
    bands: dict[str, A.Bands]
    criteria: dict[str, A.Criteria]
    gates: tuple[A.Member, ...]
    classifications: dict[str, Classification]
    labels: Mapping[str, tuple[str, ...]]  # classification or banded score -> its labels
    actions: dict[str, A.Actions]
    tests: tuple[A.Test, ...]
    steps: tuple[Step, ...]
    outputs: tuple[Output, ...]
    types: Mapping[int, Type] = field(repr=False)  # id(expression node) -> its type
    refs: Mapping[int, Ref] = field(repr=False)  # id(Name, Attr, IsLabel, Disqualified node) -> what it refers to
    modules: tuple[A.Module, ...] = ()  # this file first, then every used file
    texts: Mapping[str, str] = field(default_factory=dict, repr=False)
    # the checker's index of names (`check/index.py`), run on first use: `check` alone never pays for it
    index: Callable[[], tuple[dict, dict]] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, dict):  # event_types nests one level
                inner = {k: MappingProxyType(v) if isinstance(v, dict) else v for k, v in value.items()}
                object.__setattr__(self, f.name, MappingProxyType(inner))

    @property
    def label(self) -> str:
        """`name@version`, as written in every output row."""
        return f"{self.name}@{self.version}" if self.version else self.name

    @property
    def key(self) -> str:
        return self.leads.key

    @cached_property
    def _index(self) -> tuple[Mapping, Mapping]:
        named, occurs = self.index() if self.index is not None else ({}, {})
        return MappingProxyType(named), MappingProxyType(occurs)

    @property
    def named(self) -> Mapping[tuple[int, str], Ref]:
        """(id(node), field) -> what the bare word in that field refers to (`ref(node, field)`)."""
        return self._index[0]

    @property
    def occurs(self) -> Mapping[tuple[str, str], tuple[Occurrence, ...]]:
        """(kind, name) -> every occurrence of the name (`occurrences(kind, name)`)."""
        return self._index[1]

    def type_of(self, expr: A.Expr) -> Type:
        return self.types[id(expr)]

    def ref(self, node: object, field: str | None = None) -> Ref:
        """What a name occurrence (`Name`, `Attr`, `IsLabel`, `Disqualified`) of this policy refers to;
        with `field`, what the bare word in that field of `node` refers to: `bands`' `score`, a
        matrix's `rows_score`/`cols_score`/`columns[i]`, a `MatrixRow`'s `band`, `actions`' `target`,
        an `Action`'s `label`, `expect fired`'s `component`/`rule`, `expect ... because`'s `gate`,
        a test `Pair`'s `key`, `TestEvents`' and an `Aggregate`'s `source`, an aggregate's `column`,
        a string `Literal`'s `value` compared with a label."""
        return self.refs[id(node)] if field is None else self.named[(id(node), field)]

    def occurrences(self, kind: str, name: str) -> tuple[Occurrence, ...]:
        """Every place `name` (of `Occurrence.kind` `kind`) is written, declarations included: this file's, then each `use`d file's, in text order."""
        return self.occurs.get((kind, name), ())

    def uses(self, kind: str, name: str) -> tuple[Occurrence, ...]:
        """The places that read a declaration (its references, not its declaration)."""
        return tuple(o for o in self.occurrences(kind, name) if not o.declaration)

    def occurrence_at(self, path: str, line: int, column: int) -> Occurrence | None:
        """The occurrence written at a position (1-based line and column) of a file: go to definition, rename."""
        for found in self.occurs.values():
            for o in found:
                s = o.span
                if s.file == path and (s.line, s.column) <= (line, column) < (s.end_line, s.end_column):
                    return o
        return None

    def band_column(self, score: str) -> str:
        return band_column(score)

    def met_column(self, criteria: str) -> str:
        return met_column(criteria)

    def output(self, name: str) -> Output:
        for o in self.outputs:
            if o.name == name:
                return o
        raise KeyError(name)
