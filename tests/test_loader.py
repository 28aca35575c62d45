"""`check.load(path, files=...)`: a policy and its `use`d files read through an overlay of unsaved texts or a git revision."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from leadlang.check import load
from leadlang.cli import main
from leadlang.diagnostics import LeadError, Sources, render_text
from leadlang.fs import WORK_TREE, GitRevision, Overlay

BASE = '''leads from ref("leads") key lead_id {{
  employees int
  country   string
}}
let big = {big}
'''
POLICY = '''policy p "P"
  version "1"

use "shared/base.lead"

score fit {{
  big: +50 when employees > big
  us:  +25 when country = "US"
}}

bands fit {{ high >= 50, low otherwise }}
'''
LEADS = "lead_id,employees,country\nl1,150,US\nl2,300,DE\nl3,120,DE\nl4,,US\nl5,90,FR\n"


def _project(root: Path, big: int = 100) -> Path:
    (root / "shared").mkdir(parents=True, exist_ok=True)
    (root / "shared" / "base.lead").write_text(BASE.format(big=big))
    (root / "p.lead").write_text(POLICY.format())
    return root / "p.lead"


# ---------------------------------------------------------------- overlay --

def test_a_used_file_only_in_the_overlay(tmp_path):
    policy = tmp_path / "p.lead"
    policy.write_text(POLICY.format())
    with pytest.raises(LeadError) as err:  # on disk, the used file does not exist
        load(policy)
    assert [d.code for d in err.value.diagnostics] == ["E308"]
    files = Overlay(WORK_TREE, {tmp_path / "shared" / "base.lead": BASE.format(big=250)})
    checked = load(policy, files=files)
    assert checked.let_values["big"] == 250 and checked.texts[str(tmp_path / "shared" / "base.lead")] == BASE.format(big=250)


def test_an_overlay_shadows_the_file_on_disk(tmp_path):
    policy = _project(tmp_path)
    assert load(policy).let_values["big"] == 100
    unsaved = {tmp_path / "shared" / "base.lead": BASE.format(big=7), policy: POLICY.format().replace("+25", "+30")}
    checked = load(policy, files=Overlay(WORK_TREE, unsaved))
    assert checked.let_values["big"] == 7 and "+30" in checked.texts[str(policy)]
    assert (tmp_path / "shared" / "base.lead").read_text() == BASE.format(big=100)  # nothing written


def test_an_overlay_error_quotes_the_unsaved_text(tmp_path):
    policy = _project(tmp_path)
    files = Overlay(WORK_TREE, {tmp_path / "shared" / "base.lead": BASE.format(big=100).replace("let big", "let big = big2\nlet big3")})
    with pytest.raises(LeadError) as err:
        load(policy, files=files)
    shown = render_text(err.value.diagnostics, Sources(files=files))
    assert "let big = big2" in shown and "base.lead:5:" in shown


def test_an_overlay_cannot_bring_in_a_file_outside_the_project(tmp_path):
    (tmp_path / "proj").mkdir()
    policy = tmp_path / "proj" / "p.lead"
    policy.write_text(POLICY.format().replace("shared/base.lead", "../outside.lead"))
    files = Overlay(WORK_TREE, {tmp_path / "outside.lead": BASE.format(big=1)})
    err = pytest.raises(LeadError, load, policy, files=files).value
    assert [d.code for d in err.diagnostics] == ["E308"] and "is outside the project" in err.diagnostics[0].message


# ----------------------------------------------------------- git revision --

def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=repo, check=True,
                          capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """Two commits: HEAD~1 with `let big = 100` in the used file, HEAD with 200; the policy file itself unchanged."""
    r = tmp_path / "repo"
    _project(r / "policies", big=100)
    (r / "data").mkdir()
    (r / "data" / "leads.csv").write_text(LEADS)
    _git(r, "init", "-q")
    _git(r, "add", ".")
    _git(r, "commit", "-qm", "one")
    (r / "policies" / "shared" / "base.lead").write_text(BASE.format(big=200))
    _git(r, "commit", "-qam", "two")
    monkeypatch.chdir(r)
    return r


def test_a_revision_reads_its_own_used_files(repo):
    assert load("HEAD~1:policies/p.lead", files=GitRevision("HEAD~1")).let_values["big"] == 100
    assert load("HEAD:policies/p.lead", files=GitRevision("HEAD")).let_values["big"] == 200


def test_diff_against_a_revision_is_the_diff_against_its_checkout(repo, tmp_path):
    """`diff HEAD~1:p.lead p.lead` equals the diff of a checkout of HEAD~1, though only the `use`d file changed."""
    old = tmp_path / "old"
    _git(repo, "worktree", "add", "-q", str(old), "HEAD~1")
    args = ["--data", "data", "--as-of", "2024-06-01", "--format", "json"]
    via_git = CliRunner().invoke(main, ["diff", "HEAD~1:policies/p.lead", "policies/p.lead", *args], catch_exceptions=False)
    via_files = CliRunner().invoke(main, ["diff", str(old / "policies" / "p.lead"), "policies/p.lead", *args], catch_exceptions=False)
    assert via_git.exit_code == 0 and via_files.exit_code == 0, via_git.output + via_files.output
    got, want = json.loads(via_git.stdout), json.loads(via_files.stdout)
    assert got["old"]["policy"] == "HEAD~1:policies/p.lead"
    got["old"]["policy"] = want["old"]["policy"]
    assert got == want and got["moved_count"] == 2  # 150 and 120 employees are big at 100, not at 200
    assert [m["key"] for m in got["moved"]] == ["l1", "l3"]


def _refusal(files, path: str) -> str:
    err = pytest.raises(LeadError, load, path, files=files).value
    assert [d.code for d in err.diagnostics] == ["E308"]
    return err.diagnostics[0].message


def test_a_use_escaping_the_project_is_refused_at_a_revision_as_on_disk(repo):
    (repo / "outside.lead").write_text(BASE.format(big=1))
    policy = repo / "policies" / "p.lead"
    policy.write_text(POLICY.format().replace("shared/base.lead", "../outside.lead"))
    (repo / "policies" / "link.lead").symlink_to("../outside.lead")
    (repo / "policies" / "q.lead").write_text(POLICY.format().replace("shared/base.lead", "link.lead"))
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "escape")
    head = GitRevision("HEAD")
    for name in ("p.lead", "q.lead"):  # a path out of the project, and a symlink out of it
        on_disk = _refusal(WORK_TREE, f"policies/{name}")
        at_head = _refusal(head, f"HEAD:policies/{name}")
        assert on_disk.endswith(f"is outside the project ({repo / 'policies'})") and at_head.endswith("is outside the project (HEAD:policies)")
    assert at_head == on_disk.replace(str(repo / "policies"), "HEAD:policies").replace("policies/link", "HEAD:policies/link")
    # the CLI: exit 1, the diagnostic names HEAD:path and quotes the revision's line, nothing of the file is shown
    res = CliRunner().invoke(main, ["diff", "HEAD:policies/p.lead", "policies/q.lead", "--data", "data"], catch_exceptions=False)
    assert res.exit_code == 1 and "HEAD:policies/p.lead:4:" in res.stderr and 'use "../outside.lead"' in res.stderr
    assert "let big = 1" not in res.output


def test_a_revision_without_the_used_file(repo):
    (repo / "policies" / "p.lead").write_text(POLICY.format().replace("shared/base.lead", "shared/gone.lead"))
    _git(repo, "commit", "-qam", "gone")
    err = pytest.raises(LeadError, load, "HEAD:policies/p.lead", files=GitRevision("HEAD")).value
    assert [d.code for d in err.diagnostics] == ["E308"] and "no such file" in err.diagnostics[0].message
    assert err.diagnostics[0].hints == ("looked for HEAD:policies/shared/gone.lead, relative to the file that uses it",)


def test_git_is_never_given_an_option(repo):
    with pytest.raises(ValueError):
        GitRevision("--output=/tmp/x")


def test_commands_taking_a_policy_read_a_revision(repo, tmp_path):
    """`compile` and `score` take `GIT_REV:path` as `diff` does: the revision's policy with its own `use`d files."""
    old = tmp_path / "old"
    _git(repo, "worktree", "add", "-q", str(old), "HEAD~1")
    for args in (["compile", "--dialect", "postgres", "--as-of", "2024-06-01"], ["score", "--data", "data", "--as-of", "2024-06-01"]):
        via_git = CliRunner().invoke(main, [args[0], "HEAD~1:policies/p.lead", *args[1:]], catch_exceptions=False)
        via_file = CliRunner().invoke(main, [args[0], str(old / "policies" / "p.lead"), *args[1:]], catch_exceptions=False)
        assert via_git.exit_code == 0, via_git.output
        first, *rest = via_git.stdout.splitlines()
        assert rest == via_file.stdout.splitlines()[1:]  # the SQL's header names where it came from
        assert "from HEAD~1:policies/p.lead:" in first if args[0] == "compile" else via_git.stdout == via_file.stdout
    assert via_git.stdout.splitlines()[1].startswith("l1,75")  # big at 100: +50 +25
    res = CliRunner().invoke(main, ["compile", "nope:policies/p.lead", "--dialect", "duckdb"], catch_exceptions=False)
    assert res.exit_code == 2 and res.stderr.startswith("error: nope:policies/p.lead: ") and "nope" in res.stderr[30:]


def test_a_symlink_inside_the_project_is_followed_at_a_revision(repo):
    (repo / "policies" / "base.lead").symlink_to("shared/base.lead")
    (repo / "policies" / "p.lead").write_text(POLICY.format().replace("shared/base.lead", "base.lead"))
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "link")
    (repo / "policies" / "shared" / "base.lead").write_text(BASE.format(big=5))  # the working tree differs
    assert load("HEAD:policies/p.lead", files=GitRevision("HEAD")).let_values["big"] == 200
    assert load("policies/p.lead").let_values["big"] == 5
