"""`leadlang lint`: every rule's pass and fail cases, the analysis checked against the interpreter,
configuration, inline ignores, select/ignore, fail levels, every output format (SARIF against its schema)."""

from __future__ import annotations

import atexit
import datetime as dt
import functools
import json
import random
import re
import shutil
import tempfile
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from conftest import checked
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadlang.cli import main
from leadlang.diagnostics import Diagnostic, render_github
from leadlang.interpret import evaluate
from leadlang.lint import Settings, all_rules, lint
from leadlang.lint import docs as lint_docs
from leadlang.lint.analysis import Analysis
from leadlang.lint.docs import example_policy, snippet
from leadlang.span import Span

ROOT = Path(__file__).parent.parent
RULES = all_rules()
SCHEMA = json.loads((ROOT / "tests" / "sarif" / "sarif-schema-2.1.0-rtm.5.json").read_text(encoding="utf-8"))
VALIDATOR = jsonschema.validators.validator_for(SCHEMA)  # the schema names its draft (04)


@functools.cache
def example_data() -> Path:
    """The docs' example data files (what the L4xx snippets are linted against), written once per run."""
    directory = Path(tempfile.mkdtemp(prefix="leadlang-lint-data-"))
    atexit.register(shutil.rmtree, directory, True)
    return lint_docs.write_example_data(directory)


def codes_of(text: str, select: tuple[str, ...] = ("L",)) -> list[str]:
    policy, data, as_of = checked(text), None, None
    if any(code.startswith("L4") for code in select):  # the data-aware rules read the example data
        from leadlang.profile import profile_files

        data = profile_files(policy, example_data())
        as_of = dt.datetime.fromisoformat(lint_docs.EXAMPLE_AS_OF).replace(tzinfo=dt.timezone.utc)
    return [d.code for d in lint(policy, Settings(select=select), data, as_of)]


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


# ------------------------------------------------------------ rule cases --

@pytest.mark.parametrize("code", list(RULES))
def test_docstring_example_fires_and_instead_does_not(code):
    """The documented Example is a fail case and the Instead a pass case of the rule."""
    rule = RULES[code]
    assert codes_of(example_policy(snippet(rule, "Example")), (code,)), f"{code} misses its own Example"
    assert not codes_of(example_policy(snippet(rule, "Instead")), (code,)), f"{code} fires on its own Instead"


@pytest.mark.parametrize("code", list(RULES))
def test_docstring_structure(code):
    rule = RULES[code]
    assert re.fullmatch(r"L[1-4]\d\d", code) and rule.severity in ("error", "warning", "hint")
    for section in ("What it does", "Why it matters", "Example", "Instead"):
        assert rule.section(section), f"{code} has no `## {section}`"
    module = Path(rule.check.__code__.co_filename).name
    assert module.startswith(code.lower() + "_"), f"{code} lives in {module}"


