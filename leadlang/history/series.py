"""A policy's scores over time: one row per lead per as-of point, each `score --as-of t`'s row, and the
label changes between consecutive points (`leadlang history`, docs/history.md).

On DuckDB the series is one statement (`sql.to_sql(..., series=points)`: the events joined to the points
whose windows hold them, the scans grouped by lead and point); the Python engine scores at each point by
the definition, over the data read once, and is the oracle of the tests.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from leadlang.check.policy import Policy
from leadlang.diagnostics import DataError

MAX_POINTS = 1000
_UNITS = {"minute": 60, "min": 60, "m": 60, "hour": 3600, "h": 3600, "day": 86400, "d": 86400, "week": 7 * 86400, "w": 7 * 86400}
_DURATION = re.compile(r"\s*([0-9]+)\s*([a-z]+?)s?\s*", re.IGNORECASE)
LABEL_ROLES = ("band", "criteria", "disqualified", "classification")  # matrices are classifications
CHANGE_COLUMNS = ("column", "previous_as_of", "as_of", "old", "new")


def parse_every(text: str) -> dt.timedelta:
    """`7 days`, `1 week`, `12 hours`, `30 minutes` (the language's durations: units minute, hour, day, week,
    singular or plural), also `7d`, `1w`, `12h`, `30m`; a `DataError` naming what to write otherwise."""
    found = _DURATION.fullmatch(text)
    unit = found and _UNITS.get(found[2].lower())
    if not found or unit is None:
        why = "months and years have no fixed length; " if found and found[2].lower().rstrip("s") in ("month", "year", "mo", "y") else ""
        raise DataError(f"--every {text!r}: {why}write a duration like `7 days`, `1 week`, `12 hours` or `30 minutes`")
    if int(found[1]) == 0:
        raise DataError(f"--every {text!r}: the step must be longer than zero")
    return dt.timedelta(seconds=int(found[1]) * unit)


def points(from_: dt.datetime, to: dt.datetime, every: dt.timedelta | str) -> list[dt.datetime]:
    """The as-of points of a series: `from_`, `from_ + every`, ... up to and including `to` (UTC).

    Raises `DataError` (one line) for a step not above zero, `from_` after `to`, or more than `MAX_POINTS` points."""
    step = parse_every(every) if isinstance(every, str) else every
    if step <= dt.timedelta(0):
        raise DataError(f"--every {step}: the step must be longer than zero")
    from_, to = (t.astimezone(dt.timezone.utc) if t.tzinfo else t.replace(tzinfo=dt.timezone.utc) for t in (from_, to))
    if from_ > to:
        raise DataError(f"--from {_shown(from_)} is after --to {_shown(to)}; the series runs from the earlier to the later time")
    count = (to - from_) // step + 1
    if count > MAX_POINTS:
        raise DataError(f"--from {_shown(from_)} --to {_shown(to)} --every {_every(step)} makes {count} as-of points; "
                        f"at most {MAX_POINTS}: take a longer step or a shorter range")
    return [from_ + i * step for i in range(count)]


def _shown(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _every(step: dt.timedelta) -> str:
    seconds = int(step.total_seconds())
    for unit in ("week", "day", "hour", "minute"):
        n, rest = divmod(seconds, _UNITS[unit])
        if not rest:
            return f"'{n} {unit}{'' if n == 1 else 's'}'"
    return f"'{seconds} seconds'"


def label_columns(policy: Policy) -> list[str]:
    """The output columns whose changes `--changes` lists, in output order: bands, criteria verdicts,
    `disqualified`, classifications and matrices."""
    return [o.name for o in policy.outputs if o.role in LABEL_ROLES]


def change_columns(policy: Policy) -> list[tuple[str, str]]:
    """The columns of `--changes`' rows, typed as the writers take them."""
    return [(policy.key, "string"), ("column", "string"), ("previous_as_of", "timestamp"), ("as_of", "timestamp"), ("old", "string"), ("new", "string")]


# ------------------------------------------------------------------- SQL --


