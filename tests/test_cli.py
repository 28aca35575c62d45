"""The command line contract: outputs, exit codes (0, 1 findings, 2 bad input), no tracebacks."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from leadlang.cli import main

ROOT = Path(__file__).parent.parent
PLG = ROOT / "policies" / "plg"
AS_OF = "2024-06-01"


def write_csv(path: Path, rows: list[dict]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def run(*args: str):
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    return result


def test_check_ok_and_json():
    r = run("check", PLG / "plg.lead")
    assert r.exit_code == 0 and "no errors" in r.output
    r = run("check", "--format", "json", ROOT / "tests/cases/names_unknown_field.lead")
    assert r.exit_code == 1
    found = json.loads(r.stdout)
    assert found[0]["code"] == "E201" and found[0]["line"] == 21 and "did you mean `industry`?" in found[0]["hints"]


def test_check_errors_exit_1_with_caret():
    r = run("check", ROOT / "tests/cases/names_enum_value.lead")
    assert r.exit_code == 1
    assert "error[E205]" in r.stderr and "^" in r.stderr and "did you mean `software`?" in r.stderr


def test_score_writes_one_row_per_lead_ordered_by_key(tmp_path):
    out = tmp_path / "scored.csv"
    r = run("score", PLG / "plg.lead", "--data", PLG / "data", "--as-of", AS_OF, "--engine", "python", "-o", out)
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    with (PLG / "data" / "leads.csv").open(encoding="utf-8") as f:
        keys = [row["lead_id"] for row in csv.DictReader(f)]
    assert [row["lead_id"] for row in rows] == sorted(keys)
    assert all(row["policy"] == "plg@2024.06" and row["as_of"] == "2024-06-01T00:00:00Z" for row in rows)
    assert {row["disqualified"] for row in rows} <= {"true", "false"}
    assert {row["segment"] for row in rows} <= {"sales_ready", "opportunity", "heartbreaker", "ignore", "disqualified"}


def test_score_formats_and_explain(tmp_path):
    for ext in ("csv", "jsonl", "parquet"):
        out = tmp_path / f"scored.{ext}"
        why = tmp_path / f"why.{ext}"
        r = run("score", PLG / "plg.lead", "--data", PLG / "data", "--as-of", AS_OF, "--engine", "python", "-o", out, "--explain", why)
        assert r.exit_code == 0, r.output
        assert out.stat().st_size > 0 and why.stat().st_size > 0
    lines = (tmp_path / "why.jsonl").read_text().splitlines()
    first = json.loads(lines[0])
    assert set(first) == {"lead_id", "component", "kind", "rule", "points"}


def test_score_to_stdout_is_csv():
    r = run("score", PLG / "plg.lead", "--data", PLG / "data", "--as-of", AS_OF, "--engine", "python")
    assert r.exit_code == 0
    header = next(csv.reader(io.StringIO(r.stdout)))
    assert header[0] == "lead_id" and header[-2:] == ["policy", "as_of"]


def test_missing_data_file_is_exit_2(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(PLG / "data", data)
    (data / "marketing.csv").unlink()
    r = run("score", PLG / "plg.lead", "--data", data, "--as-of", AS_OF, "--engine", "python")
    assert r.exit_code == 2
    assert "marketing" in r.stderr and "Traceback" not in r.stderr


def test_missing_column_is_exit_2(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(PLG / "data", data)
    text = (data / "leads.csv").read_text(encoding="utf-8").splitlines()
    header = text[0].split(",")
    idx = header.index("employees")
    rows = [",".join(c for i, c in enumerate(next(csv.reader([line]))) if i != idx) for line in text[:3]]
    (data / "leads.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    r = run("score", PLG / "plg.lead", "--data", data, "--as-of", AS_OF, "--engine", "python")
    assert r.exit_code == 2
    assert "employees" in r.stderr and "leads" in r.stderr


def test_bad_value_is_exit_2_naming_file_column_and_policy_line(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(PLG / "data", data)
    rows = list(csv.DictReader((data / "leads.csv").open(encoding="utf-8")))
    rows[3]["employees"] = "twelve"
    write_csv(data / "leads.csv", rows)
    r = run("score", PLG / "plg.lead", "--data", data, "--as-of", AS_OF, "--engine", "python")
    assert r.exit_code == 2
    assert "employees" in r.stderr and "twelve" in r.stderr and "plg.lead:" in r.stderr


def test_bad_options_are_exit_2():
    assert run("score", PLG / "plg.lead", "--data", PLG / "data", "--as-of", "yesterday").exit_code == 2
    assert run("score", PLG / "plg.lead", "--data", PLG / "data", "--bogus").exit_code == 2
    assert run("check", ROOT / "no-such.lead").exit_code == 2
    assert run("score", PLG / "plg.lead", "--data", ROOT / "no-such-dir", "--engine", "python").exit_code == 2


def test_policy_error_in_score_is_exit_1():
    r = run("score", ROOT / "tests/cases/names_unknown_field.lead", "--data", PLG / "data", "--engine", "python")
    assert r.exit_code == 1 and "error[E201]" in r.stderr


def test_explain_shows_rules_bands_gates_cell_and_action():
    rows = list(csv.DictReader(io.StringIO(run("score", PLG / "plg.lead", "--data", PLG / "data", "--as-of", AS_OF, "--engine", "python").stdout)))
    lead = next(r for r in rows if r["segment"] == "sales_ready")
    r = run("explain", PLG / "plg.lead", "--data", PLG / "data", "--lead", lead["lead_id"], "--as-of", AS_OF)
    assert r.exit_code == 0, r.output
    text = r.stdout
    assert f"score fit = {lead['fit']}" in text and "band high" in text
    assert "matrix segment = sales_ready" in text and 'route account_executive' in text
    assert "criteria ucc" in text and "disqualify: no" in text
    assert run("explain", PLG / "plg.lead", "--data", PLG / "data", "--lead", "nope", "--as-of", AS_OF).exit_code == 2


def test_test_command_text_and_junit(tmp_path):
    r = run("test", PLG / "plg.lead")
    assert r.exit_code == 0 and " passed, 0 failed" in r.stdout
    broken = tmp_path / "broken.lead"
    broken.write_text((PLG / "plg.lead").read_text(encoding="utf-8").replace("expect fit >= 60", "expect fit >= 95", 1), encoding="utf-8")
    r = run("test", broken)
    assert r.exit_code == 1
    assert "FAIL" in r.stdout and "expect fit >= 95" in r.stdout and "fit = " in r.stdout and "fired:" in r.stdout
    r = run("test", "--format", "junit", broken)
    assert r.exit_code == 1 and "<failure" in r.stdout and "<testsuites" in r.stdout


def test_console_script_runs_without_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "leadlang", "score", str(PLG / "plg.lead"), "--data", str(tmp_path), "--engine", "python"], capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and proc.stderr.strip().startswith("error:")


def test_progress_shows_on_a_terminal_and_never_in_the_output(tmp_path):
    import os
    import pty

    out = tmp_path / "scored.csv"
    master, slave = pty.openpty()
    proc = subprocess.run(
        [sys.executable, "-m", "leadlang", "score", str(PLG / "plg.lead"), "--data", str(PLG / "data"), "--as-of", AS_OF, "-o", str(out)],
        stderr=slave, stdout=subprocess.PIPE, env={**os.environ, "TERM": "xterm", "COLUMNS": "120"},
    )
    os.close(slave)
    shown = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    os.close(master)
    assert proc.returncode == 0
    assert b"scoring with plg@2024.06 on DuckDB" in shown
    assert out.read_text(encoding="utf-8").startswith("lead_id,")


def test_duckdb_engine_data_errors_match_the_python_engine(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(PLG / "data", data)
    rows = list(csv.DictReader((data / "leads.csv").open(encoding="utf-8")))
    rows[3]["employees"] = "twelve"
    rows[7]["lead_id"] = rows[2]["lead_id"]
    write_csv(data / "leads.csv", rows)
    messages = []
    for engine in ("duckdb", "python"):
        r = run("score", PLG / "plg.lead", "--data", data, "--as-of", AS_OF, "--engine", engine)
        assert r.exit_code == 2 and "Traceback" not in r.stderr
        messages.append(r.stderr)
    assert messages[0] == messages[1] and "row 4" in messages[0] and "twelve" in messages[0]
    rows[3]["employees"] = "12"
    write_csv(data / "leads.csv", rows)
    duck = run("score", PLG / "plg.lead", "--data", data, "--as-of", AS_OF, "--engine", "duckdb")
    py = run("score", PLG / "plg.lead", "--data", data, "--as-of", AS_OF, "--engine", "python")
    assert duck.exit_code == py.exit_code == 2 and duck.stderr == py.stderr and "appears twice" in duck.stderr


def test_both_engines_write_identical_files(tmp_path):
    outs = {}
    for engine in ("duckdb", "python"):
        for ext in ("csv", "jsonl"):
            out = tmp_path / f"{engine}.{ext}"
            why = tmp_path / f"{engine}-why.{ext}"
            r = run("score", PLG / "plg.lead", "--data", PLG / "data", "--as-of", AS_OF, "--engine", engine, "-o", out, "--explain", why)
            assert r.exit_code == 0, r.output
            outs[engine, ext] = (out.read_bytes(), why.read_bytes())
    assert outs["duckdb", "csv"] == outs["python", "csv"]
    assert outs["duckdb", "jsonl"] == outs["python", "jsonl"]


def test_native_parquet_reads_like_text_on_both_engines(tmp_path):
    """Typed Parquet takes the engine's fast path; values, errors and outputs match the Python engine."""
    import duckdb

    data = tmp_path / "data"
    data.mkdir()
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for name in ("leads", "product", "marketing"):
        src = str(PLG / "data" / f"{name}.csv")
        if name == "leads":
            con.execute(f"COPY (SELECT * REPLACE (CAST(employees AS INTEGER) AS employees, CAST(timeline_days AS BIGINT) AS timeline_days, "
                        f"CASE WHEN lead_id = 'L00005' THEN '' ELSE title END AS title) FROM read_csv('{src}', all_varchar = true)) TO '{data / 'leads.parquet'}'")
        else:
            at = "occurred_at" if name == "product" else "happened_at"
            con.execute(f"COPY (SELECT * REPLACE (CAST({at} AS TIMESTAMPTZ) AS {at}) FROM read_csv('{src}', all_varchar = true)) TO '{data / f'{name}.parquet'}'")
    outs = []
    for engine in ("duckdb", "python"):
        out = tmp_path / f"{engine}.csv"
        r = run("score", PLG / "plg.lead", "--data", data, "--as-of", AS_OF, "--engine", engine, "-o", out)
        assert r.exit_code == 0, r.output
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    # a value outside the enum, in a natively typed column: the same one-line error on both engines
    con.execute(f"COPY (SELECT * REPLACE (CASE WHEN lead_id = 'L00009' THEN 'banking' ELSE industry END AS industry) FROM '{data / 'leads.parquet'}') TO '{tmp_path / 'l.parquet'}'")
    (tmp_path / "l.parquet").replace(data / "leads.parquet")
    errors = [run("score", PLG / "plg.lead", "--data", data, "--as-of", AS_OF, "--engine", e) for e in ("duckdb", "python")]
    assert errors[0].exit_code == errors[1].exit_code == 2
    assert errors[0].stderr == errors[1].stderr and '"banking"' in errors[0].stderr and "row 9" in errors[0].stderr


