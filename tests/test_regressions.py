"""Behaviour that once was wrong, each pinned by the smallest policy that showed it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import checked

from leadlang import __version__
from leadlang.cli import main
from leadlang.diagnostics import LeadError
from leadlang.testing import run_tests

ROOT = Path(__file__).parent.parent
HEAD = 'policy p "P"\n  version "1"\nleads from ref("l") key id {\n  x int\n  d date\n  t timestamp\n}\n'


def passes(text: str) -> None:
    results = run_tests(checked(text))
    assert results and all(r.passed for r in results), [(f.expected, f.actual) for r in results for f in r.failures]


@pytest.mark.parametrize("op", [">=", "<=", "!=", "=", "<", ">", "+", "-", "*", "/", "and", "or"])
def test_a_newline_after_an_operator_continues_the_line(op):
    rhs = "x > 0" if op in ("and", "or") else "5"
    lhs = "x > 1" if op in ("and", "or") else "x"
    checked(HEAD + f"signal s = {lhs} {op}\n  {rhs}\n")


def test_a_keyword_in_backticks_is_a_name():
    policy = checked('policy p "P"\nleads from ref("l") key id {\n  `from` string\n}\nsignal s = `from` = "x"\n')
    assert "from" in policy.lead_types
    with pytest.raises(LeadError) as err:
        checked('policy p "P"\nleads from ref("l") key id {\n  from string\n}\n')
    assert err.value.diagnostics[0].code == "E212"


def test_where_reads_the_event_column_before_a_let_of_the_same_name():
    passes(HEAD + '''events product from ref("e") {
  lead id
  at at_col
  name ev
  plan string
}
let plan = "pro"
signal pro = count(product where plan = "pro")
test "t" {
  as of 2024-06-01
  lead { id: "L1" }
  product {
    "x" 1 day ago { plan: "pro" }
    "x" 1 day ago { plan: "free" }
  }
  expect pro = 1
}
''')


def test_least_and_greatest_mix_dates_and_timestamps():
    passes(HEAD + '''signal early = least(d, t)
signal late = greatest(d, t)
test "t" {
  as of 2024-06-01
  lead { id: "L1", d: 2024-01-01, t: 2024-03-01T10:00:00Z }
  expect early = 2024-01-01T00:00:00Z
  expect late = 2024-03-01T10:00:00Z
}
''')


def test_tests_read_policy_and_as_of():
    passes(HEAD + 'test "t" {\n  as of 2024-06-01\n  lead { id: "L1" }\n  expect policy = "p@1"\n  expect as_of = 2024-06-01T00:00:00Z\n}\n')


def test_criteria_met_count_is_readable_in_policy_expressions():
    passes(HEAD + '''criteria ucc require 3 of {
  a: x > 1
  b: x > 2
  c: x > 100
}
classify stage {
  close when ucc_met >= 2
  otherwise far
}
test "two of three" {
  lead { id: "L1", x: 5 }
  expect stage is close
  expect not ucc
}
''')


def test_output_collision_between_actions_names_both_and_points_at_the_key():
    with pytest.raises(LeadError) as err:
        checked(HEAD + 'classify a {\n  y when x > 1\n  otherwise n\n}\nclassify b {\n  y when x > 1\n  otherwise n\n}\n'
                'actions a {\n  y: route "ae"\n}\nactions b {\n  y: route "none"\n}\n')
    d = err.value.diagnostics[0]
    assert d.code == "E309" and "the actions of `a`" in d.message and "the actions of `b`" in d.message
    assert d.span.line == 20 and d.span.column == 6


def test_failure_report_does_not_repeat_expect(tmp_path):
    path = tmp_path / "f.lead"
    path.write_text(HEAD + 'test "t" {\n  lead { id: "L1", x: 1 }\n  expect x = 2\n}\n')
    r = CliRunner().invoke(main, ["test", str(path)])
    assert r.exit_code == 1 and "line 10: expect x = 2" in r.stdout and "expected expect" not in r.stdout


def test_test_reports_every_policy_even_when_one_does_not_check(tmp_path):
    good, bad = tmp_path / "good.lead", tmp_path / "bad.lead"
    good.write_text(HEAD + 'test "fine" {\n  lead { id: "L1", x: 1 }\n  expect x = 1\n}\n')
    bad.write_text(HEAD + "signal s = nope\n")
    r = CliRunner().invoke(main, ["test", str(bad), str(good)])
    assert r.exit_code == 1
    assert "PASS" in r.stdout and "1 passed, 0 failed" in r.stdout
    assert "error[E201]" in r.stderr and "1 policy with errors, not tested" in r.stderr


def test_version_works_from_a_checkout():
    r = CliRunner().invoke(main, ["--version"])
    assert r.exit_code == 0 and __version__ in r.stdout


def test_missing_data_directory_is_exit_2_on_both_engines(tmp_path):
    for engine in ("duckdb", "python"):
        r = CliRunner().invoke(main, ["score", str(ROOT / "policies/plg/plg.lead"), "--data", str(tmp_path / "nowhere"), "--engine", engine])
        assert r.exit_code == 2 and "no such data directory" in r.stderr


def test_a_reader_that_stops_early_is_not_an_error():
    proc = subprocess.Popen(
        [sys.executable, "-m", "leadlang", "score", str(ROOT / "policies/plg/plg.lead"), "--data", str(ROOT / "policies/plg/data"), "--as-of", "2024-06-01"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    assert proc.stdout.readline().startswith(b"lead_id,")
    proc.stdout.close()  # what `| head -1` does
    err = proc.stderr.read().decode()
    assert proc.wait() == 0 and err == ""
