"""Tests for leadlang.data: reading `--data` files into typed rows and writing results."""

from __future__ import annotations

import datetime as dt
import io as stdio
import json
import tempfile
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadlang.check.policy import Policy
from leadlang.check.types import from_ref
from leadlang.data.specs import find_source_file
from leadlang.data.stream import Dataset, load_dataset
from leadlang.data.writers import write_rows
from leadlang.diagnostics import DataError
from leadlang.syntax.ast import Accounts, Events, Field, Leads, Relation, Span, TypeRef

UTC = dt.timezone.utc
POLICY = "policies/plg.lead"


def sp(line: int) -> Span:
    return Span(POLICY, line, 3, line, 20)


def fld(name: str, type_name: str, line: int, *values: str) -> Field:
    return Field(name, TypeRef(type_name, tuple(values)), sp(line))


def leads_decl(*fields: Field, account: str | None = None) -> Leads:
    return Leads(Relation("ref", ("stg_leads",)), "lead_id", account, tuple(fields), sp(4))


def policy_of(leads: Leads, accounts: Accounts | None = None, events=()) -> Policy:
    """A policy declaring only these sources, typed as the checker types them (field names the checker
    would refuse, such as `score`, are fine here: a data file may have any column)."""
    def types(fields, *keys):
        return {**{k: from_ref("string") for k in keys if k}, **{f.name: from_ref(f.type.name, f.type.values) for f in fields if f.name not in keys}}

    return Policy(POLICY, "t", "T", None, None, leads, accounts, {e.name: e for e in events}, types(leads.fields, leads.key, leads.account),
                  types(accounts.fields, accounts.key) if accounts else {}, {e.name: types(e.fields) for e in events},
                  {}, {}, {}, {}, {}, {}, (), {}, {}, {}, (), (), (), {}, {})


def events_decl(name: str = "product", *fields: Field) -> Events:
    return Events(name, Relation("ref", ("stg_events",)), "user_id", "occurred_at", "event_name", tuple(fields), sp(20))


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, str):
        text = text.encode("utf-8")
    path.write_bytes(text)
    return path


def load(tmp_path: Path, leads_csv: str | bytes, *fields: Field, **kw) -> Dataset:
    write(tmp_path / "leads.csv", leads_csv)
    return load_dataset(policy_of(leads_decl(*fields, **kw)), tmp_path)


def column(tmp_path: Path, type_name: str, cells: list[str], *values: str) -> list:
    """Load one typed column `x` (declared on line 9) from a CSV and return its values."""
    quoted = ['"' + c.replace('"', '""') + '"' if any(ch in c for ch in ',"\n') else c for c in cells]
    body = "".join(f"L{i},{c}\n" for i, c in enumerate(quoted))
    return [r["x"] for r in load(tmp_path, "lead_id,x\n" + body, fld("x", type_name, 9, *values)).leads]


def error(tmp_path: Path, type_name: str, cells: list[str], *values: str) -> str:
    with pytest.raises(DataError) as e:
        column(tmp_path, type_name, cells, *values)
    return str(e.value)


def where(tmp_path: Path, name: str = "leads.csv") -> str:
    return str(tmp_path / name)


# ------------------------------------------------------------ conversions --


def test_string_keeps_text_and_empty_is_missing(tmp_path):
    assert column(tmp_path, "string", ["hello", "", " padded ", "42"]) == ["hello", None, " padded ", "42"]


def test_int_accepts_whole_numbers(tmp_path):
    assert column(tmp_path, "int", ["42", "-3", "+5", " 7 ", "", "0", "71.0", "71.00", "-2.000"]) == [42, -3, 5, 7, None, 0, 71, 71, -2]


@pytest.mark.parametrize("bad", ["42.5", "42.01", "1e3", "12a", "1_000", "abc", ".0"])
def test_int_rejects_anything_else(tmp_path, bad):
    assert error(tmp_path, "int", ["1", bad]) == (
        f'{where(tmp_path)}: row 2, column "x": "{bad}" is not a whole number (declared int at {POLICY}:9)'
    )


def test_int_out_of_range(tmp_path):
    msg = error(tmp_path, "int", ["99999999999999999999"])
    assert msg.endswith('"99999999999999999999" is out of range for a whole number (64-bit) (declared int at policies/plg.lead:9)')


def test_number_becomes_exact_decimal(tmp_path):
    values = column(tmp_path, "number", ["2.5", "-1", "1e3", ".5", "0.10", "123456789012345678.125", "-0.00000000005", "1.00000000004999"])
    assert values == [Decimal("2.5"), Decimal("-1"), Decimal("1000"), Decimal("0.5"), Decimal("0.10"), Decimal("123456789012345678.125"),
                      Decimal("-0.0000000001"), Decimal("1")]  # 10 places, half away from zero (language.md §21)
    assert all(isinstance(v, Decimal) for v in values)
    assert str(values[2]) == "1000"


@pytest.mark.parametrize("bad", ["abc", "1,5", "NaN", "inf", "2.5.1"])
def test_number_rejects(tmp_path, bad):
    assert error(tmp_path, "number", [bad]) == f'{where(tmp_path)}: row 1, column "x": "{bad}" is not a number (declared number at {POLICY}:9)'


def test_bool_spellings(tmp_path):
    cells = ["true", "False", "TRUE", "1", "0", "yes", "NO", "tRuE", ""]
    assert column(tmp_path, "bool", cells) == [True, False, True, True, False, True, False, True, None]


def test_bool_rejects(tmp_path):
    assert error(tmp_path, "bool", ["maybe"]).endswith(
        '"maybe" is not a boolean (true/false, yes/no or 1/0) (declared bool at policies/plg.lead:9)'
    )


def test_date(tmp_path):
    assert column(tmp_path, "date", ["2024-06-01", ""]) == [dt.date(2024, 6, 1), None]


