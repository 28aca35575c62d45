"""`leadlang diff`: checked against both policies' interpreter outputs, computed independently here."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from leadlang.check import load
from leadlang.cli import main
from leadlang.data.stream import load_dataset
from leadlang.diagnostics import DataError
from leadlang.diff import Side, diff
from leadlang.interpret import evaluate

ROOT = Path(__file__).resolve().parent.parent
AS_OF = dt.datetime(2024, 6, 1, tzinfo=dt.timezone.utc)


# ------------------------------------------------------------------ oracle --

def _interpret(policy, data: Path):
    ds = load_dataset(policy, data)
    return evaluate(policy, ds.leads, ds.accounts, ds.events, AS_OF)


def _quartile(xs: list[Decimal], p: Decimal) -> Decimal:
    """Linear interpolation between closest ranks (numpy's default, DuckDB's quantile_cont)."""
    xs = sorted(xs)
    h = (len(xs) - 1) * p
    lo = int(h)
    return xs[lo] if lo + 1 >= len(xs) else xs[lo] + (h - lo) * (xs[lo + 1] - xs[lo])


def _stats(values: list[Decimal]) -> dict:
    return {
        "mean": (sum(values) / len(values)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP),
        "q1": _quartile(values, Decimal("0.25")),
        "median": _quartile(values, Decimal("0.5")),
        "q3": _quartile(values, Decimal("0.75")),
    }


def oracle(old, new, data: Path) -> dict:
    """What the diff must say, from the interpreter's rows and explanation rows of both policies."""
    ro, rn = _interpret(old, data), _interpret(new, data)
    key = old.key
    rows_o, rows_n = {r[key]: r for r in ro.rows}, {r[key]: r for r in rn.rows}
    keys = sorted(rows_o.keys() | rows_n.keys())
    labelled = lambda p: [o.name for o in p.outputs if o.role in ("band", "classification")]
    outputs = labelled(new) + [x for x in labelled(old) if x not in labelled(new)]
    both = [x for x in outputs if x in labelled(old) and x in labelled(new)]
    out = {"leads": len(keys), "outputs": {}, "scores": {}, "moved": []}

    def declared(p, name):
        if name not in labelled(p):
            return {}
        return dict.fromkeys(p.labels[name.removesuffix("_band") if name.endswith("_band") and name not in p.classifications else name], 0)

    for name in outputs:
        pairs = Counter((rows_o.get(k, {}).get(name), rows_n.get(k, {}).get(name)) for k in keys)
        before, after = declared(old, name), declared(new, name)
        for (a, b), c in pairs.items():
            if a is not None:
                before[a] += c
            if b is not None:
                after[b] += c
        out["outputs"][name] = {"before": before, "after": after, "transitions": dict(pairs)}
    for sc in list(new.scores) + [s for s in old.scores if s not in new.scores]:
        out["scores"][sc] = {
            side: _stats([rows[k][sc] for k in keys]) if sc in p.scores else None
            for side, p, rows in (("before", old, rows_o), ("after", new, rows_n))
        }
    why_o, why_n = {}, {}
    for rows, into in ((ro.explain, why_o), (rn.explain, why_n)):
        for e in rows:
            into.setdefault(e[key], {})[(e["component"], e["kind"], e["rule"])] = e["points"]
    for k in keys:
        changes = {x: [rows_o[k][x], rows_n[k][x]] for x in both if rows_o[k][x] != rows_n[k][x]}
        if changes:
            a, b = why_o.get(k, {}), why_n.get(k, {})
            rules = sorted({f"{c}.{r}" for (c, kind, r) in a.keys() | b.keys() if a.get((c, kind, r), "absent") != b.get((c, kind, r), "absent")})
            out["moved"].append({"key": k, "changes": changes, "rules": rules})
    return out


def assert_matches(got: dict, want: dict) -> None:
    assert got["leads"] == want["leads"]
    assert list(got["outputs"]) == list(want["outputs"])
    for name, w in want["outputs"].items():
        g = got["outputs"][name]
        assert g["before"] == w["before"], name
        assert g["after"] == w["after"], name
        assert {(t["from"], t["to"]): t["count"] for t in g["transitions"]} == w["transitions"], name
        assert len(g["transitions"]) == len(w["transitions"])
        assert g["changed"] == sum(c for (a, b), c in w["transitions"].items() if a != b) or len(g["in"]) == 1
    assert list(got["scores"]) == list(want["scores"])
    for sc, w in want["scores"].items():
        for side in ("before", "after"):
            if w[side] is None:
                assert got["scores"][sc][side] is None
            else:
                assert {k: Decimal(str(v)) for k, v in got["scores"][sc][side].items()} == w[side], (sc, side)
    assert got["moved_count"] == len(want["moved"])
    assert got["moved"] == want["moved"]


