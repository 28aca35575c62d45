"""Every SQL engine agrees with the Python interpreter, row for row and cell for cell.

The corpus: every policy under `policies/` and `tests/differential/`, each on
edge-case data made from the policy itself (`datagen.py`) and on the rows of
each of its `test` blocks; the example policies also on their sample data.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from decimal import Decimal
from pathlib import Path

import pytest
from datagen import AS_OF, make_rows
from engines import Table

from leadlang.check import load
from leadlang.interpret import evaluate
from leadlang.io import load_dataset
from leadlang.sql import to_sql
from leadlang.syntax.ast import Field, Leads, Relation, Span, TypeRef
from leadlang.testing.runner import build_rows

ROOT = Path(__file__).parent.parent
EXAMPLES = sorted(ROOT.glob("policies/*/*.lead"))
EDGES = sorted((ROOT / "tests" / "differential").glob("*.lead"))
CORPUS = EXAMPLES + EDGES


def tables_for(policy, leads, accounts, events) -> list[Table]:
    """The relations a policy reads, holding these rows under the policy's own column names."""
    def cols(types):
        return [(name, "string" if t.values else t.kind) for name, t in types.items()]

    out = [Table(".".join(policy.leads.relation.parts), cols(policy.lead_types), leads)]
    if policy.accounts is not None:
        out.append(Table(".".join(policy.accounts.relation.parts), cols(policy.account_types), accounts))
    for name, ev in policy.events.items():
        columns = [(ev.lead, "string"), (ev.at, "timestamp"), (ev.event_name, "string"), *cols(policy.event_types[name])]
        rows = [{ev.lead: r["lead"], ev.at: r["at"], ev.event_name: r["name"], **{c: r.get(c) for c, _ in columns[3:]}} for r in events.get(name, [])]
        out.append(Table(".".join(ev.relation.parts), columns, rows))
    return out


def same(x, y, exact: bool) -> bool:
    if x is None or y is None:
        return x is None and y is None
    if isinstance(x, bool) or isinstance(y, bool):
        return x is y or x == y and type(x) is type(y)
    if isinstance(x, (int, Decimal, float)) and isinstance(y, (int, Decimal, float)):
        a, b = Decimal(str(x)), Decimal(str(y))
        return a == b if exact else abs(a - b) <= Decimal("1e-6") * max(Decimal(1), abs(a))
    if isinstance(x, dt.datetime) and isinstance(y, dt.datetime):
        return x == y
    return x == y and type(x) is type(y)


def catalog_safe(engine, tables: list[Table]) -> dict[str, str]:
    """Spark's catalog takes only word characters in schema-qualified names: map the others,
    as a Databricks user would with `--table`, which tests that mapping too."""
    if engine.name != "spark":
        return {}
    mapping = {}
    for t in tables:
        if "." in t.name and not re.fullmatch(r"\w+\.\w+", t.name):
            mapping[t.name] = "mapped." + re.sub(r"\W", "_", t.name.replace(".", "__"))
            t.name = mapping[t.name]
    return mapping


def assert_agree(engine, policy, leads, accounts, events, as_of=AS_OF, exact_numbers=False):
    """Interpreter vs engine: same keys in the same order, equal cells, equal explanation rows."""
    oracle = evaluate(policy, leads, accounts, events, as_of)
    tables = tables_for(policy, leads, accounts, events)
    mapping = catalog_safe(engine, tables)
    got = engine.run(to_sql(policy, engine.name, as_of, mapping), tables)
    why = engine.run(to_sql(policy, engine.name, as_of, mapping, what="explain"), tables)
    assert_same_result(policy, oracle, got, why, engine.name, exact_numbers=exact_numbers)


def assert_same_result(policy, oracle, got, why, name: str, ordered: bool = True, exact_numbers: bool = False):
    """The interpreter's `oracle` result vs an engine's scored rows `got` and explanation rows `why`.

    `ordered=False` for a stored table (dbt's), whose rows come back in no particular order: the
    rows are then matched by key and the explanation rows compared as sets."""
    if not ordered:
        position = {r[policy.key]: i for i, r in enumerate(oracle.rows)}
        got = sorted(got, key=lambda r: position.get(r[policy.key], len(position)))
    assert [r[policy.key] for r in got] == [r[policy.key] for r in oracle.rows], "keys differ or are out of order"
    exact = {o.name for o in policy.outputs if exact_numbers or o.role in ("score", "criteria_met", "band", "classification", "reason")}
    problems = []
    for want, row in zip(oracle.rows, got):
        assert list(row) == list(want), "output columns differ"
        for column, value in want.items():
            if not same(value, row[column], column in exact):
                problems.append(f"{want[policy.key]!r} {column}: interpreter {value!r}, {name} {row[column]!r}")
    assert not problems, f"{len(problems)} cells differ, e.g.\n" + "\n".join(problems[:8])
    flat = [(r[policy.key], r["component"], r["kind"], r["rule"], None if r["points"] is None else Decimal(str(r["points"]))) for r in why]
    want = [(r[policy.key], r["component"], r["kind"], r["rule"], r["points"]) for r in oracle.explain]
    if not ordered:
        flat, want = sorted(flat, key=repr), sorted(want, key=repr)
    assert flat == want


def _id(path: Path) -> str:
    return path.stem


@pytest.mark.parametrize("path", CORPUS, ids=_id)
@pytest.mark.parametrize("seed", [1, 2])
def test_edge_data(engine, path, seed):
    policy = load(path)
    assert_agree(engine, policy, *make_rows(policy, seed))


