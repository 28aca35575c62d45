"""Labels and enum values are checked wherever a string meets them: `=`/`!=`, `in`/`not in`, a `let`,
a test's `expect` lines and its lead fields. One diagnostic per mistake, on the string, with the fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import checked

from leadlang.diagnostics import LeadError

PLG = (Path(__file__).parent.parent / "policies" / "plg" / "plg.lead").read_text()


def diagnostics(text: str):
    with pytest.raises(LeadError) as err:
        checked(text, "p.lead")
    return err.value.diagnostics


def planted(old: str, new: str) -> tuple[str, int]:
    """PLG with one line changed, and that line's number."""
    assert PLG.count(old) == 1, old
    text = PLG.replace(old, new)
    return text, text[: text.index(new)].count("\n") + 1


@pytest.mark.parametrize(("old", "new", "typo", "code", "fix"), [
    # a classification / matrix compared with a list of labels
    ("pql when engagement is high", 'pql when segment in ["sales_redy", "opportunity"]', '"sales_redy"', "E206", "sales_ready"),
    ("pql when engagement is high", 'pql when segment not in ["ignore", "oportunity"]', '"oportunity"', "E206", "opportunity"),
    ("pql when engagement is high", 'pql when segment != "heartbraker"', '"heartbraker"', "E206", "heartbreaker"),
    ("pql when engagement is high", 'pql when "heartbraker" = segment', '"heartbraker"', "E206", "heartbreaker"),
    # an enum field compared with a list of values
    ('no_budget:  budget_status = "none"', 'no_budget:  budget_status in ["non", "planned"]', '"non"', "E205", "none"),
    ('no_budget:  budget_status = "none"', 'no_budget:  budget_status not in ["aproved"]', '"aproved"', "E205", "approved"),
    # test expectations: a classification, a band column, the disqualify reason, an enum field
    ("expect stage is pql", 'expect stage = "pqll"', '"pqll"', "E206", "pql"),
    ("expect stage is pql", 'expect stage in ["sql", "pqll"]', '"pqll"', "E206", "pql"),
    ("expect stage is pql", 'expect fit_band = "hihg"', '"hihg"', "E206", "high"),
    ("expect stage is pql", 'expect engagement_band in ["low", "hihg"]', '"hihg"', "E206", "high"),
    ("expect stage is pql", 'expect disqualify_reason = "studnt"', '"studnt"', "E206", "student"),
    ("expect stage is pql", 'expect industry != "sofware"', '"sofware"', "E205", "software"),
    # a test's lead field
    ('industry: "software", budget_status: "planned"', 'industry: "sofware", budget_status: "planned"', '"sofware"', "E205", "software"),
])
def test_one_diagnostic_on_the_string_with_the_fix(old, new, typo, code, fix):
    text, line = planted(old, new)
    [d] = diagnostics(text)
    assert d.code == code
    assert d.span.line == line
    source_line = text.splitlines()[line - 1]
    assert source_line[d.span.column - 1:d.span.end_column - 1] == typo
    assert f"did you mean `{fix}`?" in " ".join(d.hints)


def test_a_let_of_labels_is_checked_where_it_is_declared_and_reported_once():
    text = PLG.replace("let target_industries", 'let hot = ["sales_redy", "opportunity"]\nlet target_industries')
    text = text.replace("pql when engagement is high", "pql when segment in hot or segment not in hot")
    [d] = diagnostics(text)
    assert d.code == "E206" and d.span.line == text.splitlines().index('let hot = ["sales_redy", "opportunity"]') + 1
    assert d.hints == ("did you mean `sales_ready`?",)


def test_every_wrong_string_of_a_list_is_named_in_one_diagnostic():
    text = PLG.replace("pql when engagement is high", 'pql when segment in ["sales_redy", "ignore", "zzz"]')
    [d] = diagnostics(text)
    assert d.code == "E206"
    assert '"sales_redy", "zzz" are not labels of `segment`' in d.message
    assert '"sales_redy": did you mean `sales_ready`?' in d.hints
    # a string with no close label lists the labels instead
    assert any(h.startswith("labels: ") and "heartbreaker" in h for h in d.hints)


def test_right_labels_and_values_still_check():
    text = PLG.replace("pql when engagement is high", 'pql when segment in ["sales_ready", "opportunity"] and industry not in ["other"]')
    text = text.replace("expect stage is pql", 'expect stage in ["pql", "sql"]\n  expect fit_band = "low"\n  expect disqualify_reason is missing')
    checked(text, "p.lead")