def _copy(tmp_path: Path, name: str, *edits: tuple[str, str]) -> Path:
    src = ROOT / "policies" / name / f"{name}.lead"
    text = src.read_text()
    for old, new in edits:
        # runs of spaces match any run, so the edits survive `leadlang fmt` re-aligning the policies
        pattern = re.compile(" +".join(re.escape(part) for part in re.split(" +", old)))
        assert pattern.search(text), old
        text = pattern.sub(lambda _: new, text, count=1)
    path = tmp_path / f"{name}_new.lead"
    path.write_text(text)
    return path


CHANGES = {
    "plg-threshold-and-points": ("plg", ("high >= 60, low otherwise", "high >= 50, low otherwise"), ("senior_title:    +20", "senior_title:    +25")),
    "bant-new-rule": ("bant", ("  end_user_only:", '  fintech_bonus:    +12 when industry = "financial_services"\n  end_user_only:'),),
    "ucc-gate-and-member": ("ucc", ('spam_signup:  lower(email) matches "^(test|asdf|qwerty|foo)[0-9]*@"', 'spam_signup:  lower(email) matches "^(test|asdf|qwerty|foo|a)[0-9]*@"'),
                            ("paid_plan:     +10", "paid_plan:     +18")),
    "meddic-derived-weights": ("meddic", ("score total = 0.6 * fit + 0.4 * engagement", "score total = 0.5 * fit + 0.5 * engagement"),),
    "abm-matrix-relabel": ("abm", ("  engaged   | nurture       | sdr_outreach", "  engaged   | sdr_outreach  | sdr_outreach"),),
    "xeducation-rule-removed": ("xeducation", ("  chat_only:      -10 when `Last Activity` = \"Olark Chat Conversation\"\n", ""),),
}


@pytest.mark.parametrize("case", list(CHANGES))
def test_example_policy_changes_match_the_interpreter(case, tmp_path):
    name, *edits = CHANGES[case]
    old_path = ROOT / "policies" / name / f"{name}.lead"
    new_path = _copy(tmp_path, name, *edits)
    old, new = load(old_path), load(new_path)
    data = ROOT / "policies" / name / "data"
    got = diff(Side(str(old_path), old), Side(str(new_path), new), data, AS_OF)
    want = oracle(old, new, data)
    assert want["moved"], "the change should move some leads"
    assert_matches(got, want)
    # a rule whose points changed shows in the rules of a lead it moved, if it fired for that lead
    if case == "bant-new-rule":
        assert any("fit.fintech_bonus" in m["rules"] for m in got["moved"])
    if case == "abm-matrix-relabel":
        assert all(m["rules"] == [] and list(m["changes"]) == ["play"] for m in got["moved"])


def test_same_policy_moves_nothing():
    path = ROOT / "policies" / "plg" / "plg.lead"
    p = load(path)
    got = diff(Side("a", p), Side("b", p), path.parent / "data", AS_OF)
    assert got["moved_count"] == 0 and got["moved"] == []
    for e in got["outputs"].values():
        assert e["changed"] == 0 and all(t["from"] == t["to"] for t in e["transitions"])
        assert e["before"] == e["after"]
    assert all(s["before"] == s["after"] for s in got["scores"].values())


# ------------------------------------------------------------ edge data --

EDGE_OLD = '''policy edge "edge"
  version "1"

leads from ref("leads") key lead_id {
  employees int
  country   string
}

score fit {
  big: +50 when employees > 100
  us:  +20 when country = "US"
}

score old_only { one: +1 when country is missing }

bands fit { high >= 50, mid >= 20, low otherwise }
bands old_only { yes >= 1, no otherwise }

classify tier {
  a when fit is high
  otherwise b
}
'''

EDGE_NEW = '''policy edge "edge"
  version "2"

leads from ref("leads") key lead_id {
  employees int
  country   string
}

score fit {
  big: +50 when employees > 200
  us:  +25 when country = "US"
  ca:  +10 when country != "US"
}

score new_only { one: +1 when employees is missing }

bands fit { high >= 50, mid >= 20, low otherwise }

classify tier {
  a when fit is high
  c when fit is mid
  otherwise b
}

classify fresh {
  known when new_only = 0
  otherwise unknown
}
'''

EDGE_CSV = '''lead_id,employees,country
e01,150,US
e02,,US
e03,500,
e04,250,CA
e05,,
e06,0,US
e07,101,DE
e08,300,US
'''