@pytest.mark.parametrize(
    "bad, what",
    [("06/01/2024", "is not a date (YYYY-MM-DD)"), ("2024-06-01T00:00:00Z", "is not a date (YYYY-MM-DD)"), ("2024-02-30", "is not a valid date")],
)
def test_date_rejects(tmp_path, bad, what):
    assert error(tmp_path, "date", [bad]) == f'{where(tmp_path)}: row 1, column "x": "{bad}" {what} (declared date at {POLICY}:9)'


def test_timestamps_become_aware_utc(tmp_path):
    cells = [
        "2024-06-01",
        "2024-06-01T12:30:00Z",
        "2024-06-01 12:30:00",
        "2024-06-01T12:30:00+02:00",
        "2024-06-01T12:30:00-05:30",
        "2024-06-01T12:30:00.123456Z",
        "2024-06-01T23:30:00-01:00",
        "",
    ]
    values = column(tmp_path, "timestamp", cells)
    assert values == [
        dt.datetime(2024, 6, 1, tzinfo=UTC),
        dt.datetime(2024, 6, 1, 12, 30, tzinfo=UTC),
        dt.datetime(2024, 6, 1, 12, 30, tzinfo=UTC),
        dt.datetime(2024, 6, 1, 10, 30, tzinfo=UTC),
        dt.datetime(2024, 6, 1, 18, 0, tzinfo=UTC),
        dt.datetime(2024, 6, 1, 12, 30, 0, 123456, tzinfo=UTC),
        dt.datetime(2024, 6, 2, 0, 30, tzinfo=UTC),
        None,
    ]
    assert all(v.utcoffset() == dt.timedelta(0) for v in values if v is not None)


@pytest.mark.parametrize(
    "bad, what",
    [
        ("yesterday", "is not an ISO-8601 timestamp (e.g. 2024-06-01T12:30:00Z)"),
        ("2024-06-01T12:30:00 Europe/Paris", "is not an ISO-8601 timestamp (e.g. 2024-06-01T12:30:00Z)"),
        ("2024-13-01T00:00:00Z", "is not a valid timestamp"),
    ],
)
def test_timestamp_rejects(tmp_path, bad, what):
    assert error(tmp_path, "timestamp", ["2024-01-01", bad]) == (
        f'{where(tmp_path)}: row 2, column "x": "{bad}" {what} (declared timestamp at {POLICY}:9)'
    )


def test_enum(tmp_path):
    assert column(tmp_path, "enum", ["software", "", "fintech"], "software", "fintech") == ["software", None, "fintech"]
    assert error(tmp_path, "enum", ["software", "gaming"], "software", "fintech") == (
        f'{where(tmp_path)}: row 2, column "x": "gaming" is not one of "software", "fintech" '
        f'(declared enum("software", "fintech") at {POLICY}:9)'
    )


def test_enum_is_case_sensitive(tmp_path):
    assert '"Software" is not one of "software"' in error(tmp_path, "enum", ["Software"], "software")


def test_long_bad_value_is_cut_at_40_characters(tmp_path):
    msg = error(tmp_path, "int", ["x" * 100])
    assert f'"{"x" * 40}…" is not a whole number' in msg


def test_first_bad_cell_is_reported(tmp_path):
    csv_text = "lead_id,a,b\nL1,1,2\nL2,3,oops\nL3,bad,4\n"
    with pytest.raises(DataError, match='row 2, column "b": "oops"'):
        load(tmp_path, csv_text, fld("a", "int", 5), fld("b", "int", 6))


# ------------------------------------------------------ files and columns --


def test_missing_file(tmp_path):
    with pytest.raises(DataError) as e:
        load_dataset(policy_of(leads_decl()), tmp_path)
    assert str(e.value) == (
        f"{tmp_path}: no data file for source `leads`: expected leads.csv, leads.parquet or leads.jsonl "
        f"(the leads source, declared at {POLICY}:4)"
    )


def test_missing_data_directory(tmp_path):
    with pytest.raises(DataError, match="the data directory does not exist"):
        load_dataset(policy_of(leads_decl()), tmp_path / "nope")


def test_two_files_for_one_source(tmp_path):
    write(tmp_path / "leads.csv", "lead_id\nL1\n")
    write(tmp_path / "leads.jsonl", '{"lead_id": "L1"}\n')
    with pytest.raises(DataError, match=r"more than one data file for source `leads` \(leads.csv, leads.jsonl\)"):
        find_source_file(tmp_path, "leads")


def test_find_source_file(tmp_path):
    write(tmp_path / "product.parquet", b"")
    assert find_source_file(tmp_path, "product") == tmp_path / "product.parquet"


def test_missing_column_names_the_declaration_and_a_close_match(tmp_path):
    with pytest.raises(DataError) as e:
        load(tmp_path, "lead_id,Employees\nL1,5\n", fld("employees", "int", 9))
    assert str(e.value) == (
        f'{where(tmp_path)}: no column "employees" (declared int at {POLICY}:9); did you mean "Employees"?'
    )


def test_missing_key_column(tmp_path):
    with pytest.raises(DataError, match=r'no column "lead_id" \(the lead key, declared at policies/plg.lead:4\)'):
        load(tmp_path, "id,x\nL1,5\n")


def test_extra_columns_are_ignored_and_names_may_have_spaces(tmp_path):
    text = 'lead_id,junk,Annual Revenue,"Company, Inc"\nL1,zzz,1500000.50,Acme\n'
    rows = load(tmp_path, text, fld("Annual Revenue", "number", 7), fld("Company, Inc", "string", 8)).leads
    assert rows == [{"lead_id": "L1", "Annual Revenue": Decimal("1500000.50"), "Company, Inc": "Acme"}]


def test_quoted_fields_with_commas_newlines_and_quotes(tmp_path):
    text = 'lead_id,title\nL1,"VP, Sales"\nL2,"two\nlines"\nL3,"say ""hi"""\nL4,""\n'
    rows = load(tmp_path, text, fld("title", "string", 5)).leads
    assert [r["title"] for r in rows] == ["VP, Sales", "two\nlines", 'say "hi"', None]


