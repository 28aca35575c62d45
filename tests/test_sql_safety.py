"""No policy text changes what the generated SQL does; big policies compile to SQL every engine runs.

Every string a policy holds (title, version, file name, literals, backticked names) reaches the SQL
either as a quoted identifier, an escaped literal, or a sanitised comment (`Dialect.comment`), so the
output is exactly one statement in every dialect, leaves other tables alone, and scores the same rows
as the interpreter. Sums of 1,000 rules and chains of 500 conditions nest a few levels, not 1,000.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import pytest
import sqlglot
from click.testing import CliRunner
from datagen import make_rows
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from test_differential import assert_agree, tables_for

from leadlang.check import load
from leadlang.cli import main
from leadlang.diagnostics import LeadError
from leadlang.interpret import evaluate
from leadlang.sql import DIALECTS, to_sql
from leadlang.sql.dialects import comment_text

AS_OF = dt.datetime(2024, 6, 1, tzinfo=dt.timezone.utc)
PAYLOAD = "x\rDROP TABLE victim;--"
DIALECT_NAMES = sorted(DIALECTS)


def lead_string(text: str) -> str:
    """`text` as a .lead string literal: quotes and backslashes escaped, every control character as \\uXXXX."""
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif (not ch.isprintable() or ch in "\r\n\t") and ord(ch) <= 0xFFFF:  # (beyond: written as it is)
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def policy_text(title: str, version: str, literal: str, name: str) -> str:
    col = f"`{name}`"
    lit = lead_string(literal)
    return (
        f"policy p {lead_string(title)}\n  version {lead_string(version)}\n"
        f'leads from ref("l") key id {{\n  {col} string\n}}\n'
        f"signal same = {col} = {lit}\n"
        f"score fit {{\n  has: +5 when {col} contains {lit}\n  starts: +3 when {col} starts with {lit}\n}}\n"
        f"classify seg {{\n  `L{name}` when same\n  otherwise other\n}}\n"
        f"actions seg {{\n  `L{name}`: route {lit}\n  other: route {lead_string(literal + ' other')}\n}}\n"
    )


def one_statement(sql: str, dialect: str) -> None:
    statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    assert len(statements) == 1, (dialect, len(statements))
    assert not list(statements[0].find_all(sqlglot.exp.Drop))
    head = sql.split("\nWITH\n", 1)[0].split("\n")
    assert all(line.startswith("-- ") for line in head if line), head  # the header is comments only
    assert all(ch.isprintable() for ch in "".join(head)), head  # ... of sanitised text only
    assert "/*" not in "".join(head) and "*/" not in "".join(head)


def sentinel_intact(engine, sql: str, tables) -> None:
    """Run `sql` outside any transaction next to a committed table `victim`: it must still be there."""
    con = engine.con
    con.execute("CREATE TABLE IF NOT EXISTS victim (x INTEGER)")
    try:
        for t in tables:
            for statement in engine.table_ddl(t):
                con.execute(statement)
        con.execute(sql)
        assert con.execute("SELECT COUNT(*) FROM victim").fetchone()[0] == 0
    finally:
        for t in tables:
            con.execute(f"DROP TABLE IF EXISTS {engine.relation(t.name)}")


# -- the audit's cases ---------------------------------------------------------------------------


def write(tmp_path: Path, text: str, name: str = "p.lead") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("where", ["title", "version", "file name"])
def test_carriage_return_cannot_end_the_header_comment(tmp_path, where, duckdb_engine):
    title, version, file = ("t", "1", "p.lead")
    if where == "title":
        title = PAYLOAD
    elif where == "version":
        version = PAYLOAD + "\u2028\u2029\x85 */ /* \x0b\x0c"
    else:
        file = PAYLOAD.replace("\r", "\r\x1b") + ".lead"
    policy = load(write(tmp_path, policy_text(title, version, "a", "col"), file))
    for dialect in DIALECT_NAMES:
        for what in ("score", "explain"):
            sql = to_sql(policy, dialect, AS_OF, what=what)
            one_statement(sql, dialect)
            assert "\r" not in sql.split("\nWITH\n", 1)[0]
    leads, accounts, events = make_rows(policy, 1, n_leads=8)
    sentinel_intact(duckdb_engine, to_sql(policy, "duckdb", AS_OF), tables_for(policy, leads, accounts, events))


def test_carriage_return_cannot_end_the_dbt_model_header(tmp_path):
    path = write(tmp_path, policy_text(PAYLOAD, PAYLOAD, "a", "col"))
    r = CliRunner().invoke(main, ["dbt", str(path), "--out", str(tmp_path / "models"), "--dialect", "postgres"])
    assert r.exit_code == 0, r.output
    for model in ("p.sql", "p_explain.sql"):
        text = (tmp_path / "models" / model).read_text(encoding="utf-8")
        head = text.split("{#-", 1)[0]
        assert "\r" not in head and head.count("\n") == 3  # three comment lines, each one line
        assert "-- policy p@x\\x0dDROP TABLE victim;-- (x\\x0dDROP TABLE victim;--)" in head


def test_comment_text_leaves_no_line_break_control_or_comment_marker():
    text = "a\r\nb\x00c\x85d\u2028e\u2029f\u202eg\x1bh */ i /* j \\ k /*/"
    safe = comment_text(text)
    assert all(ch.isprintable() for ch in safe)
    assert "*/" not in safe and "/*" not in safe
    assert safe.startswith("a\\x0d\\x0ab\\x00c\\x85d\\u2028e\\u2029f\\u202eg\\x1bh")


def test_nul_in_a_string_is_a_policy_error(tmp_path):
    path = write(tmp_path, policy_text("t", "1", "a\x00b", "col"))
    with pytest.raises(LeadError) as err:
        load(path)
    diags = err.value.diagnostics
    assert {d.code for d in diags} == {"E216"} and diags[0].span.line == 6  # each string holding it
    r = CliRunner().invoke(main, ["compile", str(path), "--dialect", "duckdb"])
    assert r.exit_code == 1 and "E216" in r.output and "Traceback" not in r.output


# -- any text, every dialect ----------------------------------------------------------------------

ODD = st.sampled_from(["\r", "\n", "\x00", "\x85", "\u2028", "\u2029", "'", '"', "`", "\\", "--", "/*", "*/", ";", "$$", "{{", "{%", "é", "日", "🙂", " ", "\t", "\x1b", "\u202e"])
TEXT = st.lists(st.one_of(ODD, st.characters(blacklist_categories=("Cs",))), max_size=12).map("".join)
NAME = st.lists(st.one_of(ODD, st.characters(blacklist_categories=("Cs",))), min_size=1, max_size=8).map("".join).filter(
    lambda s: "`" not in s and "\n" not in s and "\x00" not in s and s.strip() and len(s.encode()) <= 40
)
FILE = st.lists(st.one_of(ODD, st.characters(blacklist_categories=("Cs",))), max_size=8).map("".join).filter(
    lambda s: "/" not in s and "\x00" not in s and len(s.encode()) < 200
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(title=TEXT, version=TEXT, literal=TEXT, name=NAME, file=FILE)
def test_any_policy_text_is_one_statement_that_scores_like_the_interpreter(duckdb_engine, postgres_engine, title, version, literal, name, file):
    assume("\x00" not in title + version + literal)  # refused by the checker (E216), tested above
    assume(name.casefold() != "id")
    with tempfile.TemporaryDirectory() as tmp:
        try:
            policy = load(write(Path(tmp), policy_text(title, version, literal, name), f"{file}.lead"))
        except LeadError as err:
            # only the names no policy may use: keywords are fine in backticks, so nothing else is refused
            pytest.fail(f"refused: {[d.message for d in err.diagnostics]}")
    for dialect in DIALECT_NAMES:
        for what in ("score", "explain"):
            one_statement(to_sql(policy, dialect, AS_OF, what=what), dialect)
    leads, accounts, events = make_rows(policy, 3, n_leads=6)
    leads.append({"id": "hit", name: literal})
    for engine in (duckdb_engine, postgres_engine):
        assert_agree(engine, policy, leads, accounts, events)
        sentinel_intact(engine, to_sql(policy, engine.name, AS_OF), tables_for(policy, leads, accounts, events))


# -- size ---------------------------------------------------------------------------------------


def test_a_flat_chain_of_5000_terms_parses_checks_scores_and_compiles(tmp_path):
    chain = " and ".join(f"x > {i}" for i in range(5000))
    either = " or ".join(f"x = {i}" for i in range(5000))
    policy = load(write(tmp_path, f'policy p "P"\nleads from ref("l") key id {{\n  x int\n}}\nsignal all_of = {chain}\nsignal any_of = {either}\n'))
    rows = evaluate(policy, [{"id": "a", "x": 4999}, {"id": "b", "x": 5000}, {"id": "c", "x": None}], [], {}, AS_OF).rows
    assert [(r["all_of"], r["any_of"]) for r in rows] == [(False, True), (True, False), (None, None)]
    sql = to_sql(policy, "duckdb", AS_OF)
    assert sql.count("(x > ") == 0 and sql.count('("x" > ') == 5000


def test_nesting_is_still_limited(tmp_path):
    for text in ["(" * 300 + "x > 1" + ")" * 300, "not " * 300 + "x > 1"]:
        path = write(tmp_path, f'policy p "P"\nleads from ref("l") key id {{\n  x int\n}}\nsignal s = {text}\n')
        with pytest.raises(LeadError) as err:
            load(path)
        assert [d.code for d in err.value.diagnostics] == ["E105"]
        assert "nested too deeply" in err.value.diagnostics[0].message


def test_fmt_and_lint_take_a_long_chain(tmp_path):
    from leadlang.fmt import format_source
    from leadlang.lint import lint

    chain = " and ".join(f"(x > {i})" if i % 3 == 0 else f"x > {i}" for i in range(600))
    text = f'policy p "P"\nleads from ref("l") key id {{\n  x int\n}}\nsignal s = {chain} or x < 0\n'
    out = format_source(text, "p.lead")
    assert format_source(out, "p.lead") == out
    lint(load(write(tmp_path, text)))


def big_policy(tmp_path: Path, rules: int, terms: int) -> Path:
    rule_lines = "\n".join(f"  r{i}: {'+' if i % 4 else '-'}{1 + i % 7} when x {'>' if i % 2 else '<'} {i % 50}" for i in range(rules))
    chain = " and ".join(f"(x > {i % 40 - 5} or y = \"v{i % 3}\")" for i in range(terms))
    gates = "\n".join(f"  g{i}: x = {1000 + i}" for i in range(300))
    return write(tmp_path, (
        f'policy big "Big"\nleads from ref("l") key id {{\n  x int\n  y string\n}}\n'
        f"signal long = {chain}\n"
        f"score fit {{\n{rule_lines}\n  chain: +1 when long\n}}\n"
        f"disqualify {{\n{gates}\n}}\n"
    ))


@pytest.mark.parametrize("rules,terms", [(1000, 200), (10, 500)])
def test_a_thousand_rules_and_long_chains_run_on_every_engine(engine, tmp_path, rules, terms):
    policy = load(big_policy(tmp_path, rules, terms))
    leads = [{"id": f"L{i}", "x": None if i == 7 else i % 60 - 10, "y": None if i == 3 else f"v{i % 4}"} for i in range(40)]
    assert_agree(engine, policy, leads, [], {})