@pytest.fixture
def edge(tmp_path):
    (tmp_path / "old.lead").write_text(EDGE_OLD)
    (tmp_path / "new.lead").write_text(EDGE_NEW)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "leads.csv").write_text(EDGE_CSV)
    return tmp_path


def test_missing_values_and_outputs_present_on_one_side(edge):
    old, new = load(edge / "old.lead"), load(edge / "new.lead")
    got = diff(Side("old.lead", old), Side("new.lead", new), edge / "data", AS_OF)
    assert_matches(got, oracle(old, new, edge / "data"))
    # outputs: NEW's column order, then what only OLD has
    assert list(got["outputs"]) == ["fit_band", "tier", "fresh", "old_only_band"]
    fresh = got["outputs"]["fresh"]
    assert fresh["in"] == ["new"] and fresh["before"] == {} and fresh["changed"] == 0
    assert {t["from"] for t in fresh["transitions"]} == {None}
    assert fresh["after"] == {"known": 6, "unknown": 2}
    gone = got["outputs"]["old_only_band"]
    assert gone["in"] == ["old"] and gone["after"] == {} and {t["to"] for t in gone["transitions"]} == {None}
    assert gone["before"] == {"yes": 2, "no": 6}
    assert got["scores"]["old_only"]["after"] is None and got["scores"]["new_only"]["before"] is None
    # a label nobody has is listed with 0
    assert got["outputs"]["tier"]["before"]["b"] + got["outputs"]["tier"]["before"]["a"] == 8
    assert "c" in got["outputs"]["tier"]["after"] and "c" not in got["outputs"]["tier"]["before"]
    # hand-checked: e07 (101, DE): old fit 50 high -> a; new fit 0 + ca 10 = 10 low -> b
    e07 = next(m for m in got["moved"] if m["key"] == "e07")
    assert e07 == {"key": "e07", "changes": {"fit_band": ["high", "low"], "tier": ["a", "b"]}, "rules": ["fit.big", "fit.ca"]}
    # e05: everything missing: fit 0 both sides, no rule fires on either side -> not moved
    assert "e05" not in {m["key"] for m in got["moved"]}
    # transitions are ordered by old label then new label, in declaration order, absent (null) first
    order = [(t["from"], t["to"]) for t in got["outputs"]["tier"]["transitions"]]
    rank_a, rank_b = {"a": 0, "b": 1}, {"a": 0, "c": 1, "b": 2}
    assert order == sorted(order, key=lambda p: (rank_a[p[0]], rank_b[p[1]]))


def test_limit_caps_the_moved_list_not_the_count(edge):
    old, new = load(edge / "old.lead"), load(edge / "new.lead")
    full = diff(Side("o", old), Side("n", new), edge / "data", AS_OF)
    two = diff(Side("o", old), Side("n", new), edge / "data", AS_OF, limit=2)
    assert two["moved"] == full["moved"][:2] and two["moved_count"] == full["moved_count"] > 2


# --------------------------------------------------------------- CLI --

def _run(*args, **kw):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False, **kw)


def test_cli_formats(edge, tmp_path):
    args = ["diff", edge / "old.lead", edge / "new.lead", "--data", edge / "data", "--as-of", "2024-06-01"]
    res = _run(*args, "--format", "json")
    assert res.exit_code == 0, res.output
    got = json.loads(res.stdout)
    assert got["as_of"] == "2024-06-01T00:00:00Z" and got["old"]["label"] == "edge@1" and got["new"]["label"] == "edge@2"
    assert_matches(got, oracle(load(edge / "old.lead"), load(edge / "new.lead"), edge / "data"))

    text = _run(*args).stdout
    assert f"8 leads as of 2024-06-01T00:00:00Z; {got['moved_count']} moved" in text
    assert "tier: " in text and "fresh: 0 leads changed (only in new)" in text
    assert "e07  fit_band high → low, tier a → b  [fit.big, fit.ca]" in text
    assert "fit: mean" in text

    md = tmp_path / "comment.md"
    res = _run(*args, "--format", "markdown", "--limit", 1, "-o", md)
    assert res.exit_code == 0 and res.stdout == ""
    body = md.read_text()
    assert body.startswith("### leadlang diff")
    assert f"**{got['moved_count']} of 8 leads moved**" in body
    assert "| old \\ new |" in body and "<details" in body and "</details>" in body
    assert f"Moved leads (first 1 of {got['moved_count']}, by key)" in body
    first = got["moved"][0]
    assert f"| {first['key']} |" in body
    assert body.count("| e0") == 1  # --limit 1


