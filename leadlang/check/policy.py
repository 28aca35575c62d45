"""The checked policy: declarations resolved, typed and put in evaluation order."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from leadlang.check.types import Type
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


@dataclass
class Policy:
    """What every later stage reads: the interpreter, SQL, dbt, lint and fmt."""

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
    labels: dict[str, tuple[str, ...]]  # classification or banded score -> its labels
    actions: dict[str, A.Actions]
    tests: tuple[A.Test, ...]
    steps: tuple[Step, ...]
    outputs: tuple[Output, ...]
    types: dict[int, Type] = field(repr=False)  # id(expression node) -> its type
    modules: tuple[A.Module, ...] = ()  # this file first, then every used file
    texts: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def label(self) -> str:
        """`name@version`, as written in every output row."""
        return f"{self.name}@{self.version}" if self.version else self.name

    @property
    def key(self) -> str:
        return self.leads.key

    def type_of(self, expr: A.Expr) -> Type:
        return self.types[id(expr)]

    def output(self, name: str) -> Output:
        for o in self.outputs:
            if o.name == name:
                return o
        raise KeyError(name)
