"""`leadlang test --coverage`: which rules, gates, members, branches and cells the tests exercised."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from leadlang.check import load
from leadlang.cli import main
from leadlang.interpret import Interpreter
from leadlang.syntax import ast as A
from leadlang.testing import run_tests
from leadlang.testing.coverage import coverage, items

ROOT = Path(__file__).resolve().parent.parent

HEAD = '''policy cov "coverage"
  version "1"
  owner "revops"

leads from ref("leads") key id {
  employees int
  country   string
  visits    int
}

score fit {
  big:   +50 when employees > 1000
  us:    +20 when country = "US"
  never: +10 when employees < 0
}

score engagement {
  visits:  +5 per visits, max 60
  penalty: -10 when visits = 0
}

disqualify {
  tiny:    employees < 5
  nowhere: country = "XX"
}

criteria icp require 1 of {
  large: employees >= 500
  home:  country in ["US", "CA"]
}

bands fit        { high >= 50, low otherwise }
bands engagement { high >= 30, low otherwise }

matrix segment: engagement by fit {
         | low   | high
  high   | warm  | hot
  low    | cold  | later
}

classify stage {
  sql when segment is hot and icp
  mql when fit >= 20
  otherwise lead
}
'''

# Test 1: employees 2000, US, visits 10 -> fit 70 high (big, us), engagement 50 high (visits),
#   members large + home, no gate, cell [high, high] hot, stage sql.
# Test 2: employees 3, country XX, visits 0 -> fit 0, engagement -10 (penalty; no clamp), both gates true
#   (tiny gives the reason, nowhere is true too), disqualified: no cell; stage: fit 0 -> otherwise lead.
#   Its expectation is wrong on purpose: a failing test still counts for coverage.
# Test 3: visits missing, country missing, employees missing -> nothing fires (per of missing is 0;
#   unknown conditions do not fire); fit 0 low, engagement 0 low -> cell [low, low] cold; stage lead.
TESTS = '''
test "big US buyer" {
  as of 2024-06-01
  lead { employees: 2000, country: "US", visits: 10 }
  expect stage is sql
}

test "tiny bogus lead" {
  as of 2024-06-01
  lead { employees: 3, country: "XX", visits: 0 }
  expect stage is mql
}

test "nothing known" {
  as of 2024-06-01
  lead { }
  expect stage is lead
}
'''


def _line(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.fixture
def policy_file(tmp_path):
    path = tmp_path / "cov.lead"
    path.write_text(HEAD + TESTS)
    return path


def test_items_of_every_kind_in_declaration_order(policy_file):
    names = [(i.kind, i.name) for i in items(load(policy_file))]
    assert names == [
        ("rule", "fit.big"), ("rule", "fit.us"), ("rule", "fit.never"),
        ("rule", "engagement.visits"), ("rule", "engagement.penalty"),
        ("gate", "disqualify.tiny"), ("gate", "disqualify.nowhere"),
        ("member", "icp.large"), ("member", "icp.home"),
        ("cell", "segment[engagement high, fit low]: warm"), ("cell", "segment[engagement high, fit high]: hot"),
        ("cell", "segment[engagement low, fit low]: cold"), ("cell", "segment[engagement low, fit high]: later"),
        ("branch", "stage: sql"), ("branch", "stage: mql"), ("branch", "stage: otherwise lead"),
    ]


def test_covered_items_match_hand_reasoning(policy_file):
    policy = load(policy_file)
    results = run_tests(policy)
    assert [r.passed for r in results] == [True, False, True]
    cov = coverage(policy, results)
    covered = {i.name for i in cov.covered}
    assert covered == {
        "fit.big", "fit.us", "engagement.visits", "engagement.penalty",
        "disqualify.tiny", "disqualify.nowhere", "icp.large", "icp.home",
        "segment[engagement high, fit high]: hot", "segment[engagement low, fit low]: cold",
        "stage: sql", "stage: otherwise lead",
    }
    text = policy_file.read_text()
    missed = [(i.name, i.span.line) for i in cov.missed]
    assert missed == [
        ("fit.never", _line(text, "never: +10")),
        ("segment[engagement high, fit low]: warm", _line(text, "high   | warm")),
        ("segment[engagement low, fit high]: later", _line(text, "low    | cold")),
        ("stage: mql", _line(text, "mql when fit")),
    ]
    assert (len(cov.covered), len(cov.items)) == (12, 16)
    assert cov.percent == 75.0
    assert cov.by_kind() == {"rule": (4, 5), "gate": (2, 2), "member": (2, 2), "branch": (2, 3), "cell": (2, 4)}


def test_only_the_subject_lead_counts_and_no_tests_means_nothing_covered(tmp_path):
    # the second lead would fire `fit.big`, but only the subject (the first lead) is what a test checks
    path = tmp_path / "p.lead"
    path.write_text(HEAD + '''
test "two leads" {
  as of 2024-06-01
  lead { id: "a", employees: 10, country: "FR", visits: 1 }
  lead { id: "b", employees: 5000 }
  expect fit = 0
}
''')
    policy = load(path)
    covered = {i.name for i in coverage(policy, run_tests(policy)).covered}
    assert "fit.big" not in covered and "engagement.visits" in covered
    path.write_text(HEAD)
    assert coverage(load(path), []).covered == set()


def _independent(policy, results) -> set[tuple[str, str]]:
    """Re-derive what fired from the conditions themselves, evaluated on each subject's state."""
    hit = set()
    for r in results:
        s = r.state
        interp = Interpreter(policy, s.values["as_of"])
        for sc in policy.scores.values():
            for rule in getattr(sc, "rules", ()):
                v = interp.eval(rule.expr, s)
                if rule.kind == "when" and v is True and rule.points != 0 or rule.kind == "per" and v not in (None, 0) and rule.points != 0:
                    hit.add(("rule", f"{sc.name}.{rule.id}"))
        hit |= {("gate", f"disqualify.{g.id}") for g in policy.gates if interp.eval(g.cond, s) is True}
        for cr in policy.criteria.values():
            hit |= {("member", f"{cr.name}.{m.id}") for m in cr.members if interp.eval(m.cond, s) is True}
        for c in policy.classifications.values():
            if isinstance(c, A.Matrix):
                if not s.values["disqualified"]:
                    rb, cb = s.values[f"{c.rows_score}_band"], s.values[f"{c.cols_score}_band"]
                    label = next(row for row in c.rows if row.band == rb).cells[c.columns.index(cb)]
                    hit.add(("cell", f"{c.name}[{c.rows_score} {rb}, {c.cols_score} {cb}]: {label}"))
            else:
                chosen = next((f"{c.name}: {b.label}" for b in c.branches if interp.eval(b.cond, s) is True), f"{c.name}: otherwise {c.otherwise}")
                hit.add(("branch", chosen))
    return hit