def test_bom_and_crlf(tmp_path):
    rows = load(tmp_path, b'\xef\xbb\xbflead_id,n\r\nL1,1\r\nL2,"a\r\nb"\r\n', fld("n", "string", 5)).leads
    assert rows == [{"lead_id": "L1", "n": "1"}, {"lead_id": "L2", "n": "a\r\nb"}]


def test_duplicate_key(tmp_path):
    with pytest.raises(DataError) as e:
        load(tmp_path, "lead_id\nL1\nL2\nL1\n")
    assert str(e.value) == f'{where(tmp_path)}: lead_id "L1" appears twice, in rows 1 and 3 (the lead key, declared at {POLICY}:4)'


def test_missing_key(tmp_path):
    with pytest.raises(DataError) as e:
        load(tmp_path, "lead_id,x\nL1,1\nL2,2\nL3,3\nL4,4\n,5\n", fld("x", "int", 6))
    assert str(e.value) == f"{where(tmp_path)}: row 5 has no lead_id (the lead key, declared at {POLICY}:4)"


def test_account_link_and_accounts_source(tmp_path):
    write(tmp_path / "leads.csv", "lead_id,account_id\nL1,A1\nL2,\n")
    write(tmp_path / "accounts.csv", "account_id,industry\nA1,software\n")
    accounts = Accounts(Relation("ref", ("stg_accounts",)), "account_id", (fld("industry", "string", 15),), sp(14))
    data = load_dataset(policy_of(leads_decl(account="account_id"), accounts, []), tmp_path)
    assert data.leads == [{"lead_id": "L1", "account_id": "A1"}, {"lead_id": "L2", "account_id": None}]
    assert data.accounts == [{"account_id": "A1", "industry": "software"}]
    assert data.events == {}


def test_accounts_key_must_be_unique(tmp_path):
    write(tmp_path / "leads.csv", "lead_id\nL1\n")
    write(tmp_path / "accounts.csv", "account_id\nA1\nA1\n")
    accounts = Accounts(Relation("ref", ("stg_accounts",)), "account_id", (), sp(14))
    with pytest.raises(DataError, match=r'account_id "A1" appears twice, in rows 1 and 2 \(the account key, declared at policies/plg.lead:14\)'):
        load_dataset(policy_of(leads_decl(), accounts, []), tmp_path)


def test_events(tmp_path):
    write(tmp_path / "leads.csv", "lead_id\nL1\n")
    write(
        tmp_path / "product.csv",
        "user_id,occurred_at,event_name,seats\nL1,2024-06-01T00:00:00Z,login,3\n,2024-06-02,signup,\nL9,2024-06-03 10:00:00+01:00,,1\n",
    )
    data = load_dataset(policy_of(leads_decl(), None, [events_decl("product", fld("seats", "int", 24))]), tmp_path)
    assert data.events["product"] == [
        {"lead": "L1", "at": dt.datetime(2024, 6, 1, tzinfo=UTC), "name": "login", "seats": 3},
        {"lead": None, "at": dt.datetime(2024, 6, 2, tzinfo=UTC), "name": "signup", "seats": None},
        {"lead": "L9", "at": dt.datetime(2024, 6, 3, 9, tzinfo=UTC), "name": None, "seats": 1},
    ]


def test_event_without_time(tmp_path):
    write(tmp_path / "leads.csv", "lead_id\nL1\n")
    write(tmp_path / "product.csv", "user_id,occurred_at,event_name\nL1,2024-06-01,login\nL1,,login\n")
    with pytest.raises(DataError) as e:
        load_dataset(policy_of(leads_decl(), None, [events_decl()]), tmp_path)
    assert str(e.value) == (
        f'{where(tmp_path, "product.csv")}: row 2 has no occurred_at (the time column of events "product", declared at {POLICY}:20)'
    )


def test_event_bad_time(tmp_path):
    write(tmp_path / "leads.csv", "lead_id\nL1\n")
    write(tmp_path / "product.csv", "user_id,occurred_at,event_name\nL1,soon,login\n")
    with pytest.raises(DataError, match=r'row 1, column "occurred_at": "soon" is not an ISO-8601 timestamp'):
        load_dataset(policy_of(leads_decl(), None, [events_decl()]), tmp_path)


# ------------------------------------------------------------- odd bytes --


def test_not_utf8_csv(tmp_path):
    with pytest.raises(DataError) as e:
        load(tmp_path, b"lead_id,city\nL1,Paris\nL2,Montr\xe9al\n", fld("city", "string", 5))
    assert str(e.value) == f"{where(tmp_path)}: the file is not UTF-8 text (line 3 has the byte 0xE9); save it as UTF-8"


def test_not_utf8_header(tmp_path):
    with pytest.raises(DataError, match=r"not UTF-8 text \(line 1 has the byte 0xFF\)"):
        load(tmp_path, b"\xff\xfel\x00e\x00a\x00d\x00\n\x00")


def test_not_utf8_jsonl(tmp_path):
    write(tmp_path / "leads.jsonl", b'{"lead_id": "L1"}\n{"lead_id": "caf\xe9"}\n')
    with pytest.raises(DataError, match=r"leads.jsonl: the file is not UTF-8 text \(line 2 has the byte 0xE9\)"):
        load_dataset(policy_of(leads_decl()), tmp_path)


@pytest.mark.parametrize("name, content", [("leads.csv", b"lead_id,x\n"), ("leads.csv", b"lead_id,x")])
def test_header_only_files_have_no_rows(tmp_path, name, content):
    write(tmp_path / name, content)
    assert load_dataset(policy_of(leads_decl(fld("x", "int", 5))), tmp_path).leads == []
    assert _registered(tmp_path, fld("x", "int", 5)) == []


