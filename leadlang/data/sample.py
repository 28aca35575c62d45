"""Seeded sample data: the one set of generators behind the example data sets (`policies/*/generate.py`),
the edge-case data of the tests (`tests/datagen.py` draws through a `Sample`) and the edge-case strings
of the benchmark data (`benchmarks/bench_data.py`, which draws in DuckDB SQL to reach millions of rows).

    sample = Sample(seed=20240601, as_of=AS_OF, hours=(7, 20))
    sample.pick([("software", 25), ("retail", 15)])     # a weighted choice
    sample.size(0.07, (0.3, 1, 49), (1, 50, 999))       # "" 7% of the time, else 1-49 or 50-999
    sample.at_days_ago(3.5)                            # a working-hours moment 4 days before as-of
    write_rows(path, ["lead_id", "at"], rows)          # CSV as the examples ship it
    write_events(path, ["lead_id", "at", "name"], events)  # (key, at, name, ...) sorted, times by `ts`
    subset(policy, src, into, n_leads=25)              # a small copy of a data folder (fuzzing)
    scaled(src, dst, copies=6)                         # a data folder many times over (long runs)

Everything draws from `sample.rng` (a `random.Random`), in the order the calls are made, so a
generator run twice writes the same bytes; tests/test_sample_data.py holds every committed data
set to that.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from collections.abc import Iterable, Sequence
from pathlib import Path

AS_OF = dt.datetime(2024, 6, 1, tzinfo=dt.timezone.utc)

# Edge-case strings the test and benchmark data mix in (tests/datagen.py, benchmarks/bench_data.py):
# quotes, backslashes, commas, newlines, blanks, Unicode, and emails without a usable domain.
NL = "\n"
ODD_STRINGS = ["", " padded ", "O'Brien", 'say "hi"', "back\\slash", "line" + NL + "break", "café", "日本", "🙂", "UPPER",
               "a@b@Example.COM", "@", "x@"]
ODD_EMAILS = ['a"b@quote"d.com', "x@comma,co.com", "x@new" + NL + "line.io", "ü@Ünïcödé.例え.jp", "no-at-sign", "trailing@",
              "", "  ", "two@at@rival.com", "caps@GMAIL.COM", "x@Rival.COM", "x@uni.EDU", "x@état.fr", "x@\t tab.io"]
ODD_TITLES = ['Directeur, Ventes "Export"', "VP" + NL + "Sales", "Jefe de Ingeniería", "Глава отдела", "  VP Data  ", "", "   ",
              "Head of ✨ Growth", "Senior Manager", "Team Lead, Platform", "Director\r\nIT", "CHIEF \"Happiness\" OFFICER"]
ODD_COMPANIES = ["Acme", "Big Bank", 'The "Best" Co', "Smith, Jones & Co", "Line" + NL + "Break Ltd", "Müller GmbH", "株式会社テスト",
                 "Ωmega", "", "  ", "O'Brien Partners"]


class Sample:
    """A seeded source of sample values around an as-of time.

    `hours` bounds the hour of day `at_days_ago` draws (inclusive); `quarter_hours` draws minutes
    from :00/:15/:30/:45 and no seconds (a meeting calendar) instead of any minute and second."""

    def __init__(self, seed: int, as_of: dt.datetime = AS_OF, hours: tuple[int, int] = (6, 21), quarter_hours: bool = False):
        self.rng = random.Random(seed)
        self.as_of = as_of
        self.hours = hours
        self.quarter_hours = quarter_hours

    def pick(self, pairs: Sequence[tuple[object, float]]):
        """One value of `(value, weight)` pairs, drawn with probability proportional to its weight."""
        x = self.rng.uniform(0, sum(w for _, w in pairs))
        for value, w in pairs:
            x -= w
            if x <= 0:
                return value
        return pairs[-1][0]

    def size(self, blank: float, *buckets: tuple[float, int, int]) -> str:
        """A company size as the sample files write it: empty with probability `blank`, else a whole
        number from the first `(cut, low, high)` bucket whose `cut` exceeds one uniform draw (the last
        bucket takes the rest)."""
        r = self.rng.random()
        if r < blank:
            return ""
        for cut, low, high in buckets[:-1]:
            if r < cut:
                return str(self.rng.randint(low, high))
        return str(self.rng.randint(*buckets[-1][1:]))

    def at_days_ago(self, days: float, hour: int | None = None) -> dt.datetime:
        """A moment on the day `int(days) + 1` days before as-of, at `hour` or a drawn hour."""
        day = self.as_of - dt.timedelta(days=int(days) + 1)
        h = hour if hour is not None else self.rng.randint(*self.hours)
        if self.quarter_hours:
            return day + dt.timedelta(hours=h, minutes=self.rng.choice([0, 15, 30, 45]))
        return day + dt.timedelta(hours=h, minutes=self.rng.randint(0, 59), seconds=self.rng.randint(0, 59))


def ts(moment: dt.datetime) -> str:
    """A UTC timestamp as the sample files write it: 2024-05-31T09:15:00Z."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def write_rows(path: Path | str, header: Sequence[str], rows: Iterable[Sequence]) -> None:
    """A CSV file: the header, then one line per row, `\\n`-terminated, UTF-8."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def write_events(path: Path | str, header: Sequence[str], events: list[tuple]) -> None:
    """Event tuples `(key, at, name, *more)` as a CSV: sorted (in place) by time, key and name, the
    time written by `ts`, each row cut to the header's columns."""
    events.sort(key=lambda e: (e[1], e[0], e[2]))
    width = len(header)
    write_rows(path, header, ([key, ts(at), *rest][:width] for key, at, *rest in events))