@pytest.mark.parametrize("path", sorted((ROOT / "policies").glob("*/*.lead")), ids=lambda p: p.stem)
def test_example_policies_coverage_agrees_with_the_conditions(path):
    policy = load(path)
    results = run_tests(policy)
    cov = coverage(policy, results)
    assert {(i.kind, i.name) for i in cov.covered} == _independent(policy, results)
    assert len({(i.kind, i.name, i.span) for i in cov.items}) == len(cov.items)


def _run(*args):
    return CliRunner().invoke(main, list(map(str, args)), catch_exceptions=False)


def test_cli_text_report_and_fail_under(policy_file):
    res = _run("test", "--coverage", policy_file)
    assert res.exit_code == 1  # the failing test, not coverage
    assert f"coverage {policy_file}: 75.0% (12 of 16)" in res.output
    assert "rules 4/5, gates 2/2, members 2/2, branches 2/3, cells 2/4" in res.output
    line = _line(policy_file.read_text(), "mql when fit")
    assert f"  not covered: {policy_file}:{line}: branch stage: mql" in res.output
    assert res.output.rstrip().endswith("total coverage: 75.0% (12 of 16)")

    passing = policy_file.with_name("ok.lead")
    passing.write_text(HEAD + TESTS.replace("expect stage is mql", "expect stage is lead"))
    assert _run("test", "--coverage", "--fail-under", 75, passing).exit_code == 0
    res = _run("test", "--fail-under", 75.5, passing)  # --fail-under implies --coverage
    assert res.exit_code == 1
    assert "total coverage: 75.0%" in res.output
    assert "coverage 75.0% is below --fail-under 75.5" in res.stderr
    assert _run("test", passing).output.count("coverage") == 0
    assert _run("test", "--fail-under", 101, passing).exit_code == 2


def test_cli_total_over_several_policies(policy_file):
    plg = ROOT / "policies" / "plg" / "plg.lead"
    ok = policy_file.with_name("ok.lead")
    ok.write_text(HEAD + TESTS.replace("expect stage is mql", "expect stage is lead"))
    res = _run("test", "--coverage", "--fail-under", 88, plg, ok)
    n = len(items(load(plg)))
    assert f"coverage {plg}: 100.0% ({n} of {n})" in res.output
    total = 100 * (n + 12) / (n + 16)
    assert f"total coverage: {total:.1f}% ({n + 12} of {n + 16})" in res.output
    assert res.exit_code == (1 if total < 88 else 0)


def test_cli_junit_carries_coverage_properties(policy_file, tmp_path):
    out = tmp_path / "report.xml"
    res = _run("test", "--coverage", "--format", "junit", "-o", out, policy_file)
    assert res.exit_code == 1
    suite = ET.parse(out).getroot().find("testsuite")
    props = [(p.get("name"), p.get("value")) for p in suite.find("properties")]
    assert props[:3] == [("coverage", "75.0"), ("coverage.covered", "12"), ("coverage.items", "16")]
    assert next(v for k, v in props if k == "coverage.missed") == f"{policy_file}:{_line(policy_file.read_text(), 'never: +10')}: rule fit.never"
    assert len(suite.findall("testcase")) == 3
    plain = _run("test", "--format", "junit", policy_file)
    assert "<properties" not in plain.output


def test_a_broken_policy_is_not_covered_but_reported(tmp_path, policy_file):
    bad = tmp_path / "bad.lead"
    bad.write_text(HEAD.replace("employees > 1000", "employes > 1000"))
    res = _run("test", "--coverage", bad, policy_file)
    assert res.exit_code == 1
    assert "unknown name `employes`" in res.output
    assert re.search(r"total coverage: 75\.0% \(12 of 16\)", res.output)
