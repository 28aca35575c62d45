"""`leadlang changes`: checked against two `leadlang score --as-of` runs and the interpreter's explanation rows."""

from __future__ import annotations

import csv
import functools
import datetime as dt
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from leadlang.check import load
from leadlang.cli import main
from leadlang.data.stream import load_dataset
from leadlang.interpret import evaluate

ROOT = Path(__file__).resolve().parent.parent
UTC = dt.timezone.utc
CASES = {  # policy, since, as-of: a day (a daily router's run), and a week of a policy pooling `by account`
    "plg-day": ("plg", "2024-05-31", "2024-06-01"),
    "abm-week": ("abm", "2024-05-25", "2024-06-01"),
}
LEADS = 600  # the first leads of each example data set, with their accounts and events
LABELS = ("band", "criteria", "disqualified", "classification")


def _run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@functools.lru_cache(maxsize=None)
def _score(policy: Path, data: Path, as_of: str) -> dict[str, dict]:
    """`leadlang score --as-of` as CSV rows by key: what the feed's labels and actions must be."""
    res = _run("score", policy, "--data", data, "--as-of", as_of)
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    return {r[next(iter(r))]: r for r in rows}


def _fired(policy, data: Path, as_of: str) -> dict[str, dict]:
    """Per lead, what the interpreter fired: (component.rule, kind) -> points."""
    ds = load_dataset(policy, data)
    result = evaluate(policy, ds.leads, ds.accounts, ds.events, dt.datetime.fromisoformat(as_of).replace(tzinfo=UTC))
    out: dict[str, dict] = {}
    for e in result.explain:
        out.setdefault(e[policy.key], {})[(e["component"] + "." + e["rule"], e["kind"])] = e["points"]
    return out


def expected(policy_path: Path, data: Path, since: str, as_of: str) -> list[dict]:
    """The feed's rows (as CSV text) from two scorings and the interpreter's firing at both times."""
    policy = load(policy_path)
    old, new = _score(policy_path, data, since), _score(policy_path, data, as_of)
    labels = [o.name for o in policy.outputs if o.role in LABELS]
    actions = [o.name for o in policy.outputs if o.role == "action"]
    fired_old, fired_new = _fired(policy, data, since), _fired(policy, data, as_of)
    rows = []
    for key in sorted(new):
        changed = [c for c in labels if old[key][c] != new[key][c]]
        if not changed:
            continue
        a, b = fired_old.get(key, {}), fired_new.get(key, {})
        rules = sorted({name for name, kind in a.keys() | b.keys() if a.get((name, kind), "none") != b.get((name, kind), "none")})
        row = {policy.key: key, "since": f"{since}T00:00:00Z", "as_of": f"{as_of}T00:00:00Z", "changed": ";".join(changed)}
        for c in labels:
            row["previous_" + c], row[c] = old[key][c], new[key][c]
        row.update({x: new[key][x] for x in actions})
        row["rules"] = ";".join(rules)
        rows.append(row)
    return rows


@functools.lru_cache(maxsize=None)
def _example(name: str, into: Path) -> tuple[Path, Path]:
    """A policy of policies/ and a small copy of its data set (`data.sample.subset`)."""
    from leadlang.data.sample import subset

    policy = ROOT / "policies" / name / f"{name}.lead"
    subset(load(policy), ROOT / "policies" / name / "data", into / name, n_leads=LEADS, n_events=10**6)
    return policy, into / name


@pytest.fixture(scope="module")
def examples(tmp_path_factory):
    into = tmp_path_factory.mktemp("changes")
    return lambda name: _example(name, into)


