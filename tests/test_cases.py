"""The `.lead` corpus: every case's diagnostics (or outputs) against its snapshot; every `ok_` case's
SQL in each dialect against its snapshot (its fmt output: test_fmt.py; its `test` blocks on every
engine: test_case_engines.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from leadlang.check import load
from leadlang.diagnostics import LeadError, Sources, render_text
from leadlang.fmt import format_source
from leadlang.sql import to_sql
from leadlang.sql.dialects import DIALECTS

CASES = Path(__file__).parent / "cases"
ROOT = Path(__file__).parent.parent


def _check(path: Path) -> str:
    rel = path.relative_to(ROOT).as_posix()
    try:
        policy = load(rel)
    except LeadError as err:
        return render_text(err.diagnostics, Sources())
    return "ok\n" + "\n".join(f"{o.name}: {o.kind} ({o.role})" for o in policy.outputs)


@pytest.fixture(autouse=True)
def _at_root(monkeypatch):
    monkeypatch.chdir(ROOT)  # paths in diagnostics are relative, so snapshots are portable


@pytest.mark.parametrize("name", sorted(p.stem for p in CASES.glob("*.lead")))
def test_case(name, snapshot):
    path = CASES / f"{name}.lead"
    rendered = _check(path)
    expect_ok = name.startswith("ok_")
    assert rendered.startswith("ok") == expect_ok, rendered
    if not expect_ok:
        # The error names the file, a line and a column, and carries a stable code.
        first = rendered.splitlines()[0]
        assert first.startswith(f"tests/cases/{name}.lead:") and "error[E" in first
    assert rendered == snapshot


OK_CASES = sorted(p.stem for p in CASES.glob("ok_*.lead"))
AS_OF = dt.datetime(2024, 6, 1, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
@pytest.mark.parametrize("name", OK_CASES)
def test_ok_case_sql(name, dialect, snapshot):
    """The scoring and explanation statements of every `ok_` case, reviewed as text in every dialect."""
    policy = load(f"tests/cases/{name}.lead")
    assert to_sql(policy, dialect, AS_OF) == snapshot
    assert to_sql(policy, dialect, AS_OF, what="explain") == snapshot


@pytest.mark.parametrize("name", OK_CASES)
def test_ok_case_is_formatted(name):
    """The `ok_` cases are kept in `leadlang fmt`'s layout (their fmt snapshots: test_fmt.py)."""
    text = (CASES / f"{name}.lead").read_text(encoding="utf-8")
    assert format_source(text, f"{name}.lead") == text, f"tests/cases/{name}.lead is not formatted: run `leadlang fmt` on it"


def test_codes_match_case_family():
    """Syntax cases give E1xx, name/type cases E2xx, structure cases E3xx."""
    families = {"syntax": "E1", "names": "E2", "types": "E2", "labels": "E2", "structure": "E3"}
    for path in sorted(CASES.glob("*.lead")):
        family = path.stem.split("_")[0]
        if family not in families or path.stem == "syntax_empty_file" or path.stem == "syntax_keyword_as_field":
            continue
        rendered = _check(path)
        assert f"error[{families[family]}" in rendered.splitlines()[0], (path.stem, rendered)


HINT_CASES = sorted(p.stem for p in CASES.glob("*_hint_*.lead"))


def _expectation(path: Path) -> tuple[str, str]:
    """`# expect: LINE:COL FIX` on a hint case's first line: where the one diagnostic points, and the fix it names."""
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# expect: "), path
    where, fix = first[len("# expect: "):].split(" ", 1)
    return where, fix


@pytest.mark.parametrize("name", HINT_CASES)
def test_hint_case_one_diagnostic_with_the_fix(name):
    """A common mistake gets exactly one diagnostic, on the mistake, that says what to type."""
    path = CASES / f"{name}.lead"
    where, fix = _expectation(path)
    with pytest.raises(LeadError) as caught:
        load(path.relative_to(ROOT).as_posix())
    diagnostics = caught.value.diagnostics
    assert len(diagnostics) == 1, render_text(diagnostics, Sources())
    d = diagnostics[0]
    assert f"{d.span.line}:{d.span.column}" == where, render_text(diagnostics, Sources())
    assert any(fix in text for text in (d.message, *d.hints)), render_text(diagnostics, Sources())


@pytest.mark.parametrize("name", [n for n in HINT_CASES if n.startswith("syntax_")])
def test_hint_case_same_through_the_chunked_parse(name):
    """Enough declarations for the per-declaration parse: the hint is the same, moved down with its line."""
    from leadlang.syntax import chunks, parse

    text = (CASES / f"{name}.lead").read_text(encoding="utf-8")
    padding = "".join(f"let pad{i} = {i}\n" for i in range(chunks.MIN_CUTS))
    padded = padding + text
    assert chunks.split(padded), "the padded policy is cut into chunks"
    with pytest.raises(LeadError) as plain:
        parse(text, "p.lead")
    with pytest.raises(LeadError) as cut:
        parse(padded, "p.lead")
    [a], [b] = plain.value.diagnostics, cut.value.diagnostics
    assert (b.code, b.message, b.hints) == (a.code, a.message, a.hints)
    assert (b.span.line, b.span.column, b.span.end_column) == (a.span.line + chunks.MIN_CUTS, a.span.column, a.span.end_column)
