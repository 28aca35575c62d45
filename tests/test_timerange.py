"""The supported time range, 0001-01-01 .. 9999-12-31: caught by `check` in a policy, exit 2 for an `--as-of`, on both engines."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from click.testing import CliRunner

from leadlang.check import load
from leadlang.cli import main
from leadlang.diagnostics import LeadError

ROOT = Path(__file__).parent.parent
PLG = ROOT / "policies" / "plg"
SOURCE = (PLG / "plg.lead").read_text(encoding="utf-8")


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def variant(tmp_path: Path, old: str, new: str) -> Path:
    assert old in SOURCE
    path = tmp_path / "p.lead"
    path.write_text(SOURCE.replace(old, new, 1), encoding="utf-8")
    return path


def codes(path: Path) -> list[tuple[str, int, str]]:
    with pytest.raises(LeadError) as err:
        load(path)
    return [(d.code, d.span.line, d.message) for d in err.value.diagnostics]


@pytest.mark.parametrize("old,new,line,message", [
    ('"login" 1 day ago x 5', '"login" 999999 days ago x 5', 101, "`999999 days ago` from `as of 2024-06-01` is before 0001-01-01"),
    ("in last 90 days half-life", "in last 999999999 days half-life", 51, "`999999999 days` is longer than the supported time range"),
    ("half-life 14 days", "half-life 3652059 days", 51, "`3652059 days` is longer than the supported time range"),
    ("as of 2024-06-01T00:00:00Z", "as of 0001-01-01", 93, "`in last 90 days` (line 51) from `as of 0001-01-01` starts before 0001-01-01"),
])
def test_out_of_range_times_are_check_errors(tmp_path, old, new, line, message):
    found = codes(variant(tmp_path, old, new))
    assert any(c == "E215" and ln == line and message in m for c, ln, m in found), found
    r = run("test", tmp_path / "p.lead")  # `test` reports them too, never a traceback
    assert r.exit_code == 1 and "error[E215]" in r.stderr


def test_a_test_without_as_of_counts_back_from_now(tmp_path):
    path = variant(tmp_path, '"login" 1 day ago x 5', '"login" 999999 days ago x 5')
    path.write_text(path.read_text().replace("  as of 2024-06-01T00:00:00Z\n", "", 1))
    assert any(c == "E215" and "from now (the test has no `as of`)" in m for c, _, m in codes(path))


def test_the_edges_of_the_range_are_fine(tmp_path):
    path = variant(tmp_path, "as of 2024-06-01T00:00:00Z", "as of 9999-12-31T23:59:59Z")
    path.write_text(path.read_text().replace("half-life 14 days", "half-life 3652058 days"))
    load(path)
    r = run("test", path)
    assert "Traceback" not in r.output


def test_a_timestamp_pushed_out_of_range_by_its_offset_is_one_error(tmp_path):
    found = codes(variant(tmp_path, "as of 2024-06-01T00:00:00Z", "as of 0001-01-01T00:00:00+01:00"))
    assert found == [("E106", 93, "`0001-01-01T00:00:00+01:00` is not a valid timestamp")]


@pytest.mark.parametrize("command,engine", [("score", "duckdb"), ("score", "python"), ("explain", "python"),
                                            ("diff", "duckdb"), ("backtest", "duckdb")])
def test_an_as_of_whose_window_starts_before_year_1_is_exit_2(engine, command):
    lead, data = PLG / "plg.lead", PLG / "data"
    args = {"score": ("score", lead, "--data", data, "--engine", engine),
            "explain": ("explain", lead, "--data", data, "--lead", "L00001"),
            "diff": ("diff", lead, lead, "--data", data),
            "backtest": ("backtest", lead, "--data", data, "--outcomes", data / "outcomes.csv")}[command]
    r = run(*args, "--as-of", "0001-01-01")
    assert r.exit_code == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "--as-of 0001-01-01T00:00:00Z: `in last 90 days` (" in lines[0]
    assert "would start before 0001-01-01" in lines[0]


def test_an_as_of_out_of_utc_range_is_a_usage_error():
    r = run("score", PLG / "plg.lead", "--data", PLG / "data", "--as-of", "9999-12-31T23:59:59-01:00")
    assert r.exit_code == 2 and "is not a date or timestamp" in r.stderr


def test_both_engines_agree_at_the_edges(tmp_path):
    for as_of in ("0001-04-01", "9999-12-31T23:59:59Z"):
        outs = []
        for engine in ("duckdb", "python"):
            out = tmp_path / f"{engine}.csv"
            r = run("score", PLG / "plg.lead", "--data", PLG / "data", "--as-of", as_of, "--engine", engine, "-o", out)
            assert r.exit_code == 0, r.output
            outs.append(list(csv.DictReader(out.open(encoding="utf-8"))))
        assert outs[0] == outs[1] and len(outs[0]) == 2000


@pytest.mark.parametrize("half_life,as_of", [("1 minute", "2024-06-01"), ("3652058 days", "9999-12-31T23:59:59Z")])
def test_half_life_extremes_agree_on_both_engines(tmp_path, half_life, as_of):
    policy = variant(tmp_path, "half-life 14 days", f"half-life {half_life}")
    outs = []
    for engine in ("duckdb", "python"):
        out = tmp_path / f"{engine}.csv"
        r = run("score", policy, "--data", PLG / "data", "--as-of", as_of, "--engine", engine, "-o", out)
        assert r.exit_code == 0, r.output
        outs.append(out.read_text(encoding="utf-8"))
    assert outs[0] == outs[1]
