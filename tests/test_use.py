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
