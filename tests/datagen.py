"""Edge-case data for any checked policy, made from the policy itself.

Values sit on both sides of every literal the policy compares with, events
sit exactly on, just inside and just outside every window, at the as-of time
and after it; keys hold quotes and Unicode; every column is sometimes
missing. The same rows go to the interpreter and to every SQL engine.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from leadlang.check.policy import Policy
from leadlang.data.sample import ODD_STRINGS, Sample
from leadlang.syntax import ast as A

UTC = dt.timezone.utc
TENTH_PLACE = Decimal("1e-10")  # numbers have 10 decimal places (docs/language.md §21)
AS_OF = dt.datetime(2024, 6, 1, 12, 0, 0, tzinfo=UTC)


def policy_facts(policy: Policy):
    """Literals by kind, event names and window lengths the policy mentions."""
    literals: dict[str, set] = {"string": set(), "int": set(), "number": set(), "date": set(), "timestamp": set()}
    names: set[str] = set()
    seconds: set[int] = set()
    for module in policy.modules:
        for node in A.walk(module):
            if isinstance(node, A.Literal) and node.kind in literals:
                literals[node.kind].add(node.value)
            elif isinstance(node, A.Aggregate):
                names.update(node.names or ())
                for d in (node.window, node.half_life):
                    if d is not None:
                        seconds.add(d.seconds)
            elif isinstance(node, A.EventLine):
                names.add(node.name)
    return literals, names, seconds


def _value(rng: random.Random, kind: str, values: tuple[str, ...], literals, pool_strings: list[str]):
    if rng.random() < 0.15:
        return None
    if values:
        return rng.choice(values)
    if kind == "string":
        return rng.choice(pool_strings)
    if kind == "int":
        base = rng.choice(sorted(literals["int"]) or [0])
        return int(base) + rng.choice([-1, 0, 0, 1, rng.randrange(-50, 5000)])
    if kind == "number":
        base = rng.choice(sorted(literals["number"] | {Decimal(v) for v in literals["int"]}) or [Decimal(0)])
        step = rng.choice([Decimal("-0.01"), Decimal(0), Decimal("0.01"), Decimal(rng.randrange(-500, 500)) / 4,
                           TENTH_PLACE, -TENTH_PLACE,  # just beside a literal, at the last place a number has
                           Decimal(rng.randrange(-10**16, 10**16)).scaleb(-10),  # all 10 places (from 11-20 on reading)
                           Decimal(rng.randrange(-10**5, 10**5)) * 10**9])  # huge, yet 400 of them sum below 10^18
        return Decimal(base) + step
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "date":
        return (AS_OF - dt.timedelta(days=rng.randrange(-5, 400))).date()
    if kind == "timestamp":
        return AS_OF - dt.timedelta(seconds=rng.choice([0, 1, 86400, rng.randrange(-86400 * 3, 86400 * 400)]))
    raise AssertionError(kind)


def make_rows(policy: Policy, seed: int, n_leads: int = 60, n_events: int = 400):
    """(leads, accounts, events) for `policy`, as typed Python rows."""
    rng = Sample(seed).rng
    literals, names, seconds = policy_facts(policy)
    pool_strings = sorted(literals["string"], key=str) + ODD_STRINGS
    pool_strings += [s.upper() for s in literals["string"] if isinstance(s, str)][:10]
    pool_strings += [f"x@{s}" for s in literals["string"] if isinstance(s, str) and "." in s][:10]
    keys = [f"L{i:03d}" for i in range(n_leads - 4)] + ["L'quote", 'L"dq', "Lé", "L key"]
    account_keys = [f"A{i:02d}" for i in range(max(3, n_leads // 5))]
    key, account_col = policy.leads.key, policy.leads.account
    leads = []
    for k in keys:
        row = {name: _value(rng, t.kind, t.values, literals, pool_strings) for name, t in policy.lead_types.items()}
        row[key] = k
        if account_col:
            row[account_col] = rng.choice(account_keys + [None, "A-unknown"])
        leads.append(row)
    accounts = []
    if policy.accounts is not None:
        for a in account_keys[:-1]:  # one account the leads name has no row
            row = {name: _value(rng, t.kind, t.values, literals, pool_strings) for name, t in policy.account_types.items()}
            row[policy.accounts.key] = a
            accounts.append(row)
    moments = [AS_OF, AS_OF + dt.timedelta(seconds=1), AS_OF + dt.timedelta(days=3)]
    for s in seconds | {86400, 7 * 86400}:
        edge = AS_OF - dt.timedelta(seconds=s)
        moments += [edge, edge + dt.timedelta(microseconds=1), edge - dt.timedelta(microseconds=1), edge + dt.timedelta(hours=1)]
    moments += [dt.datetime(2024, 5, 31, 23, 59, 59, tzinfo=UTC), dt.datetime(2024, 5, 31, 0, 0, 0, tzinfo=UTC)]
    event_names = sorted(names) + ["unrelated_event"]
    events: dict[str, list[dict]] = {}
    for name, ev in policy.events.items():
        rows = []
        for _ in range(n_events):
            at = rng.choice(moments) if rng.random() < 0.6 else AS_OF - dt.timedelta(seconds=rng.randrange(0, 86400 * 120))
            row = {"lead": rng.choice(keys + ["L-unknown", None]), "at": at, "name": rng.choice(event_names + [None])}
            for f, t in policy.event_types[name].items():
                row[f] = _value(rng, t.kind, t.values, literals, pool_strings)
            rows.append(row)
        events[name] = rows
    return leads, accounts, events