def test_parquet_outputs_of_both_engines_are_equal(tmp_path):
    import pyarrow.parquet as pq

    tables = {}
    for engine in ("duckdb", "python"):
        out, why = tmp_path / f"{engine}.parquet", tmp_path / f"{engine}-why.parquet"
        r = run("score", PLG / "plg.lead", "--data", PLG / "data", "--as-of", AS_OF, "--engine", engine, "-o", out, "--explain", why)
        assert r.exit_code == 0, r.output
        tables[engine] = (pq.read_table(out), pq.read_table(why))
    for a, b in zip(tables["duckdb"], tables["python"]):
        # same names, types and values; DuckDB may also mark never-null columns as required
        assert [(f.name, f.type) for f in a.schema] == [(f.name, f.type) for f in b.schema]
        assert a.cast(b.schema).equals(b)


def test_check_shows_at_most_50_errors_and_counts_the_rest(tmp_path):
    """A policy pasted into itself 60 times: 50 errors rendered, one line for the rest, the count line true."""
    big = tmp_path / "big.lead"
    big.write_text((PLG / "plg.lead").read_text() * 60)
    result = run("check", big)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    shown = [line for line in lines if line.startswith(f"{big}:")]
    total = int(lines[-1].split()[0])
    assert len(shown) == 50
    assert lines[-2] == f"and {total - 50:,} more errors"
    assert lines[-1] == f"{total} errors in 1 policy"
    assert total > 1_000  # every copy after the first repeats each declaration
    everything = json.loads(run("check", "--format", "json", big).stdout)
    assert len(everything) == total  # JSON is for programs: never capped