def test_cli_exit_code_option(edge):
    base = ["diff", edge / "old.lead", "--data", edge / "data", "--as-of", "2024-06-01", "--exit-code"]
    assert _run(base[0], base[1], edge / "new.lead", *base[2:]).exit_code == 1
    assert _run(base[0], base[1], edge / "old.lead", *base[2:]).exit_code == 0


def test_cli_bad_input(edge):
    data = ["--data", edge / "data"]
    cases = [
        (["diff", edge / "nope.lead", edge / "new.lead", *data], 2, "no such file"),
        (["diff", edge / "old.lead", edge / "new.lead", "--data", edge / "missing"], 2, "no such data directory"),
        (["diff", edge / "old.lead", edge / "new.lead", *data, "--format", "xml"], 2, "xml"),
        (["diff", edge / "old.lead", edge / "new.lead", *data, "--limit", "-1"], 2, "--limit"),
    ]
    (edge / "broken.lead").write_text(EDGE_NEW.replace("employees > 200", "employes > 200"))
    cases.append((["diff", edge / "old.lead", edge / "broken.lead", *data], 1, "unknown name `employes`"))
    (edge / "other_key.lead").write_text(EDGE_NEW.replace("key lead_id", "key employees_id"))
    cases.append((["diff", edge / "old.lead", edge / "other_key.lead", *data], 2, "different columns"))
    (edge / "more_fields.lead").write_text(EDGE_NEW.replace("  country   string\n", "  country   string\n  budget    int\n"))
    cases.append((["diff", edge / "old.lead", edge / "more_fields.lead", *data], 2, 'no column "budget"'))
    for args, code, message in cases:
        res = _run(*args)
        assert res.exit_code == code, (args, res.output)
        assert message in res.stderr, (args, res.stderr)
        assert "Traceback" not in res.output


# --------------------------------------------------------------- git --

def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path):
    r = tmp_path / "repo"
    (r / "policies" / "shared").mkdir(parents=True)
    shared = EDGE_NEW.split("score fit")[0].replace('policy edge "edge"\n  version "2"\n', "")
    (r / "policies" / "shared" / "base.lead").write_text(shared + "let big_size = 200\n")
    body = 'policy edge "edge"\n  version "2"\n\nuse "shared/base.lead"\n\nscore fit' + EDGE_NEW.split("score fit", 1)[1]
    (r / "policies" / "edge.lead").write_text(body.replace("employees > 200", "employees > big_size"))
    (r / "data").mkdir()
    (r / "data" / "leads.csv").write_text(EDGE_CSV)
    _git(r, "init", "-q")
    _git(r, "add", ".")
    _git(r, "commit", "-qm", "first")
    # the working tree changes only the used file: HEAD's policy must read HEAD's shared file
    (r / "policies" / "shared" / "base.lead").write_text(shared + "let big_size = 100\n")
    return r


def test_git_revision_reads_the_policy_and_its_uses_at_that_revision(repo, tmp_path, monkeypatch):
    committed = tmp_path / "committed"
    (committed / "shared").mkdir(parents=True)
    for rel in ("edge.lead", "shared/base.lead"):
        (committed / rel).write_text(_git(repo, "show", f"HEAD:policies/{rel}"))
    old, new = load(committed / "edge.lead"), load(repo / "policies" / "edge.lead")
    want = oracle(old, new, repo / "data")
    assert want["moved"]  # big_size 200 -> 100 moves e01 (150 employees)

    monkeypatch.chdir(repo)
    res = _run("diff", "HEAD:policies/edge.lead", "policies/edge.lead", "--data", "data", "--as-of", "2024-06-01", "--format", "json")
    assert res.exit_code == 0, res.output
    got = json.loads(res.stdout)
    assert got["old"]["policy"] == "HEAD:policies/edge.lead"
    assert_matches(got, want)

    # from a subdirectory: ./ paths are relative to the cwd, others to the repository's root, as in `git show`
    monkeypatch.chdir(repo / "policies")
    for spec in ("HEAD:./edge.lead", "HEAD:policies/edge.lead"):
        res = _run("diff", spec, "edge.lead", "--data", "../data", "--as-of", "2024-06-01", "--format", "json")
        assert res.exit_code == 0, res.output
        assert_matches(json.loads(res.stdout), want)
    res = _run("diff", "HEAD:edge.lead", "edge.lead", "--data", "../data")
    assert res.exit_code == 2 and "HEAD:edge.lead" in res.stderr and "HEAD:./edge.lead" in res.stderr