# (code, fragment that must trigger it, fragment that must not); fragments complete as in the docs.
CASES = [
    ("L101", "score s clamp 0 to 10 { a: +10 when employees > 1 }\nbands s { top >= 11, low otherwise }",
             "score s clamp 0 to 10 { a: +10 when employees > 1 }\nbands s { top >= 10, low otherwise }"),
    # a `per` rule's cap bounds its points; a derived score is followed through its expression
    ("L101", "score s { a: +2 per employees, max 20 }\nscore t = s / 2\nbands t { top >= 10.01, low otherwise }",
             "score s { a: +2 per employees, max 20 }\nscore t = s / 2\nbands t { top >= 10, low otherwise }"),
    ("L101", "score s { a: +5 per count(product in last 7 days) }\nbands s { pos >= 0, neg otherwise }",
             "score s { a: +5 per employees }\nbands s { pos >= 0, neg otherwise }"),
    # a rule that is never true adds nothing, so the score cannot reach 30
    ("L101", "score s { a: +30 when employees > 10 and employees < 5 }\nbands s { top >= 30, low otherwise }",
             "score s { a: +30 when employees > 10 or employees < 5 }\nbands s { top >= 30, low otherwise }"),
    ("L102", "score s clamp 0 to 100 { a: +50 when employees > 1 }\nbands s { top >= 60, mid >= 55, low otherwise }",
             "score s clamp 0 to 100 { a: +50 when employees > 1 }\nbands s { top >= 50, low otherwise }"),
    ("L103", 'score s { a: +1 when industry != "software" and industry != "fintech" and industry != "retail" }',
             'score s { a: +1 when industry != "software" and industry != "fintech" }'),
    ("L103", "score s { a: +1 when employees between 100 and 10 }",
             "score s { a: +1 when employees between 10 and 100 }"),
    ("L103", "score s { a: +1 when employees is missing and employees > 3 }",
             "score s { a: +1 when employees is missing or employees > 3 }"),
    ("L103", 'disqualify { junk: industry in ["software"] and industry = "retail" }',
             'disqualify { junk: industry in ["software", "retail"] and industry = "retail" }'),
    ("L103", 'criteria c require 1 of { big: signed_up_at > 2024-06-01 and signed_up_at < 2024-01-01 }\nclassify k {\n x when c\n otherwise y\n}',
             'criteria c require 1 of { big: signed_up_at > 2024-01-01 and signed_up_at < 2024-06-01 }\nclassify k {\n x when c\n otherwise y\n}'),
    ("L103", "score s clamp 0 to 10 { a: +10 when employees > 1 }\nbands s { top >= 11, low otherwise }\nclassify k {\n x when s is top\n otherwise y\n}",
             "score s clamp 0 to 10 { a: +10 when employees > 1 }\nbands s { top >= 5, low otherwise }\nclassify k {\n x when s is top\n otherwise y\n}"),
    ("L103", "signal big = employees >= 1000\nscore s { a: +1 when big and employees < 10 }",
             "signal big = employees >= 1000\nscore s { a: +1 when big and employees < 10000 }"),
    ("L103", "score s { a: +1 when active_days(product in last 30 days) > 31 }",
             "score s { a: +1 when active_days(product in last 30 days) > 30 }"),
    ("L103", "signal idle = days_since(last(product))\nscore s { a: +1 when idle < 0 }",
             "signal idle = days_since(signed_up_at)\nscore s { a: +1 when idle < 0 }"),
    ("L104", "disqualify { everyone: count(product) >= 0 }",
             "disqualify { some: count(product) >= 1 }"),
    ("L104", "score s { a: +1 when employees is missing or employees >= 0 or employees < 0 }",
             "score s { a: +1 when employees >= 0 or employees < -1 }"),
    # true whenever `employees` is present: it only tests that
    ("L104", "score s { a: +1 when employees >= 0 or employees < 0 }",
             "score s { a: +1 when employees >= 0 or employees < 0 and industry = \"retail\" }"),
    ("L104", "score f clamp 0 to 100 { a: +10 when employees > 1 }\nscore s { a: +1 when f >= 0 }",
             "score f clamp 0 to 100 { a: +10 when employees > 1 }\nscore s { a: +1 when f >= 10 }"),
    ("L104", 'score s { a: +1 when not (industry = "retail" and false) }',
             'score s { a: +1 when industry = "software" or industry = "fintech" }'),
    ("L104", 'score s { a: +1 when industry = "software" or industry = "fintech" or industry = "retail" }',
             'score s { a: +1 when industry is missing or industry = "software" or industry = "fintech" }'),
    ("L105", 'classify k { a when industry in ["software", "fintech"]\n b when industry = "software"\n otherwise c }',
             'classify k { b when industry = "software"\n a when industry in ["software", "fintech"]\n otherwise c }'),
    ("L105", 'classify k { a when employees > 10\n b when employees <= 10\n c when employees is missing\n otherwise d }',
             'classify k { a when employees > 10\n b when employees <= 10\n otherwise d }'),
    ("L105", 'classify k { a when employees > 10\n b when employees < 5\n c when employees = 7 and employees < 3 or employees > 12\n otherwise d }',
             'classify k { a when employees > 10\n b when employees < 5\n c when employees = 7\n otherwise d }'),
    ("L106", "score f clamp 0 to 10 { a: +5 when employees > 1 }\nscore g clamp 0 to 10 { a: +5 when employees > 2 }\n"
             "bands f { hi >= 20, lo otherwise }\nbands g { hi >= 5, lo otherwise }\n"
             "matrix m: g by f {\n  | lo | hi\n hi | x | y\n lo | z | y\n}",
             "score f clamp 0 to 10 { a: +5 when employees > 1 }\nscore g clamp 0 to 10 { a: +5 when employees > 2 }\n"
             "bands f { hi >= 5, lo otherwise }\nbands g { hi >= 5, lo otherwise }\n"
             "matrix m: g by f {\n  | lo | hi\n hi | x | y\n lo | z | y\n}"),
    ("L107", "score s { a: +1 when employees >= 200\n b: +2 when employees > 199 }",
             "score s { a: +1 when employees >= 200\n b: +2 when employees > 200 }"),
    ("L107", "score s { a: +1 per count(product)\n b: +2 per count(product), max 5 }",
             "score s { a: +1 per count(product)\n b: +2 per count(product in last 7 days), max 5 }"),
    ("L107", 'let big = 1000\nscore s { a: +1 when employees >= big and industry = "software"\n b: +2 when industry = "software" and employees >= 1000 }',
             'let big = 1000\nscore s { a: +1 when employees >= big and industry = "software"\n b: +2 when industry = "software" or employees >= 1000 }'),
    ("L108", 'score s { a: +1 when industry not in ["software"] }',
             'score s { a: +1 when industry is present and industry not in ["software"] }'),
    ("L108", 'score s { a: +1 when not (country = "US") }',
             'score s { a: +1 when not (coalesce(country, "") = "US") }'),
    ("L108", 'signal foreign = country != "US"\nscore s { a: +1 when foreign }',
             'signal foreign = country is missing or country != "US"\nscore s { a: +1 when foreign }'),
    ("L201", 'let unused = 5\nscore s { a: +1 when employees > 1 }',
             'let used = 5\nscore s { a: +1 when employees > used }'),
    ("L201", 'let nums = [1, 2]\nscore s { a: +1 when count(product where seats > 0) > 0 }',
             'let nums = [1, 2]\nscore s { a: +1 when count(product where seats in nums) > 0 }'),
    ("L202", 'signal s1 = lower(title)\nscore s { a: +1 when employees > 1 }',
             'signal s1 = lower(title)\nscore s { a: +1 when employees > 1 }\ntest "t" {\n lead { lead_id: "a" }\n expect s1 is missing\n}'),
    ("L203", 'accounts from ref("accounts") key account_id { tier string }\nscore s { a: +1 when count(product) > 0 }',
             'accounts from ref("accounts") key account_id { tier string }\nscore s { a: +1 when account.tier = "gold" and count(product) > 0 }'),
    ("L204", 'criteria c require all { big: employees > 1 }\nscore s { a: +1 when employees > 1 }',
             'criteria c require all { big: employees > 1 }\nscore s { a: +1 when c.big }'),
    ("L204", 'criteria c require all { big: employees > 1 }\nscore s { a: +1 when employees > 1 }',
             'criteria c require all { big: employees > 1 }\nscore s { a: +1 per c_met }'),
    ("L205", "score s { a: +1 when count(product) > 0 }",
             "score s { a: +1 when count(product where seats > 3) > 0 }"),
    ("L301", "score f clamp 0 to 10 { a: +5 when employees > 1 }\nscore g clamp 0 to 10 { a: +5 when employees > 2 }\n"
             "bands f { hi >= 5, lo otherwise }\nbands g { hi >= 5, lo otherwise }\n"
             "matrix m: g by f {\n  | lo | hi\n hi | x | y\n lo | z | y\n}\n"
             "disqualify { junk: title contains \"test\" }\n"
             "actions m {\n x: route \"a\"\n y: route \"b\"\n z: route \"c\"\n}",
             "score f clamp 0 to 10 { a: +5 when employees > 1 }\nscore g clamp 0 to 10 { a: +5 when employees > 2 }\n"
             "bands f { hi >= 5, lo otherwise }\nbands g { hi >= 5, lo otherwise }\n"
             "matrix m: g by f {\n  | lo | hi\n hi | x | y\n lo | z | y\n}\n"
             "actions m {\n x: route \"a\"\n y: route \"b\"\n z: route \"c\"\n}"),
    # the L4xx cases are linted against the docs' example data (lint/docs.py EXAMPLE_DATA), as of 2024-06-01
    ("L401", 'score s { a: +1 when count(product ["login", "sync_complete"] in last 30 days) > 0 }',
             'score s { a: +1 when count(product ["login", "sync_completed"] in last 30 days) > 0 }'),
    ("L402", 'leads from ref("leads") key lead_id account account_id {\n industry enum("software", "fintech", "retail", "Software", "gaming")\n}',
             'leads from ref("leads") key lead_id account account_id {\n industry enum("software", "fintech", "retail", "Software")\n}'),
    ("L403", 'score s { a: +1 when industry = "software" }',
             'leads from ref("leads") key lead_id account account_id {\n industry enum("software", "fintech", "retail", "Software")\n}'),
    ("L404", 'leads from ref("leads") key lead_id account account_id {\n title string\n country string\n}',
             'leads from ref("leads") key lead_id account account_id {\n title string\n}'),
    # an aggregate without a window reads every past event, so the as-of time is not too late for it
    ("L405", 'score s { a: +1 when count(product "login" in last 3 days) > 0 }',
             'score s { a: +1 when count(product "login" in last 3 days) > 0 and count(product) > 5 }'),
    ("L302", 'policy demo "Demo"\n', 'policy demo "Demo"\n  version "1"\n'),
    ("L303", 'policy demo "Demo"\n', 'policy demo "Demo"\n  owner "a@b.c"\n'),
]


