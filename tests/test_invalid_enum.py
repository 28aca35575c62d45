"""A value outside its `enum(...)`: one meaning on every engine (language.md §4, "Values outside an enum").

The compiled SQL reads such a value as missing (a warehouse cannot stop the query); the interpreter
gives every row the same meaning; `leadlang score`/`explain`/`diff`/`backtest` refuse such data by
default and, with `--on-invalid-enum null`, score it as missing on both local engines.
"""

from __future__ import annotations

import csv
import random
import shutil
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from datagen import make_rows
from test_differential import assert_agree

from leadlang.check import load
from leadlang.cli import main
from leadlang.data.staging import on_invalid_enum
from leadlang.data.stream import load_dataset
from leadlang.interpret import evaluate

ROOT = Path(__file__).parent.parent
PLG = ROOT / "policies" / "plg"
WITH_ENUMS = [ROOT / "tests" / "differential" / "edge_logic.lead", ROOT / "tests" / "differential" / "edge_events.lead",
              PLG / "plg.lead", ROOT / "policies" / "abm" / "abm.lead"]
# case, blanks, a quote, Unicode, the empty string: each is outside every enum of the corpus
BAD = ["SaaS", "Gold", " gold", "emea ", "AMER", "O'Brien", "日本", "", "software\n"]


def spoiled(policy, seed: int, bad: list[str] = BAD):
    """Edge-case rows with about a third of the enum cells replaced by values outside the enum;
    and the same rows with those cells missing, which is what they mean."""
    leads, accounts, events = make_rows(policy, seed)
    rng, nulled, count = random.Random(seed), ([], [], {}), 0

    def spoil(rows, types, skip, out):
        nonlocal count
        for row in rows:
            clean = dict(row)
            for name, t in types.items():
                if t.values and name not in skip and rng.random() < 0.35:
                    row[name] = rng.choice(bad)
                    clean[name] = None
                    count += 1
            out.append(clean)

    spoil(leads, policy.lead_types, {policy.leads.key, policy.leads.account}, nulled[0])
    spoil(accounts, policy.account_types, {policy.accounts.key} if policy.accounts else set(), nulled[1])
    for name, rows in events.items():
        spoil(rows, policy.event_types[name], {"lead", "at", "name"}, nulled[2].setdefault(name, []))
    assert count, "the policy has enum columns to spoil"
    return (leads, accounts, events), nulled


@pytest.mark.parametrize("path", WITH_ENUMS, ids=lambda p: p.stem)
@pytest.mark.parametrize("seed", [1, 2])
def test_out_of_enum_values_agree_on_every_engine(engine, path, seed):
    policy = load(path)
    rows, _ = spoiled(policy, seed)
    assert_agree(engine, policy, *rows)


@pytest.mark.parametrize("path", WITH_ENUMS, ids=lambda p: p.stem)
def test_the_interpreter_scores_an_out_of_enum_value_as_missing(path):
    policy = load(path)
    rows, nulled = spoiled(policy, 3)
    from datagen import AS_OF

    got, want = evaluate(policy, *rows, AS_OF), evaluate(policy, *nulled, AS_OF)
    assert got.rows == want.rows and got.explain == want.explain


def test_a_rule_on_not_in_does_not_fire_for_an_out_of_enum_value():
    """`tier not in ["gold"]` is unknown for "Gold" (missing), not true: no points, as in SQL."""
    policy = load(ROOT / "tests" / "differential" / "edge_logic.lead")
    (leads, accounts, events), _ = spoiled(policy, 1)
    from datagen import AS_OF

    lead = dict(leads[0], tier="Gold")
    fired = {r["rule"] for r in evaluate(policy, [lead], accounts, events, AS_OF).explain}
    assert "not_tier" not in fired
    fired = {r["rule"] for r in evaluate(policy, [dict(lead, tier="bronze")], accounts, events, AS_OF).explain}
    assert "not_tier" in fired