@pytest.mark.parametrize("name, content, why", [
    ("leads.csv", b"", "it has no header row"), ("leads.csv", b"\n\n", "it has no header row"),
    ("leads.csv", b"\xef\xbb\xbf", "it has no header row"), ("leads.csv", b"\r\n", "it has no header row"),
    ("leads.jsonl", b"", "it has no JSON object"), ("leads.jsonl", b"\n \r\n", "it has no JSON object"),
    ("leads.parquet", b"", "0 bytes are not a Parquet file")])
def test_empty_files_are_an_error_on_both_engines(tmp_path, name, content, why):
    """Every declared column is required, and an empty file has none: not zero rows but exit 2, one line."""
    write(tmp_path / name, content)
    for read in (lambda: load_dataset(policy_of(leads_decl(fld("x", "int", 5))), tmp_path), lambda: _registered(tmp_path, fld("x", "int", 5))):
        with pytest.raises(DataError) as e:
            read()
        assert str(e.value) == f"{tmp_path / name}: the file is empty: " + str(e.value).split(": the file is empty: ", 1)[1]
        assert why in str(e.value) and "\n" not in str(e.value)


def test_unparsable_csv_is_one_line(tmp_path):
    with pytest.raises(DataError) as e:
        load(tmp_path, "lead_id,x\nL1,2,3\n", fld("x", "string", 5))
    msg = str(e.value)
    assert msg.startswith(f"{where(tmp_path)}: cannot read the file: ") and "\n" not in msg
    assert "Expected Number of Columns: 2 Found: 3" in msg


def test_unterminated_quote(tmp_path):
    with pytest.raises(DataError, match="unterminated quote") as e:
        load(tmp_path, 'lead_id,x\nL1,"oops\n', fld("x", "string", 5))
    assert "\n" not in str(e.value)


def test_not_a_parquet_file(tmp_path):
    write(tmp_path / "leads.parquet", b"this is not parquet")
    with pytest.raises(DataError, match=r"leads.parquet: cannot read the file: ") as e:
        load_dataset(policy_of(leads_decl()), tmp_path)
    assert "\n" not in str(e.value)


def test_jsonl_errors(tmp_path):
    write(tmp_path / "leads.jsonl", '{"lead_id": "L1"}\nnot json\n')
    with pytest.raises(DataError, match=r"leads.jsonl: line 2 is not valid JSON: Expecting value \(column 1\)$"):
        load_dataset(policy_of(leads_decl()), tmp_path)
    write(tmp_path / "leads.jsonl", '{"lead_id": "L1"}\n[1, 2]\n')
    with pytest.raises(DataError, match=r"leads.jsonl: line 2 is not a JSON object"):
        load_dataset(policy_of(leads_decl()), tmp_path)


# ----------------------------------------------------- parquet and jsonl --


COLUMNS = [("lead_id", "string"), ("employees", "int"), ("score", "number"), ("active", "bool"),
           ("signup", "date"), ("seen", "timestamp"), ("Annual Revenue", "number")]
FIELDS = (fld("employees", "int", 5), fld("score", "number", 6), fld("active", "bool", 7), fld("signup", "date", 8),
          fld("seen", "timestamp", 9), fld("Annual Revenue", "number", 10))
ROWS = [
    {"lead_id": "L1", "employees": 800, "score": Decimal("60.5200"), "active": True, "signup": dt.date(2024, 6, 1),
     "seen": dt.datetime(2024, 6, 1, 14, 30, tzinfo=dt.timezone(dt.timedelta(hours=2))), "Annual Revenue": Decimal("1E+6")},
    {"lead_id": "L2, \"quoted\"", "employees": None, "score": Decimal("-0.125"), "active": False, "signup": None,
     "seen": None, "Annual Revenue": Decimal("0.1")},
]
EXPECTED = [
    {"lead_id": "L1", "employees": 800, "score": Decimal("60.52"), "active": True, "signup": dt.date(2024, 6, 1),
     "seen": dt.datetime(2024, 6, 1, 12, 30, tzinfo=UTC), "Annual Revenue": Decimal("1000000")},
    {"lead_id": "L2, \"quoted\"", "employees": None, "score": Decimal("-0.125"), "active": False, "signup": None,
     "seen": None, "Annual Revenue": Decimal("0.1")},
]


@pytest.mark.parametrize("ext", ["csv", "parquet", "jsonl"])
def test_round_trip(tmp_path, ext):
    write_rows(ROWS, COLUMNS, tmp_path / f"leads.{ext}")
    assert load_dataset(policy_of(leads_decl(*FIELDS)), tmp_path).leads == EXPECTED


def test_parquet_is_typed(tmp_path):
    write_rows(ROWS, COLUMNS, tmp_path / "out.parquet")
    schema = pq.read_schema(tmp_path / "out.parquet")
    assert [str(schema.field(n).type) for n, _ in COLUMNS] == [
        "string", "int64", "decimal128(38, 4)", "bool", "date32[day]", "timestamp[us, tz=UTC]", "decimal128(38, 4)"]
    assert pq.read_table(tmp_path / "out.parquet").column("score").to_pylist() == [Decimal("60.5200"), Decimal("-0.1250")]


def test_parquet_number_scale_grows_to_stay_exact(tmp_path):
    write_rows([{"n": Decimal("9.523809523809")}], [("n", "number")], tmp_path / "out.parquet")
    table = pq.read_table(tmp_path / "out.parquet")
    assert str(table.schema.field("n").type) == "decimal128(38, 12)"
    assert table.column("n").to_pylist() == [Decimal("9.523809523809")]