@pytest.mark.parametrize("code, fail, ok", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_rule_cases(code, fail, ok):
    assert code in codes_of(example_policy(fail), (code,))
    assert code not in codes_of(example_policy(ok), (code,))


def test_every_rule_has_a_case_beyond_its_docs():
    assert {c for c, _, _ in CASES} == set(RULES)


def test_finding_carries_code_severity_span_and_hint():
    text = example_policy("score s clamp 0 to 10 { a: +10 when employees > 1 }\nbands s { top >= 11, low otherwise }")
    (d,) = lint(checked(text), Settings(select=("L101",)))
    line = text.splitlines().index("bands s { top >= 11, low otherwise }") + 1
    assert (d.code, d.severity, d.span.line) == ("L101", "error", line)
    assert text.splitlines()[line - 1][d.span.column - 1 : d.span.end_column - 1] == "top >= 11"
    assert "between 0 and 10" in d.message and d.hints


def test_findings_only_in_the_linted_file(tmp_path):
    (tmp_path / "shared.lead").write_text('let never_used = 3\nsignal also_unused = 1\n', encoding="utf-8")
    (tmp_path / "p.lead").write_text(example_policy('use "shared.lead"\nscore s { a: +1 when employees > 1 }'), encoding="utf-8")
    from leadlang.check import load

    found = lint(load(tmp_path / "p.lead"), Settings(select=("L2",)))
    assert found and all(d.span.file == str(tmp_path / "p.lead") for d in found)
    assert not any("never_used" in d.message or "also_unused" in d.message for d in found)


# ---------------------------------------- the analysis against the interpreter --

FIELDS = {
    "employees": [None, -5, 0, 1, 5, 9, 10, 11, 199, 200, 201, 999, 1000, 5000],
    "industry": [None, "software", "fintech", "retail"],
    "country": [None, "US", "DE", "GB", ""],
    "title": [None, "VP Sales", "student", "Head of Data"],
}
ATOMS = [
    "employees > 10", "employees >= 200", "employees < 1000", "employees <= 9", "employees = 5", "employees != 10",
    "employees between 10 and 200", "employees between 300 and 100", "employees is missing", "employees is present",
    'industry = "software"', 'industry != "retail"', 'industry in ["software", "fintech"]', 'industry not in ["retail"]',
    'country = "US"', 'country != "US"', 'country in ["US", "GB"]', "country is missing",
    'title contains "VP"', "count(product in last 30 days) > 0", "count(product) >= 0", "count(product) < 0",
    "true", "false",
]


def conditions():
    atom = st.sampled_from(ATOMS)
    return st.recursive(atom, lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["and", "or"]), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        inner.map(lambda c: f"not ({c})"),
    ), max_leaves=5)


