"""What the interpreter computes for a lead (`LeadState`) and for a run (`Result`)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)  # every closure reads its fields: slots are faster to read
class LeadState:
    """Everything computed for one lead; `expect` lines and `explain` read it."""

    row: dict
    account: dict | None
    events: dict[str, list[tuple]]  # this lead's events per source (`interpret.event_layout`'s tuples), as-of filtered
    account_events: dict[str, list[tuple]]  # its account's events (every lead's), as-of filtered
    pool: dict[int, object] = field(default_factory=dict)  # id(`by account` aggregate) -> its value, shared by the account's leads
    values: dict[str, object] = field(default_factory=dict)
    members: dict[tuple[str, str], object] = field(default_factory=dict)
    explain: list[dict] = field(default_factory=list)
    fired: set[tuple[str, str]] = field(default_factory=set)
    branches: dict[str, int] = field(default_factory=dict)  # classify name -> index of the branch taken; len(branches) is `otherwise`


@dataclass
class Result:
    rows: list[dict]
    explain: list[dict]
    states: dict[str, LeadState]


EXPLAIN_COLUMNS = (("component", "string"), ("kind", "string"), ("rule", "string"), ("points", "number"))
