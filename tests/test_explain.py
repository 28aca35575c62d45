"""`leadlang explain --lead KEY` reads only that lead's rows (and its account's), yet explains it
exactly as scoring the whole data directory does, with the same checks on the rows it reads."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from leadlang.check import load
from leadlang.cli import main
from leadlang.data.stream import load_dataset
from leadlang.explain import render_explanation
from leadlang.interpret import evaluate

ROOT = Path(__file__).parent.parent
POLICIES = sorted(p for p in (ROOT / "policies").glob("*/*.lead") if (p.parent / "data").is_dir())
AS_OF = "2024-06-01"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def full_explanations(policy_path: Path, data: Path, as_of):
    """What explain printed before: every lead scored from the whole directory."""
    policy = load(policy_path)
    ds = load_dataset(policy, data)
    result = evaluate(policy, ds.leads, ds.accounts, ds.events, as_of)
    return {k: render_explanation(policy, s, as_of) + "\n" for k, s in result.states.items()}


@pytest.mark.parametrize("policy_path", POLICIES, ids=lambda p: p.stem)
def test_one_lead_explains_as_the_whole_directory_does(policy_path):
    import datetime as dt

    as_of = dt.datetime(2024, 6, 1, tzinfo=dt.timezone.utc)
    expected = full_explanations(policy_path, policy_path.parent / "data", as_of)
    keys = sorted(expected)
    for key in keys[:: max(1, len(keys) // 12)] + keys[-1:]:  # a spread of leads, with and without accounts and events
        r = run("explain", policy_path, "--data", policy_path.parent / "data", "--lead", key, "--as-of", AS_OF)
        assert r.exit_code == 0, r.output
        assert r.output == expected[key], key


def _copy(tmp_path, fmt: str = "csv") -> Path:
    """plg's data in `fmt` (csv, parquet, jsonl)."""
    import duckdb

    data = tmp_path / "data"
    data.mkdir()
    for f in (ROOT / "policies/plg/data").glob("*.csv"):
        if fmt == "csv":
            shutil.copy(f, data / f.name)
        else:
            how = "(FORMAT parquet)" if fmt == "parquet" else "(FORMAT json)"
            duckdb.sql(f"COPY (SELECT * FROM read_csv('{f}', all_varchar = true)) TO '{data / (f.stem + '.' + fmt)}' {how}")
    return data


@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl"])
def test_formats_give_the_same_explanation(tmp_path, fmt):
    data = _copy(tmp_path, fmt)
    base = run("explain", ROOT / "policies/plg/plg.lead", "--data", ROOT / "policies/plg/data", "--lead", "L00004", "--as-of", AS_OF)
    r = run("explain", ROOT / "policies/plg/plg.lead", "--data", data, "--lead", "L00004", "--as-of", AS_OF)
    assert r.exit_code == 0 and r.output == base.output
    missing = run("explain", ROOT / "policies/plg/plg.lead", "--data", data, "--lead", "L0002", "--as-of", AS_OF)
    assert missing.exit_code == 2 and "did you mean `L01002`?" in missing.output


def _edit(path: Path, line: int, old: str, new: str) -> None:
    lines = path.read_text().splitlines(keepends=True)
    assert old in lines[line]
    lines[line] = lines[line].replace(old, new, 1)
    path.write_text("".join(lines))


def test_a_bad_value_in_a_fetched_row_is_the_error_score_gives(tmp_path):
    data = _copy(tmp_path)
    leads = (data / "leads.csv").read_text().splitlines()
    row = next(i for i, line in enumerate(leads) if line.startswith("L00004,"))
    cells = leads[row].split(",")
    header = leads[0].split(",")
    cells[header.index("employees")] = "many"
    leads[row] = ",".join(cells)
    (data / "leads.csv").write_text("\n".join(leads) + "\n")
    r = run("explain", ROOT / "policies/plg/plg.lead", "--data", data, "--lead", "L00004", "--as-of", AS_OF)
    s = run("score", ROOT / "policies/plg/plg.lead", "--data", data, "--as-of", AS_OF)
    assert r.exit_code == s.exit_code == 2
    assert r.output.strip().splitlines()[-1] == s.output.strip().splitlines()[-1]
    assert f"row {row}" in r.output and '"many" is not a whole number' in r.output
    other = next(line.split(",")[0] for line in leads[1:] if not line.startswith("L00004,"))
    assert run("explain", ROOT / "policies/plg/plg.lead", "--data", data, "--lead", other, "--as-of", AS_OF).exit_code == 0  # not fetched, not checked


