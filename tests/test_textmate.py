"""The VS Code extension's TextMate grammar (editors/vscode/syntaxes/lead.tmLanguage.json), tokenized by
VS Code's own engine — the npm packages vscode-textmate and vscode-oniguruma under node, in one node
process for every `.lead` file of the repository (editors/vscode/test/tokenize.js).

Every character of every policy and of every ```lead block of the docs gets a scope (nothing left as
plain `source.lead`; nothing `invalid` in what parses); exactly the parser's strings are scoped as strings and exactly `syntax/comments.py`'s comments
as comments; every keyword of grammar/leadlang.lark is in the TextMate grammar and scoped as a keyword in
tests/textmate/vocabulary.lead; a few files' tokens are snapshotted.

node and npm are needed (`npm ci` installs the two packages into editors/vscode/node_modules on first
use): without them the tests skip, with CI=true they fail.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import _in_ci
from lead_files import POLICIES, ROOT, SOURCES, VOCABULARY, grammar_keywords, parses, strings_and_comments


EXTENSION = ROOT / "editors" / "vscode"
GRAMMAR = EXTENSION / "syntaxes" / "lead.tmLanguage.json"
TOKENIZE = EXTENSION / "test" / "tokenize.js"
SNAPSHOTTED = ("policies/plg/plg.lead", "tests/textmate/vocabulary.lead", "tests/cases/ok_sem_events.lead")

# What a keyword may be scoped as.
KEYWORD_SCOPES = ("keyword.", "storage.", "support.", "constant.language.", "variable.language.")


def _unavailable(reason: str):
    if _in_ci():
        pytest.fail(f"the TextMate engine is unavailable in CI (CI=true: these tests must run): {reason}", pytrace=False)
    pytest.skip(f"the TextMate engine is unavailable: {reason}")


@pytest.fixture(scope="session")
def node() -> str:
    """node, with the extension's npm packages installed (`npm ci` the first time)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        _unavailable("node and npm are needed (apt-get install nodejs npm)")
    if not (EXTENSION / "node_modules" / "vscode-textmate").is_dir():
        done = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=EXTENSION,
                              capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            _unavailable(f"`npm ci` in {EXTENSION.relative_to(ROOT)} failed: {done.stderr.strip()[-500:]}")
    return node


