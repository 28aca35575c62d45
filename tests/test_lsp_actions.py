"""Code actions (did you mean, `# leadlang: ignore[CODE]`, the lint rules' fixes) and `leadlang.showCompiledSql`."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner
from lsp_client import LOOP, T, apply, change, client, close, open_doc  # noqa: F401  (client: the fixture)

from leadlang.check import check_module
from leadlang.diagnostics import LeadError
from leadlang.lint import lint
from leadlang.lint.config import inline_ignores
from leadlang.lsp.actions import fixes
from leadlang.syntax.parser import parse

POLICY = textwrap.dedent('''\
    policy demo "Demo"
      version "1"
      owner "revops@example.com"

    leads from ref("stg_leads") key lead_id {
      email      string
      industry   enum("software", "fintech", "retail")
      employees  int
    }

    events product from ref("events") {
      lead  lead_id
      at    at
      name  event_name
    }

    let target_industries = ["software", "fintech"]

    signal logins = count(product "login" in last 30 days)

    score fit clamp 0 to 100 {
      target:     +30 when industry in target_industries
      enterprise: +40 when employees >= 1000
      active:     +20 when logins > 3
    }

    bands fit { high >= 50, low otherwise }

    classify stage {
      sql when fit is high
      otherwise cold
    }
    ''')


def errors(text: str) -> list:
    try:
        check_module(parse(text, "p.lead"), {"p.lead": text})
    except LeadError as err:
        return err.diagnostics
    return []


def fixed(text: str, d) -> str:
    [fix] = [f for f in fixes(text, "p.lead", d) if f.preferred]
    for start, end, new in sorted(fix.edits, reverse=True):
        text = text[:start] + new + text[end:]
    return text


@pytest.mark.parametrize("written, good, bad", [
    ("when employees >= 1000", None, "when employes >= 1000"),  # a field (E201)
    ("when logins > 3", None, "when lgins > 3"),  # a signal
    ("industry in target_industries", None, "industry in target_industres"),  # a let
    ('count(product "login"', None, 'count(prodct "login"'),  # an events source (E209)
    ("sql when fit is high", None, "sql when fit is hgh"),  # a band label (E206)
    ("industry in target_industries", 'industry = "software"', 'industry = "sotware"'),  # an enum value (E205)
    ("industry in target_industries", 'industry in ["retail", "fintech"]', 'industry in ["retail", "fintek"]'),
    ("when employees >= 1000", "when abs(employees) >= 1000", "when ab(employees) >= 1000"),  # a function (E204)
])
def test_did_you_mean_fixes_the_word(written, good, bad):
    good = POLICY.replace(written, good or written)
    wrong = POLICY.replace(written, bad)
    [d] = errors(wrong)
    assert "did you mean" in " ".join(d.hints)
    assert fixed(wrong, d) == good
    assert errors(good) == []


def test_did_you_mean_fixes_every_line_an_unknown_name_is_on():
    bad = POLICY.replace("employees >= 1000", "employes >= 1000").replace("logins > 3", "logins > 3 and employes > 5")
    [d] = errors(bad)
    assert any(h.startswith("also used on line") for h in d.hints)
    [fix] = fixes(bad, "p.lead", d)
    assert fix.title == "Change `employes` to `employees` (2 places)"
    assert errors(fixed(bad, d)) == []


def lint_of(text: str) -> list:
    return lint(check_module(parse(text, "p.lead"), {"p.lead": text}))


def ignored(text: str, d) -> str:
    [fix] = [f for f in fixes(text, "p.lead", d) if f.title.startswith("Ignore")]
    for start, end, new in sorted(fix.edits, reverse=True):
        text = text[:start] + new + text[end:]
    return text


@pytest.mark.parametrize("edit, where", [
    (("signal logins", "signal unused = 1\nsignal logins"), "end of line"),
    (("signal logins", "signal unused = 1  # why\nsignal logins"), "own line above"),
    (("signal logins", "signal unused = 1  # leadlang: ignore[L201]\nsignal logins"), "added to the comment"),
    (("signal logins", "# leadlang: ignore[L3] -- kept\nsignal unused = 1\nsignal logins"), "added to the comment above"),
    (("signal logins", "signal unused = 1 + \\\n  2\nsignal logins"), "end of line"),
])
def test_ignore_goes_where_lint_reads_it(edit, where):
    text = POLICY.replace(*edit)
    [d] = [d for d in lint_of(text) if d.code == "L202"]
    after = ignored(text, d)
    assert [x.code for x in lint_of(after)] == [x.code for x in lint_of(text) if x.code != "L202"], after
    assert errors(after) == []
    assert any("L202" in (codes or ()) for codes in inline_ignores(after).values())
    if where == "added to the comment":
        assert "ignore[L201, L202]" in after
    if where == "own line above":
        assert "\n# leadlang: ignore[L202]\nsignal unused = 1  # why\n" in after


def test_the_rules_own_fixes_are_offered():
    text = POLICY.replace("signal logins", "signal unused = 1\nsignal logins").replace('  owner "revops@example.com"\n', "")
    found = {d.code: d for d in lint_of(text)}
    [remove] = [f for f in fixes(text, "p.lead", found["L202"]) if not f.title.startswith("Ignore")]
    assert remove.title == found["L202"].fix.title and remove.preferred  # safe: `lint --fix` applies it
    [header] = [f for f in fixes(text, "p.lead", found["L303"]) if not f.title.startswith("Ignore")]
    assert not header.preferred  # unsafe: `--unsafe-fixes` only
    after = fixed(text, found["L202"])
    assert after == POLICY.replace('  owner "revops@example.com"\n', "")


def test_a_fix_of_another_file_is_not_offered():
    bad = POLICY.replace("employees >= 1000", "employes >= 1000")
    [d] = errors(bad)
    assert fixes(bad, "other.lead", d) == []


# ------------------------------------------------------------- over stdio --

@LOOP
async def test_code_actions_over_stdio(client, tmp_path: Path):
    path = tmp_path / "demo.lead"
    bad = POLICY.replace("employees >= 1000", "employes >= 1000")
    path.write_text(bad, encoding="utf-8")
    [diag] = await open_doc(client, path, bad)
    assert diag.code == "E201"
    actions = await client.text_document_code_action_async(T.CodeActionParams(
        text_document=T.TextDocumentIdentifier(uri=path.resolve().as_uri()), range=diag.range,
        context=T.CodeActionContext(diagnostics=[diag])))
    [action] = actions
    assert action.title == "Change `employes` to `employees`" and action.kind == T.CodeActionKind.QuickFix and action.is_preferred
    assert action.diagnostics[0].code == "E201"
    good = apply(bad, action.edit.changes[path.resolve().as_uri()])
    assert good == POLICY
    # the fixed text has no error left; its lint finding (an unused signal) offers the ignore comment
    with_unused = good.replace("signal logins", "signal unused = 1\nsignal logins")
    found = await change(client, path, with_unused, 2)
    [lint_diag] = [d for d in found if d.code == "L202"]
    actions = await client.text_document_code_action_async(T.CodeActionParams(
        text_document=T.TextDocumentIdentifier(uri=path.resolve().as_uri()), range=lint_diag.range,
        context=T.CodeActionContext(diagnostics=[lint_diag])))
    remove = next(a for a in actions if a.title.startswith("Remove signal `unused`"))
    assert remove.is_preferred and apply(with_unused, remove.edit.changes[path.resolve().as_uri()]) == good
    ignore = next(a for a in actions if a.title == "Ignore L202 on this line")
    silenced = apply(with_unused, ignore.edit.changes[path.resolve().as_uri()])
    assert "signal unused = 1  # leadlang: ignore[L202]\n" in silenced
    assert [d.code for d in await change(client, path, silenced, 3)] == []
    close(client, path)


@LOOP
@pytest.mark.parametrize("dialect", ["duckdb", "bigquery"])
async def test_show_compiled_sql_is_compile(client, tmp_path: Path, dialect):
    from leadlang.cli import main

    path = tmp_path / "demo.lead"
    path.write_text(POLICY, encoding="utf-8")
    unsaved = POLICY.replace("+40 when employees >= 1000", "+45 when employees >= 2000")
    await open_doc(client, path, unsaved)
    sql = await client.workspace_execute_command_async(T.ExecuteCommandParams(
        command="leadlang.showCompiledSql", arguments=[path.resolve().as_uri(), dialect]))
    path.write_text(unsaved, encoding="utf-8")  # the buffer's text, as `compile` reads it from disk
    result = CliRunner().invoke(main, ["compile", str(path), "--dialect", dialect])
    assert result.exit_code == 0 and sql == result.output
    assert "2000" in sql
    close(client, path)


@LOOP
async def test_show_compiled_sql_of_a_broken_policy_says_why(client, tmp_path: Path):
    from pygls.exceptions import JsonRpcException

    path = tmp_path / "demo.lead"
    bad = POLICY.replace("employees >= 1000", "employes >= 1000")
    await open_doc(client, path, bad)
    with pytest.raises(JsonRpcException, match=r"does not compile: .*demo.lead:\d+:\d+: error\[E201\]: unknown name `employes`"):
        await client.workspace_execute_command_async(T.ExecuteCommandParams(
            command="leadlang.showCompiledSql", arguments=[path.resolve().as_uri(), "duckdb"]))
    with pytest.raises(JsonRpcException, match="unknown dialect"):
        await client.workspace_execute_command_async(T.ExecuteCommandParams(
            command="leadlang.showCompiledSql", arguments=[path.resolve().as_uri(), "oracle"]))
    close(client, path)


@LOOP
async def test_fix_all_is_lint_fix(client, tmp_path: Path):
    """`source.fixAll.leadlang` leaves the buffer as `leadlang lint --fix` leaves the file (a removed signal
    leaves its `let` unused: a second round removes it too)."""
    from leadlang.cli import main

    path = tmp_path / "demo.lead"
    text = POLICY.replace("signal logins", "let limit = 3\nsignal unused = limit + 1\nsignal logins")
    path.write_text(text, encoding="utf-8")
    found = await open_doc(client, path, text)
    assert [d.code for d in found] == ["L202"]
    params = T.CodeActionParams(text_document=T.TextDocumentIdentifier(uri=path.resolve().as_uri()),
                                range=T.Range(start=T.Position(line=0, character=0), end=T.Position(line=0, character=0)),
                                context=T.CodeActionContext(diagnostics=[], only=[T.CodeActionKind.SourceFixAll]))
    [action] = await client.text_document_code_action_async(params)
    assert action.kind == "source.fixAll.leadlang"
    after = apply(text, action.edit.changes[path.resolve().as_uri()])
    result = CliRunner().invoke(main, ["lint", "--fix", str(path)])
    assert result.exit_code == 0, result.output
    assert after == path.read_text(encoding="utf-8") == POLICY
    # a plain request (the light bulb) does not run the rounds of lint
    params.context.only = None
    assert all(a.kind == T.CodeActionKind.QuickFix for a in await client.text_document_code_action_async(params) or [])
    close(client, path)