# ------------------------------------------------------------------------- CLI --


def _data(tmp_path: Path, fmt: str) -> Path:
    """PLG's sample data with three leads holding values outside their enums, as CSV or Parquet."""
    data = tmp_path / "data"
    shutil.copytree(PLG / "data", data)
    with open(data / "leads.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header = rows[0]
    rows[1][header.index("industry")] = "SaaS"
    rows[2][header.index("budget_status")] = "Approved"
    rows[5][header.index("industry")] = "fintech "
    with open(data / "leads.csv", "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    if fmt == "parquet":  # typed columns: read in place (io's native Parquet path)
        con = duckdb.connect()
        con.execute(f"COPY (SELECT * FROM read_csv('{data / 'leads.csv'}', all_varchar = false)) TO '{data / 'leads.parquet'}' (FORMAT parquet)")
        con.close()
        (data / "leads.csv").unlink()
    return data


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_score_refuses_by_default_and_both_engines_say_the_same(tmp_path, fmt):
    data = _data(tmp_path, fmt)
    outs = [run("score", PLG / "plg.lead", "--data", data, "--as-of", "2024-06-01", "--engine", e) for e in ("duckdb", "python")]
    assert [r.exit_code for r in outs] == [2, 2]
    assert outs[0].output == outs[1].output
    assert '"SaaS" is not one of "software"' in outs[0].output and "row 1" in outs[0].output


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_score_with_null_gives_the_same_rows_on_both_engines(tmp_path, fmt):
    data = _data(tmp_path, fmt)
    got = {}
    for e in ("duckdb", "python"):
        out = tmp_path / f"{e}.csv"
        r = run("score", PLG / "plg.lead", "--data", data, "--as-of", "2024-06-01", "--engine", e, "--on-invalid-enum", "null", "-o", out)
        assert r.exit_code == 0, r.output
        got[e] = out.read_text(encoding="utf-8")
    assert got["duckdb"] == got["python"]
    # the same scores as with those cells empty: the value means missing
    with on_invalid_enum("null"):
        policy = load(PLG / "plg.lead")
        read = load_dataset(policy, data)
    assert read.leads[0]["industry"] == "SaaS"  # read as it is; the engines score it as missing
    blank = tmp_path / "blank"
    shutil.copytree(data, blank)
    if fmt == "csv":
        text = (blank / "leads.csv").read_text(encoding="utf-8").replace(",SaaS,", ",,").replace(",Approved,", ",,").replace(",fintech ,", ",,")
        (blank / "leads.csv").write_text(text, encoding="utf-8")
        r = run("score", PLG / "plg.lead", "--data", blank, "--as-of", "2024-06-01", "-o", tmp_path / "blank.csv")
        assert r.exit_code == 0, r.output
        assert (tmp_path / "blank.csv").read_text(encoding="utf-8") == got["duckdb"]


def test_explain_diff_and_backtest_take_the_flag(tmp_path):
    data = _data(tmp_path, "csv")
    lead = ["explain", PLG / "plg.lead", "--data", data, "--as-of", "2024-06-01", "--lead", "L00001"]
    assert run(*lead).exit_code == 2
    r = run(*lead, "--on-invalid-enum", "null")
    assert r.exit_code == 0 and "lead L00001" in r.output
    r = run("diff", PLG / "plg.lead", PLG / "plg.lead", "--data", data, "--as-of", "2024-06-01", "--on-invalid-enum", "null")
    assert r.exit_code == 0 and "0 moved" in r.output
    r = run("backtest", PLG / "plg.lead", "--data", data, "--outcomes", data / "outcomes.csv", "--as-of", "2024-06-01", "--on-invalid-enum", "null")
    assert r.exit_code == 0, r.output
    r = run("score", PLG / "plg.lead", "--data", data, "--on-invalid-enum", "maybe")
    assert r.exit_code == 2 and "maybe" in r.output
