"""`leadlang.data.staging`: an extra file registered through the public `register_file`, and the check of
each input file in one pass over it."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import leadlang.data.staging as staging
from leadlang.check import load
from leadlang.data.specs import Column
from leadlang.data.staging import register_dataset, register_file
from leadlang.diagnostics import DataError

ROOT = Path(__file__).resolve().parent.parent
UTC = dt.timezone.utc
CAPACITY = [Column("rep", "rep", "string", "the rep, in the capacity file", required=True),
            Column("slots", "slots", "int", "a whole number, in the capacity file"),
            Column("tier", "tier", "enum", "gold or silver, in the capacity file", values=("gold", "silver")),
            Column("since", "since", "timestamp", "a timestamp, in the capacity file")]
ROWS = [{"rep": "ana", "slots": "3", "tier": "gold", "since": "2024-05-01"},
        {"rep": "bo", "slots": "", "tier": "silver", "since": "2024-05-02T10:00:00+02:00"}]


def _write(path: Path, rows: list[dict]) -> Path:
    if path.suffix == ".csv":
        path.write_text("rep,slots,tier,since\n" + "".join(",".join(r.values()) + "\n" for r in rows), encoding="utf-8")
    elif path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    else:
        pq.write_table(pa.table({k: [r[k] for r in rows] for k in rows[0]}), path)
    return path


@pytest.mark.parametrize("ext", ["csv", "jsonl", "parquet"])
def test_an_extra_file_is_registered_checked_and_typed(tmp_path, ext):
    path = _write(tmp_path / f"capacity.{ext}", ROWS)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    scan = register_file(con, path, CAPACITY, "__capacity", key="rep")
    assert con.execute(f'SELECT * FROM "{scan}" ORDER BY rep').fetchall() == [
        ("ana", 3, "gold", dt.datetime(2024, 5, 1, tzinfo=UTC)), ("bo", None, "silver", dt.datetime(2024, 5, 2, 8, tzinfo=UTC))]
    assert con.execute('SELECT rep, __row FROM "__capacity" ORDER BY __row').fetchall() == [("ana", 1), ("bo", 2)]


@pytest.mark.parametrize("ext", ["csv", "jsonl", "parquet"])
def test_an_extra_file_gets_the_one_line_errors_of_a_data_source(tmp_path, ext):
    con = duckdb.connect()
    bad = _write(tmp_path / f"capacity.{ext}", [*ROWS, {"rep": "cy", "slots": "2.5", "tier": "gold", "since": ""}])
    where = "line 3" if ext == "jsonl" else "row 3"
    with pytest.raises(DataError, match=re.escape(f'{bad}: {where}, column "slots": "2.5" is not a whole number (a whole number, in the capacity file)')):
        register_file(con, bad, CAPACITY, "__capacity", key="rep")
    twice = _write(tmp_path / f"capacity.{ext}", [*ROWS, ROWS[0]])
    rows = "lines 1 and 3" if ext == "jsonl" else "rows 1 and 3"
    with pytest.raises(DataError, match=re.escape(f'{twice}: rep "ana" appears twice, in {rows} (the rep, in the capacity file)')):
        register_file(con, twice, CAPACITY, "__capacity", key="rep")
    outside = _write(tmp_path / f"capacity.{ext}", [ROWS[0], {**ROWS[1], "tier": "bronze"}])
    with pytest.raises(DataError, match=re.escape('column "tier": "bronze" is not one of "gold", "silver" (gold or silver, in the capacity file)')):
        register_file(con, outside, CAPACITY, "__capacity")
    with staging.on_invalid_enum("null"):  # read as it is: the engines score it as missing
        scan = register_file(con, outside, CAPACITY, "__capacity")
    assert [t for (t,) in con.execute(f'SELECT tier FROM "{scan}"').fetchall()] == ["gold", "bronze"]


# ------------------------------------------------------------ one pass --

_READS = re.compile(r"\b(read_csv|read_ndjson_objects|read_parquet)\(")


@pytest.fixture
def reads(monkeypatch):
    """The statements of `staging` that scan a file's rows, per file name (not DESCRIBE, not a view's definition)."""
    seen: dict[str, list[str]] = {}
    real = staging.run

    def spying(con, path, sql, *args, **kwargs):
        if _READS.search(sql) and not sql.startswith(("DESCRIBE", "CREATE OR REPLACE TEMP VIEW")):
            seen.setdefault(Path(path).name, []).append(sql)
        return real(con, path, sql, *args, **kwargs)

    monkeypatch.setattr(staging, "run", spying)
    return seen


def test_each_source_file_is_read_once_to_check_and_convert_it(reads, tmp_path):
    """CSV and JSONL files (and Parquet read as text) are checked and converted in one statement over the file."""
    policy = load(ROOT / "policies/plg/plg.lead")
    data = ROOT / "policies/plg/data"
    tables = register_dataset(duckdb.connect(), policy, data)
    files = {p.name for p in data.iterdir() if p.stem in tables}
    assert files and {name: len(sqls) for name, sqls in reads.items()} == {name: 1 for name in files}
    assert all(sql.startswith("CREATE OR REPLACE TEMP TABLE") and "__bad" in sql for sqls in reads.values() for sql in sqls)


def test_a_flagged_file_is_read_again_only_to_name_the_bad_cell(reads, tmp_path):
    lines = (ROOT / "policies/plg/data/leads.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    cells = lines[5].split(",")
    cells[header.index("employees")] = "many"
    lines[5] = ",".join(cells)
    for p in (ROOT / "policies/plg/data").iterdir():
        (tmp_path / p.name).write_bytes(p.read_bytes())
    (tmp_path / "leads.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=re.escape(f'{tmp_path / "leads.csv"}: row 5, column "employees": "many" is not a whole number')):
        register_dataset(duckdb.connect(), load(ROOT / "policies/plg/plg.lead"), tmp_path)
    assert len(reads["leads.csv"]) == 2  # the checking pass, then the text of the flagged row's file


def test_values_and_their_types_are_those_of_the_declaration(tmp_path):
    """One conversion for both engines: the typed table holds DuckDB's types of the declared kinds."""
    (tmp_path / "n.csv").write_text("k,x\nA,1e3\nB,-0.000000000049\nC,2.50\n", encoding="utf-8")
    con = duckdb.connect()
    scan = register_file(con, tmp_path / "n.csv", [Column("k", "k", "string", ""), Column("x", "x", "number", "")], "__n")
    assert con.execute(f'SELECT typeof(x), x FROM "{scan}"').fetchall() == [
        ("DECIMAL(28,10)", Decimal("1000")), ("DECIMAL(28,10)", Decimal("0")), ("DECIMAL(28,10)", Decimal("2.5"))]
