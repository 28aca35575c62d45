"""`leadlang fmt`: canonical layout, stable, meaning-preserving, every comment kept in order.

The checks do not trust the formatter's own safety net: meaning is the parser's
tree (spans never take part in equality), comments are collected by the Lark
lexer itself (`lexer_callbacks`, not the formatter's scanner), and the example
policies' own `test` blocks must still pass on the formatted text.
"""

from __future__ import annotations

import functools
import os
import random
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import checked
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lark import Lark
from test_random_policies import policies as random_policies

from leadlang.cli import main
from leadlang.diagnostics import LeadError
from leadlang.fmt import FormatterBug, format_source
from leadlang.syntax import parse
from leadlang.syntax.grammar import _Lines, grammar_path
from leadlang.testing import run_tests

ROOT = Path(__file__).parent.parent
CASES = Path(__file__).parent / "fmt_cases"
CASE_NAMES = sorted(p.name.removesuffix(".input.lead") for p in CASES.glob("*.input.lead"))
CORPUS = sorted(
    list(ROOT.glob("policies/*/*.lead")) + list((ROOT / "tests" / "cases").glob("*.lead"))
    + list((ROOT / "tests" / "differential").glob("*.lead")) + list(CASES.glob("*.lead"))
)
EXAMPLES = sorted(ROOT.glob("policies/*/*.lead"))


@functools.lru_cache(maxsize=1)
def _comment_lexer() -> tuple[Lark, list]:
    found: list = []
    lark = Lark(grammar_path().read_text(encoding="utf-8"), parser="lalr", lexer="contextual", postlex=_Lines(),
                lexer_callbacks={"COMMENT": found.append})
    return lark, found


def comments(text: str) -> list[str]:
    """The comments of a policy in file order, as the grammar's lexer sees them."""
    lark, found = _comment_lexer()
    found.clear()
    lark.parse(text)
    return [tok.value.rstrip() for tok in found]


def assert_formatted_well(before: str, after: str) -> None:
    assert parse(after, "x.lead") == parse(before, "x.lead"), "formatting changed the syntax tree"
    assert comments(after) == comments(before), "a comment was lost, changed or moved out of order"
    assert format_source(after) == after, "a second pass changes the text"
    assert after == "" or (after.endswith("\n") and not after.endswith("\n\n")), "one newline ends the file"
    if "fmt: off" not in after:
        assert all(line == line.rstrip() for line in after.split("\n")), "no blanks at line ends"


# ------------------------------------------------------------- cases ---


@pytest.mark.parametrize("name", CASE_NAMES)
def test_case_input_formats_to_expected(name):
    source = (CASES / f"{name}.input.lead").read_text(encoding="utf-8")
    expected = (CASES / f"{name}.expected.lead").read_text(encoding="utf-8")
    assert format_source(source) == expected
    assert_formatted_well(source, expected)


def test_every_case_has_an_expected_output():
    assert len(CASE_NAMES) >= 8
    assert {p.name for p in CASES.glob("*.expected.lead")} == {f"{n}.expected.lead" for n in CASE_NAMES}


# ------------------------------------------------------------ corpus ---


def _parses(path: Path) -> bool:
    try:
        parse(path.read_text(encoding="utf-8"), str(path))
        return True
    except LeadError:
        return False


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_policy_in_the_repository(path):
    text = path.read_text(encoding="utf-8")
    if not _parses(path):
        with pytest.raises(LeadError):
            format_source(text, str(path))
        return
    assert_formatted_well(text, format_source(text, str(path)))


SNAPSHOTTED = sorted((ROOT / "tests" / "cases").glob("ok_*.lead")) + sorted((ROOT / "tests" / "differential").glob("*.lead"))


@pytest.mark.parametrize("path", SNAPSHOTTED, ids=lambda p: p.stem)
def test_formatted_case_snapshot(path, snapshot):
    """The formatter's output for the valid corpus cases, reviewed in pull requests like SQL."""
    assert format_source(path.read_text(encoding="utf-8"), path.name) == snapshot


def test_the_corpus_is_mostly_valid_policies():
    assert sum(_parses(p) for p in CORPUS) >= 50


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.parent.name)
def test_example_policies_still_pass_their_tests_once_formatted(path):
    formatted = format_source(path.read_text(encoding="utf-8"), str(path))
    policy = checked(formatted, str(path))
    results = run_tests(policy)
    assert results and all(r.passed for r in results)