def write_dicts(path: Path | str, rows: Sequence[dict], header: Sequence[str] | None = None) -> None:
    """A CSV file of dict rows, its header `header` or else the first row's keys."""
    header = list(rows[0]) if header is None else list(header)
    write_rows(path, header, ([r[k] for k in header] for r in rows))


def read_dicts(path: Path | str) -> tuple[list[str], list[dict]]:
    """A CSV file's header and its rows as dicts of strings."""
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def subset(policy, src: Path, into: Path, n_leads: int = 25, n_events: int = 300) -> None:
    """A small copy of the CSV data folder `src` of the checked `policy`: its first `n_leads` leads,
    their accounts, and up to `n_events` of each event source's rows that belong to them."""
    into.mkdir(parents=True, exist_ok=True)
    header, leads = read_dicts(src / "leads.csv")
    leads = leads[:n_leads]
    write_dicts(into / "leads.csv", leads, header)
    keys = {r[policy.key] for r in leads}
    if policy.accounts is not None:
        wanted = {r.get(policy.leads.account) for r in leads}
        header, rows = read_dicts(src / "accounts.csv")
        write_dicts(into / "accounts.csv", [r for r in rows if r[policy.accounts.key] in wanted], header)
    for name, ev in policy.events.items():
        header, rows = read_dicts(src / f"{name}.csv")
        write_dicts(into / f"{name}.csv", [r for r in rows if r[ev.lead or "lead"] in keys][:n_events], header)


def scaled(src: Path, dst: Path, copies: int, files: Sequence[str] = ("leads", "product", "marketing")) -> Path:
    """The CSV `files` of the data folder `src`, `copies` times over in `dst`, each copy's keys (the
    first column, the lead key or an event's lead) suffixed `-<copy>`: the same data, more leads."""
    dst.mkdir(parents=True, exist_ok=True)
    for name in files:
        with open(src / f"{name}.csv", newline="", encoding="utf-8") as f:
            header, *rows = list(csv.reader(f))
        write_rows(dst / f"{name}.csv", header, ([f"{r[0]}-{i}", *r[1:]] for i in range(copies) for r in rows))
    return dst
