"""`leadlang lint --fix`, `--diff` and `--unsafe-fixes`: the findings' fixes, applied and checked."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

from click.testing import CliRunner

from leadlang.cli import main
from leadlang.fmt import format_source

ROOT = Path(__file__).parent.parent
PLG = ROOT / "policies" / "plg"
ANCHOR = "signal email_domain   = domain(email)\n"
LETS = "let free_email_domains"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def seeded(tmp_path: Path, extra: str, formatted: bool = True, lets: str = "") -> Path:
    """PLG with `extra` declarations after its first signal and `lets` before its first `let`
    (formatted as `fmt` would, if asked)."""
    text = (PLG / "plg.lead").read_text(encoding="utf-8")
    assert ANCHOR in text and LETS in text
    text = text.replace(ANCHOR, ANCHOR + extra, 1).replace(LETS, lets + LETS, 1)
    path = tmp_path / "plg.lead"
    path.write_text(format_source(text, str(path)) if formatted else text, encoding="utf-8")
    return path


def score(policy: Path) -> list[dict]:
    r = run("score", policy, "--data", PLG / "data", "--as-of", "2024-06-01")
    assert r.exit_code == 0, r.output
    return list(csv.DictReader(io.StringIO(r.stdout)))


def test_fix_removes_unused_signals_and_lets_and_scores_the_same(tmp_path):
    path = seeded(tmp_path, "signal seeded_unused = count(product in last 7 days)  # nobody reads me\n", lets='let unused_list = ["a", "b"]\n')
    before = score(path)
    r = run("lint", "--fix", path)
    assert "fixed 2 findings in 1 policy" in r.stderr
    assert "L201" not in r.stdout and "L202" not in r.stdout
    # formatted in, formatted out: exactly the policy before the seeding
    assert path.read_text(encoding="utf-8") == (PLG / "plg.lead").read_text(encoding="utf-8")
    after = score(path)
    assert "seeded_unused" in before[0] and "seeded_unused" not in after[0]
    assert [{k: v for k, v in row.items() if k != "seeded_unused"} for row in before] == after
    assert run("check", path).exit_code == 0


def test_fix_goes_round_until_nothing_is_left(tmp_path):
    # the signal is the only reader of the let: removing the signal leaves the let unused
    path = seeded(tmp_path, "signal rare_title = title in rare\n", lets='let rare = ["x"]\n')
    r = run("lint", "--fix", "--format", "json", path)
    assert "fixed 2 findings" in r.stderr
    text = path.read_text(encoding="utf-8")
    assert "rare" not in text
    assert not [d for d in json.loads(r.stdout) if d["code"] in ("L201", "L202")]


def test_an_unformatted_file_keeps_its_layout(tmp_path):
    path = seeded(tmp_path, "signal   spaced_out   =   count(product)\n", formatted=False)
    original = path.read_text(encoding="utf-8")
    run("lint", "--fix", path)
    assert path.read_text(encoding="utf-8") == original.replace("signal   spaced_out   =   count(product)\n", "")


def test_diff_writes_nothing_and_says_what_would_change(tmp_path):
    path = seeded(tmp_path, "signal seeded_unused = count(product)\n")
    original = path.read_text(encoding="utf-8")
    r = run("lint", "--diff", path)
    assert r.exit_code == 1
    assert re.search(r"^-signal seeded_unused += count\(product\)$", r.stdout, re.M) and "(fixed)" in r.stdout
    assert path.read_text(encoding="utf-8") == original
    clean = run("lint", "--diff", PLG / "plg.lead")
    assert clean.exit_code == 0 and clean.stdout == ""


def test_header_fixes_need_unsafe_fixes(tmp_path):
    path = tmp_path / "plg.lead"
    path.write_text((PLG / "plg.lead").read_text(encoding="utf-8").replace('  version "2024.06"\n', "", 1), encoding="utf-8")
    run("lint", "--fix", path)
    assert "version" not in path.read_text(encoding="utf-8").split("leads from", 1)[0]
    r = run("lint", "--fix", "--unsafe-fixes", path)
    assert "fixed 1 finding in 1 policy" in r.stderr and "L302" not in r.stdout
    header = path.read_text(encoding="utf-8").split("\n\n", 1)[0].splitlines()
    assert header[2:] == ['  owner "revops@example.com"', header[3]] and header[3].startswith('  version "20')
    assert run("check", path).exit_code == 0
    assert run("lint", "--unsafe-fixes", path).exit_code == 2


def test_json_carries_each_fix_as_edits(tmp_path):
    path = seeded(tmp_path, "", lets='let unused_list = ["a", "b"]\n')
    (finding,) = [d for d in json.loads(run("lint", "--format", "json", path).stdout) if d["code"] == "L201"]
    fix = finding["fix"]
    assert fix["safe"] is True and fix["title"] == "Remove `let unused_list`"
    (edit,) = fix["edits"]
    text = path.read_text(encoding="utf-8")
    assert re.fullmatch(r'let unused_list +\= \["a", "b"\]\n', text[edit["start"]:edit["end"]]) and edit["new"] == ""


def test_windows_line_endings_stay(tmp_path):
    path = seeded(tmp_path, "signal seeded_unused = count(product)\n")
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    run("lint", "--fix", path)
    raw = path.read_bytes()
    assert b"seeded_unused" not in raw and raw.count(b"\r\n") == raw.count(b"\n")
    assert raw == (PLG / "plg.lead").read_bytes().replace(b"\n", b"\r\n")