def test_examples_are_in_canonical_form():
    """The example policies are what `fmt` writes, so new users copy the house style."""
    for path in EXAMPLES:
        text = path.read_text(encoding="utf-8")
        assert format_source(text, str(path)) == text, f"run `leadlang fmt {path.relative_to(ROOT)}`"


# -------------------------------------------------------- properties ---

VERBATIM = re.compile(r'"(?:[^"\\\n]|\\.)*"|`[^`\n]+`|#[^\n]*')  # strings, quoted names, comments


def _outside_strings(text: str, change) -> str:
    """Apply `change` to the code between strings, backticked names and comments."""
    kept = VERBATIM.findall(text)
    pieces = VERBATIM.split(text)
    return "".join(change(piece) + (kept[k] if k < len(kept) else "") for k, piece in enumerate(pieces))


def _spaced(text: str, rnd: random.Random) -> str:
    """More blanks between tokens (never inside a string), other indentation: the same tokens."""
    text = _outside_strings(text, lambda piece: re.sub(r" +", lambda m: " " * rnd.randint(1, 4), piece))
    return "\n".join(" " * rnd.randint(0, 6) + line.lstrip(" ") for line in text.split("\n"))


def _broken(text: str, rnd: random.Random) -> str:
    """Lines broken where a line may go on: before `and`/`or`, after `(` and `,` (with a comment)."""
    def change(piece: str) -> str:
        piece = re.sub(r" (and|or) ", lambda m: f"\n{' ' * rnd.randint(0, 8)}{m.group(1)} " if rnd.random() < 0.3 else m.group(), piece)
        return re.sub(r"[(,]", lambda m: m.group() + f"  # after {m.group()}\n  " if rnd.random() < 0.1 else m.group(), piece)
    return _outside_strings(text, change)


def _commented(text: str, rnd: random.Random) -> str:
    """Comments on their own lines and after code, blank lines, anywhere a line may end."""
    out = []
    for n, line in enumerate(text.split("\n")):
        if re.match(r"\s*(and|or)\b", line):  # a continued line: nothing may come between
            out.append(line)
            continue
        if rnd.random() < 0.2:
            out.append("")
        if rnd.random() < 0.25:
            out.append(" " * rnd.randint(0, 4) + f"# own {n}: and {{ \"x\" }} # still one comment")
        if line.strip() and rnd.random() < 0.3:
            line += " " * rnd.randint(0, 3) + f"#trailing {n}"
        out.append(line)
    return "\n".join(out)


CANONICAL = EXAMPLES + sorted(p for p in CASES.glob("*.expected.lead") if "fmt: off" not in p.read_text())


@pytest.mark.parametrize("path", CANONICAL, ids=lambda p: p.name)
@pytest.mark.parametrize("seed", [1, 2])
def test_canonical_text_comes_back_from_any_spacing(path, seed):
    """Re-indent and re-space a formatted file (comments and strings untouched): fmt restores it."""
    text = path.read_text(encoding="utf-8")
    assert format_source(_spaced(text, random.Random(seed))) == text


# The derandomized `ci` profile (conftest.py) draws three times the examples: the same draws on every
# run, so more of them cost only time (about 0.5 s of CPU each: some 75 s more per CI run); local,
# random runs stay short and find new cases over time.
_MORE = 3 if settings().derandomize else 1
_SLOW_OK = [HealthCheck.too_slow, HealthCheck.large_base_example, HealthCheck.data_too_large]


@settings(max_examples=50 * _MORE, deadline=None, suppress_health_check=_SLOW_OK)
@given(random_policies(), st.integers(0, 2**32 - 1))
def test_random_policies_with_comments_and_blanks(text, seed):
    rnd = random.Random(seed)
    messy = _spaced(text, rnd)
    if rnd.random() < 0.5:
        messy = _broken(messy, rnd)
    messy = _commented(messy, rnd)
    assert_formatted_well(messy, format_source(messy))


@settings(max_examples=25 * _MORE, deadline=None, suppress_health_check=_SLOW_OK)
@given(random_policies(), st.integers(0, 2**32 - 1))
def test_layout_does_not_depend_on_blanks_between_tokens(text, seed):
    """One canonical layout: spacing and indentation in the input leave no trace."""
    assert format_source(_spaced(text, random.Random(seed))) == format_source(text)


# ------------------------------------------------------ constructions ---