def changes_sql(policy: Policy, history: str, dialect: str = "duckdb") -> str:
    """The label changes of a history relation (`history`: a relation or parenthesised query with the rows of
    the series, aliased) in one statement: each label column's previous value by LAG over the lead's points,
    the rows where it differs (missing counts as a value), by key, as-of, column."""
    from leadlang.sql import DIALECTS

    d = DIALECTS[dialect]
    q, key, as_of = d.ident, d.ident(policy.key), d.ident("as_of")
    labels = sorted(label_columns(policy))
    over = f"OVER (PARTITION BY {key} ORDER BY {as_of})"
    lags = [f"LAG({as_of}) {over} AS {q('__prev')}"]
    for i, col in enumerate(labels):
        text = d.cast(q(col), "string")
        lags += [f"{text} AS {q(f'__new{i}')}", f"LAG({text}) {over} AS {q(f'__old{i}')}"]
    lagged = f"SELECT {key}, {as_of}, {', '.join(lags)} FROM {history}"
    parts = [
        f"SELECT {key}, {d.literal(col)} AS {q('column')}, {q('__prev')} AS {q('previous_as_of')}, {as_of}, "
        f"{q(f'__old{i}')} AS {q('old')}, {q(f'__new{i}')} AS {q('new')} FROM {q('__lagged')} "
        f"WHERE {q('__prev')} IS NOT NULL AND {q(f'__old{i}')} IS DISTINCT FROM {q(f'__new{i}')}"
        for i, col in enumerate(labels)
    ]
    if not parts:  # no label columns: no changes, typed as the others
        none = d.cast("NULL", "string")
        parts = [f"SELECT {key}, {none} AS {q('column')}, {as_of} AS {q('previous_as_of')}, {as_of}, {none} AS {q('old')}, "
                 f"{none} AS {q('new')} FROM {q('__lagged')} WHERE 1 = 0"]
    body = "\nUNION ALL\n".join(parts)
    return (f"WITH {q('__lagged')} AS (\n{lagged}\n)\nSELECT * FROM (\n{body}\n) {q('__changes')}\n"
            f"ORDER BY {key}{d.key_collation}, {as_of}, {q('column')}{d.key_collation}")


def _duckdb(policy: Policy, data_dir: Path, when: list[dt.datetime], leads: list[str] | None, con=None):
    """(connection, the series' statement): the data files checked into `con` (a new connection without it)."""
    import duckdb

    from leadlang.check.timerange import check_as_of
    from leadlang.data.staging import register_dataset
    from leadlang.engine import relations_for
    from leadlang.progress import step
    from leadlang.sql import to_sql

    for t in when:
        check_as_of(policy, t)
    own = con is None
    con = duckdb.connect() if own else con
    try:
        with step(f"checking the data files in {data_dir}"):
            tables = register_dataset(con, policy, data_dir)
        if leads:
            _known(con, policy, tables["leads"], data_dir, leads)
        return con, to_sql(policy, "duckdb", when[0], relations_for(policy, tables), series=when, only=leads)
    except BaseException:
        if own:
            con.close()
        raise


def _known(con, policy: Policy, leads_table: str, data_dir: Path, keys: list[str]) -> None:
    """Every `--lead` is a lead of the data; else one line, with a did-you-mean."""
    from leadlang.sql import DIALECTS

    q = DIALECTS["duckdb"].ident
    found = {k for (k,) in con.execute(
        f"SELECT DISTINCT CAST({q(policy.leads.key)} AS VARCHAR) FROM {q(leads_table)} WHERE CAST({q(policy.leads.key)} AS VARCHAR) IN "
        f"(SELECT unnest(?::VARCHAR[]))", [list(keys)]).fetchall()}
    for key in keys:
        if key not in found:
            from leadlang.data.one_lead import close_keys
            from leadlang.diagnostics import did_you_mean

            hints = did_you_mean(key, close_keys(policy, data_dir, key))
            raise DataError(f"--lead {key!r}: no lead with {policy.key} {key!r} in {data_dir}" + (f"; {hints[0]}" if hints else ""))


def series(policy: Policy, data_dir: Path, when: list[dt.datetime], leads: list[str] | None = None, engine: str = "duckdb", con=None):
    """The history rows as an Arrow table: `score --as-of t`'s columns (the key first, `as_of` among them),
    one row per lead per point of `when` (`points`), by key then as-of; `leads` keeps those leads' rows
    (each must be in the data). `engine` `duckdb`: one statement; `python`: the interpreter at each point.
    With `con` (DuckDB), the data files are checked into that connection and the rows are also registered in it
    as the view `history`, for SQL over them (`changes`, the back-test's figures)."""
    if engine == "python":
        from leadlang.data.writers import arrow_table

        table = arrow_table(history_rows(policy, data_dir, when, leads), [(o.name, o.kind) for o in policy.outputs])
    else:
        from leadlang.engine import _fetch

        run, sql = _duckdb(policy, data_dir, when, leads, con)
        try:
            table = _fetch(run, sql)
        except Exception as err:  # a value out of range: the interpreter names where
            raise _out_of_range(policy, data_dir, when, err) from None
        finally:
            if con is None:
                run.close()
    if con is not None:
        con.register("history", table)
    return table