def test_a_bad_event_of_the_lead_is_named_by_its_file_row(tmp_path):
    data = _copy(tmp_path)
    events = (data / "product.csv").read_text().splitlines()
    header = events[0].split(",")
    row = next(i for i, line in enumerate(events[1:], 1) if line.split(",")[header.index("user_id")] == "L00004")
    cells = events[row].split(",")
    cells[header.index("occurred_at")] = "yesterday"
    events[row] = ",".join(cells)
    (data / "product.csv").write_text("\n".join(events) + "\n")
    r = run("explain", ROOT / "policies/plg/plg.lead", "--data", data, "--lead", "L00004", "--as-of", AS_OF)
    assert r.exit_code == 2 and f"product.csv: row {row}, column \"occurred_at\": \"yesterday\" is not an ISO-8601 timestamp" in r.output


def test_the_leads_key_twice_and_a_missing_column(tmp_path):
    data = _copy(tmp_path)
    leads = (data / "leads.csv").read_text().splitlines()
    row = next(i for i, line in enumerate(leads) if line.startswith("L00004,"))
    (data / "leads.csv").write_text("\n".join(leads + [leads[row]]) + "\n")
    r = run("explain", ROOT / "policies/plg/plg.lead", "--data", data, "--lead", "L00004", "--as-of", AS_OF)
    assert r.exit_code == 2 and f'lead_id "L00004" appears twice, in rows {row} and {len(leads)}' in r.output
    header = leads[0].split(",")
    i = header.index("title")
    (data / "leads.csv").write_text("\n".join(",".join(c for j, c in enumerate(line.split(",")) if j != i) for line in leads) + "\n")
    r = run("explain", ROOT / "policies/plg/plg.lead", "--data", data, "--lead", "L00004", "--as-of", AS_OF)
    assert r.exit_code == 2 and 'no column "title"' in r.output and "Traceback" not in r.output


def test_a_key_twice_among_the_account_leads_of_a_by_account_policy(tmp_path):
    """With `by account`, explain reads every lead of the account: a key on two of those rows is
    score's error, though it is not the explained lead's; another account's leads are not read."""
    data = tmp_path / "data"
    shutil.copytree(ROOT / "policies/abm/data", data)
    leads = (data / "leads.csv").read_text().splitlines()
    accounts = [line.split(",")[1] for line in leads[1:]]
    account = next(a for a in accounts if a and accounts.count(a) >= 2)
    lead, other = [i for i, line in enumerate(leads) if i and line.split(",")[1] == account][:2]  # a data row's index is its row
    outside = next(i for i, line in enumerate(leads) if i and line.split(",")[1] not in ("", account))
    (data / "leads.csv").write_text("\n".join(leads + [leads[other], leads[outside]]) + "\n")
    explain = ("explain", ROOT / "policies/abm/abm.lead", "--data", data, "--as-of", AS_OF, "--lead")
    r = run(*explain, leads[lead].split(",")[0])
    s = run("score", ROOT / "policies/abm/abm.lead", "--data", data, "--as-of", AS_OF)
    key = leads[other].split(",")[0]
    assert r.exit_code == 2 and f'lead_id "{key}" appears twice, in rows {other} and {len(leads)}' in r.output
    assert s.exit_code == 2 and "appears twice" in s.output
    lone = next(line.split(",")[0] for line in leads[1:] if line.split(",")[1] not in (account, leads[outside].split(",")[1]))
    assert run(*explain, lone).exit_code == 0


# ------------------------------------------------- the streaming python engine --

from leadlang.data.stream import stream_dataset  # noqa: E402
from leadlang.diagnostics import DataError  # noqa: E402
from leadlang.interpret import evaluate_chunks, uses_account_events  # noqa: E402


