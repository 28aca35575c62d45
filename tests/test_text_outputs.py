"""DuckDB writes CSV, JSONL and Parquet itself: the same bytes as the Python writer, the reference.

`leadlang score` has DuckDB format every CSV/JSONL line (`engine.write_text`) or
COPY the Parquet file; `io.write_table`/`write_rows` (still the `--engine python`
path) over the same engine's rows is the reference. Both must give the same output
for every example policy and for edge-case data: quotes, commas, CR, LF, control
characters, Unicode, padding, missing values, boundary timestamps.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from leadlang.cli import main
from leadlang.data.writers import write_rows, write_table
from leadlang.engine import score_duckdb, write_text

ROOT = Path(__file__).parent.parent
POLICIES = sorted(p for p in (ROOT / "policies").glob("*/*.lead"))
AS_OF = "2024-06-01T12:00:00Z"
# what a CSV or JSON writer can get wrong; every one reaches a key or a string output
EDGE = ["", " ", " padded ", "a,b", 'say "hi"', "line\nbreak", "crlf\r\n", "tab\tx", "\x01\x1f\x7f", "back\\slash",
        "O'Brien", "café", "日本", "🙂", "\u2028\u2029", "\ufeffbom", "=1+2", "null", "true", "-0", "1e3"]
LONE_CR = "cr\ronly"  # DuckDB's CSV reader cannot read it back from a data file, so only `write_text` sees it


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def _load(path: Path):
    from leadlang.cli.common import load_policy as load

    return load(path)


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (dt.datetime, dt.date)):
        return v.isoformat()
    return str(v)


def _edge_data(path: Path, into: Path, seed: int) -> Path:
    """`datagen` rows for the policy at `path`, with edge strings in keys and string columns, as CSV files."""
    from datagen import make_rows

    policy = _load(path)
    leads, accounts, events = make_rows(policy, seed)
    strings = [n for n, t in policy.lead_types.items() if t.kind == "string" and not t.values]
    for i, row in enumerate(leads):
        row[policy.key] = f"{EDGE[i % len(EDGE)]}#{i}"  # unique, each edge string leading a key
        for n in strings:
            if n != policy.key and row.get(n) is not None and i % 3 == 0:
                row[n] = EDGE[(i * 7) % len(EDGE)]
    keys = [r[policy.key] for r in leads]
    for rows in events.values():
        for j, r in enumerate(rows):
            if r["lead"] is not None and r["lead"] not in ("L-unknown",):
                r["lead"] = keys[j % len(keys)]
    into.mkdir(parents=True)
    tables = {"leads": leads, "accounts": accounts, **events}
    for name, rows in tables.items():
        if name == "accounts" and policy.accounts is None:
            continue
        declared = {"leads": policy.lead_types, "accounts": policy.account_types}.get(name)
        if declared:
            header, fields = list(declared), list(declared)
        else:  # the event's own names for its lead, time and name columns
            ev = policy.events[name]
            fields = ["lead", "at", "name", *policy.event_types[name]]
            header = [ev.lead or "lead", ev.at or "at", ev.event_name or "name", *policy.event_types[name]]
        with (into / f"{name}.csv").open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(header)
            w.writerows([_cell(r.get(h)) for h in fields] for r in rows)
    return into


def _outputs(policy: Path, data: Path, where: Path) -> dict[str, object]:
    """What `leadlang score` writes: DuckDB formatting the lines, or COPYing the Parquet file."""
    where.mkdir()
    got = {}
    for suffix in ("csv", "jsonl", "parquet"):
        why = where / f"why.{'csv' if suffix == 'parquet' else suffix}"
        r = run("score", policy, "--data", data, "--as-of", AS_OF, "-o", where / f"out.{suffix}", "--explain", why)
        assert r.exit_code == 0, r.output
        got[suffix] = (where / f"out.{suffix}").read_bytes() if suffix != "parquet" else pq.read_table(where / "out.parquet")
        got["why." + suffix] = why.read_bytes()
    r = run("score", policy, "--data", data, "--as-of", AS_OF)
    assert r.exit_code == 0, r.output
    got["stdout"] = r.stdout_bytes
    return got


def _reference(policy_path: Path, data: Path, where: Path) -> dict[str, object]:
    """The same rows through the Python writer, `io.write_table`, as every format was written before."""
    from leadlang.interpret import EXPLAIN_COLUMNS

    policy = _load(policy_path)
    scored = score_duckdb(policy, data, dt.datetime(2024, 6, 1, 12, tzinfo=dt.timezone.utc), explain=True)
    columns = [(o.name, o.kind) for o in policy.outputs]
    why_columns = [(policy.key, "string"), *EXPLAIN_COLUMNS]
    where.mkdir()
    expected = {}
    for suffix in ("csv", "jsonl", "parquet"):
        write_table(scored.table, columns, where / f"out.{suffix}")
        write_table(scored.explain_table, why_columns, where / f"why.{suffix}")
        expected[suffix] = (where / f"out.{suffix}").read_bytes() if suffix != "parquet" else pq.read_table(where / "out.parquet")
        expected["why." + suffix] = (where / f"why.{'csv' if suffix == 'parquet' else suffix}").read_bytes()
    stream = io.StringIO(newline="")
    write_table(scored.table, columns, None, stream=stream)
    expected["stdout"] = stream.getvalue().encode("utf-8")
    return expected


def _assert_same(policy: Path, data: Path, tmp_path: Path) -> None:
    expected = _reference(policy, data, tmp_path / "reference")
    got = _outputs(policy, data, tmp_path / "duckdb")
    for what, reference in expected.items():
        if what == "parquet":  # two Parquet writers: the same column types and values, not the same bytes
            # (DuckDB marks a column that holds no missing value `not null`; pyarrow leaves every column nullable)
            assert [(f.name, f.type) for f in got[what].schema] == [(f.name, f.type) for f in reference.schema]
            assert got[what].cast(reference.schema).equals(reference), what
        else:
            assert got[what] == reference, f"{policy.stem}: {what} differs"
    assert expected["stdout"] == expected["csv"]


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.parent.name)
def test_example_data_gives_the_reference_bytes(policy, tmp_path):
    _assert_same(policy, policy.parent / "data", tmp_path)


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.parent.name)
def test_edge_data_gives_the_reference_bytes(policy, tmp_path):
    data = _edge_data(policy, tmp_path / "data", seed=7)
    _assert_same(policy, data, tmp_path)


def test_every_value_formats_as_the_python_writer(tmp_path):
    """Each type, missing values and every control character, straight through `write_text`."""
    con = duckdb.connect()
    texts = [*EDGE, LONE_CR, *(chr(c) for c in range(0x20)), None]
    con.execute("CREATE TABLE t (s VARCHAR, i BIGINT, w DECIMAL(38, 0), n DECIMAL(38, 10), b BOOLEAN, d DATE, ts TIMESTAMPTZ)")
    numbers = ["0", "-0.0000000001", "12.5", "-3", "1234567890123456789012345678.5", "0.1000000000", None]
    stamps = ["2024-06-01 12:00:00+00", "2024-05-31 23:59:59.999999+00", "0001-01-01 00:00:00+00", "9999-12-31 23:59:59.000001+00",
              "2024-06-01 14:00:00.5+02", None]
    for k, s in enumerate(texts):
        n = numbers[k % len(numbers)]
        ts = stamps[k % len(stamps)]
        con.execute("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?)", [
            s, None if k % 5 == 4 else (k - 20) * 10**15, None if k % 6 == 5 else -k, None if n is None else Decimal(n),
            None if k % 3 == 2 else k % 2 == 0, None if k % 4 == 3 else dt.date(1 + k * 300 % 9999, 1 + k % 12, 1 + k % 28), ts,
        ])
    columns = [("s", "string"), ("i", "int"), ("w", "int"), ("n", "number"), ("b", "bool"), ("d", "date"), ("ts", "timestamp")]
    sql = "SELECT * FROM t ORDER BY rowid"
    rows = con.sql(sql).to_arrow_table().to_pylist()
    for suffix in ("csv", "jsonl"):
        expected, got = tmp_path / f"expected.{suffix}", tmp_path / f"got.{suffix}"
        write_rows(rows, columns, expected)
        assert write_text(con, sql, columns, got, None) == len(rows)
        assert got.read_bytes() == expected.read_bytes(), suffix
    stream, reference = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", newline=""), io.StringIO(newline="")
    write_rows(rows, columns, None, stream=reference)
    assert write_text(con, sql, columns, None, stream) == len(rows)
    assert stream.buffer.getvalue() == reference.getvalue().encode("utf-8")


def test_a_type_the_sql_writer_does_not_know_falls_back(tmp_path):
    con = duckdb.connect()
    assert write_text(con, "SELECT 1.5::DOUBLE AS x", [("x", "number")], tmp_path / "x.csv", None) is None
    assert not (tmp_path / "x.csv").exists()



def _cli(*args, **kwargs):
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "leadlang", *map(str, args)], env=env, stderr=subprocess.PIPE, **kwargs)


def test_standard_output_written_by_duckdb_goes_where_it_points(tmp_path):
    """DuckDB COPYs the CSV to the process's standard output: a pipe gets the bytes of `-o`, and a file opened
    for appending keeps what it held (reopening it by name would truncate it and write from its start)."""
    policy = ROOT / "policies" / "plg" / "plg.lead"
    data = _edge_data(policy, tmp_path / "data", seed=11)
    args = ["score", policy, "--data", data, "--as-of", AS_OF]
    assert _cli(*args, "-o", tmp_path / "scores.csv").returncode == 0
    expected = (tmp_path / "scores.csv").read_bytes()
    assert expected.count(b"\n") > 10
    piped = _cli(*args, stdout=-1)  # subprocess.PIPE
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout == expected
    for mode, before in (("ab", b"before\n"), ("wb", b"before\n"), ("wb", b"")):  # appending (no sendfile there),
        log = tmp_path / f"log.{mode}.{len(before)}.csv"  # `> file` already written to, and `> file` (DuckDB writes it)
        log.write_bytes(b"")
        with open(log, mode) as f:
            f.write(before)
            f.flush()
            assert _cli(*args, stdout=f).returncode == 0
            f.write(b"after\n")
        assert log.read_bytes() == before + expected + b"after\n", mode


def test_standard_output_closed_early_is_quiet(tmp_path):
    """The reader of the pipe goes away after 10 bytes: no error line, no traceback (as for Python's own writes)."""
    import os
    import shlex
    import subprocess
    import sys

    policy = ROOT / "policies" / "plg" / "plg.lead"
    data = _edge_data(policy, tmp_path / "data", seed=3)
    cmd = shlex.join([sys.executable, "-m", "leadlang", "score", str(policy), "--data", str(data), "--as-of", AS_OF]) + " | head -c 10"
    p = subprocess.run(cmd, shell=True, capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)
    assert p.stdout == b"lead_id,em"
    assert p.stderr == b""


def test_a_failed_explanation_leaves_the_scores_file_as_it_was(tmp_path):
    """`-o FILE --explain FILE2`: both files are replaced, or neither."""
    policy = ROOT / "policies" / "plg" / "plg.lead"
    data = policy.parent / "data"
    for suffix in ("csv", "jsonl", "parquet"):
        out = tmp_path / f"scores.{suffix}"
        out.write_bytes(b"old")
        r = run("score", policy, "--data", data, "--as-of", AS_OF, "-o", out, "--explain", tmp_path / "missing" / "why.csv")
        assert r.exit_code == 2, r.output
        assert "missing" in r.output and "cannot write" in r.output
        assert out.read_bytes() == b"old", suffix
        assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")], suffix  # no temporary file left
        why = tmp_path / f"why.{suffix}.csv"
        r = run("score", policy, "--data", data, "--as-of", AS_OF, "-o", out, "--explain", why)
        assert r.exit_code == 0, r.output
        assert out.read_bytes() != b"old" and why.read_bytes().startswith(b"lead_id,")


def test_outputs_whose_names_differ_only_in_case_keep_their_own_values(tmp_path):
    """`Invites_14d` and `invites_14d` are two outputs (names are case-sensitive), but DuckDB matches names
    ignoring case: every DuckDB writer reads the scored columns by position, and each format is the Python
    engine's, values and names."""
    plg = ROOT / "policies" / "plg" / "plg.lead"
    policy = tmp_path / "p.lead"
    policy.write_text(plg.read_text(encoding="utf-8").replace("signal invites_14d ", "signal Invites_14d = 1\nsignal invites_14d ", 1),
                      encoding="utf-8")
    data = plg.parent / "data"
    for suffix in ("csv", "jsonl", "parquet"):
        out = {}
        for engine in ("duckdb", "python"):
            out[engine] = tmp_path / f"{engine}.{suffix}"
            r = run("score", policy, "--data", data, "--as-of", AS_OF, "--engine", engine, "-o", out[engine])
            assert r.exit_code == 0, r.output
        if suffix == "parquet":
            got, want = pq.read_table(out["duckdb"]), pq.read_table(out["python"])
            assert got.column_names == want.column_names and got.to_pylist() == want.to_pylist()
            assert got.column("invites_14d").to_pylist() != got.column("Invites_14d").to_pylist()
        else:
            assert out["duckdb"].read_bytes() == out["python"].read_bytes(), suffix
    assert run("score", policy, "--data", data, "--as-of", AS_OF).stdout_bytes == (tmp_path / "python.csv").read_bytes()


def test_label_and_action_words_are_written_without_escaping_only_when_none_is_needed(tmp_path):
    """`engine.words`: the string outputs whose values are the policy's own words, none needing CSV quotes or a
    JSON escape, are formatted without looking at each value; an action value with a comma and quotes is not
    one of them and is escaped: every format is the Python engine's."""
    from leadlang.engine import words

    plg = ROOT / "policies" / "plg" / "plg.lead"
    policy = tmp_path / "p.lead"
    policy.write_text(plg.read_text(encoding="utf-8").replace('owner "activation_team"', 'owner "activation, \\"west\\""'), encoding="utf-8")
    loaded = _load(policy)
    assert {"fit_band", "stage", "route", "policy", "disqualify_reason"} <= words(loaded)
    assert "owner" not in words(loaded) and "lead_id" not in words(loaded)
    data = plg.parent / "data"
    for suffix in ("csv", "jsonl"):
        out = {}
        for engine in ("duckdb", "python"):
            out[engine] = tmp_path / f"{engine}.{suffix}"
            r = run("score", policy, "--data", data, "--as-of", AS_OF, "--engine", engine, "-o", out[engine])
            assert r.exit_code == 0, r.output
        assert out["duckdb"].read_bytes() == out["python"].read_bytes(), suffix
        assert b'west' in out["duckdb"].read_bytes()