def test_parquet_native_types_are_converted(tmp_path):
    table = pa.table({
        "lead_id": pa.array([1, 2], pa.int64()),
        "employees": pa.array([42.0, None], pa.float64()),
        "score": pa.array([0.1, 2.0], pa.float64()),
        "active": pa.array([True, None]),
        "seen": pa.array([dt.datetime(2024, 6, 1, 12), None], pa.timestamp("us")),
        "seen_tz": pa.array([dt.datetime(2024, 6, 1, 12, tzinfo=UTC), None], pa.timestamp("ms", tz="Europe/Paris")),
        "day": pa.array([dt.date(2024, 6, 1), None], pa.date32()),
    })
    pq.write_table(table, tmp_path / "leads.parquet")
    fields = (fld("employees", "int", 5), fld("score", "number", 6), fld("active", "bool", 7),
              fld("seen", "timestamp", 8), fld("seen_tz", "timestamp", 9), fld("day", "timestamp", 10))
    rows = load_dataset(policy_of(leads_decl(*fields)), tmp_path).leads
    noon = dt.datetime(2024, 6, 1, 12, tzinfo=UTC)
    assert rows[0] == {"lead_id": "1", "employees": 42, "score": Decimal("0.1"), "active": True, "seen": noon,
                       "seen_tz": noon, "day": dt.datetime(2024, 6, 1, tzinfo=UTC)}
    assert rows[1] == {"lead_id": "2", "employees": None, "score": Decimal("2.0"), "active": None, "seen": None,
                       "seen_tz": None, "day": None}


def test_parquet_bad_values(tmp_path):
    pq.write_table(pa.table({"lead_id": ["L1", "L2"], "employees": [1.0, 2.5]}), tmp_path / "leads.parquet")
    with pytest.raises(DataError) as e:
        load_dataset(policy_of(leads_decl(fld("employees", "int", 5))), tmp_path)
    assert str(e.value) == f'{tmp_path / "leads.parquet"}: row 2, column "employees": "2.5" is not a whole number (declared int at {POLICY}:5)'
    pq.write_table(pa.table({"lead_id": ["L1"], "employees": ["abc"]}), tmp_path / "leads.parquet")
    with pytest.raises(DataError, match='"abc" is not a whole number'):
        load_dataset(policy_of(leads_decl(fld("employees", "int", 5))), tmp_path)
    with pytest.raises(DataError, match=r'no column "size" \(declared int at policies/plg.lead:6\)'):
        load_dataset(policy_of(leads_decl(fld("size", "int", 6))), tmp_path)


def test_jsonl_values(tmp_path):
    write(tmp_path / "leads.jsonl", '{"lead_id": "L1", "n": 5, "b": true, "s": 7, "Annual Revenue": 2.5}\n\n'
                                    '{"lead_id": "L2", "n": null, "b": "no", "s": "x", "extra": [1]}\n')
    fields = (fld("n", "int", 5), fld("b", "bool", 6), fld("s", "string", 7), fld("Annual Revenue", "number", 8))
    assert load_dataset(policy_of(leads_decl(*fields)), tmp_path).leads == [
        {"lead_id": "L1", "n": 5, "b": True, "s": "7", "Annual Revenue": Decimal("2.5")},
        {"lead_id": "L2", "n": None, "b": False, "s": "x", "Annual Revenue": None},
    ]


def test_jsonl_missing_column_and_bad_value(tmp_path):
    write(tmp_path / "leads.jsonl", '{"lead_id": "L1", "Employees": 5}\n')
    with pytest.raises(DataError) as e:
        load_dataset(policy_of(leads_decl(fld("employees", "int", 5))), tmp_path)
    assert str(e.value) == f'{tmp_path / "leads.jsonl"}: no column "employees" (declared int at {POLICY}:5); did you mean "Employees"?'
    write(tmp_path / "leads.jsonl", '{"lead_id": "L1", "n": 5}\n{"lead_id": "L2", "n": "12a"}\n')
    with pytest.raises(DataError, match=r'leads.jsonl: line 2, column "n": "12a" is not a whole number'):
        load_dataset(policy_of(leads_decl(fld("n", "int", 5))), tmp_path)


# ----------------------------------------------------------------- writing --


def test_write_csv_exactly(tmp_path):
    out = tmp_path / "out.csv"
    write_rows(ROWS, COLUMNS, out)
    assert out.read_text(encoding="utf-8") == (
        "lead_id,employees,score,active,signup,seen,Annual Revenue\n"
        "L1,800,60.52,true,2024-06-01,2024-06-01T12:30:00Z,1000000\n"
        '"L2, ""quoted""",,-0.125,false,,,0.1\n'
    )


def test_write_csv_to_stream():
    stream = stdio.StringIO()
    rows = [{"k": "a", "n": Decimal("-0.00"), "x": 3}, {"k": "b\nc", "n": 2.5, "x": None},
            {"k": "d", "n": Decimal("NaN"), "x": True}, {"k": "e", "n": 7, "x": dt.datetime(2024, 1, 2, 3, 4, 5, 600)}]
    write_rows(rows, [("k", "string"), ("n", "number"), ("x", "string")], None, stream=stream)
    assert stream.getvalue() == 'k,n,x\na,0,3\n"b\nc",2.5,\nd,,true\ne,7,2024-01-02T03:04:05.000600Z\n'


def test_write_csv_timestamps_each_instant_its_own_text():
    # more distinct instants than the writer remembers, one instant in two zones, naive as UTC, missing
    utc, plus2 = dt.timezone.utc, dt.timezone(dt.timedelta(hours=2))
    start = dt.datetime(2024, 2, 28, 23, 59, 59, tzinfo=utc)
    values = [start + dt.timedelta(seconds=i) for i in range(5000)]
    values += [values[1].astimezone(plus2), values[1].replace(tzinfo=None), None, values[4999]]
    stream = stdio.StringIO()
    write_rows([{"t": v} for v in values], [("t", "timestamp")], None, stream=stream)
    lines = stream.getvalue().split("\n")
    assert lines[0] == "t" and lines[1:4] == ["2024-02-28T23:59:59Z", "2024-02-29T00:00:00Z", "2024-02-29T00:00:01Z"]
    assert lines[5000] == "2024-02-29T01:23:18Z"
    assert lines[5001:] == ["2024-02-29T00:00:00Z", "2024-02-29T00:00:00Z", "", "2024-02-29T01:23:18Z", ""]