def test_lint_github_caps_annotations(tmp_path):
    """More than 50 findings: 50 annotations, then one notice counting the rest."""
    policy = (PLG / "plg.lead").read_text().replace('signal email_domain ', "".join(f"signal unused_{i} = employees\n" for i in range(60)) + 'signal email_domain ', 1)
    path = tmp_path / "many.lead"
    path.write_text(policy)
    found = json.loads(run("lint", "--format", "json", path).stdout)
    assert len(found) > 60
    lines = run("lint", "--format", "github", path).stdout.splitlines()
    assert len(lines) == 51 and all(line.startswith("::") and "file=" in line for line in lines[:50])
    assert lines[-1].startswith("::notice title=leadlang::and ") and f"{len(found) - 50} more" in lines[-1]


def test_a_parquet_string_that_is_not_utf8_is_one_line_without_the_value_on_both_engines(tmp_path):
    """Bytes flipped inside a Parquet string (found by the fuzzer): the same error on both engines, quoting no data."""
    import duckdb

    data = tmp_path / "data"
    shutil.copytree(PLG / "data", data)
    src = data / "leads.csv"
    con = duckdb.connect()
    con.execute(f"COPY (SELECT * REPLACE (CASE WHEN lead_id = 'L00003' THEN 'cleo@bluXXcare.com' ELSE email END AS email) "
                f"FROM read_csv('{src}', all_varchar = true)) TO '{data / 'leads.parquet'}' (FORMAT parquet, COMPRESSION uncompressed)")
    src.unlink()
    raw = (data / "leads.parquet").read_bytes()
    assert raw.count(b"bluXXcare") == 1
    (data / "leads.parquet").write_bytes(raw.replace(b"bluXXcare", b"blu\xe5\xe5care"))
    errors = [run("score", PLG / "plg.lead", "--data", data, "--as-of", AS_OF, "--engine", e) for e in ("duckdb", "python")]
    assert errors[0].exit_code == errors[1].exit_code == 2
    assert errors[0].stderr == errors[1].stderr
    assert errors[0].stderr.count("\n") == 1 and "leads.parquet" in errors[0].stderr and "UTF-8" in errors[0].stderr
    assert "blu" not in errors[0].stderr
