"""Data-aware checks: `lint --data` (rules L4xx) from one aggregate per source file, and the same findings as
warnings of `score` (with `--strict`, a failure before anything is scored)."""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
from pathlib import Path

import duckdb
import jsonschema
import pytest
from click.testing import CliRunner

from leadlang.check import load
from leadlang.cli import main
from leadlang.data.staging import register_dataset
from leadlang.lint import docs as lint_docs
from leadlang.profile import Profiling, profile_files

ROOT = Path(__file__).parent.parent
PLG = ROOT / "policies" / "plg"
SCHEMA = json.loads((ROOT / "tests" / "sarif" / "sarif-schema-2.1.0-rtm.5.json").read_text(encoding="utf-8"))


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def findings(*args) -> list[dict]:
    r = run("lint", "--format", "json", *args)
    assert r.exit_code in (0, 1), r.output
    return json.loads(r.stdout)


@pytest.fixture
def plg(tmp_path):
    """The plg policy and a copy of its data whose product events say `sync_completed` for some logins."""
    data = tmp_path / "data"
    shutil.copytree(PLG / "data", data)
    product = (data / "product.csv").read_text(encoding="utf-8").splitlines()
    product += ["L00001,2024-05-30T10:00:00Z,sync_completed,"] * 3
    (data / "product.csv").write_text("\n".join(product) + "\n", encoding="utf-8")
    policy = tmp_path / "plg.lead"
    policy.write_text((PLG / "plg.lead").read_text(encoding="utf-8"), encoding="utf-8")
    return policy, data


def plant(policy: Path, old: str, new: str) -> int:
    """Replace `old` by `new` in the policy file; the 1-based line of the change."""
    text = policy.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    text = text.replace(old, new)
    policy.write_text(text, encoding="utf-8")
    return text[: text.index(new)].count("\n") + 1


def test_the_example_policies_have_no_data_findings():
    for name in ("plg", "bant", "meddic", "abm", "ucc"):
        found = findings(PLG.parent / name / f"{name}.lead", "--data", PLG.parent / name / "data", "--as-of", "2024-06-01", "--select", "L4")
        assert found == [], (name, found)


def test_an_event_name_typo_gets_one_finding_with_the_real_name(plg):
    policy, data = plg
    line = plant(policy, 'count(marketing "demo_requested" in last 30 days) > 0',
                 'count(marketing "demo_requested" in last 30 days) > 0 or count(product "sync_complete" in last 7 days) > 0')
    found = findings(policy, "--data", data, "--as-of", "2024-06-01")
    [d] = [d for d in found if d["line"] == line]
    assert d["code"] == "L401" and d["severity"] == "warning"
    text = policy.read_text(encoding="utf-8").splitlines()[line - 1]
    assert text[d["column"] - 1 : d["end_column"] - 1] == '"sync_complete"'
    assert "did you mean `sync_completed`?" in d["hints"]
    assert not [d for d in found if d["code"] == "L401" and d["line"] != line]  # the right names are not flagged
    # without --data the policy lints as before: the rule needs the data
    assert not [d for d in findings(policy) if d["code"].startswith("L4")]


def test_a_name_with_no_close_match_lists_the_names_in_the_data(plg):
    policy, data = plg
    line = plant(policy, '"teammate_invited" in last 14 days', '["teammate_invited", "zzzz"] in last 14 days')
    [d] = [d for d in findings(policy, "--data", data, "--as-of", "2024-06-01") if d["code"] == "L401"]
    assert d["line"] == line and '"zzzz"' in d["message"]
    assert d["hints"][0].startswith("names in the data, most frequent first: `login`")