def test_parentheses_needed_for_meaning_are_kept_or_added():
    out = format_source('policy p "P"\nsignal a = x - (y - z)\nsignal b = -(x + 1)\nsignal c = (x or y) and z\n')
    assert "x - (y - z)" in out and "-(x + 1)" in out and "(x or y) and z" in out
    # redundant ones around a name, a call or a whole expression go; double ones collapse
    out = format_source('policy p "P"\nsignal a = ((x > 1))\nsignal b = (lower(t)) = ("a")\nsignal c = not ((x > 1))\n')
    assert "a = x > 1" in out and 'b = lower(t) = "a"' in out and "c = not (x > 1)" in out


def test_written_forms_of_numbers_and_timestamps_are_kept():
    src = 'policy p "P"\nlet a = 1_000_000\nlet b = 2.50\nsignal c = t > 2024-05-01T12:00:00+02:00\nsignal d = x * -0.125\n'
    out = format_source(src)
    for written in ("1_000_000", "2.50", "2024-05-01T12:00:00+02:00", "-0.125"):
        assert written in out


def test_points_keep_every_digit():
    """Found by the fuzz job (tests/fuzz_corpus/policy-fmt-huge-points.lead): 41 digits were rounded to 38."""
    digits = "9" * 41
    out = format_source(f'policy p "P"\nscore s {{\n  a: +{digits} when x > 1\n  b: -{digits}.5 when x > 2\n}}\n')
    assert f"a: +{digits} when" in out and f"b: -{digits}.5 when" in out


def test_strings_are_requoted_with_the_canonical_escapes():
    out = format_source('policy p "P"\nsignal s = "a\\u0041\\t\\"q\\" \\\\ \\/ \\u00e9 \\u200b"\n')
    assert 'signal s = "aA\\t\\"q\\" \\\\ / é \\u200b"' in out


def test_a_malformed_policy_is_a_diagnostic_not_a_traceback():
    with pytest.raises(LeadError) as err:
        format_source('policy p "P"\nscore fit {\n  a: +1 when\n}\n', "bad.lead")
    assert err.value.diagnostics[0].code.startswith("E1")


def test_fmt_off_region_is_copied_verbatim():
    src = 'policy p "P"\nscore fit {\n  a: +1 when x > 1\n  # fmt: off\n  b:    +2   when   x > 2\n  # fmt: on\n  cc:  +3 when x > 3\n}\n'
    out = format_source(src)
    assert "  b:    +2   when   x > 2\n" in out and "  cc: +3 when x > 3\n" in out


def test_windows_line_endings_are_kept(tmp_path):
    f = tmp_path / "p.lead"
    f.write_bytes(b'policy   p "P"\r\nlet a = 1 # one\r\n')
    assert run("fmt", f).exit_code == 0
    assert f.read_bytes() == b'policy p "P"\r\n\r\nlet a = 1  # one\r\n'


# --------------------------------------------------------------- CLI ---


def run(*args, input=None):
    return CliRunner().invoke(main, [str(a) for a in args], input=input, catch_exceptions=False)


UGLY = 'policy   p "P"\nlet   a = 1\n'
PRETTY = 'policy p "P"\n\nlet a = 1\n'


def test_fmt_rewrites_in_place_and_names_the_files(tmp_path):
    ugly, pretty = tmp_path / "ugly.lead", tmp_path / "pretty.lead"
    ugly.write_text(UGLY)
    pretty.write_text(PRETTY)
    r = run("fmt", ugly, pretty)
    assert r.exit_code == 0
    assert ugly.read_text() == PRETTY and pretty.read_text() == PRETTY
    assert f"reformatted {ugly}" in r.stderr and str(pretty) not in r.stderr
    assert "1 file reformatted, 1 file left unchanged" in r.stderr


def test_check_names_files_that_would_change_and_writes_nothing(tmp_path):
    ugly, pretty = tmp_path / "ugly.lead", tmp_path / "pretty.lead"
    ugly.write_text(UGLY)
    pretty.write_text(PRETTY)
    r = run("fmt", "--check", ugly, pretty)
    assert r.exit_code == 1
    assert f"would reformat {ugly}" in r.stderr and f"would reformat {pretty}" not in r.stderr
    assert ugly.read_text() == UGLY
    assert run("fmt", "--check", pretty).exit_code == 0