def changes(policy: Policy, history, con=None):
    """The label changes of history rows (an Arrow table, `series`'), computed in DuckDB: an Arrow table
    of `change_columns`, by key, as-of, column."""
    import duckdb

    from leadlang.sql import DIALECTS

    run = duckdb.connect() if con is None else con
    try:
        run.register("__history_rows", history)
        return run.sql(changes_sql(policy, DIALECTS["duckdb"].ident("__history_rows"))).to_arrow_table()
    finally:
        if con is None:
            run.close()


def write_history(policy: Policy, data_dir: Path, when: list[dt.datetime], leads: list[str] | None, with_changes: bool,
                  out: Path | None, stream, engine: str = "duckdb") -> int:
    """`leadlang history`: the series' rows (or with `with_changes` its label changes) written as `score` writes
    its rows: to `out` (.csv, .jsonl, .parquet) or CSV on `stream`. DuckDB formats the lines itself, no Python loop
    over the rows; the Python engine writes `write_rows`' same bytes. The count of rows written."""
    from leadlang.data.writers import write_rows, write_table

    columns = change_columns(policy) if with_changes else [(o.name, o.kind) for o in policy.outputs]
    if engine == "python":
        rows = history_rows(policy, data_dir, when, leads)
        rows = changes_rows(policy, rows) if with_changes else rows
        write_rows(rows, columns, out, stream)
        return len(rows)
    from leadlang.engine import _copy, _fetch, _streamable, words, write_text
    from leadlang.progress import step
    from leadlang.sql import DIALECTS

    con, sql = _duckdb(policy, data_dir, when, leads)
    try:
        if with_changes:
            sql = changes_sql(policy, f"(\n{sql}\n) AS {DIALECTS['duckdb'].ident('__history')}")
        with step(f"scoring with {policy.label} at {len(when)} as-of points on DuckDB"):
            if out is not None and out.suffix.lower() == ".parquet":
                if not with_changes and _streamable(policy):
                    return _copy(con, policy, sql, out)
            else:
                written = write_text(con, sql, columns, out, stream, frozenset() if with_changes else words(policy))
                if written is not None:
                    return written
            table = _fetch(con, sql)
        write_table(table, columns, out, stream=stream)
        return table.num_rows
    except Exception as err:
        raise _out_of_range(policy, data_dir, when, err) from None
    finally:
        con.close()


def _out_of_range(policy: Policy, data_dir: Path, when: list[dt.datetime], err: Exception) -> Exception:
    import duckdb

    if not isinstance(err, (duckdb.OutOfRangeException, duckdb.ConversionException)):
        return err
    from leadlang.engine import _out_of_range as found

    for t in when:  # the first point the interpreter cannot score names the lead and line
        e = found(policy, data_dir, t, err)
        if "could not score" not in str(e):
            return e
    return e


# ---------------------------------------------------------------- Python --


def history_rows(policy: Policy, data_dir: Path, when: list[dt.datetime], leads: list[str] | None = None) -> list[dict]:
    """The series by the definition: the data read once, the interpreter at each point, rows by key then as-of."""
    from leadlang.check.timerange import check_as_of
    from leadlang.data.stream import load_dataset
    from leadlang.interpret import evaluate

    for t in when:
        check_as_of(policy, t)
    data = load_dataset(policy, data_dir)
    if leads:
        have = {str(r[policy.leads.key]) for r in data.leads}
        for key in leads:
            if key not in have:
                from leadlang.diagnostics import did_you_mean

                hints = did_you_mean(key, sorted(have))
                raise DataError(f"--lead {key!r}: no lead with {policy.key} {key!r} in {data_dir}" + (f"; {hints[0]}" if hints else ""))
    per_point = [evaluate(policy, data.leads, data.accounts, data.events, t).rows for t in when]
    key, keep = policy.key, set(leads or ())
    rows = [row for at_each in zip(*per_point) for row in at_each]  # each scoring lists the leads in the same key order
    return [r for r in rows if r[key] in keep] if keep else rows


def _text(v: object) -> str | None:
    """A label value as `--changes` writes it: the label, `true`/`false`, missing as None."""
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def changes_rows(policy: Policy, rows: list[dict]) -> list[dict]:
    """The label changes of history rows (by key then as-of), by the definition: for each pair of consecutive
    points of a lead, each label column whose value differs; by key, as-of, column."""
    key, labels = policy.key, sorted(label_columns(policy))
    out = []
    for before, after in zip(rows, rows[1:]):
        if before[key] != after[key]:
            continue
        for col in labels:
            old, new = _text(before[col]), _text(after[col])
            if old != new:
                out.append({key: after[key], "column": col, "previous_as_of": before["as_of"], "as_of": after["as_of"], "old": old, "new": new})
    return out