@pytest.mark.parametrize("path", CORPUS, ids=_id)
def test_test_block_rows(engine, path):
    policy = load(path)
    for test in policy.tests:
        as_of = next((i.at for i in test.items if hasattr(i, "at") and type(i).__name__ == "TestAsOf"), AS_OF)
        assert_agree(engine, policy, *build_rows(policy, test, as_of), as_of=as_of)


@pytest.mark.parametrize("path", EXAMPLES, ids=_id)
def test_example_sample_data(engine, path):
    policy = load(path)
    data = load_dataset(policy.leads, policy.accounts, list(policy.events.values()), path.parent / "data")
    assert_agree(engine, policy, data.leads, data.accounts, data.events, dt.datetime(2024, 6, 1, tzinfo=dt.timezone.utc))


def test_numbers_read_with_11_to_20_places(engine, tmp_path):
    """Data with more places than a number holds is rounded on reading (language.md §21), so
    every engine computes from the same values as the interpreter; huge and tiny values too."""
    policy_path = ROOT / "tests" / "differential" / "edge_logic.lead"
    policy = load(policy_path)
    rng = random.Random(7)
    cells = ["0.00000000001", "0.00000000005", "-0.00000000005", "0.12345678904999999999", "0.12345678905",
             "999999999999999999.99999999994", "-999999999999999999.9999999999", "1e-20", "12345678.123456789012345"]
    cells += [f"{rng.randrange(-10**12, 10**12) / 10**rng.randrange(0, 9):.{rng.randrange(11, 21)}f}" for _ in range(40)]
    leads, accounts, events = make_rows(policy, 3, n_leads=len(cells) + 4, n_events=50)
    numbers = [n for n, t in policy.lead_types.items() if t.kind == "number"]
    assert numbers, "edge_logic declares a number field"
    # the values a data file gives: read through leadlang.io, as `leadlang score` reads them
    span = Span("numbers.lead", 1, 1, 1, 1)
    (tmp_path / "leads.csv").write_text("id,x\n" + "".join(f"L{i},{c}\n" for i, c in enumerate(cells)), encoding="utf-8")
    read = load_dataset(Leads(Relation("ref", ("leads",)), "id", None, (Field("x", TypeRef("number"), span),), span), None, [], tmp_path)
    assert len(read.leads) == len(cells) and max(-r["x"].as_tuple().exponent for r in read.leads) <= 10
    for row, value in zip(leads, read.leads):
        for n in numbers:
            row[n] = value["x"]
    assert_agree(engine, policy, leads, accounts, events)


DECAY = ROOT / "tests" / "differential" / "decay_exact.lead"
HALF_LIVES = [86400, 7 * 86400, 37 * 60, 100 * 86400, 3 * 86400, 13 * 3600, 10 * 86400, 2 * 86400]  # decay_exact.lead's
DAY_US = 86400 * 10**6


def decay_rows(seed: int):
    """Many events per lead and account at adversarial ages: exact multiples of a half-life (0.5^11
    = 0.00048828125 is a tie at the 10th place), a microsecond either side, 30-45 half-lives
    (factors near 1e-10), after the as-of time; values huge, tiny, negative, 64-bit."""
    rng = random.Random(seed)
    values = [Decimal(1), Decimal(-1), Decimal("0.0000000001"), Decimal("-0.0000000005"), Decimal("2.5"),
              Decimal("4999999999999.9999999999"), Decimal("-3333333333333.3333333333")]
    leads, events = [], []

    def at(age_us: int) -> dt.datetime:
        return AS_OF - dt.timedelta(microseconds=age_us)
    # sums near a tie that binary floating point rounds the wrong way: 1 + 0.5^11 (a tie) less
    # 2^-40 * 1e-10 (1 day's half-life), and 1 + 0.5^11 less 4e-17 (100 days', 11 half-lives and 1 µs)
    leads += [{"lead_id": "T1", "account_id": None, "plan": None}, {"lead_id": "T2", "account_id": None, "plan": None}]
    events += [{"lead": "T1", "at": at(age), "name": "b", "v": v, "n": 1} for age, v in
               [(0, Decimal(1)), (11 * DAY_US, Decimal(1)), (40 * DAY_US, Decimal("-0.0000000001"))]]
    events += [{"lead": "T2", "at": at(age), "name": "b", "v": None, "n": None} for age in (0, 1100 * DAY_US + 1)]
    for i in range(48):
        key = f"L{i:02}"
        leads.append({"lead_id": key, "account_id": f"A{i % 5}" if i % 7 else None, "plan": None})
        for _ in range(rng.choice([0, 1, 3, 40, 160])):
            hl, pick = rng.choice(HALF_LIVES), rng.random()
            if pick < 0.4:
                age = rng.randrange(0, 70) * hl * 10**6
            elif pick < 0.55:
                age = rng.randrange(0, 70) * hl * 10**6 + rng.choice([-1, 1])
            elif pick < 0.65:
                age = rng.randrange(30, 46) * hl * 10**6 + rng.randrange(-10**6, 10**6)
            elif pick < 0.7:
                age = -rng.randrange(1, 10**9)  # after the as-of time: never counted
            else:
                age = rng.randrange(0, 91 * 86400 * 10**6)
            v = rng.choice(values + [Decimal(rng.randrange(-10**21, 10**21)).scaleb(-10), None])
            n = rng.choice([None, 1, -7, 10**15, -(10**14), rng.randrange(-10**6, 10**6)])
            events.append({"lead": key, "at": at(age), "name": rng.choice("ab"), "v": v, "n": n})
    return leads, [], {"ev": events}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_decay_is_exact(engine, seed):
    """Decayed counts and sums equal the interpreter's to the last of their 10 places (language.md §10)."""
    assert_agree(engine, load(DECAY), *decay_rows(seed), exact_numbers=True)