def _leads(n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        row = {"lead_id": f"L{i:03}", "account_id": None, "email": None, "signed_up_at": None}
        row.update({f: rng.choice(vs) for f, vs in FIELDS.items()})
        rows.append(row)
    # every value of every field at least once, with the others missing
    for f, vs in FIELDS.items():
        for v in vs:
            rows.append({"lead_id": f"X{len(rows):04}", **{g: None for g in FIELDS}, "account_id": None, "email": None, "signed_up_at": None, f: v})
    return rows


AS_OF_TS = dt.datetime(2024, 6, 1, tzinfo=dt.timezone.utc)
EVENTS = {"product": [  # in-memory event rows: `lead`, `at`, `name` and the declared columns
    {"lead": f"L{i:03}", "at": AS_OF_TS - dt.timedelta(days=d), "name": "login", "seats": i % 4}
    for i in range(0, 300, 3) for d in range(i % 7, 60, 11)
]}
LEADS = _leads(300, 7)


def _fired(text: str, conds: list[str]):
    policy = checked(text)
    result = evaluate(policy, LEADS, [], EVENTS, AS_OF_TS)
    return policy, result


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(conditions(), min_size=1, max_size=4))
def test_verdicts_agree_with_the_interpreter(conds):
    """Whatever the analysis calls never (always) true fires for no (every) lead in the interpreter."""
    rules = "\n".join(f"  r{i}: +1 when {c}" for i, c in enumerate(conds))
    policy, result = _fired(example_policy(f"score s {{\n{rules}\n}}"), conds)
    analysis = Analysis(policy)
    for i, rule in enumerate(policy.scores["s"].rules):
        fired = [("s", f"r{i}") in state.fired for state in result.states.values()]
        verdict = analysis.verdict(rule.expr)
        if verdict == "never":
            assert not any(fired), conds[i]
        elif verdict == "always":
            assert all(fired), conds[i]
        if analysis.always_when_present(rule.expr):
            tested = [f for f in FIELDS if f in conds[i]]
            for lead in LEADS:
                if all(lead[f] is not None for f in tested):
                    assert ("s", f"r{i}") in result.states[lead["lead_id"]].fired, (conds[i], lead)
    # shadowing: a branch the analysis calls shadowed is never the first true one
    exprs = [r.expr for r in policy.scores["s"].rules]
    for i in range(1, len(exprs)):
        if analysis.shadowed(exprs[i], exprs[:i]):
            for state in result.states.values():
                first = next((j for j in range(len(exprs)) if ("s", f"r{j}") in state.fired), None)
                assert first != i, conds