def _both(policy, data, size):
    import datetime as dt

    as_of = dt.datetime(2024, 6, 1, tzinfo=dt.timezone.utc)
    sources = (policy, data)
    ds = load_dataset(*sources)
    return evaluate(policy, ds.leads, ds.accounts, ds.events, as_of), evaluate_chunks(policy, stream_dataset(*sources, size=size), as_of)


@pytest.mark.parametrize("policy_path", [p for p in POLICIES if not uses_account_events(load(p))], ids=lambda p: p.stem)
@pytest.mark.parametrize("size", [1, 7, 10_000])
def test_streamed_chunks_score_as_the_whole_dataset(policy_path, size):
    whole, streamed = _both(load(policy_path), policy_path.parent / "data", size)
    assert streamed.rows == whole.rows and streamed.explain == whole.explain
    assert len(streamed.rows) > 10


def test_streaming_keeps_unknown_leads_out_and_rows_in_key_order(tmp_path):
    data = _copy(tmp_path)
    leads = (data / "leads.csv").read_text().splitlines()
    (data / "leads.csv").write_text("\n".join([leads[0], *reversed(leads[1:])]) + "\n")  # file order is not key order
    product = (data / "product.csv").read_text().splitlines()
    extra = ["ZZZ,2024-05-30T00:00:00Z,login,", "A,2024-05-30T00:00:00Z,login,", ",2024-05-30T00:00:00Z,login,", "L00005a,2024-05-30T00:00:00Z,login,"]
    (data / "product.csv").write_text("\n".join([product[0], *extra, *product[1:]]) + "\n")
    whole, streamed = _both(load(ROOT / "policies/plg/plg.lead"), data, 3)
    assert streamed.rows == whole.rows and streamed.explain == whole.explain
    keys = [r["lead_id"] for r in streamed.rows]
    assert keys == sorted(keys) and len(keys) == len(leads) - 1


@pytest.mark.parametrize("edit", ["bad_int", "twice", "bad_time"])
def test_streaming_gives_the_errors_loading_gives(tmp_path, edit):
    data = _copy(tmp_path)
    if edit == "twice":
        leads = (data / "leads.csv").read_text().splitlines()
        (data / "leads.csv").write_text("\n".join(leads + [leads[5], leads[3]]) + "\n")
    else:
        name, col, bad = ("leads.csv", "employees", "many") if edit == "bad_int" else ("product.csv", "occurred_at", "soon")
        lines = (data / name).read_text().splitlines()
        for row in (9, 4):
            cells = lines[row].split(",")
            cells[lines[0].split(",").index(col)] = bad
            lines[row] = ",".join(cells)
        (data / name).write_text("\n".join(lines) + "\n")
    policy = load(ROOT / "policies/plg/plg.lead")
    sources = (policy, data)
    with pytest.raises(DataError) as loaded:
        load_dataset(*sources)
    with pytest.raises(DataError) as streamed:
        list(stream_dataset(*sources))
    assert str(streamed.value) == str(loaded.value)


def _edges():
    from test_differential import EDGES

    return [p for p in EDGES if not uses_account_events(load(p))]


@pytest.mark.parametrize("path", _edges(), ids=lambda p: p.stem)
def test_streamed_edge_data_scores_as_loaded(tmp_path, path):
    """The differential suite's edge data, written as files: streamed in small chunks, the same rows."""
    from datagen import AS_OF as EDGE_AS_OF
    from datagen import make_rows
    from test_differential import tables_for

    from leadlang.data.writers import write_rows

    policy = load(path)
    leads, accounts, events = make_rows(policy, 1)
    names = {".".join(policy.leads.relation.parts): "leads"}
    if policy.accounts is not None:
        names[".".join(policy.accounts.relation.parts)] = "accounts"
    names.update({".".join(ev.relation.parts): name for name, ev in policy.events.items()})
    for table in tables_for(policy, leads, accounts, events):
        write_rows(table.rows, table.columns, tmp_path / f"{names[table.name]}.csv")
    sources = (policy, tmp_path)
    ds = load_dataset(*sources)
    whole = evaluate(policy, ds.leads, ds.accounts, ds.events, EDGE_AS_OF)
    streamed = evaluate_chunks(policy, stream_dataset(*sources, size=4), EDGE_AS_OF)
    assert streamed.rows == whole.rows and streamed.explain == whole.explain and whole.rows


