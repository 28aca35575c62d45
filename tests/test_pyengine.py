"""The Python engine's own paths: the interpreter without explanation rows, events the reader already
cut at the as-of time (`seen`), and the cycle collector settings while chunks are scored."""

from __future__ import annotations

import csv
import datetime as dt
import gc
from pathlib import Path

import pytest

from leadlang.check import load
from leadlang.engine import score_duckdb, score_python
from leadlang.interpret import Interpreter, evaluate, evaluate_chunks
from leadlang.data.stream import load_dataset
from leadlang.data.writers import write_rows

ROOT = Path(__file__).parent.parent
AS_OF = dt.datetime(2024, 6, 1, tzinfo=dt.timezone.utc)


def test_without_explanation_the_rows_and_fired_rules_are_the_same():
    policy = load(ROOT / "policies/plg/plg.lead")
    ds = load_dataset(policy, ROOT / "policies/plg/data")
    full = evaluate(policy, ds.leads, ds.accounts, ds.events, AS_OF)
    lean = Interpreter(policy, AS_OF, explain=False).run(ds.leads, ds.accounts, ds.events)
    assert lean.rows == full.rows and lean.explain == [] and len(full.explain) > 1000
    assert all(lean.states[k].fired == s.fired and lean.states[k].explain == [] for k, s in full.states.items())


def test_the_collector_settings_come_back_after_scoring_even_on_error():
    policy = load(ROOT / "policies/plg/plg.lead")
    before = gc.get_threshold(), gc.get_freeze_count(), gc.isenabled()

    def chunks():
        yield from ()
        raise RuntimeError("the data stopped")

    with pytest.raises(RuntimeError):
        evaluate_chunks(policy, chunks(), AS_OF)
    assert (gc.get_threshold(), gc.get_freeze_count(), gc.isenabled()) == before


POLICY = """policy offsets "Offsets"
  version "1"
  owner "tests"

leads from ref("leads") key lead_id {
  title string
}

events product from ref("product") {
  lead user_id
  at   occurred_at
  name event_name
}

signal n_all    = count(product)
signal n_day    = count(product in last 1 days)
signal first_at = first(product)
signal last_at  = last(product)
signal loud     = count(product "ping ☃")

score s clamp 0 to 100 {
  many: +10 when n_all >= 2
}
"""

# As of 2024-06-01T00:00Z: at the as-of time (counted), 90 minutes after it (never seen), exactly one day
# before it (outside `in last 1 days`: a window excludes its start), in three zones; an unknown lead.
EVENTS = [
    ("L1", "2024-06-01T02:00:00+02:00", "ping ☃"),
    ("L1", "2024-05-31T23:30:00-02:00", "ping ☃"),
    ("L1", "2024-05-31T01:00:00+01:00", "ping"),
    ("Ł2 \"quoted\", ☃", "2024-05-20T00:00:00Z", "ping ☃"),
    ("L9", "2024-05-30T00:00:00Z", "ping"),
]


def test_events_in_other_zones_around_the_as_of_time_score_as_on_duckdb(tmp_path):
    path = tmp_path / "offsets.lead"
    path.write_text(POLICY, encoding="utf-8")
    policy = load(path)
    data = tmp_path / "data"
    data.mkdir()
    write_rows([{"lead_id": k, "title": t} for k, t in (("L1", "CTO"), ("Ł2 \"quoted\", ☃", None), ("L3", "é\nnew line"))],
               [("lead_id", "string"), ("title", "string")], data / "leads.csv")
    write_rows([{"user_id": k, "occurred_at": at, "event_name": n} for k, at, n in EVENTS],
               [("user_id", "string"), ("occurred_at", "string"), ("event_name", "string")], data / "product.csv")
    columns = [(o.name, o.kind) for o in policy.outputs]
    python, duck = tmp_path / "python.csv", tmp_path / "duckdb.csv"
    assert score_python(policy, data, AS_OF, python, None, size=1) == 3
    write_rows(score_duckdb(policy, data, AS_OF).rows, columns, duck)
    assert python.read_bytes() == duck.read_bytes()
    rows = {r["lead_id"]: r for r in csv.DictReader(python.open(encoding="utf-8", newline=""))}
    picked = ("n_all", "n_day", "first_at", "last_at", "loud", "s")
    assert [rows["L1"][c] for c in picked] == ["2", "1", "2024-05-31T00:00:00Z", "2024-06-01T00:00:00Z", "1", "10"]
    assert [rows['Ł2 "quoted", ☃'][c] for c in picked] == ["1", "0", "2024-05-20T00:00:00Z", "2024-05-20T00:00:00Z", "1", "0"]
    assert [rows["L3"][c] for c in picked] == ["0", "0", "", "", "0", "0"] and len(rows) == 3


def test_dict_rows_in_other_zones_score_as_the_streamed_tuples(tmp_path):
    # `Interpreter.run` lays out dict rows (a test block's, `load_dataset`'s) as the stream's tuples, times in
    # microseconds: zoned datetimes give the streamed path's windows, as-of cut and `first`/`last` instants
    path = tmp_path / "offsets.lead"
    path.write_text(POLICY, encoding="utf-8")
    policy = load(path)
    leads = [{"lead_id": k, "title": None} for k in ("L1", 'Ł2 "quoted", ☃', "L3")]
    events = {"product": [{"lead": k, "at": dt.datetime.fromisoformat(at.replace("Z", "+00:00")), "name": n} for k, at, n in EVENTS]}
    got = {r["lead_id"]: r for r in evaluate(policy, leads, [], events, AS_OF).rows}
    picked = ("n_all", "n_day", "first_at", "last_at", "loud", "s")
    utc = dt.timezone.utc
    assert [got["L1"][c] for c in picked] == [2, 1, dt.datetime(2024, 5, 31, tzinfo=utc), dt.datetime(2024, 6, 1, tzinfo=utc), 1, 10]
    assert got["L1"]["last_at"].tzinfo is utc and got["L3"]["first_at"] is None and got["L3"]["n_all"] == 0