def test_analysis_is_not_vacuous():
    """Known verdicts are found (the property test above alone would pass for an analysis that says nothing)."""
    policy = checked(example_policy(
        "score s {\n"
        "  a: +1 when employees > 10 and employees < 5\n"
        "  b: +1 when count(product) >= 0\n"
        '  c: +1 when industry != "software" and industry != "fintech" and industry != "retail"\n'
        '  d: +1 when employees > 10 or employees <= 10\n'
        '  e: +1 when country is missing or country = "US" or country != "US"\n'
        "}"))
    a = Analysis(policy)
    assert [a.verdict(r.expr) for r in policy.scores["s"].rules] == ["never", "always", "never", None, "always"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(ATOMS), st.integers(-30, 30)), min_size=1, max_size=5),
       st.integers(1, 50), st.sampled_from(["", "clamp 0 to 40", "clamp -10 to 10"]))
def test_score_range_contains_every_interpreted_score(rules, per_points, clamp):
    body = "\n".join(f"  r{i}: {p:+d} when {c}" for i, (c, p) in enumerate(rules))
    body += f"\n  usage: +{per_points} per count(product in last 30 days), max 25"
    policy, result = _fired(example_policy(f"score s {clamp} {{\n{body}\n}}\nscore t = s * 2 - 3"), [])
    a = Analysis(policy)
    for name in ("s", "t"):
        r = a.score_range(name)
        for state in result.states.values():
            assert r.low <= state.values[name] <= r.high, (name, r, state.values[name])


# ---------------------------------------------------- configuration, ignores --

WARNED = example_policy("let unused = 1\nscore s { a: +1 when employees > 1 }")  # L201 and L203 (events never used): warnings
BROKEN = example_policy("score s clamp 0 to 10 { a: +10 when employees > 1 }\nbands s { top >= 11, low otherwise }")  # L101 error


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_inline_ignore_same_line_next_line_and_all(tmp_path):
    base = example_policy("let unused = 1\nlet other = 2\nlet third = 3\nscore s { a: +1 when count(product where seats > 0) > 0 }")
    p = write(tmp_path / "p.lead", base)
    r = run("lint", "--format", "json", p)
    assert sorted(d["code"] for d in json.loads(r.stdout)) == ["L201", "L201", "L201"]
    text = base.replace("let unused = 1", "let unused = 1  # leadlang: ignore[L201]")
    text = text.replace("let other = 2", "# leadlang: ignore [L201] -- kept for the next quarter\nlet other = 2")
    text = text.replace("let third = 3", "let third = 3 # leadlang: ignore")
    write(p, text)
    r = run("lint", "--format", "json", p)
    assert json.loads(r.stdout) == [] and r.exit_code == 0


def test_inline_ignore_of_another_code_or_inside_a_string_does_not_silence(tmp_path):
    text = example_policy('let unused = 1  # leadlang: ignore[L202]\nlet s2 = "# leadlang: ignore[L201]"\n'
                          '# leadlang: ignore[L201]\n\nlet s3 = 3\nscore s { a: +1 when count(product where seats > 0) > 0 }')
    found = lint(checked(text))
    assert [d.code for d in found] == ["L201", "L201", "L201"]  # an own-line comment covers the next line only