@pytest.fixture(scope="session")
def tokens(node, tmp_path_factory) -> dict[str, list[list[tuple[int, int, list[str]]]]]:
    """{name of SOURCES: its lines, each a list of (start, end, scopes)}, offsets in code points."""
    files, blocks = {}, tmp_path_factory.mktemp("lead-blocks")
    for i, (name, text) in enumerate(SOURCES.items()):
        if (ROOT / name).is_file():
            files[name] = str(ROOT / name)
        else:  # a docs block
            files[name] = str(blocks / f"{i}.lead")
            Path(files[name]).write_text(text, encoding="utf-8")
    request = {"grammar": str(GRAMMAR), "files": list(files.values())}
    done = subprocess.run([node, str(TOKENIZE)], input=json.dumps(request), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    return {
        name: [[(_code_point(line, s), _code_point(line, e), scopes) for s, e, scopes in toks]
               for line, toks in zip(_lines(SOURCES[name]), answer[file], strict=True)]
        for name, file in files.items()
    }


def _lines(text: str) -> list[str]:
    """The lines of `text` as VS Code sees them (tokenize.js splits the same way)."""
    return re.split(r"\r?\n", text)


def _code_point(line: str, utf16: int) -> int:
    """The code point index of UTF-16 offset `utf16` of `line` (VS Code counts in UTF-16 units)."""
    units = 0
    for i, ch in enumerate(line):
        if units >= utf16:
            return i
        units += 2 if ord(ch) > 0xFFFF else 1
    return len(line)


def _chars(text: str, lines, prefix: str) -> set[int]:
    """The offsets in `text` of every character with a scope starting with `prefix`."""
    starts = [0] + [m.end() for m in re.finditer(r"\r?\n", text)]
    return {starts[n] + c for n, toks in enumerate(lines) for s, e, scopes in toks
            if any(sc.startswith(prefix) for sc in scopes) for c in range(s, e)}


def test_corpus_is_found():
    assert len(POLICIES) > 100 and VOCABULARY in POLICIES and len(SOURCES) > len(POLICIES) + 50


@pytest.mark.parametrize("rel", SOURCES)
def test_tokens(tokens, rel):
    """Every non-blank character has a scope; in a text that parses nothing is invalid, and the strings and
    comments are exactly the parser's (an error case's strings are not known)."""
    text, lines = SOURCES[rel], tokens[rel]
    for n, line in enumerate(_lines(text)):
        covered = {c for s, e, scopes in lines[n] if len(scopes) > 1 for c in range(s, e)}
        bare = [c for c, ch in enumerate(line) if not ch.isspace() and c not in covered]
        assert not bare, f"{rel}:{n + 1}:{bare[0] + 1}: {line[bare[0]]!r} has only the scope source.lead"
    if parses(text) is None:
        return
    invalid = sorted(_chars(text, lines, "invalid."))
    assert not invalid, f"{rel}: offset {invalid[0]} ({text[invalid[0]]!r}) scoped invalid"
    strings, in_comments, after = strings_and_comments(text)
    assert _chars(text, lines, "string.") == strings
    assert _chars(text, lines, "comment.") - after == in_comments


def test_grammar_keywords_are_in_the_textmate_grammar():
    keywords = grammar_keywords()
    assert {"policy", "where", "half-life", "distinct_leads", "timestamp", "minute", "x"} <= keywords
    raw = json.loads(GRAMMAR.read_text(encoding="utf-8"))
    patterns = re.sub(r"\\[A-Za-z]", " ", " ".join(_regexes(raw)))  # `\b`, `\d`: not letters of a word
    missing = sorted(w for w in keywords if not re.search(rf"(?<![A-Za-z_]){re.escape(w)}(?![A-Za-z_])", patterns))
    assert not missing, f"grammar/leadlang.lark has keywords {missing} that {GRAMMAR.relative_to(ROOT)} lacks"


def _regexes(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("match", "begin", "end", "while") and isinstance(value, str):
                yield value
            else:
                yield from _regexes(value)
    elif isinstance(node, list):
        for value in node:
            yield from _regexes(value)


def test_vocabulary_scopes_every_keyword_as_a_keyword(tokens):
    text = VOCABULARY.read_text(encoding="utf-8")
    assert parses(text) is not None
    scoped = set()
    for line, toks in zip(_lines(text), tokens["tests/textmate/vocabulary.lead"]):
        for s, e, scopes in toks:
            if any(sc.startswith(KEYWORD_SCOPES) for sc in scopes[1:]):
                scoped |= set(re.findall(r"[A-Za-z_][A-Za-z_-]*", line[s:e]))
    missing = sorted(w for w in grammar_keywords() if w not in scoped and w + "s" not in scoped)  # `2 weeks`
    assert not missing, f"{VOCABULARY.relative_to(ROOT)}: {missing} not scoped as keywords (use each in it, in place)"


def _scope_at(tokens, rel, line_no, word, nth=0):
    line = _lines((ROOT / rel).read_text(encoding="utf-8"))[line_no - 1]
    col = [m.start() for m in re.finditer(re.escape(word), line)][nth]
    return next(scopes for s, e, scopes in tokens[rel][line_no - 1] if s <= col < e)


def test_scopes_of_the_constructs(tokens):
    rel = "tests/textmate/vocabulary.lead"
    lines = _lines((ROOT / rel).read_text(encoding="utf-8"))

    def at(word, nth=0, line=None):
        n = line or next(i for i, text in enumerate(lines, 1) if word in text)
        return _scope_at(tokens, rel, n, word, nth)[-1]

    assert at("#") == "punctuation.definition.comment.lead"
    assert at('\\"') == "constant.character.escape.lead"
    assert at("\\\\") == "constant.character.escape.lead"
    assert at("`Job Title` contains") == "variable.other.quoted.lead"
    assert at("1_000") == "constant.numeric.integer.lead"
    assert at("2.5") == "constant.numeric.decimal.lead"
    assert at("30 minutes") == "constant.numeric.integer.lead" and at("minutes") == "keyword.other.unit.lead"
    assert at("2024-01-01T00:00:00Z") == "constant.other.timestamp.lead"
    assert at("2024-01-01 ") == "constant.other.date.lead"
    assert at("big_one") == "entity.name.tag.lead"
    assert at("fit clamp") == "entity.name.function.lead"
    assert at("recent =") == "entity.name.function.lead"
    assert at("count(") == "support.function.aggregate.lead"
    assert at("days_since(") == "support.function.lead"
    assert at("not in") == "keyword.operator.word.lead"
    assert at(">=") == "keyword.operator.comparison.lead"
    assert at("account.seats") == "variable.language.account.lead"
    assert at("employees    int") == "variable.other.field.lead"
    assert at("web from") == "entity.name.type.source.lead"
    assert at("x 3") == "keyword.operator.times.lead"
    # labels: of bands, matrix cells, classify branches, rules and members
    assert at("high >= 50") == at("low otherwise") == at("a    | b") == at("hot when") == at("cold") == "entity.name.tag.lead"
    assert at("otherwise cold") == "keyword.other.lead" and at("fit is high", line=None) == "variable.other.lead"


def _render(text: str, lines) -> str:
    out = []
    for n, line in enumerate(_lines(text)):
        out.append(f"{n + 1}: {line}")
        out += [f"    {line[s:e]!r} {' '.join(scopes[1:])}" for s, e, scopes in lines[n] if line[s:e].strip()]
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("rel", SNAPSHOTTED)
def test_token_snapshot(tokens, rel, snapshot):
    assert _render((ROOT / rel).read_text(encoding="utf-8"), tokens[rel]) == snapshot


# ---------------------------------------------------------------------------- the extension's package --

def _package() -> dict:
    return json.loads((EXTENSION / "package.json").read_text(encoding="utf-8"))


def test_package_contributes_the_language_grammar_snippets_and_command():
    contributes = _package()["contributes"]
    assert contributes["languages"][0]["id"] == "lead" and contributes["languages"][0]["extensions"] == [".lead"]
    for entry in contributes["grammars"] + contributes["snippets"] + contributes["languages"]:
        path = entry.get("path") or entry["configuration"]
        assert (EXTENSION / path).is_file(), path
    assert json.loads(GRAMMAR.read_text(encoding="utf-8"))["scopeName"] == contributes["grammars"][0]["scopeName"]
    assert {"leadlang.path", "leadlang.serverCommand"} <= set(contributes["configuration"]["properties"])
    commands = {c["command"] for c in contributes["commands"]}
    client = (EXTENSION / _package()["main"]).read_text(encoding="utf-8")
    assert "leadlang.showCompiledSql" in commands
    assert all(f'registerCommand("{c}"' in client for c in commands)  # each contributed command has a handler


def test_client_starts_the_server_and_shows_compiled_sql(node):
    """extension.js against stand-ins for VS Code and its language client (editors/vscode/test/client.js)."""
    done = subprocess.run([node, str(EXTENSION / "test" / "client.js")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    log = json.loads(done.stdout)
    assert [(s["command"], s["args"]) for s in log["started"]] == [
        ("leadlang", ["lsp"]),  # the default
        ("/venv/bin/leadlang", ["lsp"]),  # leadlang.path
        ("python", ["-m", "leadlang", "lsp"]),  # leadlang.serverCommand wins over leadlang.path
    ]
    assert all(s["selector"] == [{"language": "lead"}] for s in log["started"])
    request = {"type": "workspace/executeCommand", "params": {
        "command": "leadlang.showCompiledSql", "arguments": ["file:///work/project/plg.lead", "snowflake"]}}
    assert log["requests"] == [request, request]  # the second time, the server refuses
    assert log["opened"] == [{"doc": {"language": "sql", "content": "SELECT 1;\n"}, "beside": True}]
    assert log["errors"] == ["leadlang: the policy does not compile: plg.lead:12:22: error[E201]: unknown name `employes`"]


def test_client_offers_every_dialect():
    from leadlang.sql.dialects import DIALECTS

    client = (EXTENSION / "extension.js").read_text(encoding="utf-8")
    offered = re.findall(r'\{ label: "(\w+)"', client[client.index("const DIALECTS"):client.index("];")])
    assert offered == list(DIALECTS)  # the quick pick of "Show compiled SQL", in the compiler's order


def _expand(body: list[str]) -> str:
    """A snippet as VS Code inserts it when every placeholder keeps its default (a choice: its first)."""
    text = "\n".join(body)
    text = re.sub(r"\$\{\d+\|([^,|]*)[^}]*\|\}", r"\1", text)
    text = re.sub(r"\$\{\d+:([^}]*)\}", r"\1", text)
    return re.sub(r"\$\d+", "", text)


@pytest.mark.parametrize("name", sorted(json.loads((EXTENSION / "snippets" / "lead.json").read_text(encoding="utf-8"))))
def test_snippet_parses(name):
    snippet = json.loads((EXTENSION / "snippets" / "lead.json").read_text(encoding="utf-8"))[name]
    text = _expand(snippet["body"])
    if name.startswith("rule "):  # a rule is inserted inside a score
        text = f"score s {{\n  {text}\n}}"
    assert parses(text + "\n") is not None, f"the snippet {name!r} expands to what the parser rejects:\n{text}"


def test_indentation_rules():
    rules = json.loads((EXTENSION / "language-configuration.json").read_text(encoding="utf-8"))["indentationRules"]
    increase, decrease = re.compile(rules["increaseIndentPattern"]), re.compile(rules["decreaseIndentPattern"])
    assert increase.search('score fit clamp 0 to 100 {') and increase.search('leads from ref("x") key id {  # leads')
    assert increase.search("let xs = [") and not increase.search('  a: +1 when x = "{"')
    assert not increase.search("bands fit { high >= 5, low otherwise }") and not increase.search("# {")
    assert decrease.search("  }") and decrease.search("]") and not decrease.search("  a: 1 when x")
