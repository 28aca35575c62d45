"""`leadlang test -k EXPR`, `POLICY::"test name"`, `--format json` and `--fail-fast`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from leadlang.check import load
from leadlang.cli import main
from leadlang.diagnostics import DataError
from leadlang.testing import run_tests
from leadlang.testing.select import keyword, split_target

ROOT = Path(__file__).parent.parent
PLG = ROOT / "policies" / "plg" / "plg.lead"
NAMES = [t.name for t in load(PLG).tests]


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


# ------------------------------------------------------------------ -k expressions --

WORDS = ["free", "student", "gate", "a", "is", "VP", "zzz"]


def _exprs():
    """(text, evaluate(name)) pairs for random and/or/not/parenthesised expressions over WORDS."""
    leaf = st.sampled_from(WORDS).map(lambda w: (w, lambda name, w=w: w.lower() in name.lower()))

    def grow(inner):
        return st.one_of(
            inner.map(lambda e: (f"not {e[0]}", lambda name, f=e[1]: not f(name))),
            st.tuples(inner, inner).map(lambda p: (f"({p[0][0]} and {p[1][0]})", lambda name, a=p[0][1], b=p[1][1]: a(name) and b(name))),
            st.tuples(inner, inner).map(lambda p: (f"({p[0][0]} or {p[1][0]})", lambda name, a=p[0][1], b=p[1][1]: a(name) or b(name))),
        )

    return st.recursive(leaf, grow, max_leaves=8)


@given(_exprs())
def test_keyword_expressions_mean_what_pytest_means(expr):
    text, meaning = expr
    match = keyword(text)
    for name in NAMES:
        assert match(name) == meaning(name), (text, name)


@pytest.mark.parametrize(
    "expr, name, expected",
    [
        ("a or b and c", "a", True),  # and binds tighter than or
        ("a or b and c", "b", False),
        ("(a or b) and c", "a", False),
        ("not not x", "x", True),
        ('"free email"', "a free email user", True),
        ('"free email"', "free-email", False),
        ("'it\\'s'", "it's here", True),  # a backslash escapes a quote
        ("FREE", "free", True),
        ("NOT free", "free", False),  # operators in any case, as pytest
        ("dormant", "a dormant free-mail user", True),
    ],
)
def test_keyword_precedence_quotes_and_case(expr, name, expected):
    assert keyword(expr)(name) is expected


@pytest.mark.parametrize("expr", ["", "   ", "a and", "(a", "a)", "and a", "not", '"unclosed', "a b"])
def test_a_malformed_keyword_expression_is_one_error(expr):
    with pytest.raises(DataError, match=r"^-k"):
        keyword(expr)


def test_policy_and_test_name_targets():
    assert split_target('p.lead::"a b"') == ("p.lead", "a b")
    assert split_target("p.lead::a b") == ("p.lead", "a b")
    assert split_target("p.lead") == ("p.lead", None)
    with pytest.raises(DataError, match="no test name"):
        split_target("p.lead::")


# ------------------------------------------------------------------ the command --

def test_k_runs_exactly_the_matching_tests():
    r = run("test", PLG, "-k", "student or free", "--format", "json")
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout)
    ran = [t["name"] for p in report["policies"] for t in p["tests"]]
    expected = [n for n in NAMES if "student" in n.lower() or "free" in n.lower()]
    assert ran == expected and len(expected) >= 2
    assert report["summary"]["deselected"] == len(NAMES) - len(expected)
    text = run("test", PLG, "-k", "student or free").stdout
    assert text.splitlines()[-1] == f"{len(expected)} passed, 0 failed, {len(NAMES) - len(expected)} deselected"


def test_a_target_names_one_test():
    name = NAMES[2]
    r = run("test", f'{PLG}::"{name}"', "--format", "json")
    assert r.exit_code == 0, r.output
    assert [t["name"] for t in json.loads(r.stdout)["policies"][0]["tests"]] == [name]
    both = run("test", f"{PLG}::{NAMES[0]}", f"{PLG}::{NAMES[3]}", "--format", "json")
    assert [t["name"] for t in json.loads(both.stdout)["policies"][0]["tests"]] == [NAMES[0], NAMES[3]]


def test_an_unknown_test_name_or_a_k_matching_nothing_is_bad_input():
    r = run("test", f"{PLG}::{NAMES[0][:-3]}")
    assert r.exit_code == 2 and "no test named" in r.output and "did you mean" in r.output
    r = run("test", PLG, "-k", "nothing_is_called_this")
    assert r.exit_code == 2 and "no test name matches" in r.output
    r = run("test", PLG, "-k", "a and")
    assert r.exit_code == 2 and r.output.startswith("error: -k")
    r = run("test", f"{ROOT / 'policies'}::{NAMES[0]}")
    assert r.exit_code == 2 and "is a directory" in r.output


def _broken(tmp_path: Path, *swaps: tuple[str, str]) -> Path:
    text = PLG.read_text(encoding="utf-8")
    for old, new in swaps:
        assert old in text
        text = text.replace(old, new, 1)
    path = tmp_path / "broken.lead"
    path.write_text(text, encoding="utf-8")
    return path


def test_json_holds_every_expectation_its_findings_and_the_fired_rules(tmp_path):
    broken = _broken(tmp_path, ("expect fit >= 60", "expect fit >= 95"))
    r = run("test", broken, "--format", "json", "--coverage")
    assert r.exit_code == 1
    report = json.loads(r.stdout)
    assert report["schema"] == "leadlang.test/1"
    assert report["summary"] == {"tests": len(NAMES), "passed": len(NAMES) - 1, "failed": 1, "deselected": 0, "policies_with_errors": 0}
    results = run_tests(load(broken))
    (policy,) = report["policies"]
    assert policy["path"] == str(broken) and set(policy["coverage"]) == {"percent", "covered", "items", "missed"}
    for got, want in zip(policy["tests"], results, strict=True):
        assert got["name"] == want.name and got["passed"] == want.passed and got["line"] == want.span.line
        assert [f["rule"] for f in got["fired"]] == [f"{c}.{r}" for c, r in _fired_in_order(want)]
        assert len(got["expectations"]) == sum(line.strip().startswith("expect") for line in _block(broken, want.span.line))
        for e in got["expectations"]:
            assert e["text"].startswith("expect") and e["actual"]
    failing = next(t for t in policy["tests"] if not t["passed"])
    (bad,) = [e for e in failing["expectations"] if not e["passed"]]
    assert bad["text"] == "expect fit >= 95" and bad["actual"].startswith("false; ") and "fit = 90.00" in bad["actual"]
    good = next(e for e in failing["expectations"] if e["text"] == "expect fit = 90")
    assert good["passed"] and good["actual"].startswith("true; ")
    points = {f["rule"]: f["points"] for f in failing["fired"]}
    assert points["fit.target_industry"] == "30.00" or points["fit.target_industry"] == "30"


def _fired_in_order(result):
    return [(e["component"], e["rule"]) for e in result.state.explain]


def _block(path: Path, line: int) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()[line - 1:]
    return lines[: next(i for i, text in enumerate(lines) if text.startswith("}")) + 1]


def test_fail_fast_stops_at_the_first_failing_test(tmp_path):
    broken = _broken(tmp_path, ("expect fit >= 60", "expect fit >= 95"), ("expect fit = 100", "expect fit = 1"))
    every = json.loads(run("test", broken, "--format", "json").stdout)
    assert every["summary"]["failed"] == 2
    r = run("test", broken, "--format", "json", "-x")
    assert r.exit_code == 1 and "--fail-fast" in r.stderr
    report = json.loads(r.stdout)
    assert report["summary"]["tests"] == 1 and report["summary"]["failed"] == 1
    assert run("test", broken, PLG, "--fail-fast").stdout.count("PASS") == 0