def test_pyproject_select_ignore_fail_level_and_per_file_ignores(tmp_path):
    project = tmp_path / "repo"
    write(project / "pyproject.toml", '[project]\nname = "x"\n\n[tool.leadlang.lint]\nignore = ["L203"]\nfail-level = "warning"\n'
          '[tool.leadlang.lint.per-file-ignores]\n"legacy/*.lead" = ["L2"]\n')
    p = write(project / "policies" / "p.lead", WARNED)
    legacy = write(project / "legacy" / "old.lead", WARNED)
    r = run("lint", "--format", "json", p)  # config found by walking up from the policy
    assert [d["code"] for d in json.loads(r.stdout)] == ["L201"] and r.exit_code == 1  # fail-level warning
    assert run("lint", "--fail-level", "error", p).exit_code == 0  # the option overrides the file
    r = run("lint", "--format", "json", legacy)
    assert json.loads(r.stdout) == [] and r.exit_code == 0
    r = run("lint", "--format", "json", "--select", "L2", p)
    assert [d["code"] for d in json.loads(r.stdout)] == ["L201"]  # --select replaces the file's select; its ignore still holds


def test_pyproject_from_cwd_when_none_above_the_policy(tmp_path, monkeypatch):
    write(tmp_path / "cwd" / "pyproject.toml", '[tool.leadlang.lint]\nselect = ["L3"]\n')
    p = write(tmp_path / "elsewhere" / "p.lead", WARNED)
    monkeypatch.chdir(tmp_path / "cwd")
    r = run("lint", "--format", "json", p)
    assert json.loads(r.stdout) == []


@pytest.mark.parametrize("config, words", [
    ('[tool.leadlang.lint]\nselect = ["X999"]\n', "`X999` is not a lint rule code"),
    ('[tool.leadlang.lint]\nfail-level = "hint"\n', "`fail-level` must be one of"),
    ('[tool.leadlang.lint]\nsellect = ["L1"]\n', "unknown key `sellect`"),
    ('[tool.leadlang.lint]\nselect = "L1"\n', "must be a list of rule codes"),
    ("[tool.leadlang\n", "cannot read it as TOML"),
])
def test_bad_configuration_is_unusable_input(tmp_path, config, words):
    write(tmp_path / "pyproject.toml", config)
    p = write(tmp_path / "p.lead", WARNED)
    r = run("lint", p)
    assert r.exit_code == 2 and words in r.output and "Traceback" not in r.output


def test_select_and_ignore_options(tmp_path):
    p = write(tmp_path / "p.lead", WARNED)
    assert sorted(d["code"] for d in json.loads(run("lint", "--format", "json", p).stdout)) == ["L201", "L203"]
    assert [d["code"] for d in json.loads(run("lint", "--format", "json", "--select", "L201", p).stdout)] == ["L201"]
    assert [d["code"] for d in json.loads(run("lint", "--format", "json", "--ignore", "L201,L3", p).stdout)] == ["L203"]
    assert json.loads(run("lint", "--format", "json", "--select", "L1", "--select", "L3", p).stdout) == []
    r = run("lint", "--select", "L9", p)
    assert r.exit_code == 2 and "`L9` is not a lint rule code" in r.output


def test_fail_levels_and_exit_codes(tmp_path):
    warned, broken = write(tmp_path / "w.lead", WARNED), write(tmp_path / "b.lead", BROKEN)
    hinted = write(tmp_path / "h.lead", example_policy('score s { a: +1 when count(product where seats > 0) > 0 and country != "US" }'))
    assert run("lint", warned).exit_code == 0  # warnings do not fail at the default level
    assert run("lint", "--fail-level", "warning", warned).exit_code == 1
    assert run("lint", broken).exit_code == 1
    r = run("lint", "--fail-level", "warning", hinted)
    assert r.exit_code == 0 and "hint[L108]" in r.output  # hints never fail
    clean = write(tmp_path / "c.lead", example_policy("score s { a: +1 when count(product where seats > 0) > 0 }"))
    r = run("lint", clean)
    assert r.exit_code == 0 and "1 policy linted, no findings" in r.output


def test_policy_that_fails_check_gives_its_diagnostics(tmp_path):
    p = write(tmp_path / "p.lead", example_policy("score s { a: +1 when employes > 1 }"))
    r = run("lint", p)
    assert r.exit_code == 1 and "error[E201]" in r.output and "did you mean `employees`?" in r.output
    r = run("lint", "--format", "sarif", p)
    assert r.exit_code == 1
    log = json.loads(r.stdout)
    jsonschema.validate(log, SCHEMA)
    assert [x["ruleId"] for x in log["runs"][0]["results"]] == ["E201"]
    assert run("lint", tmp_path / "missing.lead").exit_code == 2


# ------------------------------------------------------------------ formats --