def test_git_errors(repo, monkeypatch):
    monkeypatch.chdir(repo)
    args = ["--data", "data", "--as-of", "2024-06-01"]
    res = _run("diff", "nope:policies/edge.lead", "policies/edge.lead", *args)
    assert res.exit_code == 2 and "nope:policies/edge.lead" in res.stderr and "nope" in res.stderr
    # a revision whose policy does not check: exit 1, the diagnostic names REV:path and quotes its line
    (repo / "policies" / "edge.lead").write_text((repo / "policies" / "edge.lead").read_text().replace("employees > big_size", "employes > big_size"))
    _git(repo, "commit", "-qam", "broken")
    res = _run("diff", "HEAD:policies/edge.lead", "HEAD~1:policies/edge.lead", *args)
    assert res.exit_code == 1
    assert "HEAD:policies/edge.lead:" in res.stderr and "unknown name `employes`" in res.stderr
    assert "big: +50 when employes > big_size" in res.stderr  # the source line is shown
    assert "leadlang-diff-" not in res.stderr  # no temporary path leaks


def test_git_outside_a_repository(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = _run("diff", "HEAD:x.lead", "HEAD:y.lead", "--data", ".")
    assert res.exit_code == 2 and "not in a git repository" in res.stderr


def test_git_revision_is_data_not_an_option(repo, tmp_path, monkeypatch):
    """The audit's `diff -- "--output=/tmp/x/PWNED:plg.lead" plg.lead`: refused before git runs, nothing written."""
    monkeypatch.chdir(repo)
    target = tmp_path / "x"
    for spec in (f"--output={target}/PWNED:policies/edge.lead", "--output=/tmp/x/PWNED:plg.lead", "-p:policies/edge.lead"):
        res = _run("diff", "--data", "data", "--as-of", "2024-06-01", "--", spec, "policies/edge.lead")
        assert res.exit_code == 2, res.output
        assert res.stderr.count("\n") == 1 and "cannot start with '-'" in res.stderr
    assert not target.exists() and not Path("/tmp/x/PWNED").exists()
    # and git itself is told where the options end: the same argument is a (bad) revision to it, not --output
    from leadlang.fs import git as run_git
    with pytest.raises(DataError):
        run_git("show", "--end-of-options", f"--output={target}/PWNED:policies/edge.lead")
    assert not target.exists()


@pytest.mark.parametrize("spec, message", [
    ("HEAD:/etc/passwd", "must be relative to the repository"),
    ("HEAD:../../outside.lead", "outside the git repository"),
])
def test_git_paths_stay_in_the_repository(repo, monkeypatch, spec, message):
    monkeypatch.chdir(repo / "policies")
    res = _run("diff", spec, "edge.lead", "--data", "../data")
    assert res.exit_code == 2 and message in res.stderr and "root:" not in res.output


def test_git_uses_are_confined_to_the_project(repo, tmp_path, monkeypatch):
    """A revision's `use` obeys the working tree's rule: .lead files in the project; nothing of other files is shown."""
    secret = tmp_path / "secret.lead"
    secret.write_text("TOKEN=hunter2\n")
    edge = repo / "policies" / "edge.lead"
    for used in ("/etc/passwd", str(secret), "../data/leads.csv", "../outside.lead"):
        (repo / "outside.lead").write_text("TOKEN=hunter2\n")
        edge.write_text(edge.read_text().replace('use "shared/base.lead"', f'use "shared/base.lead"\nuse "{used}"', 1))
        _git(repo, "add", ".")
        _git(repo, "commit", "-qm", f"use {used}")
        monkeypatch.chdir(repo)
        res = _run("diff", "HEAD:policies/edge.lead", "HEAD:policies/edge.lead", "--data", "data", "--as-of", "2024-06-01")
        assert res.exit_code == 1, (used, res.output)
        assert "E308" in res.stderr and f'use "{used}"' in res.stderr
        assert "hunter2" not in res.output and "root:" not in res.output and "lead_id," not in res.output
        edge.write_text(edge.read_text().replace(f'\nuse "{used}"', ""))
    # with a [tool.leadlang] pyproject.toml at the repository's root, the project is the repository
    (repo / "pyproject.toml").write_text("[tool.leadlang]\n")
    (repo / "common.lead").write_text("let big_size = 200\n")
    base = repo / "policies" / "shared" / "base.lead"
    base.write_text(base.read_text().replace("let big_size = 100\n", 'use "../../common.lead"\n'))
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "project root")
    res = _run("diff", "HEAD:policies/edge.lead", "policies/edge.lead", "--data", "data", "--as-of", "2024-06-01", "--format", "json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["moved_count"] == 0


# ------------------------------------------------------------- one pass --
# `diff` checks each data file once for both policies and computes both policies'
# event aggregates in one pass over each events source (`leadlang/diff/merge.py`).

EV_OLD = '''policy ev "events edge"
  version "1"

leads from ref("leads") key lead_id account account_id {
  employees int
}

events product from ref("product") {
  lead  user_id
  at    occurred_at
  name  event_name
  seats int
}

events marketing from ref("marketing") {
  lead contact_id
  at   happened_at
  name activity
}

signal logins_7 = count(product "login" in last 7 days)
signal team_30  = count(product in last 30 days by account)

score eng {
  active: +10 when logins_7 >= 1
  seats:  +1 per sum(product.seats in last 30 days), max 20
  mk:     +5 when count(marketing in last 14 days) > 0
  team:   +3 when team_30 > 2
}

bands eng { high >= 15, low otherwise }
'''

# NEW: another login window (an aggregate OLD has not), no marketing source, `seats` a number
EV_NEW = (EV_OLD.replace('version "1"', 'version "2"').replace('"login" in last 7 days', '"login" in last 8 days')
          .replace("seats int", "seats number").replace("high >= 15", "high >= 12")
          .replace('events marketing from ref("marketing") {\n  lead contact_id\n  at   happened_at\n  name activity\n}\n', "")
          .replace("  mk:     +5 when count(marketing in last 14 days) > 0\n", ""))

EV_DATA = {
    "leads.csv": "lead_id,account_id,employees\nl1,a1,10\nl2,a1,\nl3,,5\nl4,a2,7\nl5,a2,\n",
    # on window boundaries (exactly 7, 8, 14 and 30 days before as-of: outside), at as-of (inside),
    # after as-of (ignored), a missing seat count, events of an unknown lead
    "product.csv": ("user_id,occurred_at,event_name,seats\n"
                    "l1,2024-05-25T00:00:00Z,login,3\nl1,2024-06-01T00:00:00Z,login,\nl1,2024-06-01T00:00:01Z,login,50\n"
                    "l1,2024-05-30T00:00:00Z,view,\nl2,2024-05-20T12:00:00Z,signup,4\nl2,2024-05-31T00:00:00Z,login,1\n"
                    "l2,2024-05-24T00:00:00Z,login,2\nghost,2024-05-30T00:00:00Z,login,9\nl3,2024-05-02T00:00:00Z,login,2\n"
                    "l5,2024-05-24T06:00:00Z,login,7\n"),
    "marketing.csv": ("contact_id,happened_at,activity\nl3,2024-05-20T00:00:00Z,email_open\nl4,2024-05-18T00:00:00Z,email_open\n"
                      "ghost,2024-05-30T00:00:00Z,email_open\nl4,2024-05-18T00:00:01Z,email_open\n"),
}


@pytest.fixture
def ev(tmp_path):
    (tmp_path / "old.lead").write_text(EV_OLD)
    (tmp_path / "new.lead").write_text(EV_NEW)
    (tmp_path / "data").mkdir()
    for name, text in EV_DATA.items():
        (tmp_path / "data" / name).write_text(text)
    return tmp_path


@pytest.fixture
def spy(monkeypatch):
    """The data files `data.staging` checks and registers, the merged plans `merge` hands back, and
    the policies scored whole (`run_side`: when the two cannot share one statement, or it failed)."""
    import leadlang.data.staging as staging
    from leadlang.diff import compare as compare_module
    from leadlang.diff import scoring as scoring_module

    seen = {"files": [], "merged": [], "whole": []}
    register, merge, run_side = staging.register_file, compare_module.merge, scoring_module.run_side

    def registering(con, path, *args, **kwargs):
        seen["files"].append(Path(path).name)
        return register(con, path, *args, **kwargs)

    def merging(plans):
        got = merge(plans)
        seen["merged"].append(got)
        return got

    def running(con, side, what, *args):
        seen["whole"].append((side.spec, what))
        return run_side(con, side, what, *args)

    monkeypatch.setattr(staging, "register_file", registering)
    monkeypatch.setattr(compare_module, "merge", merging)
    monkeypatch.setattr(scoring_module, "run_side", running)
    return seen


def _one_statement(spy) -> list[str]:
    """The merged plan's event scans, after checking that it was the only statement scoring the leads."""
    [merged] = spy["merged"]
    assert merged is not None and spy["whole"] == []
    return sorted(s.name for s in merged.plan.scans)


def test_each_data_file_is_read_once_and_the_events_scanned_once(spy, tmp_path):
    old_path = ROOT / "policies" / "plg" / "plg.lead"
    new_path = _copy(tmp_path, "plg", ("high >= 60, low otherwise", "high >= 50, low otherwise"),
                     ("+20 when invites_14d >= 3", "+25 when invites_14d >= 2"))
    old, new = load(old_path), load(new_path)
    data = ROOT / "policies" / "plg" / "data"
    got = diff(Side(str(old_path), old), Side(str(new_path), new), data, AS_OF)
    assert_matches(got, oracle(old, new, data))
    assert got["moved"] and any("engagement.team_invites" in m["rules"] for m in got["moved"])
    assert sorted(spy["files"]) == ["leads.csv", "marketing.csv", "product.csv"]  # once each, for both policies
    # one statement: each events source scanned once, for both policies
    assert _one_statement(spy) == ["marketing", "product"]


def test_policies_with_different_sources_and_types_on_edge_data(spy, ev):
    old, new = load(ev / "old.lead"), load(ev / "new.lead")
    got = diff(Side("old.lead", old), Side("new.lead", new), ev / "data", AS_OF)
    want = oracle(old, new, ev / "data")
    assert want["moved"]
    assert_matches(got, want)
    # `seats` is an int for OLD and a number for NEW: product is checked once per type; the rest once
    assert sorted(spy["files"]) == ["leads.csv", "marketing.csv", "product.csv", "product.csv"]
    assert _one_statement(spy) == ["marketing", "product", "product__new"]


def test_diff_equals_scoring_each_policy_alone(ev):
    """The diff's view of each lead is what `score` of each policy alone gives (both engines)."""
    from leadlang.engine import score_duckdb

    old, new = load(ev / "old.lead"), load(ev / "new.lead")
    got = diff(Side("old.lead", old), Side("new.lead", new), ev / "data", AS_OF)
    rows = {side: {r["lead_id"]: r for r in score_duckdb(p, ev / "data", AS_OF).rows} for side, p in (("old", old), ("new", new))}
    assert rows["old"] == {r["lead_id"]: r for r in _interpret(old, ev / "data").rows}
    assert rows["new"] == {r["lead_id"]: r for r in _interpret(new, ev / "data").rows}
    moved = {k for k in rows["old"] if rows["old"][k]["eng_band"] != rows["new"][k]["eng_band"]}
    assert {m["key"] for m in got["moved"]} == moved
    assert all(m["changes"]["eng_band"] == [rows["old"][m["key"]]["eng_band"], rows["new"][m["key"]]["eng_band"]] for m in got["moved"])
    after = Counter(r["eng_band"] for r in rows["new"].values())
    assert {label: n for label, n in got["outputs"]["eng_band"]["after"].items() if n} == dict(after)


def test_different_leads_relations_run_each_policy_whole(spy, ev):
    """NEW reads `employees` as a number: the leads are registered twice, and nothing is shared."""
    (ev / "num.lead").write_text(EV_NEW.replace("employees int", "employees number"))
    old, new = load(ev / "old.lead"), load(ev / "num.lead")
    got = diff(Side("old.lead", old), Side("num.lead", new), ev / "data", AS_OF)
    assert_matches(got, oracle(old, new, ev / "data"))
    assert spy["files"].count("leads.csv") == 2 and spy["merged"] == [None]
    assert spy["whole"] == [("old.lead", "score"), ("num.lead", "score"), ("old.lead", "explain"), ("num.lead", "explain")]


def test_a_bad_file_is_reported_for_the_policy_that_reads_it(ev):
    (ev / "extra.lead").write_text(EV_NEW.replace("seats number", "seats number\n  plan string"))
    res = _run("diff", ev / "old.lead", ev / "extra.lead", "--data", ev / "data", "--as-of", "2024-06-01")
    assert res.exit_code == 2
    line = res.output.strip().splitlines()[-1]
    assert str(ev / "extra.lead") in line and "plan" in line and "product.csv" in line, line
    assert "Traceback" not in res.output


def test_by_account_diff_equals_scoring_each_side_alone(spy, tmp_path):
    """benchmarks/account_bench.lead (`by account` aggregates, regex, derived scores) with its band
    thresholds moved, on generated edge-case data: the diff is what scoring each policy alone and
    comparing the rows gives, in one statement (the events scanned once) without the text columns."""
    import sys

    from leadlang.engine import score_duckdb

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_data import generate

    data = tmp_path / "data"
    generate(data, 1000)
    old_path = ROOT / "benchmarks" / "account_bench.lead"
    new_path = tmp_path / "new.lead"
    new_path.write_text(old_path.read_text().replace("bands priority { hot >= 60, warm >= 30", "bands priority { hot >= 55, warm >= 35"))
    old, new = load(old_path), load(new_path)
    got = diff(Side("old", old), Side("new", new), data, AS_OF)
    assert _one_statement(spy) == ["marketing", "product"]
    rows = {side: {r["lead_id"]: r for r in score_duckdb(p, data, AS_OF).rows} for side, p in (("old", old), ("new", new))}
    outs = ("priority_band", "play")
    moved = {k: {o: [rows["old"][k][o], rows["new"][k][o]] for o in outs if rows["old"][k][o] != rows["new"][k][o]}
             for k in rows["old"]}
    moved = {k: c for k, c in moved.items() if c}
    assert len(moved) > 20 and got["leads"] == len(rows["old"]) == 1000
    assert got["moved_count"] == len(moved)
    assert {m["key"]: m["changes"] for m in got["moved"]} == moved
    assert all(m["rules"] == [] for m in got["moved"])  # only thresholds moved: no rule fires differently
    for o in outs:
        for side, counts in (("old", got["outputs"][o]["before"]), ("new", got["outputs"][o]["after"])):
            assert {label: n for label, n in counts.items() if n} == dict(Counter(r[o] for r in rows[side].values()))
        pairs = Counter((rows["old"][k][o], rows["new"][k][o]) for k in rows["old"])
        assert {(t["from"], t["to"]): t["count"] for t in got["outputs"][o]["transitions"]} == dict(pairs)
    for sc in ("fit", "engagement", "priority", "momentum"):
        total = sum(Decimal(r[sc]) for r in rows["new"].values())
        assert Decimal(str(got["scores"][sc]["after"]["mean"])) == (total / 1000).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def test_one_statement_leaves_policy_strings_alone(spy, edge):
    """Strings holding a column's quoted name or a quote are data: only the SQL's own names are renamed
    when the two policies' columns are merged (NEW's `fit` differs from OLD's, so it is renamed)."""
    (edge / "data" / "leads.csv").write_text(EDGE_CSV + 'e09,50,"""fit"""\ne10,50,"it\'s ""fit"""\ne11,250,"""fit__d2"""\n')
    (edge / "quoted.lead").write_text(EDGE_NEW.replace('us:  +25 when country = "US"',
                                                       'us:  +25 when country in ["US", "\\"fit\\"", "it\'s \\"fit\\""]'))
    old, new = load(edge / "old.lead"), load(edge / "quoted.lead")
    got = diff(Side("old", old), Side("new", new), edge / "data", AS_OF)
    want = oracle(old, new, edge / "data")
    assert {"e09", "e10"} <= {m["key"] for m in want["moved"]}
    assert_matches(got, want)
    assert _one_statement(spy) == []


def test_an_error_in_the_one_statement_names_the_policy(spy, edge):
    """A value out of range fails the one statement; each policy is then scored whole, and the error
    is the one `score` gives for the policy that overflows."""
    (edge / "huge.lead").write_text(EDGE_NEW.replace("score new_only {", "signal huge = employees * 100000000000000000\n\nscore new_only {"))
    res = _run("diff", edge / "old.lead", edge / "huge.lead", "--data", edge / "data", "--as-of", "2024-06-01")
    assert res.exit_code == 2 and "Traceback" not in res.output
    scored = _run("score", edge / "huge.lead", "--data", edge / "data", "--as-of", "2024-06-01")
    assert scored.exit_code == 2
    assert res.stderr.strip().splitlines()[-1] == f"error: {edge / 'huge.lead'}: " + scored.stderr.strip().splitlines()[-1].removeprefix("error: ")
    assert spy["merged"][0] is not None and spy["whole"][0] == (str(edge / "old.lead"), "score")


def test_leads_pooled_by_another_account_column_run_each_policy_whole(spy, ev):
    """NEW pools `by account` over another lead column: no statement can join both ways, so each runs whole."""
    data = ev / "data"
    (data / "leads.csv").write_text("lead_id,account_id,employees,team\nl1,a1,10,t1\nl2,a1,,t2\nl3,,5,\nl4,a2,7,t2\nl5,a2,,t1\n")
    (ev / "team.lead").write_text(EV_OLD.replace("account account_id {", "account team {\n  account_id string").replace("high >= 15", "high >= 8"))
    old, new = load(ev / "old.lead"), load(ev / "team.lead")
    got = diff(Side("old.lead", old), Side("team.lead", new), data, AS_OF)
    want = oracle(old, new, data)
    assert want["moved"]
    assert_matches(got, want)
    assert spy["merged"] == [None]
