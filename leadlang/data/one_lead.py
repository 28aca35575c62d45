"""One lead's rows for `leadlang explain`: the lead, its account and their events, filtered in the scan
(`load_lead`), and the keys nearest to an unknown one (`close_keys`).

What explain reads, and so what it checks, is the rows it needs and what the files' metadata proves:

- every file: that it can be read and has every declared column (a CSV's header, a Parquet file's
  schema, for JSONL the keys of the matching rows), and a Parquet decimal's width;
- the lead's row, its account's row and (for a policy with `by account` aggregates) the rows of
  every lead of that account, and the events of those leads: every value converted and checked
  exactly as `score` does, a bad one named by its row in the whole file;
- the lead's key, its account's key and the keys of the account's leads: on one row each.

Rows it does not fetch are not checked: a bad value elsewhere in the files does not stop the
explanation of a good lead (`score` refuses it). DuckDB pushes the key filter into the scan: a
Parquet file's row groups whose statistics exclude the key are skipped, and its other columns are
decoded only near the matching rows; a CSV or JSONL file has no statistics and is read whole (a
full scan, though only the matching rows are converted and kept).
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from leadlang.data.errors import run, twice
from leadlang.data.specs import Source, sources
from leadlang.data.staging import ident, register_file, stage_text
from leadlang.data.stream import Dataset, _build_rows, _connect, _python_values, _read


def load_lead(policy, data_dir: Path, key: str, by_account: bool) -> Dataset | None:
    """Only the rows one lead's explanation needs, or None when no lead has `key`.

    The lead's row, its account's row, and the events of the lead — with `by_account`, of every
    lead of its account (their lead rows come too), each file read once with its key filter pushed
    into the scan and checked as the module docstring says.
    """
    con = _connect()
    try:
        files = {s.name: s._replace(key=None) for s in sources(policy, data_dir)}
        leads = files["leads"]
        rows = _rows(con, leads, 0, [key])
        if not rows:
            return None
        _once(con, leads, rows)
        out = Dataset(leads=rows)
        account = rows[0].get(policy.leads.account) if policy.leads.account else None
        if account is not None and policy.accounts is not None:
            out.accounts = _rows(con, files["accounts"], 0, [account])
            _once(con, files["accounts"], out.accounts)
        if account is not None and by_account:
            out.leads = _rows(con, leads, 1, [account])  # the account's leads: theirs pool with the lead's events
            _once(con, leads, out.leads)
        keys = sorted({r[policy.leads.key] for r in out.leads})
        for name in policy.events:
            out.events[name] = _rows(con, files[name], 0, keys)
        return out
    finally:
        con.close()


def _rows(con, s: Source, column: int, values: Sequence[str]) -> list[dict]:
    """The rows of `s` whose `column` (an index into `s.columns`) holds one of `values`, checked, in file order.

    Read with `fetchall`, not through Arrow: a few rows do not pay for importing pyarrow."""
    table = f"__src_{s.name}"
    register_file(con, s.path, s.columns, table, None, (column, values))
    select = ", ".join(_read(ident(c.name), c) for c in s.columns)
    got = run(con, s.path, f"SELECT {select} FROM {ident(table)} ORDER BY __row")
    columns = [_python_values(list(values), c.kind) for values, c in zip(zip(*got), s.columns)] if got else [[] for _ in s.columns]
    return _build_rows(len(s.columns))(tuple(c.key for c in s.columns), columns)


def _once(con, s: Source, rows: list[dict]) -> None:
    """No key of a leads or accounts file on two of `rows`: else the message `score` gives for the first repeated one."""
    seen: set = set()
    name = s.columns[0].key
    for row in rows:
        if row[name] in seen:
            _raise_twice(con, s, row[name])
        seen.add(row[name])


def _raise_twice(con, s: Source, key: str) -> None:
    """`key` is on more than one row of a leads or accounts file: the message `score` gives for it."""
    srcs = stage_text(con, s.path, s.columns)
    first, second = (r for (r,) in run(con, s.path, f"SELECT rowid + 1 FROM src WHERE {srcs[0]} = ? ORDER BY rowid LIMIT 2", params=[key]))
    raise twice(s.path, s.columns[0], key, first, second)


def close_keys(policy, data_dir: Path, key: str, limit: int = 200) -> list[str]:
    """The `limit` lead keys nearest to `key` by edit distance: candidates for "did you mean", one scan of the key column."""
    leads = sources(policy, data_dir)[0]
    con = _connect()
    try:
        (src,) = stage_text(con, leads.path, leads.columns[:1])
        return [k for (k,) in run(con, leads.path, f"SELECT k FROM (SELECT DISTINCT NULLIF({src}, '') AS k FROM src) WHERE k IS NOT NULL "
                                                   f"ORDER BY levenshtein(k, ?), k LIMIT {int(limit)}", params=[key])]
    finally:
        con.close()