def test_write_jsonl_exactly(tmp_path):
    out = tmp_path / "out.jsonl"
    write_rows(ROWS, COLUMNS, out)
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == ('{"lead_id": "L1", "employees": 800, "score": 60.52, "active": true, "signup": "2024-06-01", '
                        '"seen": "2024-06-01T12:30:00Z", "Annual Revenue": 1000000}')
    assert lines[1] == ('{"lead_id": "L2, \\"quoted\\"", "employees": null, "score": -0.125, "active": false, "signup": null, '
                        '"seen": null, "Annual Revenue": 0.1}')
    assert json.loads(lines[0])["score"] == 60.52


def test_write_unknown_extension(tmp_path):
    with pytest.raises(DataError, match=r"unknown output format '.txt'; use .csv, .parquet or .jsonl"):
        write_rows([], [("a", "string")], tmp_path / "out.txt")


def test_write_to_missing_directory(tmp_path):
    with pytest.raises(DataError, match="out.csv: cannot write: No such file or directory"):
        write_rows([], [("a", "string")], tmp_path / "nope" / "out.csv")


def test_write_empty_table(tmp_path):
    write_rows([], [("a", "string"), ("n", "number")], tmp_path / "out.csv")
    assert (tmp_path / "out.csv").read_text() == "a,n\n"
    write_rows([], [("a", "string"), ("n", "number")], tmp_path / "out.parquet")
    assert pq.read_table(tmp_path / "out.parquet").num_rows == 0


@pytest.mark.parametrize("ext", ["csv", "parquet", "jsonl"])
def test_awkward_strings_round_trip(tmp_path, ext):
    awkward = ["a\rb", "\r", "\n", "a\r\n", " ", "\t", ",", 'x"y', '"', "é😀", "\u2028", "\x00"]
    rows = [{"lead_id": f"L{i}", "s": s} for i, s in enumerate(awkward)]
    write_rows(rows, [("lead_id", "string"), ("s", "string")], tmp_path / f"leads.{ext}")
    assert load_dataset(policy_of(leads_decl(fld("s", "string", 5))), tmp_path).leads == rows


TEXT = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12)
NUMBER = st.integers(0, 10).flatmap(lambda p: st.decimals(allow_nan=False, allow_infinity=False, places=p, min_value=-10**15, max_value=10**15))
STAMP = st.datetimes(dt.datetime(1900, 1, 1), dt.datetime(2100, 1, 1), timezones=st.just(UTC))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(TEXT, NUMBER, STAMP), min_size=1, max_size=4), ext=st.sampled_from(["csv", "parquet", "jsonl"]))
def test_written_rows_read_back_unchanged(tmp_path, rows, ext):
    data = [{"lead_id": f"L{i}", "s": s, "n": n, "t": t} for i, (s, n, t) in enumerate(rows)]
    with tempfile.TemporaryDirectory(dir=tmp_path) as folder:  # one folder per example
        write_rows(data, [("lead_id", "string"), ("s", "string"), ("n", "number"), ("t", "timestamp")], Path(folder) / f"leads.{ext}")
        decl = leads_decl(fld("s", "string", 5), fld("n", "number", 6), fld("t", "timestamp", 7))
        got = load_dataset(policy_of(decl, None, []), Path(folder)).leads
    for want, row in zip(data, got, strict=True):
        assert (row["s"], row["t"]) == (want["s"], want["t"])
        if ext != "jsonl":  # JSON numbers are doubles
            assert row["n"] == want["n"]


# ------------------------------------------------------------------ volume --


def test_file_order_is_kept_when_duckdb_returns_rows_shuffled(tmp_path, monkeypatch):
    """A statement without ORDER BY may hand rows back in any order (a parallel scan): here, reversed."""
    import leadlang.data.staging
    import leadlang.data.stream

    real = leadlang.data.staging.run

    def reversed_run(con, path, sql, arrow=False, params=()):
        out = real(con, path, sql, arrow, params)
        if "ORDER BY" in sql:
            return out
        return out.take(pa.array(range(out.num_rows - 1, -1, -1))) if arrow else out[::-1]

    monkeypatch.setattr(leadlang.data.staging, "run", reversed_run)
    monkeypatch.setattr(leadlang.data.stream, "run", reversed_run)
    assert [r["x"] for r in load(tmp_path, "lead_id,x\nL1,1\nL2,2\nL3,3\n", fld("x", "int", 5)).leads] == [1, 2, 3]
    with pytest.raises(DataError, match='row 2, column "x": "b"'):
        load(tmp_path, "lead_id,x\nL1,1\nL2,b\nL3,c\n", fld("x", "int", 5))


def test_100k_leads_load_in_order(tmp_path):
    n = 100_000
    lines = ["lead_id,employees,score,active,seen"]
    lines += [f"L{i},{i},{i}.25,{'true' if i % 2 else 'false'},2024-01-01T00:00:{i % 60:02d}Z" for i in range(n)]
    write(tmp_path / "leads.csv", "\n".join(lines) + "\n")
    fields = (fld("employees", "int", 5), fld("score", "number", 6), fld("active", "bool", 7), fld("seen", "timestamp", 8))
    rows = load_dataset(policy_of(leads_decl(*fields)), tmp_path).leads
    assert len(rows) == n
    assert [r["lead_id"] for r in rows] == [f"L{i}" for i in range(n)]
    assert all(r["employees"] == i for i, r in enumerate(rows))
    assert rows[12345] == {"lead_id": "L12345", "employees": 12345, "score": Decimal("12345.25"), "active": True,
                           "seen": dt.datetime(2024, 1, 1, 0, 0, 45, tzinfo=UTC)}


# ------------------------------------------ the DuckDB engine's Parquet views --