MANY = example_policy(
    "let unused = 1\n"
    "score s clamp 0 to 10 { a: +10 when employees > 1 }\n"
    "bands s { top >= 11, low otherwise }\n"
    'score t { b: +1 when country != "US" }'
)


def test_text_format(tmp_path):
    p = write(tmp_path / "p.lead", MANY)
    r = run("lint", p)
    assert r.exit_code == 1
    line = MANY.splitlines().index("bands s { top >= 11, low otherwise }") + 1
    assert f"{p}:{line}:11: error[L101]: band `top` of `s` is never reached" in r.output
    assert "  = hint:" in r.output and "^^^^^^^^^" in r.output
    assert "1 error, 3 warnings, 1 hint in 1 policy" in r.output


def test_json_format(tmp_path):
    p = write(tmp_path / "p.lead", MANY)
    found = json.loads(run("lint", "--format", "json", p).stdout)
    # L102: s is at most 10, so every lead is `low`; L203: no aggregate reads `product`
    assert {d["code"]: d["severity"] for d in found} == {"L201": "warning", "L101": "error", "L102": "warning", "L108": "hint", "L203": "warning"}
    assert set(found[0]) == {"code", "severity", "message", "file", "line", "column", "end_line", "end_column", "hints"}


def test_sarif_format_validates_against_the_schema(tmp_path):
    p = write(tmp_path / "p.lead", MANY)
    r = run("lint", "--format", "sarif", p)
    log = json.loads(r.stdout)
    VALIDATOR(SCHEMA, format_checker=VALIDATOR.FORMAT_CHECKER).validate(log)
    run_ = log["runs"][0]
    rules = run_["tool"]["driver"]["rules"]
    assert [x["id"] for x in rules] == list(RULES)
    assert all(x["shortDescription"]["text"] and x["name"] for x in rules)
    _assert_help_pages(rules)
    levels = {x["ruleId"]: x["level"] for x in run_["results"]}
    assert levels == {"L201": "warning", "L101": "error", "L102": "warning", "L108": "note", "L203": "warning"}
    for x in run_["results"]:
        assert rules[x["ruleIndex"]]["id"] == x["ruleId"]
        region = x["locations"][0]["physicalLocation"]["region"]
        assert region["startLine"] >= 1 and region["startColumn"] >= 1
    # an empty run is valid too
    clean = write(tmp_path / "c.lead", example_policy("score s { a: +1 when count(product where seats > 0) > 0 }"))
    empty = json.loads(run("lint", "--format", "sarif", clean).stdout)
    jsonschema.validate(empty, SCHEMA)
    assert empty["runs"][0]["results"] == []


def _assert_help_pages(rules):
    """Each rule's `helpUri` is `codes.help_url`: the repository's docs page of the code (and for an
    E code, the anchor of its section of errors.md)."""
    import re

    from leadlang.codes import docs_url, help_url

    for x in rules:
        uri = x["helpUri"]
        assert uri == help_url(x["id"]) and uri.startswith(docs_url() + "/")
        page, _, anchor = uri[len(docs_url()) + 1:].partition("#")
        text = (ROOT / "docs" / page).read_text(encoding="utf-8")
        if anchor:
            slugs = {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in re.findall(r"^#+ (.*)$", text, re.M)}
            assert anchor in slugs, uri


def test_sarif_of_a_policy_that_does_not_check_links_its_error_codes(tmp_path):
    p = write(tmp_path / "p.lead", example_policy("score s { a: +1 when employes > 10 }"))
    log = json.loads(run("lint", "--format", "sarif", p).stdout)
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    errors = [x for x in rules if x["id"].startswith("E")]
    assert errors and all("errors.md#e" in x["helpUri"] for x in errors)
    _assert_help_pages(rules)


def test_schema_rejects_a_broken_log():
    """The vendored schema really constrains: a result without a message, a bad level, are rejected."""
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"ruleId": "L1"}]}]}, SCHEMA)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"message": {"text": "m"}, "level": "fatal"}]}]}, SCHEMA)


def test_github_format(tmp_path):
    p = write(tmp_path / "p.lead", MANY)
    lines = run("lint", "--format", "github", p).stdout.splitlines()
    assert len(lines) == 5
    by_kind = {line.split(" ", 1)[0] for line in lines}
    assert by_kind == {"::error", "::warning", "::notice"}
    bands_line = MANY.splitlines().index("bands s { top >= 11, low otherwise }") + 1
    (err,) = [line for line in lines if line.startswith("::error")]
    assert err.startswith(f"::error file={p},line={bands_line},col=11,endLine={bands_line},endColumn=19,title=L101::band `top` of `s`")
    assert "%0Ahint: " in err  # the hint on its own line, escaped