def test_diff_prints_a_unified_diff_and_writes_nothing(tmp_path):
    ugly = tmp_path / "ugly.lead"
    ugly.write_text(UGLY)
    r = run("fmt", "--diff", ugly)
    assert r.exit_code == 0  # like black: --diff alone reports, --check decides the exit code
    assert f"--- {ugly}\t(original)" in r.stdout and f"+++ {ugly}\t(formatted)" in r.stdout
    assert '\n-policy   p "P"\n' in r.stdout and '\n+policy p "P"\n+\n+let a = 1\n' in r.stdout
    assert ugly.read_text() == UGLY
    r = run("fmt", "--diff", "--check", ugly)
    assert r.exit_code == 1 and r.stdout.startswith("---")
    ugly.write_text(PRETTY)
    r = run("fmt", "--diff", "--check", ugly)
    assert r.exit_code == 0 and r.stdout == ""


def test_stdin_to_stdout():
    r = run("fmt", "-", input=UGLY)
    assert r.exit_code == 0 and r.stdout == PRETTY
    assert run("fmt", "--check", "-", input=UGLY).exit_code == 1
    assert run("fmt", "--check", "-", input=PRETTY).exit_code == 0
    bad = run("fmt", "-", input=UGLY.encode() + b"\xff\n")
    assert bad.exit_code == 2 and "<stdin>: not valid UTF-8 (byte 0xFF" in bad.output and bad.stdout == ""


def test_a_directory_means_its_policies(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.lead").write_text(UGLY)
    (tmp_path / "b.lead").write_text(UGLY)
    (tmp_path / "notes.txt").write_text("policy   x")
    r = run("fmt", tmp_path)
    assert r.exit_code == 0 and "2 files reformatted" in r.stderr
    assert (tmp_path / "sub" / "a.lead").read_text() == PRETTY
    assert (tmp_path / "notes.txt").read_text() == "policy   x"


def test_malformed_policy_gets_diagnostics_exit_1_and_others_are_still_formatted(tmp_path):
    bad, ugly = tmp_path / "bad.lead", tmp_path / "ugly.lead"
    bad.write_text('policy p "P"\nlet = 1\n')
    ugly.write_text(UGLY)
    r = run("fmt", bad, ugly)
    assert r.exit_code == 1
    assert f"{bad}:2:5: error[E104]" in r.stderr and "let = 1" in r.stderr and "Traceback" not in r.output
    assert bad.read_text() == 'policy p "P"\nlet = 1\n' and ugly.read_text() == PRETTY
    r = run("fmt", "-", input="policy p \"P\nlet a = 1\n")
    assert r.exit_code == 1 and "<stdin>:1:10: error[E102]" in r.stderr


def test_missing_file_is_exit_2(tmp_path):
    r = run("fmt", tmp_path / "nowhere.lead")
    assert r.exit_code == 2 and "does not exist" in r.stderr


def test_unwritable_file_is_exit_2(tmp_path, monkeypatch):
    f = tmp_path / "p.lead"
    f.write_text(UGLY)

    def refuse(src, dst):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", refuse)
    r = run("fmt", f)
    assert r.exit_code == 2 and f"error: {f}: cannot write: Permission denied" in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.lead"]  # no temporary file left
    assert f.read_text() == UGLY


def test_an_empty_directory_is_nothing_to_do(tmp_path):
    r = run("fmt", "--check", tmp_path)
    assert r.exit_code == 0 and "no .lead files" in r.stderr


def test_not_utf8_is_a_diagnostic(tmp_path):
    f = tmp_path / "latin1.lead"
    f.write_bytes(b'policy p "caf\xe9"\n')
    r = run("fmt", f)
    assert r.exit_code == 1 and "E100" in r.stderr


def test_a_formatter_bug_leaves_the_file_alone_and_exits_2(tmp_path, monkeypatch):
    from leadlang import fmt

    f = tmp_path / "p.lead"
    f.write_text(UGLY)
    monkeypatch.setattr(fmt, "layout", lambda *a, **k: 'policy p "P"\n\nlet a = 2\n')
    with pytest.raises(FormatterBug):
        format_source(UGLY)
    r = run("fmt", f)
    assert r.exit_code == 2 and "change the policy's meaning" in r.stderr
    assert f.read_text() == UGLY


def test_pre_commit_hooks_are_declared():
    import yaml

    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert hooks["leadlang-fmt"]["entry"] == "leadlang fmt"
    assert hooks["leadlang-lint"]["entry"] == "leadlang lint"
    for hook in hooks.values():
        assert hook["language"] == "python" and re.search(hook["files"], "policies/plg/plg.lead")
        assert not re.search(hook["files"], "README.md")