# ------------------------------------------------------------------ --format json / markdown --

def _scored(policy_path: Path, tmp_path: Path):
    """`score` (DuckDB) of the policy's data: rows by key, and the explanation rows by key."""
    import csv

    out, why = tmp_path / "scored.csv", tmp_path / "why.csv"
    r = run("score", policy_path, "--data", policy_path.parent / "data", "--as-of", AS_OF, "-o", out, "--explain", why)
    assert r.exit_code == 0, r.output
    rows = {row[policy_path.stem and next(iter(row))]: row for row in csv.DictReader(out.open(encoding="utf-8"))}
    fired: dict[str, list[tuple[str, str, str]]] = {}
    for e in csv.DictReader(why.open(encoding="utf-8")):
        key = e[next(iter(e))]
        fired.setdefault(key, []).append((e["component"], e["kind"], e["rule"]))
    return rows, fired


@pytest.mark.parametrize("policy_path", POLICIES, ids=lambda p: p.stem)
def test_json_says_what_score_says(policy_path, tmp_path):
    """Every label, score and fired rule of `explain --format json` is the compiled SQL's (an
    independent path: DuckDB, not the interpreter) for a spread of leads."""
    import json

    policy = load(policy_path)
    rows, fired = _scored(policy_path, tmp_path)
    keys = sorted(rows)
    for key in keys[:: max(1, len(keys) // 6)]:
        r = run("explain", policy_path, "--data", policy_path.parent / "data", "--lead", key, "--as-of", AS_OF, "--format", "json")
        assert r.exit_code == 0, r.output
        doc = json.loads(r.stdout)
        row = rows[key]
        assert doc["schema"] == "leadlang.explain/1" and doc["lead"] == key and doc["as_of"] == "2024-06-01T00:00:00Z"
        for sc in doc["scores"]:
            assert sc["value"] == row[sc["name"]] or float(sc["value"]) == float(row[sc["name"]]), (key, sc["name"])
            if sc["banded"]:
                assert sc["band"] == row[policy.band_column(sc["name"])]
            got = [("rule", r_["id"]) for r_ in sc["rules"] if r_["fired"]]
            assert got == [(k, r_) for c, k, r_ in fired.get(key, []) if c == sc["name"] and k == "rule"], (key, sc["name"])
        for c in doc["classifications"]:
            assert c["label"] == row[c["name"]]
        for cr in doc["criteria"]:
            assert str(cr["met"]).lower() == row[cr["name"]] and str(cr["true"]) == row[policy.met_column(cr["name"])]
        if doc["disqualify"] is not None:
            assert str(doc["disqualify"]["disqualified"]).lower() == row["disqualified"]
            assert (doc["disqualify"]["reason"] or "") == row["disqualify_reason"]
        for name, value in doc["signals"].items():
            assert ("" if value is None else str(value).lower() if isinstance(value, bool) else str(value)) == row[name], (key, name)


def test_markdown_is_a_note_to_paste(tmp_path):
    import json

    args = ["explain", ROOT / "policies/plg/plg.lead", "--data", ROOT / "policies/plg/data", "--lead", "L00001", "--as-of", AS_OF]
    doc = json.loads(run(*args, "--format", "json").stdout)
    md = run(*args, "--format", "markdown")
    assert md.exit_code == 0 and md.stdout.startswith("### Lead `L00001`")
    for c in doc["classifications"]:
        assert f"- **{c['name']}**: {c['label']}" in md.stdout
    for sc in doc["scores"]:
        for r in sc["rules"]:
            assert (f"| {r['id']} | " in md.stdout) == r["fired"], r["id"]
    bad = run(*args, "--format", "markdown", "--history")
    assert bad.exit_code == 2