def test_github_escaping():
    d = Diagnostic("L101", "warning", "100% sure: a, b\nnext", Span("dir,x/a:b.lead", 3, 2, 3, 5))
    out = render_github([d])
    assert out == "::warning file=dir%2Cx/a%3Ab.lead,line=3,col=2,endLine=3,endColumn=4,title=L101::100%25 sure: a, b%0Anext"


# ------------------------------------------------------------ example policies, docs --

@pytest.mark.parametrize("policy", sorted((ROOT / "policies").glob("*/*.lead")), ids=lambda p: p.parent.name)
def test_example_policies_lint_clean_at_error_level(policy):
    r = run("lint", "--fail-level", "error", policy)
    assert r.exit_code == 0, r.output
    assert "error[" not in r.output


def test_generated_rule_pages_are_up_to_date():
    wanted = lint_docs.pages()
    out = ROOT / "docs" / "lint"
    assert sorted(p.name for p in out.glob("*.md")) == sorted(wanted), "run `python -m leadlang.lint.docs`"
    for name, text in wanted.items():
        assert (out / name).read_text(encoding="utf-8") == text, f"docs/lint/{name} is stale: run `python -m leadlang.lint.docs`"


@pytest.mark.parametrize("as_of", [dt.datetime(2024, 6, 1, tzinfo=dt.timezone.utc), dt.datetime(2024, 6, 1, 12, 34, tzinfo=dt.timezone.utc)])
def test_active_days_bound_holds_in_the_interpreter(as_of):
    """The analysis bounds `active_days(... in last 30 days)` by 31: events every hour reach it, never more."""
    policy = checked(example_policy("signal days = active_days(product in last 30 days)"))
    events = [{"lead": "L1", "at": as_of - dt.timedelta(hours=h), "name": "x", "seats": 1} for h in range(0, 24 * 40)]
    lead = {"lead_id": "L1", "account_id": None, **{f: None for f in FIELDS}, "email": None, "signed_up_at": None}
    value = evaluate(policy, [lead], [], {"product": events}, as_of).states["L1"].values["days"]
    bound = Analysis(policy).value_range(policy.signals["days"].expr)
    assert value == 31 and bound.high == 31


def _l107_pairwise(policy) -> list[str]:
    """L107 as its definition reads: each rule against every earlier one, the first equivalent one wins."""
    a, out = Analysis(policy), []
    for sc in policy.scores.values():
        rules = sc.rules
        for j, later in enumerate(rules):
            for earlier in rules[:j]:
                if earlier.kind != later.kind:
                    continue
                same = a.equivalent(earlier.expr, later.expr) if later.kind == "when" else a.canon(earlier.expr) == a.canon(later.expr)
                if same:
                    out.append(f"{later.span.line}: {earlier.id} {later.id}")
                    break
    return out


@pytest.mark.parametrize("seed", range(8))
def test_double_counting_finds_what_comparing_every_pair_finds(seed):
    """L107 compares a rule only with earlier rules that share a key; its findings are those of the full pairwise search."""
    rng = random.Random(seed)
    atoms = [f"employees {op} {n}" for op in ("<", "<=", ">", ">=", "=", "!=") for n in (199, 200, 1000)]
    atoms += ['country = "US"', 'country != "US"', 'country in ["US", "DE"]', 'industry = "software"',
              'industry in ["software", "fintech"]', "big", "not big", "employees between 200 and 999",
              "employees is missing", "count(product) > 2", "count(product) >= 3", "size >= 200", "signed_up_at > 2024-01-01T00:00:00Z"]

    def cond(depth=0):
        if depth < 2 and rng.random() < 0.35:
            return f"({cond(depth + 1)} {rng.choice(['and', 'or'])} {cond(depth + 1)})"
        return rng.choice(atoms)

    lines = []
    for i in range(60):
        if rng.random() < 0.15:
            lines.append(f"  r{i}: +1 per {rng.choice(['count(product)', 'employees', 'size', 'count(product)'])}, max 9")
        else:
            lines.append(f"  r{i}: +{i % 9 + 1} when {cond()}")
    text = example_policy("signal big = employees >= 1000\nsignal size = employees\nscore s {\n" + "\n".join(lines) + "\n}")
    policy = checked(text)
    named = re.compile(r"`(r\d+)`")
    found = [f"{d.span.line}: {' '.join(named.findall(d.message))}" for d in lint(policy, Settings(select=("L107",)))]
    assert found == _l107_pairwise(policy)
    assert found, "the generated rules repeat conditions: some must be found"
