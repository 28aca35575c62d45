"""`use` brings in another file's sources, lets and signals; its errors point into it."""

from __future__ import annotations

import pytest

from leadlang.check import load
from leadlang.diagnostics import LeadError

SHARED = '''leads from ref("stg_leads") key lead_id {
  email string
}
let free = ["gmail.com"]
signal dom = domain(email)
'''


def test_use_brings_sources_lets_and_signals(tmp_path):
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "base.lead").write_text(SHARED)
    main = tmp_path / "main.lead"
    main.write_text('policy p "P"\nuse "shared/base.lead"\nscore fit {\n  free: -10 when dom in free\n}\n')
    policy = load(main)
    assert policy.leads.key == "lead_id" and "dom" in policy.signals and policy.let_values["free"] == ("gmail.com",)


def test_error_in_used_file_points_into_it(tmp_path):
    (tmp_path / "base.lead").write_text(SHARED.replace("domain(email)", "domain(emial)"))
    main = tmp_path / "main.lead"
    main.write_text('policy p "P"\nuse "base.lead"\n')
    with pytest.raises(LeadError) as err:
        load(main)
    d = err.value.diagnostics[0]
    assert d.code == "E201" and d.span.file.endswith("base.lead") and d.span.line == 5
    assert "did you mean `email`?" in d.hints


def test_used_file_may_not_declare_scores(tmp_path):
    (tmp_path / "base.lead").write_text(SHARED + "score s {\n  a: +1 when true\n}\n")
    main = tmp_path / "main.lead"
    main.write_text('policy p "P"\nuse "base.lead"\n')
    with pytest.raises(LeadError) as err:
        load(main)
    assert err.value.diagnostics[0].code == "E310"


# ------------------------------------------------ confinement to the project --

import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from leadlang.cli import main

SECRET = "leadlang-secret-4f1c"
MAIN = 'policy p "P"\nuse "{path}"\nleads from ref("stg_leads") key lead_id {{\n  email string\n}}\nscore fit {{\n  a: +1 when email = "x"\n}}\n'
COMMANDS = [["check"], ["check", "--format", "json"], ["lint"], ["lint", "--format", "json"], ["lint", "--format", "sarif"],
            ["lint", "--format", "github"], ["compile", "--dialect", "duckdb"]]


def _cli(policy: Path, *, subprocess_env: dict | None = None) -> list[tuple[list[str], int, str]]:
    """Every command that reads the policy: (args, exit code, stdout + stderr)."""
    out = []
    for args in COMMANDS:
        if subprocess_env is None:
            res = CliRunner().invoke(main, [*args, str(policy)], catch_exceptions=False)
            out.append((args, res.exit_code, res.output))
        else:
            done = subprocess.run([sys.executable, "-m", "leadlang", *args, str(policy)], capture_output=True, text=True, env=subprocess_env)
            out.append((args, done.returncode, done.stdout + done.stderr))
    return out


def _assert_refused(policy: Path, used: str, why: str, leaked: tuple[str, ...], **kw) -> None:
    for args, code, output in _cli(policy, **kw):
        assert code == 1, (args, output)
        assert "E308" in output and why in output, (args, output)
        assert "Traceback" not in output
        for text in leaked:
            assert text not in output, (args, text, output)
    err = pytest.raises(LeadError, load, policy).value
    assert [(d.code, Path(d.span.file).name, d.span.line) for d in err.diagnostics] == [("E308", policy.name, 2)]
    assert err.diagnostics[0].message.startswith(f'`use "{used}"`')


def test_use_of_proc_self_environ_never_shows_the_environment(tmp_path):
    policy = tmp_path / "p.lead"
    policy.write_text(MAIN.format(path="/proc/self/environ"))
    env = {**os.environ, "LEADLANG_TOKEN": SECRET, "PYTHONPATH": str(Path(__file__).parents[1])}
    _assert_refused(policy, "/proc/self/environ", "only .lead files", (SECRET, "LEADLANG_TOKEN", "PATH="), subprocess_env=env)


def test_use_of_etc_passwd_shows_nothing_of_it(tmp_path):
    policy = tmp_path / "p.lead"
    policy.write_text(MAIN.format(path="/etc/passwd"))
    _assert_refused(policy, "/etc/passwd", "only .lead files", ("root:", "/bin/"))


@pytest.mark.parametrize("name", ["notes.txt", "data.csv", "base.lead.bak", "x"])
def test_use_of_a_file_that_is_not_lead(tmp_path, name):
    (tmp_path / name).write_text(f"{SECRET}\n" + SHARED)
    policy = tmp_path / "p.lead"
    policy.write_text(MAIN.format(path=name))
    _assert_refused(policy, name, "only .lead files", (SECRET,))


def test_use_outside_the_project(tmp_path):
    (tmp_path / "proj").mkdir()
    (tmp_path / "outside.lead").write_text(f"# {SECRET}\n" + SHARED)
    policy = tmp_path / "proj" / "p.lead"
    policy.write_text(MAIN.format(path="../outside.lead"))
    _assert_refused(policy, "../outside.lead", "is outside the project", (SECRET,))
    # an absolute path to a .lead file outside is refused the same way
    policy.write_text(MAIN.format(path=tmp_path / "outside.lead"))
    _assert_refused(policy, str(tmp_path / "outside.lead"), "is outside the project", (SECRET,))


