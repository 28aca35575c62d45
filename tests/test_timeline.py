"""`leadlang explain --history`: the lead's timeline, checked against the interpreter run over the whole data at each point."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from leadlang.check import load
from leadlang.cli import main
from leadlang.data.sample import subset
from leadlang.data.stream import load_dataset
from leadlang.interpret import evaluate

ROOT = Path(__file__).resolve().parent.parent
UTC = dt.timezone.utc
FROM, TO, EVERY = "2024-02-05", "2024-06-01", "1 week"
LABELS = ("band", "criteria", "disqualified", "classification")


def _run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def _num(v):
    return None if v is None else float(v) if isinstance(v, Decimal) else v


@pytest.fixture(scope="module", params=["plg", "abm"])
def case(request, tmp_path_factory):
    """A small copy of an example data set (abm pools `by account`), and the interpreter's rows at every point."""
    name = request.param
    policy_path = ROOT / "policies" / name / f"{name}.lead"
    policy = load(policy_path)
    data = tmp_path_factory.mktemp(name)
    subset(policy, ROOT / "policies" / name / "data", data, n_leads=40, n_events=100_000)
    ds = load_dataset(policy, data)
    start = dt.datetime.fromisoformat(FROM).replace(tzinfo=UTC)
    end = dt.datetime.fromisoformat(TO).replace(tzinfo=UTC)
    when = [start + i * dt.timedelta(weeks=1) for i in range((end - start) // dt.timedelta(weeks=1) + 1)]
    runs = []
    for t in when:
        result = evaluate(policy, ds.leads, ds.accounts, ds.events, t)
        fired: dict[str, dict] = {}
        for e in result.explain:
            fired.setdefault(e[policy.key], {})[f"{e['component']}.{e['rule']}"] = e["points"]
        runs.append((t, {r[policy.key]: r for r in result.rows}, fired))
    return policy_path, policy, data, runs


def expected(policy, runs, key: str) -> list[dict]:
    """The changes the timeline must list for `key`, from the interpreter's rows at each point."""
    labels = [o.name for o in policy.outputs if o.role in LABELS]
    out = []
    for (t0, rows0, fired0), (t1, rows1, fired1) in zip(runs, runs[1:]):
        a, b = rows0[key], rows1[key]
        if all(a[c] == b[c] for c in labels):
            continue
        f0, f1 = fired0.get(key, {}), fired1.get(key, {})
        out.append({
            "as_of": t1, "previous_as_of": t0,
            "labels": {c: (a[c], b[c]) for c in labels if a[c] != b[c]},
            "scores": {s: (_num(a[s]), _num(b[s])) for s in policy.scores if a[s] != b[s]},
            "fired": {r: _num(p) for r, p in f1.items() if r not in f0},
            "stopped": {r: _num(p) for r, p in f0.items() if r not in f1},
            "repointed": {r: (_num(f0[r]), _num(p)) for r, p in f1.items() if r in f0 and f0[r] != p},
        })
    return out


def _stamp(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_timeline_equals_the_interpreter_at_each_point(case):
    policy_path, policy, data, runs = case
    labels = [o.name for o in policy.outputs if o.role in LABELS]
    moving = sorted(runs[-1][1], key=lambda k: (-len(expected(policy, runs, k)), k))
    for key in [*moving[:4], moving[-1]]:  # the leads that change most, and one that changes least
        want = expected(policy, runs, key)
        res = _run("explain", policy_path, "--data", data, "--lead", key, "--history", "--from", FROM, "--to", TO, "--every", EVERY, "--format", "json")
        assert res.exit_code == 0, res.output
        got = json.loads(res.stdout)
        assert got["schema"] == "leadlang.timeline/1" and got["points"] == len(runs) and got["from"] == _stamp(runs[0][0]) and got["to"] == _stamp(runs[-1][0])
        assert got["start"]["labels"] == {c: runs[0][1][key][c] for c in labels}
        assert got["end"]["labels"] == {c: runs[-1][1][key][c] for c in labels}
        assert [c["as_of"] for c in got["changes"]] == [_stamp(w["as_of"]) for w in want]
        for c, w in zip(got["changes"], want):
            assert c["previous_as_of"] == _stamp(w["previous_as_of"])
            assert {k: (v["old"], v["new"]) for k, v in c["labels"].items()} == w["labels"]
            assert {k: (v["old"], v["new"]) for k, v in c["scores"].items()} == w["scores"]
            assert {f["rule"]: f["points"] for f in c["fired"]} == w["fired"]
            assert {f["rule"]: f["points"] for f in c["stopped"]} == w["stopped"]
            assert {f["rule"]: (f["old"], f["new"]) for f in c["repointed"]} == w["repointed"]

        text = _run("explain", policy_path, "--data", data, "--lead", key, "--history", "--from", FROM, "--to", TO, "--every", EVERY).stdout
        n = len(want)
        assert text.startswith(f"lead {key} — {policy.label}, {len(runs)} as-of points from ") and f": {n} label change{'s' if n != 1 else ''}\n" in text
        for w in want:
            assert f"{_stamp(w['as_of'])}  (since {_stamp(w['previous_as_of'])})" in text
            for r in w["fired"]:
                assert f"fired    {r}" in text
            for r in w["stopped"]:
                assert f"stopped  {r}" in text
    assert any(expected(policy, runs, k) for k in moving[:4]), "the case must change some labels"


def test_bad_input(tmp_path):
    policy, data = ROOT / "policies/plg/plg.lead", ROOT / "policies/plg/data"
    base = ["explain", policy, "--data", data, "--lead", "L00001"]
    series = ["--history", "--from", "2024-05-01", "--to", "2024-06-01"]
    cases = [
        ([*series], "--history needs --from, --to and --every"),
        (["--from", "2024-05-01", "--to", "2024-06-01", "--every", "1 week"], "go with --history"),
        (["--format", "json"], "go with --history"),
        ([*series, "--every", "1 week", "--as-of", "2024-06-01"], "--as-of and --history exclude each other"),
        ([*series, "--every", "0 days"], "--every"),
        ([*series, "--every", "1 month"], "--every"),
        (["--history", "--from", "2024-06-01", "--to", "2024-05-01", "--every", "1 day"], "is after --to"),
        (["--history", "--from", "2020-01-01", "--to", "2024-05-01", "--every", "1 hour"], "at most 1000"),
    ]
    for args, message in cases:
        res = _run(*base, *args)
        assert res.exit_code == 2, (args, res.output)
        assert message in res.stderr, (args, res.stderr)
        assert "Traceback" not in res.output
    res = _run("explain", policy, "--data", data, "--lead", "L0002", *series, "--every", "1 week")
    assert res.exit_code == 2 and "no lead with lead_id 'L0002'" in res.stderr
