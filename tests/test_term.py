"""Colour on terminals (`--color`, NO_COLOR, FORCE_COLOR) and `leadlang explain-code`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from leadlang.cli import main
from leadlang.diagnostics import LeadError, Sources, render_text

ROOT = Path(__file__).parent.parent
PLG = ROOT / "policies" / "plg"
CASE = ROOT / "tests" / "cases" / "syntax_hint_double_equals.lead"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
PLAIN_ENV = {"NO_COLOR": None, "FORCE_COLOR": None}


def run(*args, env=None):
    return CliRunner().invoke(main, [str(a) for a in args], env={**PLAIN_ENV, **(env or {})}, catch_exceptions=False)


@pytest.fixture(autouse=True)
def _at_root(monkeypatch):
    monkeypatch.chdir(ROOT)  # paths in diagnostics are relative, as in the corpus snapshots


def _plain_diagnostics(path: Path) -> str:
    from leadlang.check import load

    with pytest.raises(LeadError) as caught:
        load(path)
    return render_text(caught.value.diagnostics, Sources())


def test_color_always_colours_diagnostics_and_strips_to_the_plain_bytes():
    rel = CASE.relative_to(ROOT)
    plain = run("check", rel)
    coloured = run("--color", "always", "check", rel)
    assert plain.exit_code == coloured.exit_code == 1
    assert "\x1b[" not in plain.stderr
    assert "\x1b[1;31merror[E104]\x1b[0m" in coloured.stderr  # the severity in bold red
    assert "\x1b[1;31m^^\x1b[0m" in coloured.stderr  # the caret, under `==`
    assert ANSI.sub("", coloured.stderr) == plain.stderr


@pytest.mark.parametrize("how", [
    {"args": ()},  # not a terminal
    {"args": (), "env": {"NO_COLOR": "1"}},
    {"args": ("--color", "never"), "env": {"FORCE_COLOR": "1"}},
    {"args": (), "env": {"NO_COLOR": "1", "FORCE_COLOR": "1"}},
])
def test_plain_text_is_byte_for_byte_what_the_renderer_gives(how):
    rel = CASE.relative_to(ROOT)
    result = run(*how["args"], "check", rel, env=how.get("env"))
    assert result.stderr == _plain_diagnostics(rel) + "\n1 error in 1 policy\n"


def test_force_color_colours_a_stream_that_is_not_a_terminal():
    result = run("check", CASE.relative_to(ROOT), env={"FORCE_COLOR": "1"})
    assert "\x1b[1;31merror[E104]\x1b[0m" in result.stderr


def test_test_results_pass_and_fail_in_colour(tmp_path):
    policy = tmp_path / "p.lead"
    text = (PLG / "plg.lead").read_text()
    policy.write_text(text.replace("expect segment is sales_ready", "expect segment is heartbreaker", 1))
    plain = run("test", policy)
    coloured = run("--color", "always", "test", policy)
    assert plain.exit_code == coloured.exit_code == 1
    assert "\x1b[1;32mPASS\x1b[0m " in coloured.stdout and "\x1b[1;31mFAIL\x1b[0m " in coloured.stdout
    assert ANSI.sub("", coloured.stdout) == plain.stdout and "\x1b[" not in plain.stdout


def test_explain_points_in_colour():
    lead = (PLG / "data" / "leads.csv").read_text().splitlines()[1].split(",")[0]
    args = ("explain", PLG / "plg.lead", "--data", PLG / "data", "--lead", lead, "--as-of", "2024-06-01")
    plain = run(*args)
    coloured = run("--color", "always", *args)
    assert plain.exit_code == coloured.exit_code == 0
    assert re.search(r"\x1b\[32m\+\d", coloured.stdout)  # plus points in green
    assert ANSI.sub("", coloured.stdout) == plain.stdout and "\x1b[" not in plain.stdout


def _on_a_terminal(*args: str, env: dict) -> bytes:
    """What `leadlang ARGS` writes to standard error when that is a terminal."""
    pty = pytest.importorskip("pty")
    leader, follower = pty.openpty()
    try:
        full_env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
        full_env.update(env, PYTHONPATH=str(ROOT))
        subprocess.run([sys.executable, "-m", "leadlang", *args], cwd=ROOT, env=full_env, stdout=subprocess.DEVNULL, stderr=follower, timeout=120)
        os.close(follower)
        out = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closed
                break
            if not chunk:
                break
            out += chunk
        return out
    finally:
        os.close(leader)


def test_a_terminal_gets_colour_unless_no_color():
    rel = str(CASE.relative_to(ROOT))
    assert b"\x1b[1;31merror[E104]" in _on_a_terminal("check", rel, env={})
    assert b"\x1b[" not in _on_a_terminal("check", rel, env={"NO_COLOR": "1"})


def test_check_does_not_import_rich():
    """Colour is lazy: a plain `leadlang check` never loads rich."""
    code = (
        "import sys\n"
        "from leadlang.cli import main\n"
        "try:\n"
        f"    main(['check', {str(CASE)!r}], standalone_mode=False)\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in sys.modules if m == 'rich' or m.startswith('rich.')))\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**env, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout + out.stderr


def test_the_50_errors_cap_is_per_file(tmp_path):
    """Two files with more than 50 errors each: each shows 50 and counts its own rest."""
    big = (PLG / "plg.lead").read_text() * 6
    a, b = tmp_path / "a.lead", tmp_path / "b.lead"
    a.write_text(big)
    b.write_text(big)
    result = run("check", a, b)
    lines = result.stderr.splitlines()
    assert sum(line.startswith(f"{a}:") for line in lines) == 50
    assert sum(line.startswith(f"{b}:") for line in lines) == 50
    more = [i for i, line in enumerate(lines) if line.startswith("and ") and line.endswith(" more errors")]
    assert len(more) == 2
    # each count line closes its own file's findings
    assert lines[more[0] + 1].startswith(f"{b}:")
    total = int(lines[-1].split()[0])
    counted = sum(int(lines[i].split()[1].replace(",", "")) for i in more)
    assert counted == total - 100


def test_explain_code_prints_an_error_section():
    result = run("explain-code", "E205")
    assert result.exit_code == 0
    assert result.stdout.startswith("# E205 — not a value of the enum\n")
    assert "case-sensitive" in result.stdout  # the section's text
    assert "E206" not in result.stdout.splitlines()[0] and "# E206" not in result.stdout  # and only that section


def test_explain_code_prints_a_lint_rule_page():
    result = run("explain-code", "l101")  # any case
    assert result.exit_code == 0
    assert result.stdout == (ROOT / "docs" / "lint" / "L101.md").read_text(encoding="utf-8")


def test_explain_code_documents_every_code_the_hints_use():
    for code in ("E101", "E104", "E106", "E201"):
        assert run("explain-code", code).exit_code == 0


@pytest.mark.parametrize("code, message", [
    ("E299", "error: unknown code `E299`; did you mean `E209`?"),
    ("banana", "error: unknown code `banana` (codes look like E205 or L101)"),
])
def test_explain_code_unknown(code, message):
    result = run("explain-code", code)
    assert result.exit_code == 2
    assert result.stderr.strip() == message
    assert result.stdout == ""


@pytest.mark.parametrize("where", [("--color", "always", "check"), ("check", "--color", "always"), ("check", "--color=always"), ("check", "--colour", "always")])
def test_color_option_before_or_after_the_command(where):
    result = run(*where, CASE.relative_to(ROOT))
    assert "\x1b[1;31merror[E104]\x1b[0m" in result.stderr


def test_an_input_error_line_in_colour():
    coloured = run("--color", "always", "explain-code", "E299")
    assert coloured.exit_code == 2
    assert coloured.stderr.startswith("\x1b[1;31merror:\x1b[0m unknown code `E299`")
    assert ANSI.sub("", coloured.stderr) == run("explain-code", "E299").stderr
