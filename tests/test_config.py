"""The project's settings (leadlang.toml or [tool.leadlang]): found, validated, read by every
command, overridden by the command line; commands take folders and default to the settings."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from leadlang.cli import main

ROOT = Path(__file__).parent.parent
PLG = ROOT / "policies" / "plg"
UCC = ROOT / "policies" / "ucc"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project folder holding PLG under policies/, its data under data/, and a pyproject.toml."""
    (tmp_path / "policies").mkdir()
    shutil.copy(PLG / "plg.lead", tmp_path / "policies" / "plg.lead")
    shutil.copytree(PLG / "data", tmp_path / "data")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def settings(folder: Path, text: str, name: str = "pyproject.toml") -> None:
    body = ('[project]\nname = "demo"\n\n[tool.leadlang]\n' + text) if name == "pyproject.toml" else text
    (folder / name).write_text(body, encoding="utf-8")


PROJECT = '''policies = ["policies"]
data = "data"
as-of = "2024-06-01"
tables = { stg_leads = "raw.leads" }

[tool.leadlang.dbt]
out = "models/leadlang"
'''


def test_commands_with_no_arguments_do_what_the_settings_say(project):
    settings(project, PROJECT)
    assert "1 policy checked, no errors" in run("check").stdout
    assert run("lint").exit_code == 0
    tested = run("test", "--format", "json")
    assert tested.exit_code == 0 and json.loads(tested.stdout)["summary"]["passed"] == 6
    explicit = run("score", "policies/plg.lead", "--data", "data", "--as-of", "2024-06-01")
    assert run("score").stdout == explicit.stdout and explicit.exit_code == 0
    r = run("dbt")
    assert r.exit_code == 0, r.output
    model = (project / "models" / "leadlang" / "plg.sql").read_text(encoding="utf-8")
    assert "source('raw', 'leads')" in model and "stg_leads" not in model


def test_the_command_line_overrides_the_settings(project):
    settings(project, PROJECT)
    later = run("score", "--as-of", "2024-07-01").stdout
    assert "2024-07-01T00:00:00Z" in later and "2024-06-01T00:00:00Z" not in later
    r = run("dbt", "--out", "elsewhere", "--table", "stg_leads=crm.people")
    assert r.exit_code == 0 and "source('crm', 'people')" in (project / "elsewhere" / "plg.sql").read_text(encoding="utf-8")
    sql = run("compile", "--dialect", "postgres").stdout
    assert '"raw"."leads"' in sql


def test_leadlang_toml_wins_and_is_found_from_a_subfolder(project, monkeypatch):
    settings(project, 'data = "nowhere"\n')
    settings(project, 'policies = ["policies"]\ndata = "data"\nas-of = "2024-06-01"\n', name="leadlang.toml")
    (project / "sub" / "deeper").mkdir(parents=True)
    monkeypatch.chdir(project / "sub" / "deeper")
    r = run("score")
    assert r.exit_code == 0 and r.stdout == run("score", "../../policies/plg.lead", "--data", "../../data", "--as-of", "2024-06-01").stdout
    shown = json.loads(run("config", "--format", "json").stdout)
    assert Path(shown["file"]).name == "leadlang.toml"
    data = next(s for s in shown["settings"] if s["key"] == "data")
    assert data["value"] == "../../data" and data["from"] == "../../leadlang.toml"  # paths relative to the file, shown from here


def test_config_says_each_value_and_where_it_came_from(project):
    settings(project, PROJECT)
    text = run("config").stdout
    assert text.startswith("# settings: pyproject.toml [tool.leadlang]")
    lines = {line.split("=")[0].strip(): line for line in text.splitlines()[1:]}
    assert '"2024-06-01"' in lines["as-of"] and lines["as-of"].endswith("# pyproject.toml [tool.leadlang]")
    assert lines["dbt.dialect"].endswith("# default") and '"duckdb"' in lines["dbt.dialect"]
    assert lines["dbt.out"].endswith("# pyproject.toml [tool.leadlang]")


