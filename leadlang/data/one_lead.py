"""One lead's rows for `leadlang explain`: the lead, its account and their events, filtered in the scan (`load_lead`),
and the keys nearest to an unknown one (`close_keys`)."""

from __future__ import annotations

from pathlib import Path

from leadlang.data.errors import run, twice
from leadlang.data.specs import Source, sources
from leadlang.data.staging import stage_text
from leadlang.data.stream import Dataset, _connect, _fetch


def load_lead(policy, data_dir: Path, key: str, by_account: bool) -> Dataset | None:
    """Only the rows one lead's explanation needs, or None when no lead has `key`.

    The lead's row, its account's row, and the events of the lead — with
    `by_account`, of every lead of its account (their lead rows come too). Each
    file is read through DuckDB with the key filter pushed into the scan, and
    checked as `load_dataset` checks it: its columns, and every value of the
    fetched rows (a bad one gets the same message, naming its row in the file);
    the lead's and its account's keys must not repeat. Rows that are not
    fetched are not checked.
    """
    con = _connect()
    try:
        files = {s.name: s._replace(key=None) for s in sources(policy, data_dir)}
        leads = files["leads"]
        rows = _fetch(con, leads, where=(0, [key]))
        if not rows:
            return None
        if len(rows) > 1:
            _raise_twice(con, leads, key)
        out = Dataset(leads=rows)
        account = rows[0].get(policy.leads.account) if policy.leads.account else None
        if account is not None and policy.accounts is not None:
            out.accounts = _fetch(con, files["accounts"], where=(0, [account]))
            if len(out.accounts) > 1:
                _raise_twice(con, files["accounts"], account)
        if account is not None and by_account:
            out.leads = _fetch(con, leads, where=(1, [account]))  # the account's leads: theirs pool with the lead's events
        keys = sorted({r[policy.leads.key] for r in out.leads})
        for name in policy.events:
            out.events[name] = _fetch(con, files[name], where=(0, keys))
        return out
    finally:
        con.close()


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
