"""The `.lead` corpus: every case's diagnostics (or outputs) against its snapshot."""

from __future__ import annotations

from pathlib import Path

import pytest

from leadlang.check import load
from leadlang.diagnostics import LeadError, Sources, render_text

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


def test_codes_match_case_family():
    """Syntax cases give E1xx, name/type cases E2xx, structure cases E3xx."""
    families = {"syntax": "E1", "names": "E2", "types": "E2", "labels": "E2", "structure": "E3"}
    for path in sorted(CASES.glob("*.lead")):
        family = path.stem.split("_")[0]
        if family not in families or path.stem == "syntax_empty_file" or path.stem == "syntax_keyword_as_field":
            continue
        rendered = _check(path)
        assert f"error[{families[family]}" in rendered.splitlines()[0], (path.stem, rendered)