def test_enum_values_unseen_and_undeclared_with_escaped_examples(plg):
    policy, data = plg
    line = plant(policy, '"retail", "education", "other")', '"retail", "education", "other", "media")')
    leads = (data / "leads.csv").read_text(encoding="utf-8").splitlines()
    odd = 'x"\x07' + "y" * 60
    leads[1] = leads[1].replace(",fintech,", ",FinTech,")
    leads[2] = leads[2].replace(",,29012,", ',"' + odd.replace('"', '""') + '",29012,')
    (data / "leads.csv").write_text("\n".join(leads) + "\n", encoding="utf-8")
    found = sorted(findings(policy, "--data", data, "--as-of", "2024-06-01", "--select", "L402,L403"), key=lambda d: d["code"])
    assert [(d["code"], d["line"]) for d in found] == [("L402", line), ("L403", line)]
    unseen, undeclared = found
    assert '"media"' in unseen["message"] and '"other"' not in unseen["message"]
    source_line = policy.read_text(encoding="utf-8").splitlines()[line - 1]
    assert source_line[unseen["column"] - 1 : unseen["end_column"] - 1] == '"media"'  # the caret on the value
    assert "2 rows of" in undeclared["message"] and '"FinTech" (1 row)' in undeclared["message"]
    assert '"x\\"\\u0007' + "y" * 37 + '…" (1 row)' in undeclared["message"]  # escaped, cut at 40 characters
    assert "\x07" not in undeclared["message"]
    assert '"FinTech": did you mean `fintech`?' in undeclared["hints"]


