"""One number semantics on every engine (docs/language.md §21).

A number has at most 10 decimal places (more are rounded half away from zero,
on reading and after every `*`, `/` and `avg`) and at most 18 digits before the
point; an int is 64-bit. A value outside that range is the same one-line error
on every engine: at load time for a data cell (file, row, column), at the
policy line for a computed value. The audit cases run through `leadlang score`
on both embedded engines and every output format, and through every SQL engine
the `engine` fixture starts, against the interpreter.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from engines import Table
from test_differential import assert_agree

from leadlang.check import load
from leadlang.cli import main
from leadlang.diagnostics import DataError
from leadlang.interpret import evaluate
from leadlang.interpret import values as V
from leadlang.sql import to_sql

AS_OF = "2024-06-01"
LEADS = """\
leads from ref("leads") key id {
  x number
  y number
  k int
}
"""  # the one table of both policies here (`number_rows` makes it)
POLICY = """\
policy numbers "Numbers on every engine"
  version "1"
  owner "tests"

""" + LEADS + """
signal pos     = x > 0
signal third   = x / 3
signal quarter = x / 4
signal ratio   = x / y
signal product = x * y
signal total   = x + y
signal twice   = k * 2

score s {
  per_x: +2 per x
}
"""
LINE = {m.group(1): i for i, line in enumerate(POLICY.splitlines(), 1) if (m := re.match(r"\s*(?:signal )?(\w+)\s*[=:]", line))}
FORMATS = ("csv", "jsonl", "parquet")
ENGINES = ("duckdb", "python")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "numbers.lead").write_text(POLICY, encoding="utf-8")
    (tmp_path / "data").mkdir()
    return tmp_path


def score(project: Path, engine: str, fmt: str):
    """(exit code, output rows or None, standard error) of `leadlang score` on `project`."""
    out = project / f"out-{engine}.{fmt}"
    out.unlink(missing_ok=True)
    r = CliRunner().invoke(main, ["score", str(project / "numbers.lead"), "--data", str(project / "data"),
                                  "--as-of", AS_OF, "--engine", engine, "-o", str(out)], catch_exceptions=False)
    if r.exit_code != 0:
        return r.exit_code, None, r.stderr
    if fmt == "parquet":
        return 0, [{k: V.show(v) if isinstance(v, (bool, dt.datetime)) else v for k, v in row.items()}
                   for row in pq.read_table(out).to_pylist()], r.stderr
    text = out.read_text(encoding="utf-8")
    if fmt == "jsonl":
        return 0, [json.loads(line, parse_float=str, parse_int=str) for line in text.splitlines()], r.stderr
    header, *lines = text.splitlines()
    return 0, [dict(zip(header.split(","), line.split(","))) for line in lines], r.stderr


def plain(value) -> str | None:
    """A cell as text: numbers in plain form without trailing zeros."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or value in ("true", "false"):
        return str(value).lower()
    try:
        d = Decimal(str(value))
    except ArithmeticError:
        return str(value)
    if d == 0:
        return "0"
    text = format(d, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def exact(x: str, op: str, y: str) -> str:
    """The documented result, computed here independently: exact, then 10 places, half away from zero."""
    import decimal

    with decimal.localcontext(decimal.Context(prec=100)):
        a, b = Decimal(x), Decimal(y)
        value = a / b if op == "/" else a * b if op == "*" else a + b
        return plain(value.quantize(Decimal("1e-10"), rounding=decimal.ROUND_HALF_UP))


def both(project: Path) -> dict:
    """Every engine and format: the same exit code and the same cells (or the same message)."""
    results = {(e, f): score(project, e, f) for e in ENGINES for f in FORMATS}
    (code, rows, err), *_ = results.values()
    for key, (c, r, e) in results.items():
        assert c == code, f"{key}: exit code {c}, not {code}: {e}"
        if code:
            assert e == err, f"{key} says {e!r}, not {err!r}"
            assert "Traceback" not in e and "SELECT" not in e and "CAST(" not in e and e.count("\n") == 1
        else:
            normal = [{k: plain(v) if k not in ("id", "policy", "as_of") else v for k, v in row.items()} for row in r]
            first = [{k: plain(v) if k not in ("id", "policy", "as_of") else v for k, v in row.items()} for row in rows]
            assert normal == first, f"{key} differs from {list(results)[0]}"
    return {"code": code, "rows": rows and [{k: plain(v) if k not in ("id", "policy", "as_of") else v for k, v in row.items()} for row in rows], "error": err}


def leads_csv(project: Path, *rows: tuple) -> None:
    body = "".join(",".join(str(c) for c in row) + "\n" for row in rows)
    (project / "data" / "leads.csv").write_text("id,x,y,k\n" + body, encoding="utf-8")


def by_id(result: dict) -> dict:
    return {row["id"]: row for row in result["rows"]}


def test_more_than_ten_places_round_half_away_from_zero_on_reading(project):
    leads_csv(project, ("a", "0.00000000001", "1", 1), ("b", "0.00000000005", "1", 1), ("c", "-0.00000000005", "1", 1),
              ("d", "0.12345678904999999999", "1", 1), ("e", "1", "3", 1))
    rows = by_id(both(project))
    assert [rows[k]["pos"] for k in "abcd"] == ["false", "true", "false", "true"]
    assert rows["b"]["total"] == "1.0000000001" and rows["c"]["total"] == "0.9999999999"
    assert rows["d"]["product"] == "0.123456789"  # 0.12345678904999… is 0.1234567890 from reading on
    assert rows["e"]["third"] == "0.3333333333" and rows["e"]["ratio"] == "0.3333333333"


def test_division_and_products_round_to_ten_places_exactly(project):
    leads_csv(project, ("a", "0.0000000002", "4", 1),  # quarter: 0.00000000005, a tie: away from zero
              ("b", "-0.0000000002", "-4", 1),
              ("c", "499999999999999999.9999999999", "0.7", 1),  # beyond a double's 16 digits
              ("d", "123456789.0123456789", "0.0000000003", 1),
              ("e", "0.1234567891", "0.1234567891", 1))
    rows = by_id(both(project))
    assert rows["a"]["quarter"] == "0.0000000001" and rows["b"]["quarter"] == "-0.0000000001"
    assert rows["b"]["ratio"] == "0.0000000001"  # -2e-10 / -4 = 5e-11: a tie, away from zero
    assert rows["c"]["ratio"] == exact("499999999999999999.9999999999", "/", "0.7") == "714285714285714285.7142857141"
    assert rows["c"]["third"] == exact("499999999999999999.9999999999", "/", "3") == "166666666666666666.6666666666"
    assert rows["c"]["product"] == exact("499999999999999999.9999999999", "*", "0.7")
    assert rows["d"]["product"] == exact("123456789.0123456789", "*", "0.0000000003") == "0.0370370367"
    assert rows["d"]["ratio"] == exact("123456789.0123456789", "/", "0.0000000003")
    assert rows["e"]["product"] == exact("0.1234567891", "*", "0.1234567891") == "0.0152415788"


@pytest.mark.parametrize("cell, why", [
    ("1e400", "is out of range for a number (at most 18 digits before the point)"),
    ("123456789012345678901234567890", "is out of range for a number (at most 18 digits before the point)"),
    ("1000000000000000000", "is out of range for a number (at most 18 digits before the point)"),
    ("nan", "is not a number"),
    ("inf", "is not a number"),
])
def test_a_number_no_engine_holds_is_one_error_at_load(project, cell, why):
    leads_csv(project, ("a", "1", "1", 1), ("b", cell, "1", 1))
    result = both(project)
    assert result["code"] == 2
    assert result["error"] == f'error: {project}/data/leads.csv: row 2, column "x": "{cell}" {why} (declared number at {project}/numbers.lead:6)\n'


def test_the_largest_number_is_read(project):
    leads_csv(project, ("a", "0.0000000001", "-999999999999999999.9999999999", 4611686018427387903))
    rows = by_id(both(project))
    assert rows["a"]["total"] == "-999999999999999999.9999999998" and rows["a"]["ratio"] == "0"
    assert rows["a"]["product"] == "-100000000" and rows["a"]["twice"] == "9223372036854775806"


def test_int_overflow_names_the_policy_line_on_every_engine(project):
    leads_csv(project, ("a", "1", "1", 1), ("b", "1", "1", 4611686018427387904))
    result = both(project)
    assert result["code"] == 2
    assert result["error"] == (f'error: {project}/numbers.lead:{LINE["twice"]}: for lead "b", the value computed here '
                               f"is out of range for a whole number (64-bit)\n")


def test_a_per_rule_past_the_range_names_its_line(project):
    leads_csv(project, ("a", "900000000000000000", "1", 1))
    result = both(project)
    assert result["code"] == 2
    assert result["error"] == (f'error: {project}/numbers.lead:{LINE["per_x"]}: for lead "a", the value computed here '
                               f"is out of range for a number (below 10^18, 10 decimal places)\n")


def test_a_product_past_the_range_names_its_line(project):
    leads_csv(project, ("a", "1000000000", "1000000000", 1))
    result = both(project)
    assert result["code"] == 2 and f'numbers.lead:{LINE["product"]}: for lead "a",' in result["error"]


def parquet_leads(project: Path, x: pa.Array, y=None) -> None:
    n = len(x)
    table = pa.table({"id": [f"r{i}" for i in range(n)], "x": x, "y": y if y is not None else pa.array([Decimal(1)] * n, pa.decimal128(38, 10)),
                      "k": pa.array([1] * n, pa.int64())})
    pq.write_table(table, project / "data" / "leads.parquet")


def test_parquet_decimal_with_20_places_reads_as_the_text_would(project):
    values = [Decimal("0.00000000001000000000"), Decimal("0.00000000005000000000"), Decimal("-1.23456789014999999999"),
              Decimal("123456789012345678.12345678905000000000")]  # per_x (2 * x) stays below 10^18
    parquet_leads(project, pa.array(values, pa.decimal128(38, 20)))
    from_parquet = both(project)["rows"]
    (project / "data" / "leads.parquet").unlink()
    leads_csv(project, *[(f"r{i}", v, 1, 1) for i, v in enumerate(values)])
    assert both(project)["rows"] == from_parquet
    assert [r["total"] for r in from_parquet] == ["1", "1.0000000001", "-0.2345678901", "123456789012345679.1234567891"]


@pytest.mark.parametrize("arrow_type", [pa.decimal256(50, 23), pa.decimal256(40, 5)])
def test_parquet_decimal256_is_refused_clearly(project, arrow_type):
    parquet_leads(project, pa.array([Decimal("1.5"), Decimal("2")], arrow_type))
    result = both(project)
    assert result["code"] == 2
    assert f'leads.parquet: column "x" is a decimal of {arrow_type.precision} digits, more than the 38' in result["error"]


def test_parquet_decimal_past_the_range_is_one_error(project):
    parquet_leads(project, pa.array([Decimal("1"), Decimal("10") ** 20], pa.decimal128(38, 0)))
    result = both(project)
    assert result["code"] == 2 and 'row 2, column "x": "100000000000000000000" is out of range for a number' in result["error"]


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_parquet_non_finite_double_is_not_a_number(project, value):
    parquet_leads(project, pa.array([1.5, value], pa.float64()))
    result = both(project)
    assert result["code"] == 2 and 'row 2, column "x":' in result["error"] and "is not a number" in result["error"]


def test_jsonl_huge_number_is_one_error(project):
    (project / "data" / "leads.jsonl").write_text('{"id": "a", "x": 1, "y": 1, "k": 1}\n{"id": "b", "x": 1e400, "y": 1, "k": 1}\n')
    result = both(project)
    assert result["code"] == 2 and 'leads.jsonl: line 2, column "x": "1e400" is out of range for a number' in result["error"]


# ------------------------------------------------------------------------------ SQL engines --

EDGES = [Decimal(v) for v in ("0", "0.0000000001", "-0.0000000001", "0.0000000002", "0.0000000005", "1.2345678901",
                              "-98765.4321098765", "999999999.9999999999", "123456789012.0000000001",
                              "999999999999999999.9999999999", "-999999999999999999.9999999999", "3", "7")]


def number_rows(pairs):
    return [{"id": f"L{i:02d}", "x": x, "y": y, "k": i} for i, (x, y) in enumerate(pairs)], [], {}


def small_enough(x: Decimal, y: Decimal) -> bool:
    return abs(x * y) < V.NUMBER_LIMIT and abs(x) * 2 < V.NUMBER_LIMIT and abs(x + y) < V.NUMBER_LIMIT and (y == 0 or abs(x / y) < V.NUMBER_LIMIT)


def test_engines_agree_on_edge_numbers(engine, tmp_path):
    path = tmp_path / "numbers.lead"
    path.write_text(POLICY, encoding="utf-8")
    policy = load(path)
    pairs = [(x, y) for x in EDGES for y in EDGES if small_enough(x, y)]
    assert len(pairs) > 100
    assert_agree(engine, policy, *number_rows(pairs))


@pytest.mark.parametrize("x, y, k", [
    (Decimal("1000000000"), Decimal("1000000000"), 1),  # x * y reaches 10^18
    (Decimal("900000000000000000"), Decimal(1), 1),  # the per rule: 2 * x
    (Decimal("999999999999999999"), Decimal("0.1"), 1),  # x / y
    (Decimal("1"), Decimal("1"), 2**62),  # k * 2 passes 64 bits
])
def test_engines_refuse_what_the_interpreter_refuses(engine, tmp_path, x, y, k):
    path = tmp_path / "numbers.lead"
    path.write_text(POLICY, encoding="utf-8")
    policy = load(path)
    leads = [{"id": "a", "x": x, "y": y, "k": k}]
    with pytest.raises(DataError, match="out of range"):
        evaluate(policy, leads, [], {}, __import__("datagen").AS_OF)
    table = Table("leads", [("id", "string"), ("x", "number"), ("y", "number"), ("k", "int")], leads)
    with pytest.raises(Exception) as err:
        engine.run(to_sql(policy, engine.name, __import__("datagen").AS_OF), [table])
    assert not isinstance(err.value, (AssertionError, TypeError, ValueError)), err.value


def test_a_test_block_past_the_range_fails_with_the_message(project):
    (project / "numbers.lead").write_text(POLICY + '\ntest "huge" {\n  lead { x: 1, y: 1, k: 4611686018427387904 }\n  expect s = 2\n}\n')
    r = CliRunner().invoke(main, ["test", str(project / "numbers.lead")], catch_exceptions=False)
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert f'numbers.lead:{LINE["twice"]}: for lead "test-lead", the value computed here is out of range for a whole number (64-bit)' in r.output


def test_engines_agree_exactly_on_every_number(engine, tmp_path):
    """Cell for cell with no tolerance: quotients, products and sums are exact to the tenth place
    on every engine (a double would give `1.2345678901 / 0.0000000001` as 12345678900.999998)."""
    path = tmp_path / "numbers.lead"
    path.write_text(POLICY, encoding="utf-8")
    policy = load(path)
    pairs = [(x, y) for x in EDGES for y in EDGES if small_enough(x, y)]
    leads, accounts, events = number_rows(pairs)
    want = evaluate(policy, leads, accounts, events, __import__("datagen").AS_OF).rows
    table = Table("leads", [("id", "string"), ("x", "number"), ("y", "number"), ("k", "int")], leads)
    got = engine.run(to_sql(policy, engine.name, __import__("datagen").AS_OF), [table])
    differ = []
    for w, g in zip(want, got):
        for column in ("third", "quarter", "ratio", "product", "total", "twice", "s"):
            a, b = w[column], g[column]
            if (a is None) != (b is None) or (a is not None and Decimal(a) != Decimal(b)):
                differ.append(f"{w['id']} {column}: interpreter {a}, {engine.name} {b}")
    assert not differ, "\n".join(differ[:10])


LITERALS = """\
policy literals "Number literals as operands"
  version "1"
  owner "tests"

""" + LEADS + """
signal tiny    = x * 0.0000000001
signal scaled  = x * 0.37
signal above   = x >= 0.0000000001
signal inside  = x between -98765.4321098765 and 999999999.9999999999
signal equal   = y = 1.2345678901
signal whole   = k * 1.5

score s clamp -12.5 to 1000000.25 {
  small: +0.0000000001 per x, max 0.5
  half:  -2.5 per k, max 7.25
  big:   +999999.9999999999 when x > 3
}
score d = 0.6 * s + 0.4 * x

bands s { top >= 999.99, mid >= -0.01, low otherwise }
"""


def test_number_literals_as_operands_keep_every_value_exact(engine, tmp_path):
    """DuckDB types a number literal whose result type is fixed around it (a comparison, a product cast to a
    number, a rule's points, a clamp, a threshold) by its own digits, not DECIMAL(28, 10), so such arithmetic
    stays on 64-bit integers where it can (`Dialect.operand`); every engine still gives the interpreter's values,
    cell for cell, on the edge numbers."""
    path = tmp_path / "literals.lead"
    path.write_text(LITERALS, encoding="utf-8")
    policy = load(path)
    pairs = [(x, y) for x in EDGES for y in EDGES if abs(x) < Decimal("1e12")]
    leads, accounts, events = number_rows(pairs)
    want = evaluate(policy, leads, accounts, events, __import__("datagen").AS_OF).rows
    assert len({r["s_band"] for r in want}) == 3 and {r["inside"] for r in want} == {True, False}
    table = Table("leads", [("id", "string"), ("x", "number"), ("y", "number"), ("k", "int")], leads)
    sql = to_sql(policy, engine.name, __import__("datagen").AS_OF)
    if engine.name == "duckdb":
        assert "CAST('0.37' AS DECIMAL(3, 2))" in sql and "CAST('999.99' AS DECIMAL(5, 2))" in sql
    got = engine.run(sql, [table])
    differ = [f"{w['id']} {c}: interpreter {w[c]}, {engine.name} {g[c]}" for w, g in zip(want, got)
              for c in ("tiny", "scaled", "above", "inside", "equal", "whole", "s", "d", "s_band")
              if (w[c] is None) != (g[c] is None) or (w[c] is not None and str(w[c]) != str(g[c]) and Decimal(str(w[c])) != Decimal(str(g[c])))]
    assert not differ, "\n".join(differ[:10])
