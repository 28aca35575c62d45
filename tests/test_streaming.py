"""`score --engine python` streams: chunks of leads (by account for `by account` policies) scored by the
compiled interpreter and written as they come. Whatever the chunk size, the bytes are those of scoring
the whole directory at once (`load_dataset` + `evaluate` + `write_rows`)."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest

from leadlang.check import load
from leadlang.data.stream import load_dataset, stream_dataset
from leadlang.data.writers import write_rows
from leadlang.engine import score_python
from leadlang.interpret import EXPLAIN_COLUMNS, evaluate, uses_account_events

ROOT = Path(__file__).parent.parent
AS_OF = dt.datetime(2024, 6, 1, tzinfo=dt.timezone.utc)


def _sources(policy, data: Path):
    return policy, data


def _whole(policy, data: Path, as_of, tmp_path: Path, ext: str) -> tuple[bytes, bytes]:
    """What the Python engine wrote before it streamed: every row in memory, then `write_rows`."""
    ds = load_dataset(*_sources(policy, data))
    result = evaluate(policy, ds.leads, ds.accounts, ds.events, as_of)
    out, why = tmp_path / f"whole.{ext}", tmp_path / f"whole-why.{ext}"
    write_rows(result.rows, [(o.name, o.kind) for o in policy.outputs], out)
    write_rows(result.explain, [(policy.key, "string"), *EXPLAIN_COLUMNS], why)
    return _read(out), _read(why)


def _streamed(policy, data: Path, as_of, tmp_path: Path, ext: str, size: int) -> tuple[bytes, bytes]:
    out, why = tmp_path / f"streamed-{size}.{ext}", tmp_path / f"streamed-{size}-why.{ext}"
    count = score_python(policy, data, as_of, out, None, why, size=size)
    assert count == len(load_dataset(*_sources(policy, data)).leads)
    return _read(out), _read(why)


def _read(path: Path):
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        return table.schema, table.to_pylist()
    return path.read_bytes()


def _edge_data(path: Path, tmp_path: Path) -> Path:
    """The differential suite's edge rows (odd strings, missing values, window boundaries, unknown leads) as CSV files."""
    from test_differential import tables_for

    from datagen import make_rows

    policy = load(path)
    leads, accounts, events = make_rows(policy, 1)
    names = {".".join(policy.leads.relation.parts): "leads"}
    if policy.accounts is not None:
        names[".".join(policy.accounts.relation.parts)] = "accounts"
    names.update({".".join(ev.relation.parts): name for name, ev in policy.events.items()})
    data = tmp_path / "data"
    data.mkdir()
    for table in tables_for(policy, leads, accounts, events):
        write_rows(table.rows, table.columns, data / f"{names[table.name]}.csv")
    return data


EDGES = sorted((ROOT / "tests" / "differential").glob("*.lead"))


@pytest.mark.parametrize("path", EDGES, ids=lambda p: p.stem)
@pytest.mark.parametrize("size", [1, 2, 3])
def test_edge_data_streamed_in_tiny_chunks_writes_the_same_bytes(tmp_path, path, size):
    from datagen import AS_OF as EDGE_AS_OF

    policy = load(path)
    data = _edge_data(path, tmp_path)
    for ext in ("csv", "jsonl"):
        whole = _whole(policy, data, EDGE_AS_OF, tmp_path, ext)
        assert _streamed(policy, data, EDGE_AS_OF, tmp_path, ext, size) == whole
        assert whole[0].count(b"\n") > 3


@pytest.mark.parametrize(("name", "size"), [("abm", 1), ("abm", 3), ("plg", 7), ("plg", 10_000)])
@pytest.mark.parametrize("ext", ["csv", "jsonl", "parquet"])
def test_examples_streamed_in_any_chunk_size_write_the_same_output(tmp_path, name, size, ext):
    """ABM reads `by account` (chunks by account, rows put back in key order); PLG does not."""
    policy_path = ROOT / "policies" / name / f"{name}.lead"
    policy, data = load(policy_path), policy_path.parent / "data"
    assert _streamed(policy, data, AS_OF, tmp_path, ext, size) == _whole(policy, data, AS_OF, tmp_path, ext)


@pytest.mark.parametrize("size", [1, 2, 5])
def test_by_account_chunks_hold_every_lead_of_an_account_and_their_events(size):
    policy = load(ROOT / "policies/abm/abm.lead")
    assert uses_account_events(policy)
    data = ROOT / "policies/abm/data"
    ds = load_dataset(*_sources(policy, data))
    home: dict[str, int] = {}
    keys, n_events, sizes = [], 0, []
    for i, chunk in enumerate(stream_dataset(*_sources(policy, data), size=size, by_account=True)):
        mine = {lead["lead_id"] for lead in chunk.leads}
        keys += mine
        sizes.append(len(chunk.leads))
        for lead in chunk.leads:
            acct = lead["account_id"]
            if acct is not None:
                assert home.setdefault(acct, i) == i, f"account {acct} split over chunks {home[acct]} and {i}"
        assert {a["account_id"] for a in chunk.accounts} <= {lead["account_id"] for lead in chunk.leads}
        for rows in chunk.events.values():
            assert {ev[0] for ev in rows} <= mine
            n_events += len(rows)
    known = {lead["lead_id"] for lead in ds.leads}
    assert sorted(keys) == sorted(known)
    assert n_events == sum(1 for rows in ds.events.values() for ev in rows if ev["lead"] in known)
    assert len(home) > 10 and all(n >= size for n in sizes[:-1]) and max(sizes) > size  # some account has several leads


def test_rows_are_written_before_the_last_chunk_is_read(monkeypatch):
    """Each chunk's rows reach the output as it is scored: none are held back until the end."""
    import leadlang.data.stream

    policy = load(ROOT / "policies/plg/plg.lead")
    data = ROOT / "policies/plg/data"
    out = io.StringIO()
    seen: list[int] = []  # data lines written when each chunk is handed out
    real = leadlang.data.stream.stream_dataset

    def watched(*args, **kwargs):
        for chunk in real(*args, **kwargs):
            seen.append(out.getvalue().count("\n") - 1 if out.getvalue() else 0)
            yield chunk

    monkeypatch.setattr(leadlang.data.stream, "stream_dataset", watched)
    count = score_python(policy, data, AS_OF, None, out, size=500)
    assert count == 2000 and seen == [0, 500, 1000, 1500]
    ds = load_dataset(*_sources(policy, data))
    whole = io.StringIO()
    write_rows(evaluate(policy, ds.leads, ds.accounts, ds.events, AS_OF).rows, [(o.name, o.kind) for o in policy.outputs], None, whole)
    assert out.getvalue() == whole.getvalue()


def test_a_failure_midway_leaves_no_output_file(tmp_path, monkeypatch):
    """An error in a later chunk (here: the data stops being readable) leaves no partial file behind."""
    import leadlang.data.stream
    from leadlang.diagnostics import DataError

    policy = load(ROOT / "policies/plg/plg.lead")
    real = leadlang.data.stream.stream_dataset

    def failing(*args, **kwargs):
        for i, chunk in enumerate(real(*args, **kwargs)):
            if i == 2:
                raise DataError("broken")
            yield chunk

    monkeypatch.setattr(leadlang.data.stream, "stream_dataset", failing)
    out = tmp_path / "out.csv"
    with pytest.raises(DataError):
        score_python(policy, ROOT / "policies/plg/data", AS_OF, out, None, tmp_path / "why.parquet", size=300)
    assert list(tmp_path.iterdir()) == []