def test_a_column_missing_in_every_row(plg):
    policy, data = plg
    with open(data / "leads.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    with open(data / "leads.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows({**row, "country": ""} for row in rows)
    [d] = findings(policy, "--data", data, "--as-of", "2024-06-01", "--select", "L404")
    assert d["line"] == policy.read_text(encoding="utf-8").splitlines().index("  country        string") + 1
    assert "`country` of leads has no value in any of the 2000 rows" in d["message"]


@pytest.mark.parametrize(("as_of", "expected"), [
    ("2024-01-01", {("L405", "product"), ("L405", "marketing")}),  # before every event
    ("2024-06-01", set()),
    ("2024-12-01", {("L405", "product")}),  # marketing has an aggregate without a window
])
def test_as_of_before_every_event_or_after_the_longest_window(plg, as_of, expected):
    policy, data = plg
    found = findings(policy, "--data", data, "--as-of", as_of, "--select", "L405")
    assert {(d["code"], "product" if "`product`" in d["message"] else "marketing") for d in found} == expected
    if as_of == "2024-12-01":
        assert "`90 days`" in found[0]["message"]


def test_inline_ignore_select_ignore_and_sarif(plg, tmp_path):
    policy, data = plg
    line = plant(policy, '"teammate_invited" in last 14 days', '"teammate_invite" in last 14 days')
    assert [d["code"] for d in findings(policy, "--data", data, "--as-of", "2024-06-01", "--select", "L401")] == ["L401"]
    assert findings(policy, "--data", data, "--as-of", "2024-06-01", "--select", "L401", "--ignore", "L4") == []
    r = run("lint", "--format", "sarif", policy, "--data", data, "--as-of", "2024-06-01", "--select", "L4")
    log = json.loads(r.stdout)
    jsonschema.validate(log, SCHEMA)
    assert [x["ruleId"] for x in log["runs"][0]["results"]] == ["L401"]
    assert {"L401", "L405"} <= {x["id"] for x in log["runs"][0]["tool"]["driver"]["rules"]}
    text = policy.read_text(encoding="utf-8").splitlines()
    text[line - 1] += "  # leadlang: ignore[L401]"
    policy.write_text("\n".join(text) + "\n", encoding="utf-8")
    assert findings(policy, "--data", data, "--as-of", "2024-06-01", "--select", "L401") == []


def test_missing_data_is_unusable_input(plg, tmp_path):
    policy, _ = plg
    r = run("lint", policy, "--data", tmp_path / "nowhere")
    assert r.exit_code == 2 and "does not exist" in r.output and "Traceback" not in r.output


def test_the_profile_of_the_files_and_of_the_checked_tables_agree():
    policy = load(str(PLG / "plg.lead"))
    files = profile_files(policy, PLG / "data")
    con = duckdb.connect()
    try:
        register_dataset(con, policy, PLG / "data", profiling := Profiling(policy))
        typed = profiling.profile()
    finally:
        con.close()
    assert files == typed
    product = files.sources["product"]
    assert product.rows == sum(n for _, n in product.values["name"])
    assert product.first == dt.datetime(2024, 2, 2, 7, 1, 27, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize("engine", ["duckdb", "python"])
def test_score_warns_on_stderr_and_strict_fails_before_scoring(plg, tmp_path, engine):
    policy, data = plg
    line = plant(policy, '"teammate_invited" in last 14 days', '"teammate_invite" in last 14 days')
    out = tmp_path / "out.csv"
    r = run("score", policy, "--data", data, "--as-of", "2024-06-01", "--engine", engine, "-o", out)
    assert r.exit_code == 0
    assert f"plg.lead:{line}:" in r.stderr and "warning[L401]" in r.stderr and "did you mean `teammate_invited`?" in r.stderr
    assert len(out.read_text(encoding="utf-8").splitlines()) == 2001  # every lead scored
    strict = tmp_path / "strict.csv"
    r = run("score", policy, "--data", data, "--as-of", "2024-06-01", "--engine", engine, "-o", strict, "--strict")
    assert r.exit_code == 1 and "warning[L401]" in r.stderr and "--strict" in r.stderr
    assert not strict.exists()
    # a clean policy scores without a word on stderr but the count
    clean = run("score", PLG / "plg.lead", "--data", PLG / "data", "--as-of", "2024-06-01", "--engine", engine, "-o", tmp_path / "c.csv", "--strict")
    assert clean.exit_code == 0 and "warning" not in clean.stderr


def test_example_data_is_what_the_docs_show():
    index = (ROOT / "docs" / "lint" / "index.md").read_text(encoding="utf-8")
    for text in lint_docs.EXAMPLE_DATA.values():
        assert text.rstrip("\n") in index


@pytest.mark.parametrize("engine", ["duckdb", "python"])
def test_a_data_error_is_one_line_without_the_warnings(plg, engine):
    policy, data = plg
    plant(policy, '"teammate_invited" in last 14 days', '"teammate_invite" in last 14 days')
    leads = (data / "leads.csv").read_text(encoding="utf-8").splitlines()
    (data / "leads.csv").write_text("\n".join([*leads, leads[1]]) + "\n", encoding="utf-8")  # L00001 twice
    r = run("score", policy, "--data", data, "--as-of", "2024-06-01", "--engine", engine)
    assert r.exit_code == 2
    [line] = r.stderr.strip().splitlines()
    assert line.startswith("error: ") and "appears twice" in line


def test_the_profile_is_the_same_for_csv_jsonl_and_parquet(tmp_path):
    policy = load(str(PLG / "plg.lead"))
    con = duckdb.connect()
    try:
        for fmt, ext in (("json", "jsonl"), ("parquet", "parquet")):
            (tmp_path / ext).mkdir()
            for name in ("leads", "product", "marketing"):
                typed = "all_varchar = true" if ext == "jsonl" else "auto_detect = true"
                con.execute(f"COPY (SELECT * FROM read_csv('{PLG / 'data' / name}.csv', {typed})) TO '{tmp_path / ext / name}.{ext}' (FORMAT {fmt})")
    finally:
        con.close()

    def figures(profile):
        return {k: (s.rows, s.present, s.values, s.first, s.last) for k, s in profile.sources.items()}

    def checked(directory):  # the profile `score` warns from: computed in the pass that checks the files
        con = duckdb.connect()
        try:
            register_dataset(con, policy, directory, profiling := Profiling(policy))
        finally:
            con.close()
        return profiling.profile()

    expected = figures(profile_files(policy, PLG / "data"))
    for directory in (PLG / "data", tmp_path / "jsonl", tmp_path / "parquet"):  # text, JSON and native Parquet checks
        assert figures(profile_files(policy, directory)) == figures(checked(directory)) == expected