@pytest.mark.parametrize("case", CASES)
def test_changes_equal_two_scorings(case, examples, monkeypatch):
    name, since, as_of = CASES[case]
    policy, data = examples(name)
    want = expected(policy, data, since, as_of)
    assert want, "the case must move some leads"
    import leadlang.data.staging as staging

    read, register = [], staging.register_file
    monkeypatch.setattr(staging, "register_file", lambda con, path, *a, **kw: read.append(Path(path).name) or register(con, path, *a, **kw))
    res = _run("changes", policy, "--data", data, "--since", since, "--as-of", as_of)
    assert res.exit_code == 0, res.output
    assert sorted(read) == sorted(p.name for p in data.iterdir())  # each data file checked once
    got = list(csv.DictReader(io.StringIO(res.stdout)))
    assert list(got[0]) == list(want[0])  # the columns, in order
    assert got == want

    doc = json.loads(_run("changes", policy, "--data", data, "--since", since, "--as-of", as_of, "--format", "json").stdout)
    assert doc["schema"] == "leadlang.changes/1" and doc["since"] == want[0]["since"] and doc["as_of"] == want[0]["as_of"]
    assert doc["leads"] == len(_score(policy, data, as_of)) and doc["changed_count"] == len(want)
    key = load(policy).key
    assert [lead["key"] for lead in doc["changed"]] == [r[key] for r in want]
    text = lambda v: "" if v is None else str(v).lower() if isinstance(v, bool) else str(v)  # noqa: E731
    for lead, row in zip(doc["changed"], want):
        assert list(lead["changes"]) == row["changed"].split(";")
        assert {c: (text(ch["old"]), text(ch["new"])) for c, ch in lead["changes"].items()} == \
               {c: (row["previous_" + c], row[c]) for c in lead["changes"]}
        assert {c: text(v) for c, v in lead["labels"].items()} == {c: row[c] for c in doc["labels"]}
        assert {a: text(v) for a, v in lead["actions"].items()} == {a: row[a] for a in doc["actions"]}
        assert ";".join(lead["rules"]) == row["rules"]
    for c, moves in doc["transitions"].items():  # the summary counts the same moves
        counted = {}
        for row in want:
            if row["previous_" + c] != row[c]:
                counted[(row["previous_" + c], row[c])] = counted.get((row["previous_" + c], row[c]), 0) + 1
        assert {(text(t["from"]), text(t["to"])): t["count"] for t in moves} == counted


@pytest.fixture(scope="module")
def plg(examples):
    return examples("plg")


def test_formats_and_files(plg, tmp_path):
    policy, data = plg
    args = ["changes", policy, "--data", data, "--since", "2024-05-31", "--as-of", "2024-06-01"]
    rows = list(csv.DictReader(io.StringIO(_run(*args).stdout)))
    for name in ("feed.jsonl", "feed.parquet"):
        res = _run(*args, "-o", tmp_path / name)
        assert res.exit_code == 0 and res.stdout == "", res.output
        assert f"{len(rows)} of {LEADS} leads changed -> " in res.stderr
    lines = [json.loads(line) for line in (tmp_path / "feed.jsonl").read_text().splitlines()]
    assert [x["lead_id"] for x in lines] == [r["lead_id"] for r in rows]
    assert all(isinstance(x["ucc"], bool) and isinstance(x["priority"], int) for x in lines)
    import pyarrow.parquet as pq

    assert pq.read_table(tmp_path / "feed.parquet").column("lead_id").to_pylist() == [r["lead_id"] for r in rows]

    md = _run(*args, "--format", "markdown").stdout
    assert md.startswith("### leadlang changes\n")
    assert f"{len(rows)} of {LEADS} leads changed labels between 2024-05-31T00:00:00Z and 2024-06-01T00:00:00Z" in md
    first = rows[0]
    line = next(x for x in md.splitlines() if x.startswith(f"| {first['lead_id']} |"))
    assert f"route {first['route']}" in line and first["rules"].split(";")[0] in line
    for c in first["changed"].split(";"):
        assert f"{c} {first['previous_' + c]} → {first[c]}" in line

    same = _run("changes", policy, "--data", data, "--since", "2024-06-01", "--as-of", "2024-06-01", "--format", "json")
    assert json.loads(same.stdout)["changed"] == []


def test_bad_input(plg, tmp_path):
    policy, data = plg
    (tmp_path / "leads.csv").write_text((data / "leads.csv").read_text())
    cases = [
        (["--data", data, "--since", "2024-06-02", "--as-of", "2024-06-01"], "--since 2024-06-02T00:00:00Z is after --as-of 2024-06-01T00:00:00Z"),
        (["--data", tmp_path / "nope", "--since", "2024-05-01", "--as-of", "2024-06-01"], "no such data directory"),
        (["--data", tmp_path, "--since", "2024-05-01", "--as-of", "2024-06-01"], "product"),
        (["--data", data, "--since", "yesterday", "--as-of", "2024-06-01"], "'yesterday' is not a date or timestamp"),
        (["--data", data, "--as-of", "2024-06-01"], "Missing option '--since'"),
        (["--data", data, "--since", "2024-05-01", "--as-of", "2024-06-01", "-o", data / "leads.csv"], "leads.csv"),
    ]
    for args, message in cases:
        res = _run("changes", policy, *args)
        assert res.exit_code == 2, (args, res.output)
        assert message in res.stderr, (args, res.stderr)
        assert "Traceback" not in res.output and len(res.stderr.strip().splitlines()) <= 4
    res = _run("changes", tmp_path / "missing.lead", "--data", data, "--since", "2024-05-01")
    assert res.exit_code == 2 and "does not exist" in res.stderr
