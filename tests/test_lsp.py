"""`leadlang lsp` end to end: the command started as a subprocess and driven over stdio by pytest-lsp's client.

One server serves the module (its start-up is most of the cost); each test opens its own
documents in a fresh project folder. Positions are computed from the texts, never typed in.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import _in_ci

try:
    import pytest_lsp
    from lsprotocol import types as T
    from pytest_lsp import ClientServerConfig, LanguageClient
except ImportError as err:  # CI must run these tests: a missing client fails there
    if _in_ci():
        raise
    pytest.skip(f"pytest-lsp is not installed (pip install '.[test]'): {err}", allow_module_level=True)

ROOT = Path(__file__).resolve().parents[1]
LOOP = pytest.mark.asyncio(loop_scope="module")

POLICY = textwrap.dedent('''\
    policy demo "Held-out style"
      version "1"

    use "shared/common.lead"

    leads from ref("stg_leads") key lead_id {
      email      string
      industry   enum("software", "fintech", "retail")
      employees  int
      country    string
    }

    let target_industries = ["software", "fintech"]

    signal big = employees >= 1000

    score fit clamp 0 to 100 {
      target:     +30 when industry in target_industries
      enterprise: +40 when big
      free_mail:  -40 when email_domain in free_email_domains
      big_local:  +10 when big and country = "US"
    }

    bands fit { high >= 50, low otherwise }

    classify stage {
      sql when fit is high and big
      nurture when big
      otherwise cold
    }

    # two comment lines
    # fold together
    test "an enterprise in software is sql" {
      lead { lead_id: "a", email: "x@acme.com", industry: "software", employees: 5000, country: "US" }
      expect stage is sql
    }
    ''')
COMMON = 'let free_email_domains = ["gmail.com", "yahoo.com"]\nsignal email_domain = domain(email)\n'


def leadlang(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "leadlang", *args], input=stdin, capture_output=True, text=True, cwd=ROOT)


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "leadlang", "lsp"]), scope="module", loop_scope="module")
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(T.InitializeParams(capabilities=T.ClientCapabilities()))
    yield
    await lsp_client.shutdown_session()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "common.lead").write_text(COMMON, encoding="utf-8")
    (tmp_path / "demo.lead").write_text(POLICY, encoding="utf-8")
    return tmp_path


def uri(path: Path) -> str:
    return path.resolve().as_uri()


def doc(path: Path) -> T.TextDocumentIdentifier:
    return T.TextDocumentIdentifier(uri=uri(path))


def at(text: str, needle: str, nth: int = 0, offset: int = 1) -> T.Position:
    """The position `offset` characters into the `nth` occurrence of `needle`."""
    start = -1
    for _ in range(nth + 1):
        start = text.index(needle, start + 1)
    line = text.count("\n", 0, start)
    return T.Position(line=line, character=start - (text.rfind("\n", 0, start) + 1) + offset)


async def diagnostics(client: LanguageClient, target: str, send, also: tuple[str, ...] = ()) -> list[T.Diagnostic]:
    """What the server publishes for `target` after `send()` (an open or a change), once it has published for `also` too."""
    for u in (target, *also):
        client.diagnostics.pop(u, None)
    send()
    async with asyncio.timeout(30):
        while any(u not in client.diagnostics for u in (target, *also)):
            await client.wait_for_notification(T.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    return list(client.diagnostics[target])


async def open_doc(client: LanguageClient, path: Path, text: str | None = None, target: Path | None = None) -> list[T.Diagnostic]:
    text = path.read_text(encoding="utf-8") if text is None else text
    item = T.TextDocumentItem(uri=uri(path), language_id="lead", version=1, text=text)
    return await diagnostics(client, uri(target or path), lambda: client.text_document_did_open(T.DidOpenTextDocumentParams(text_document=item)))


async def change(client: LanguageClient, path: Path, text: str, version: int, target: Path | None = None, also: tuple[Path, ...] = ()) -> list[T.Diagnostic]:
    params = T.DidChangeTextDocumentParams(
        text_document=T.VersionedTextDocumentIdentifier(uri=uri(path), version=version),
        content_changes=[T.TextDocumentContentChangeWholeDocument(text=text)])
    return await diagnostics(client, uri(target or path), lambda: client.text_document_did_change(params), tuple(uri(p) for p in also))


def close(client: LanguageClient, *paths: Path) -> None:
    for path in paths:
        client.text_document_did_close(T.DidCloseTextDocumentParams(text_document=doc(path)))


def apply(text: str, edits: list[T.TextEdit]) -> str:
    """The text with the edits applied (ASCII texts: characters are UTF-16 units)."""
    lines = text.split("\n")
    starts = [0]
    for line in lines[:-1]:
        starts.append(starts[-1] + len(line) + 1)

    def offset(p: T.Position) -> int:
        return starts[p.line] + p.character if p.line < len(starts) else len(text)

    for e in sorted(edits, key=lambda e: offset(e.range.start), reverse=True):
        text = text[:offset(e.range.start)] + e.new_text + text[offset(e.range.end):]
    return text


def cli_findings(command: str, path: Path) -> list[tuple]:
    """(code, message, line, column, end line, end column) of `leadlang check|lint --format json`, 0-based like the LSP."""
    out = json.loads(leadlang(command, "--format", "json", str(path)).stdout)
    found = out["diagnostics"] if isinstance(out, dict) else out
    return sorted((d["code"], d["message"], d["line"] - 1, d["column"] - 1, d["end_line"] - 1, d["end_column"] - 1) for d in found)


def lsp_findings(found: list[T.Diagnostic]) -> list[tuple]:
    return sorted((d.code, d.message.split("\nhint: ")[0], d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character)
                  for d in found)


# ---------------------------------------------------------------- diagnostics --
@LOOP
async def test_a_misspelled_field_is_the_checks_error_until_it_is_fixed(client: LanguageClient, project: Path):
    path = project / "demo.lead"
    broken = POLICY.replace("employees >= 1000", "employes >= 1000")
    path.write_text(broken, encoding="utf-8")
    found = await open_doc(client, path)
    assert lsp_findings(found) == cli_findings("check", path)  # code, message and range: exactly the CLI's
    [d] = found
    assert d.code.startswith("E2") and d.severity == T.DiagnosticSeverity.Error
    assert (d.range.start, d.range.end) == (at(broken, "employes", offset=0), at(broken, "employes", offset=len("employes")))
    assert "did you mean `employees`?" in d.message
    assert d.code_description.href.endswith(f"errors.md#{d.code.lower()}--unknown-name")
    fixed = await change(client, path, POLICY, 2)
    assert [x.code for x in fixed] == ["L303"]  # the error is gone; the lint finding of the checked policy is left
    close(client, path)


@LOOP
async def test_lint_findings_are_the_clis_and_honour_the_projects_settings(client: LanguageClient, project: Path):
    path = project / "demo.lead"
    found = await open_doc(client, path)
    assert lsp_findings(found) == cli_findings("lint", path)
    [d] = found
    assert (d.code, d.severity) == ("L303", T.DiagnosticSeverity.Warning) and d.code_description.href.endswith("/lint/L303.md")
    assert "hint: add e.g. `owner" in d.message
    (project / "pyproject.toml").write_text('[tool.leadlang.lint]\nignore = ["L303"]\n', encoding="utf-8")
    assert await change(client, path, POLICY + "\n", 2) == []
    ignored = POLICY.replace('policy demo "Held-out style"', 'policy demo "Held-out style"  # leadlang: ignore[L303]')
    (project / "pyproject.toml").unlink()
    assert await change(client, path, ignored, 3) == []  # the inline ignore
    close(client, path)


@LOOP
async def test_an_unsaved_buffer_that_never_existed_on_disk(client: LanguageClient, project: Path):
    path = project / "never_saved.lead"
    found = await open_doc(client, path, POLICY.replace("-40 when email_domain", "-40 when email_domian"))
    [d] = found
    assert d.code == "E201" and "did you mean `email_domain`?" in d.message and not path.exists()
    assert await change(client, path, POLICY.replace('version "1"', 'version "1"\n  owner "ops@example.com"'), 2) == []
    close(client, path)


@LOOP
async def test_a_used_file_open_and_modified_is_read_from_its_buffer(client: LanguageClient, project: Path):
    main, common = project / "demo.lead", project / "shared" / "common.lead"
    await open_doc(client, main)
    assert await open_doc(client, common) == []  # read through the policy that uses it: no errors of its own
    broken = COMMON.replace("domain(email)", "domain(emial)")
    in_common = await change(client, common, broken, 2, also=(main,))  # unsaved: the disk still holds the good text
    [d] = in_common
    assert d.code == "E201" and "did you mean `email`?" in d.message and d.range.start == at(broken, "emial", offset=0)
    on_use = [x for x in client.diagnostics[uri(main)] if x.code == "E201"]
    assert len(on_use) == 1 and on_use[0].range.start.line == POLICY.split("\n").index('use "shared/common.lead"')
    assert on_use[0].related_information[0].location.uri == uri(common)
    # the used file renames its signal: the policy's old references are errors, on its own URI
    renamed = COMMON.replace("signal email_domain", "signal mail_domain")
    found = await change(client, common, renamed, 3, target=main)
    assert any(x.code == "E201" and "email_domain" in x.message for x in found)
    assert await change(client, common, COMMON, 4, target=main) != found
    close(client, main, common)


# ------------------------------------------------------------------ navigation --
@LOOP
async def test_hover_names_a_signal_and_shows_its_definition(client: LanguageClient, project: Path):
    path = project / "demo.lead"
    await open_doc(client, path)
    hover = await client.text_document_hover_async(T.HoverParams(text_document=doc(path), position=at(POLICY, "when big", offset=6)))
    assert "signal `big`: bool" in hover.contents.value and "signal big = employees >= 1000" in hover.contents.value
    score = await client.text_document_hover_async(T.HoverParams(text_document=doc(path), position=at(POLICY, "fit clamp")))
    assert "score `fit` (4 rules), range 0 to 80; bands high, low" in score.contents.value
    assert "big_local:  +10 when big" in score.contents.value
    band = await client.text_document_hover_async(T.HoverParams(text_document=doc(path), position=at(POLICY, "high and big")))
    assert "band `high` of score `fit`: >= 50" in band.contents.value
    rule = await client.text_document_hover_async(T.HoverParams(text_document=doc(path), position=at(POLICY, "enterprise:")))
    assert "rule `enterprise` of score `fit`: +40 points when" in rule.contents.value
    used = await client.text_document_hover_async(T.HoverParams(text_document=doc(path), position=at(POLICY, "email_domain in")))
    assert "signal `email_domain`: string" in used.contents.value and "domain(email)" in used.contents.value
    keyword = await client.text_document_hover_async(T.HoverParams(text_document=doc(path), position=at(POLICY, "classify")))
    assert "first-match labels" in keyword.contents.value
    close(client, path)


@LOOP
async def test_definition_of_a_let_used_in_a_rule(client: LanguageClient, project: Path):
    path = project / "demo.lead"
    await open_doc(client, path)
    found = await client.text_document_definition_async(T.DefinitionParams(text_document=doc(path), position=at(POLICY, "target_industries", nth=1)))
    [loc] = found
    assert loc.uri == uri(path) and loc.range.start == at(POLICY, "target_industries", offset=0)
    across = await client.text_document_definition_async(T.DefinitionParams(text_document=doc(path), position=at(POLICY, "free_email_domains")))
    assert [(x.uri, x.range.start) for x in across] == [(uri(project / "shared" / "common.lead"), at(COMMON, "free_email_domains", offset=0))]
    close(client, path)


@LOOP
async def test_references_and_rename_of_a_signal_used_four_times(client: LanguageClient, project: Path):
    path = project / "demo.lead"
    await open_doc(client, path)
    where = at(POLICY, "and big", offset=5)
    uses = await client.text_document_references_async(T.ReferenceParams(
        text_document=doc(path), position=where, context=T.ReferenceContext(include_declaration=False)))
    lines = POLICY.split("\n")
    assert sorted(r.range.start.line for r in uses) == [i for i, line in enumerate(lines) if re.search(r"\bbig\b", line) and not line.startswith("signal")]
    assert len(uses) == 4
    every = await client.text_document_references_async(T.ReferenceParams(
        text_document=doc(path), position=where, context=T.ReferenceContext(include_declaration=True)))
    assert len(every) == 5
    prepared = await client.text_document_prepare_rename_async(T.PrepareRenameParams(text_document=doc(path), position=where))
    assert prepared.placeholder == "big"
    edit = await client.text_document_rename_async(T.RenameParams(text_document=doc(path), position=where, new_name="large_company"))
    renamed = apply(POLICY, edit.changes[uri(path)])
    assert renamed.count("large_company") == 5 and not re.search(r"\bbig\b", renamed)
    path.write_text(renamed, encoding="utf-8")
    assert leadlang("test", str(path)).returncode == 0  # it still checks, and its test still passes
    for taken, why in (("fit", "already declared"), ("when", "keyword"), ("2big", "not a name")):
        with pytest.raises(Exception, match=why):
            await client.text_document_rename_async(T.RenameParams(text_document=doc(path), position=where, new_name=taken))
    close(client, path)


@LOOP
async def test_rename_across_a_used_file(client: LanguageClient, project: Path):
    path = project / "demo.lead"
    await open_doc(client, path)
    edit = await client.text_document_rename_async(T.RenameParams(text_document=doc(path), position=at(POLICY, "email_domain"), new_name="mail_domain"))
    common = project / "shared" / "common.lead"
    assert set(edit.changes) == {uri(path), uri(common)}
    common.write_text(apply(COMMON, edit.changes[uri(common)]), encoding="utf-8")
    path.write_text(apply(POLICY, edit.changes[uri(path)]), encoding="utf-8")
    assert leadlang("check", str(path)).returncode == 0 and "signal mail_domain" in common.read_text()
    close(client, path)


# ------------------------------------------------------- outline, folding, fmt --
@LOOP
async def test_formatting_is_leadlang_fmt(client: LanguageClient, project: Path):
    path = project / "demo.lead"
    await open_doc(client, path)
    options = T.FormattingOptions(tab_size=2, insert_spaces=True)
    edits = await client.text_document_formatting_async(T.DocumentFormattingParams(text_document=doc(path), options=options))
    expected = leadlang("fmt", "-", stdin=POLICY).stdout
    assert expected != POLICY and apply(POLICY, edits) == expected and len(edits) == 1
    await change(client, path, expected, 2)
    assert await client.text_document_formatting_async(T.DocumentFormattingParams(text_document=doc(path), options=options)) in ([], (), None)
    await change(client, path, POLICY.replace("bands fit {", "bands fit {{"), 3)
    assert await client.text_document_formatting_async(T.DocumentFormattingParams(text_document=doc(path), options=options)) in ([], (), None)
    close(client, path)


@LOOP
async def test_document_symbols_and_folding(client: LanguageClient, project: Path):
    path = project / "demo.lead"
    await open_doc(client, path)
    symbols = await client.text_document_document_symbol_async(T.DocumentSymbolParams(text_document=doc(path)))
    assert [(s.detail, s.name) for s in symbols] == [
        ("policy", "demo"), ("use", '"shared/common.lead"'), ("leads", "leads"), ("let", "target_industries"), ("signal", "big"),
        ("score", "fit"), ("bands", "fit"), ("classify", "stage"), ("test", '"an enterprise in software is sql"')]
    score = symbols[5]
    assert [r.name for r in score.children] == ["target", "enterprise", "free_mail", "big_local"]
    assert score.selection_range.start == at(POLICY, "fit clamp", offset=0)
    folds = await client.text_document_folding_range_async(T.FoldingRangeParams(text_document=doc(path)))
    lines = POLICY.split("\n")
    starts = {(f.start_line, f.kind) for f in folds}
    for head in ("leads from", "score fit", "classify stage", "test "):
        assert (next(i for i, x in enumerate(lines) if x.startswith(head)), T.FoldingRangeKind.Region) in starts
    assert (lines.index("# two comment lines"), T.FoldingRangeKind.Comment) in starts
    close(client, path)


# ------------------------------------------------------------------ in-process --
def test_every_function_and_aggregate_has_a_hover_doc_from_the_language_reference():
    from leadlang.aggregates import AGGREGATES
    from leadlang.builtins import BUILTINS
    from leadlang.lsp.reference import doc

    for name in (*BUILTINS, *AGGREGATES):
        assert doc(name, call=True) is not None and f"{name}(" in doc(name, call=True), name
    for keyword in ("score", "bands", "classify", "when", "per", "in", "is", "leads", "events"):
        assert doc(keyword), keyword
    assert "caps" in doc("max") and "largest" in doc("max", call=True)


def test_help_urls_name_pages_that_exist():
    from leadlang.codes import docs_url, help_url, pages

    for code in pages():
        url = help_url(code)
        assert url.startswith(docs_url() + "/")
        page = ROOT / "docs" / url[len(docs_url()) + 1:].split("#")[0]
        assert page.exists(), url
    errors = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    assert "## E201 — unknown name" in errors and help_url("E201").endswith("#e201--unknown-name")


def test_without_pygls_the_command_says_how_to_install_it():
    code = "import sys; sys.modules['pygls'] = None; sys.argv = ['leadlang', 'lsp']; from leadlang.cli import run; run()"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 2 and done.stderr.strip().splitlines() == ["error: the language server needs pygls: pip install 'leadlang[lsp]'"]


def test_a_reparse_that_reuses_the_last_parses_chunks_is_a_fresh_parse():
    """Each edit reparses only the changed declarations (`parser.parse(reuse=)`): nodes and spans as a whole parse gives them."""
    from leadlang.syntax.ast import walk
    from leadlang.syntax.parser import parse

    def nodes(module):
        return [(n, getattr(n, "span", None)) for n in walk(module)]

    text = (ROOT / "policies" / "plg" / "plg.lead").read_text(encoding="utf-8")
    reuse: dict = {}
    parse(text, "p.lead", reuse)
    edits = [text.replace("+30 when industry", "+31 when industry"),  # inside one declaration
             "# a new first line\n" + text,  # every declaration moves down
             text.replace("bands fit        { high >= 60, low otherwise }\n", ""),  # one removed
             text]
    for edited in edits:
        assert nodes(parse(edited, "p.lead", reuse)) == nodes(parse(edited, "p.lead"))
    assert reuse  # it holds the last parse's chunks