def _registered(tmp_path: Path, *fields: Field) -> list[dict]:
    import duckdb

    from leadlang.data.staging import register_dataset

    con = duckdb.connect()
    tables = register_dataset(con, policy_of(leads_decl(*fields)), tmp_path)
    cols = ", ".join(f'"{c}"' for c in ["lead_id", *(f.name for f in fields)])
    return [dict(zip(["lead_id", *(f.name for f in fields)], r)) for r in con.execute(f'SELECT {cols} FROM "{tables["leads"]}" ORDER BY 1').fetchall()]


def test_native_parquet_reads_empty_strings_as_missing_like_the_python_engine(tmp_path):
    # row groups of 2: the second holds "", the others prove by their statistics they hold none
    pq.write_table(pa.table({"lead_id": ["L1", "L2", "L3", "L4", "L5"], "title": ["VP", "CTO", "", None, "Dev"],
                             "city": ["Oslo", "Rome", "Nice", "Bonn", "Kyiv"]}), tmp_path / "leads.parquet", row_group_size=2)
    fields = (fld("title", "string", 5), fld("city", "string", 6))
    expected = load_dataset(policy_of(leads_decl(*fields)), tmp_path).leads
    assert [r["title"] for r in expected] == ["VP", "CTO", None, None, "Dev"]
    assert _registered(tmp_path, *fields) == expected
    import duckdb

    from leadlang.data.parquet import no_empty_strings
    from leadlang.data.specs import Column

    cols = [Column(n, n, "string", "") for n in ("lead_id", "title", "city")]
    assert no_empty_strings(duckdb.connect(), tmp_path / "leads.parquet", cols) == {"lead_id", "city"}
    # no statistics: nothing is proved, every string column keeps its NULLIF
    pq.write_table(pa.table({"lead_id": ["L1", "L2"], "title": ["", "x"], "city": ["a", "b"]}), tmp_path / "leads.parquet", write_statistics=False)
    assert no_empty_strings(duckdb.connect(), tmp_path / "leads.parquet", cols) == set()
    assert [r["title"] for r in _registered(tmp_path, *fields)] == [None, "x"]


def test_duplicate_key_names_the_first_two_rows(tmp_path):
    pq.write_table(pa.table({"lead_id": ["L1", "L2", "L3", "L2", "L1", "L2"]}), tmp_path / "leads.parquet")
    with pytest.raises(DataError) as duck:
        _registered(tmp_path)
    with pytest.raises(DataError) as python:
        load_dataset(policy_of(leads_decl()), tmp_path)
    # the first key seen again, reading in row order: the same message from both engines
    assert str(duck.value) == str(python.value)
    assert str(duck.value).startswith(f'{tmp_path / "leads.parquet"}: lead_id "L2" appears twice, in rows 2 and 4')


# ------------------------------------------- odd files, on both engines --

def _both(tmp_path: Path, *fields: Field) -> list[dict] | str:
    """The rows (or the one-line error) of `leads.*` in tmp_path: the Python engine's and the DuckDB engine's must agree."""
    out = []
    for read in (lambda: load_dataset(policy_of(leads_decl(*fields)), tmp_path).leads, lambda: _registered(tmp_path, *fields)):
        try:
            out.append(sorted(read(), key=lambda r: r["lead_id"]))
        except DataError as e:
            assert "\n" not in str(e)
            out.append(str(e))
    assert out[0] == out[1], out
    return out[0]


JSONL_WITH_BLANKS = ('{"lead_id": "L1", "n": 1}\n\n{"lead_id": "L2", "n": 2}\r\n   \n{"lead_id": "L3", "n": 3}\r\n'
                     '{BROKEN}\n{"lead_id": "L5", "n": 5}\n')


def test_jsonl_errors_name_the_exact_line(tmp_path):
    """Blank lines and CRLF count as lines: the malformed object is on line 6 of the file (the 4th object)."""
    write(tmp_path / "leads.jsonl", JSONL_WITH_BLANKS)
    assert _both(tmp_path, fld("n", "int", 5)) == f"{tmp_path / 'leads.jsonl'}: line 6 is not valid JSON: Expecting property name enclosed in double quotes (column 2)"
    write(tmp_path / "leads.jsonl", JSONL_WITH_BLANKS.replace("{BROKEN}", '{"lead_id": "L4", "n": "4.5"}'))
    assert _both(tmp_path, fld("n", "int", 5)) == f'{tmp_path / "leads.jsonl"}: line 6, column "n": "4.5" is not a whole number (declared int at {POLICY}:5)'
    write(tmp_path / "leads.jsonl", JSONL_WITH_BLANKS.replace("{BROKEN}", '{"lead_id": "L2", "n": 4}'))
    assert _both(tmp_path, fld("n", "int", 5)).startswith(f'{tmp_path / "leads.jsonl"}: lead_id "L2" appears twice, in lines 3 and 6 ')
    write(tmp_path / "leads.jsonl", JSONL_WITH_BLANKS.replace("{BROKEN}", '{"lead_id": "L4"}'))
    assert _both(tmp_path, fld("n", "int", 5)) == [{"lead_id": f"L{i}", "n": None if i == 4 else i} for i in range(1, 6)]


def test_duplicate_json_keys_are_an_error(tmp_path):
    write(tmp_path / "leads.jsonl", '{"lead_id": "L1", "n": 1}\n\n{"lead_id": "L2", "n": 1, "n": 2}\n')
    assert _both(tmp_path, fld("n", "int", 5)) == f'{tmp_path / "leads.jsonl"}: line 3 has the key "n" twice; keep one'
    # also a key the policy does not declare: the object is ambiguous either way
    write(tmp_path / "leads.jsonl", '{"lead_id": "L1", "note": "a", "note": "b"}\n')
    assert _both(tmp_path) == f'{tmp_path / "leads.jsonl"}: line 1 has the key "note" twice; keep one'
    # a nested object's keys are the value's business
    write(tmp_path / "leads.jsonl", '{"lead_id": "L1", "meta": {"a": 1, "b": 1}}\n')
    assert _both(tmp_path) == [{"lead_id": "L1"}]