def test_symlink_escaping_the_project_is_refused(tmp_path):
    (tmp_path / "proj").mkdir()
    (tmp_path / "outside.lead").write_text(f"# {SECRET}\n" + SHARED)
    (tmp_path / "proj" / "base.lead").symlink_to(tmp_path / "outside.lead")
    policy = tmp_path / "proj" / "p.lead"
    policy.write_text(MAIN.format(path="base.lead"))
    _assert_refused(policy, "base.lead", "is outside the project", (SECRET,))
    # a .lead link to a non-.lead file inside the project is not a policy either
    (tmp_path / "proj" / "env.txt").write_text(SECRET)
    (tmp_path / "proj" / "env.lead").symlink_to(tmp_path / "proj" / "env.txt")
    policy.write_text(MAIN.format(path="env.lead"))
    _assert_refused(policy, "env.lead", "only .lead files", (SECRET,))


def test_unreadable_used_file_is_reported_at_the_use_line(tmp_path, monkeypatch):
    (tmp_path / "dir.lead").mkdir()
    policy = tmp_path / "p.lead"
    policy.write_text(MAIN.format(path="dir.lead"))
    _assert_refused(policy, "dir.lead", "dir.lead is not a file", ())
    # permission denied (tests run as root, so the read itself fails here)
    (tmp_path / "locked.lead").write_text(SHARED)
    policy.write_text(MAIN.format(path="locked.lead"))
    real = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: (_ for _ in ()).throw(PermissionError(13, "Permission denied")) if self.name == "locked.lead" else real(self))
    _assert_refused(policy, "locked.lead", "cannot read", ())
    err = pytest.raises(LeadError, load, policy).value
    assert "locked.lead: Permission denied" in err.diagnostics[0].message


@pytest.mark.parametrize("content", [b"\xff\xfe" + SECRET.encode() + b"\x00\x01", SECRET.encode() + b"\x00\n"])
def test_binary_used_file_is_not_a_policy_and_not_shown(tmp_path, content):
    (tmp_path / "blob.lead").write_bytes(content)
    policy = tmp_path / "p.lead"
    policy.write_text(MAIN.format(path="blob.lead"))
    _assert_refused(policy, "blob.lead", "is not a leadlang policy", (SECRET,))


def test_a_lead_file_in_the_project_with_a_syntax_error_is_shown_as_usual(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "base.lead").write_text("let x = = 1\n")
    policy = tmp_path / "p.lead"
    policy.write_text(MAIN.format(path="sub/base.lead"))
    res = CliRunner().invoke(main, ["check", str(policy)], catch_exceptions=False)
    assert res.exit_code == 1 and "base.lead:1:" in res.output and "let x = = 1" in res.output and "^" in res.output


def test_a_configured_pyproject_makes_its_folder_the_project(tmp_path):
    (tmp_path / "policies").mkdir()
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "base.lead").write_text(SHARED)
    policy = tmp_path / "policies" / "p.lead"
    policy.write_text('policy p "P"\nuse "../shared/base.lead"\nscore fit {\n  free: -10 when dom in free\n}\n')
    assert pytest.raises(LeadError, load, policy).value.diagnostics[0].code == "E308"
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")  # no [tool.leadlang]: still the policy's folder
    assert pytest.raises(LeadError, load, policy).value.diagnostics[0].code == "E308"
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n\n[tool.leadlang.lint]\nignore = []\n")
    assert "dom" in load(policy).signals
    # the used file's own `use`s are confined to the same project
    (tmp_path.parent / "far.lead").write_text(SHARED)
    (tmp_path / "shared" / "base.lead").write_text('use "../../far.lead"\n')
    err = pytest.raises(LeadError, load, policy).value
    assert [(d.code, Path(d.span.file).name) for d in err.diagnostics] == [("E308", "base.lead")]


def test_symlink_loop_and_linked_policy(tmp_path):
    (tmp_path / "loop.lead").symlink_to(tmp_path / "loop.lead")
    policy = tmp_path / "p.lead"
    policy.write_text(MAIN.format(path="loop.lead"))
    err = pytest.raises(LeadError, load, policy).value
    assert [(d.code, d.span.line) for d in err.diagnostics] == [("E308", 2)] and "loop.lead" in err.diagnostics[0].message
    # a policy reached through a symlink: its project is the folder holding the link, where its `use` paths point
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "base.lead").write_text(SHARED)
    (tmp_path / "elsewhere").mkdir()
    real = tmp_path / "elsewhere" / "p.lead"
    real.write_text('policy p "P"\nuse "base.lead"\nscore fit {\n  free: -10 when dom in free\n}\n')
    (tmp_path / "proj" / "p.lead").symlink_to(real)
    assert "dom" in load(tmp_path / "proj" / "p.lead").signals