@pytest.mark.parametrize(
    "text, message",
    [
        ('datta = "data"\n', "unknown key `datta`; did you mean `data`?"),
        ("policies = 3\n", "`policies` must be a list of paths"),
        ('dialect = "oracle"\n', "`dialect` must be one of duckdb, postgres, snowflake, bigquery, spark"),
        ('as-of = "yesterday"\n', "`as-of` 'yesterday' is not a date or timestamp"),
        ("[tool.leadlang.test]\nfail-under = \"high\"\n", "`test.fail-under` must be a number"),
        ("[tool.leadlang.dbt]\nouts = \"m\"\n", "unknown key `dbt.outs`; did you mean `dbt.out`?"),
        ('[tool.leadlang.policy."policies/plg.lead"]\ndata = "d"\n', 'unknown key `policy."policies/plg.lead".data`'),
        ("tables = { stg_leads = 1 }\n", "`tables` must be a table of NAME = \"RELATION\""),
    ],
)
def test_bad_settings_are_one_clear_error(project, text, message):
    settings(project, text)
    r = run("check")
    assert r.exit_code == 2 and r.stderr.startswith("error: pyproject.toml") and message in r.stderr, r.stderr
    assert "Traceback" not in r.output


def test_a_file_that_is_not_toml_is_one_clear_error(project):
    (project / "leadlang.toml").write_text("policies = [\n", encoding="utf-8")
    r = run("check")
    assert r.exit_code == 2 and r.stderr.startswith("error: leadlang.toml: cannot read it as TOML")


def test_per_policy_tables(project):
    shutil.copy(UCC / "ucc.lead", project / "policies" / "ucc.lead")
    settings(project, PROJECT + '\n[tool.leadlang.policy."policies/ucc.lead"]\ntables = { stg_leads = "ucc.leads" }\n')
    settings(project, PROJECT + '\n[tool.leadlang.policy."policies/ucc.lead"]\ntables = { stg_signups = "ucc.signups" }\n')
    ucc = run("compile", "policies/ucc.lead", "--dialect", "duckdb")
    assert ucc.exit_code == 0 and '"ucc"."signups"' in ucc.stdout  # the project's stg_leads is not a relation of ucc: not applied
    assert '"raw"."leads"' in run("compile", "policies/plg.lead", "--dialect", "duckdb").stdout
    both = run("dbt")
    assert both.exit_code == 0, both.output
    assert "source('ucc', 'signups')" in (project / "models" / "leadlang" / "ucc.sql").read_text(encoding="utf-8")
    assert "source('raw', 'leads')" in (project / "models" / "leadlang" / "plg.sql").read_text(encoding="utf-8")
    settings(project, PROJECT + '\n[tool.leadlang.policy."policies/ucc.lead"]\ntables = { stg_leads = "ucc.leads", stg_signups = "ucc.signups" }\n')
    r = run("dbt")  # two policies mapping stg_leads differently cannot share one models directory
    assert r.exit_code == 2 and "maps `stg_leads`" in r.stderr


def test_folders_are_expanded_minus_gitignored_and_excluded_files(project):
    (project / "policies" / "drafts").mkdir()
    shutil.copy(UCC / "ucc.lead", project / "policies" / "drafts" / "ucc.lead")
    (project / "policies" / "scratch.lead").write_text("this is not a policy\n", encoding="utf-8")
    assert "3 policies" in run("check", "policies").stderr  # one is broken: all three were read
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    (project / ".gitignore").write_text("scratch.lead\n", encoding="utf-8")
    assert "2 policies checked, no errors" in run("check", "policies").stdout
    settings(project, 'exclude = ["drafts"]\n')
    assert "1 policy checked, no errors" in run("check").stdout  # no argument, no `policies`: the working directory
    r = run("check", project / "empty")
    assert r.exit_code == 2  # a path that does not exist


def test_no_policies_found_is_said(project):
    (project / "none").mkdir()
    r = run("lint", "none")
    assert r.exit_code == 0 and "no .lead files in none" in r.stderr


def test_every_key_is_documented():
    from leadlang.config import KEYS

    page = (ROOT / "docs" / "config.md").read_text(encoding="utf-8")
    missing = [key for key in KEYS if f"| `{key}` |" not in page]
    assert not missing, f"docs/config.md lacks {missing}"


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts_complete_commands_and_options(shell):
    script = run("completion", shell)
    assert script.exit_code == 0 and "_LEADLANG_COMPLETE" in script.stdout
    # what the script asks the program at a tab: click's protocol, answered by leadlang itself
    def ask(words: str) -> str:
        # bash and zsh pass the index of the word being completed, fish the word itself
        cword = words.split()[-1] if shell == "fish" else str(len(words.split()) - 1)
        env = {"_LEADLANG_COMPLETE": f"{shell}_complete", "COMP_WORDS": words, "COMP_CWORD": cword}
        return CliRunner().invoke(main, [], env=env, prog_name="leadlang").stdout

    assert "score" in ask("leadlang sc") and "check" not in ask("leadlang sc")
    assert "--engine" in ask("leadlang score --eng")