SECRET_ROWS = ["alice.secret@example.com", "bob.private@example.com", "carol-ssn-123-45-6789"]


def test_unterminated_csv_quote_shows_no_rows(tmp_path):
    body = "lead_id,email\n" + f'L0,"{SECRET_ROWS[0]}\n' + "".join(f"L{i},{e}\n" for i, e in enumerate(SECRET_ROWS[1:], 1))
    write(tmp_path / "leads.csv", body)
    msg = _both(tmp_path, fld("email", "string", 5))
    assert msg == f"{tmp_path / 'leads.csv'}: cannot read the file: row 1: unterminated quote (a quoted value is not closed)"
    write(tmp_path / "leads.csv", "lead_id,email\n" + "".join(f"L{i},{e},extra\n" for i, e in enumerate(SECRET_ROWS)))
    msg = _both(tmp_path, fld("email", "string", 5))
    assert "Expected Number of Columns: 2 Found: 3" in msg
    assert not any(e in msg for e in SECRET_ROWS), msg


def test_bad_cell_is_the_only_data_in_a_message(tmp_path):
    long = "x" * 30 + SECRET_ROWS[0]
    write(tmp_path / "leads.csv", f"lead_id,n\nL0,{long}\nL1,{SECRET_ROWS[1]}\n")
    msg = _both(tmp_path, fld("n", "int", 5))
    assert msg == f'{tmp_path / "leads.csv"}: row 1, column "n": "{long[:40]}…" is not a whole number (declared int at {POLICY}:5)'
    assert SECRET_ROWS[1] not in msg


def _whole_number_files(tmp_path: Path, values: list[str]) -> dict[str, Path]:
    """The same `n` values as CSV text, JSON numbers, Parquet double and Parquet decimal."""
    dirs = {k: tmp_path / k for k in ("csv", "jsonl", "double", "decimal")}
    ids = [f"L{i}" for i in range(len(values))]
    write(dirs["csv"] / "leads.csv", "lead_id,n\n" + "".join(f"{i},{v}\n" for i, v in zip(ids, values)))
    write(dirs["jsonl"] / "leads.jsonl", "".join(f'{{"lead_id": "{i}", "n": {v}}}\n' for i, v in zip(ids, values)))
    dirs["double"].mkdir()
    pq.write_table(pa.table({"lead_id": ids, "n": pa.array([float(v) for v in values], pa.float64())}), dirs["double"] / "leads.parquet")
    dirs["decimal"].mkdir()
    pq.write_table(pa.table({"lead_id": ids, "n": pa.array([Decimal(v).quantize(Decimal("0.01")) for v in values], pa.decimal128(12, 2))}),
                   dirs["decimal"] / "leads.parquet")
    return dirs


def test_one_whole_number_rule_for_every_format_and_engine(tmp_path):
    """`71.0` is the int 71 as CSV text, a JSON number, a Parquet double or decimal; 71.5 is an error in each."""
    for fmt, folder in _whole_number_files(tmp_path / "ok", ["71.0", "-3", "0"]).items():
        assert _both(folder, fld("n", "int", 5)) == [{"lead_id": "L0", "n": 71}, {"lead_id": "L1", "n": -3}, {"lead_id": "L2", "n": 0}], fmt
    for fmt, folder in _whole_number_files(tmp_path / "bad", ["71.0", "71.5"]).items():
        msg = _both(folder, fld("n", "int", 5))
        assert msg.startswith(f"{folder / 'leads'}.") and msg.split(": ", 1)[1].startswith(("row 2", "line 2")), msg
        assert '"71.5" is not a whole number' in msg or '"71.50" is not a whole number' in msg, (fmt, msg)


@pytest.mark.parametrize("bad", [("product.csv", b""), ("leads.csv", b""),
                                 ("leads.csv", None)])  # None: an unterminated quote in the first data row
def test_score_cli_refuses_odd_files_the_same_on_both_engines(tmp_path, bad):
    """The audit's 0-byte product.csv / leads.csv: exit 2 and one line naming the file, never zero rows."""
    import shutil

    from click.testing import CliRunner

    from leadlang.cli import main

    root = Path(__file__).parents[1] / "policies" / "plg"
    data = tmp_path / "data"
    shutil.copytree(root / "data", data)
    name, content = bad
    if content is None:
        lines = (data / name).read_text().splitlines(keepends=True)
        content = (lines[0] + lines[1].replace(",", ',"', 1) + "".join(lines[2:50])).encode()
    (data / name).write_bytes(content)
    outputs = []
    for engine in ("duckdb", "python"):
        res = CliRunner().invoke(main, ["score", str(root / "plg.lead"), "--data", str(data), "--as-of", "2024-06-01", "--engine", engine])
        assert res.exit_code == 2, res.output
        assert res.stdout == "" and res.stderr.count("\n") == 1 and res.stderr.startswith(f"error: {data / name}: ")
        assert "@" not in res.stderr  # no e-mail address of any row
        outputs.append(res.stderr)
    assert outputs[0] == outputs[1]


def test_csv_parse_errors_name_the_data_row(tmp_path):
    """A quoted line break makes one row span two lines: the message counts rows, as for bad cells."""
    write(tmp_path / "leads.csv", 'lead_id,email\nL1,"a\nb@x"\nL2,c@x,zz\n')
    assert _both(tmp_path, fld("email", "string", 5)) == f"{tmp_path / 'leads.csv'}: cannot read the file: row 2: Expected Number of Columns: 2 Found: 3"
    write(tmp_path / "leads.csv", 'lead_id,"email\nL1,a@x\n')
    assert _both(tmp_path, fld("email", "string", 5)).startswith(f"{tmp_path / 'leads.csv'}: cannot read the header row: ")
