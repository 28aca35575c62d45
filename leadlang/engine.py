"""The embedded engine: compile a policy to DuckDB SQL and run it in-process over `--data` files."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from leadlang.check.policy import Policy
from leadlang.diagnostics import DataError
from leadlang.interrupt import reraise
from leadlang.outputs import atomic
from leadlang.profile import Profiling


@dataclass
class Scored:
    """The engine's result, kept as Arrow: rows become Python dicts only when asked for."""

    table: object | None  # pyarrow.Table; None when DuckDB wrote the file itself
    explain_table: object | None
    written: int | None = None  # rows DuckDB wrote straight to the output file
    explained: bool = False  # DuckDB wrote the explanation file itself
    contributions: object | None = None  # pyarrow.Table: the key, then `points:N`..., `value:N`... (`to_sql` what="contributions")

    @property
    def rows(self) -> list[dict]:
        return self.table.to_pylist()

    @property
    def explain(self) -> list[dict]:
        return [] if self.explain_table is None else self.explain_table.to_pylist()


_SCORE_PARQUET = "DECIMAL(38, 4)"  # the Parquet type `data.writers` gives a score: it always fits scale 4


def _streamable(policy: Policy) -> bool:
    """Whether DuckDB can write the Parquet file itself with the Python writer's exact types.

    A `number` signal's scale depends on its values, which only the Python writer measures; DuckDB would
    rename one of two outputs whose names differ only in case (`Fit`, `fit`).
    """
    from leadlang.data.lines import distinct_ignoring_case

    return all(o.kind != "number" or o.role == "score" for o in policy.outputs) and distinct_ignoring_case([o.name for o in policy.outputs])


def relations_for(policy: Policy, tables: dict[str, str]) -> dict[str, str]:
    """Each relation the policy declares (`x` or `a.b`) -> the DuckDB table or view of its source."""
    relations = {".".join(policy.leads.relation.parts): tables["leads"]}
    if policy.accounts is not None:
        relations[".".join(policy.accounts.relation.parts)] = tables["accounts"]
    relations.update({".".join(ev.relation.parts): tables[name] for name, ev in policy.events.items()})
    return relations


def score_duckdb(
    policy: Policy, data_dir: Path, as_of: dt.datetime, explain: bool = False, parquet: Path | None = None, text: tuple | None = None,
    inspect=None, contributions: bool = False,
) -> Scored:
    """Score every lead of `data_dir` on DuckDB: the same rows as the Python engine.

    With `parquet`, and when `_streamable`, DuckDB writes the rows to that file
    itself as the query runs; `Scored.table` is then None and `written` the count.
    With `text` = (csv or jsonl path, or None for CSV on that stream; stream; explain path or None)
    DuckDB formats the CSV/JSONL lines itself and they are written as they come, likewise.
    `inspect(profile)`, if given, gets the data profile (`leadlang.profile`) once the files are checked, before
    the query (`score`'s data warnings): it is computed in the pass that checks them, no second read.
    With `contributions`, the same query also gives every points rule's contribution per lead
    (`Scored.contributions`, in the rows' order; `leadlang.backtest.rules` reads it): the rows come back
    as a table then, not written by DuckDB (no `parquet`, no `text`).
    """
    import duckdb

    from leadlang.check.timerange import check_as_of
    from leadlang.data.staging import register_dataset
    from leadlang.progress import step
    from leadlang.sql import to_sql

    if contributions and (parquet is not None or text is not None):
        raise ValueError("score_duckdb: contributions come with the rows as a table, not with parquet or text")
    check_as_of(policy, as_of)
    con = duckdb.connect()
    try:
        profiling = None if inspect is None else Profiling(policy)
        with step(f"checking the data files in {data_dir}"):
            tables = register_dataset(con, policy, data_dir, profiling)
        if profiling is not None:
            inspect(profiling.profile())
        relations = relations_for(policy, tables)
        sql = to_sql(policy, "duckdb", as_of, relations, what="contributions" if contributions else "score")
        table, written, extra = None, None, None
        try:
            with step(f"scoring with {policy.label} on DuckDB"):
                if parquet is not None and _streamable(policy):
                    written = _copy(con, policy, sql, parquet)
                elif text is not None:
                    written = write_text(con, sql, [(o.name, o.kind) for o in policy.outputs], text[0], text[1], words(policy))
                if written is None:
                    table = _fetch(con, sql)
                if contributions:
                    width = len(policy.outputs)
                    table, extra = table.select(range(width)), table.select([0, *range(width, table.num_columns)])
            why = None
            if explain:
                with step("explaining"):
                    why_sql = to_sql(policy, "duckdb", as_of, relations, what="explain")
                    if text is not None and text[2] is not None:
                        from leadlang.interpret import EXPLAIN_COLUMNS

                        if write_text(con, why_sql, [(policy.key, "string"), *EXPLAIN_COLUMNS], text[2], None) is not None:
                            return Scored(table, None, written, explained=True, contributions=extra)
                    why = _fetch(con, why_sql)
        except (duckdb.OutOfRangeException, duckdb.ConversionException) as err:
            raise _out_of_range(policy, data_dir, as_of, err) from None
        return Scored(table, why, written, contributions=extra)
    finally:
        con.close()


def _out_of_range(policy: Policy, data_dir: Path, as_of: dt.datetime, err: Exception) -> DataError:
    """A value DuckDB could not hold: the interpreter, which checks every value it computes
    (`values.OutOfRange`), names the policy line and the lead, so both engines say the same."""
    from leadlang.data.stream import load_dataset
    from leadlang.interpret import evaluate

    data = load_dataset(policy, data_dir)
    try:
        evaluate(policy, data.leads, data.accounts, data.events, as_of)
    except DataError as found:
        return found
    return DataError(f"the DuckDB engine could not score the data: a computed value is out of its range ({type(err).__name__})")


def _query_error(err: Exception) -> DataError:
    """A failed query as one line: a data file DuckDB could not read while scoring (it reads Parquet
    pages lazily) is named as the Python engine names it; anything else is the engine's first line."""
    from leadlang.data.errors import read_failure

    return read_failure(err) or DataError(f"the DuckDB engine could not score the data: {str(err).splitlines()[0]}")


def _fetch(con, sql: str):
    import duckdb

    try:
        return con.sql(sql).to_arrow_table()  # Arrow gives aware UTC datetimes and exact decimals
    except (duckdb.Error, RuntimeError) as err:  # a value the warehouse cannot hold, e.g. a decimal overflow
        reraise(err)  # or Ctrl-C
        if isinstance(err, (duckdb.OutOfRangeException, duckdb.ConversionException)):
            raise  # `score_duckdb` finds where
        raise _query_error(err) from None


def _copy(con, policy: Policy, sql: str, out: Path) -> int:
    """`COPY` the scored rows to a Parquet file, typed as `data.writers.write_rows` types them."""
    import duckdb

    from leadlang.data.specs import duck_type
    from leadlang.sql import DIALECTS

    q = DIALECTS["duckdb"].ident  # the dialect's one quoting rule
    cols = ", ".join(
        f"CAST({q(o.name)} AS {_SCORE_PARQUET if o.role == 'score' else duck_type(o.kind)}) AS {q(o.name)}" for o in policy.outputs
    )
    with atomic(out) as tmp:  # DuckDB writes a temporary file; it replaces `out` once complete
        target = DIALECTS["duckdb"].string_literal(str(tmp))
        try:
            con.execute("SET preserve_insertion_order = true")
            # a projection keeps the compiled query's ORDER BY while insertion order is preserved
            return con.execute(f"COPY (SELECT {cols} FROM (\n{sql}\n) AS scored) TO {target} (FORMAT parquet)").fetchall()[0][0]
        except (duckdb.Error, RuntimeError) as err:
            reraise(err)
            if isinstance(err, duckdb.IOException):
                raise DataError(f"{out}: cannot write: {str(err).splitlines()[0]}") from None
            if isinstance(err, (duckdb.OutOfRangeException, duckdb.ConversionException)):
                raise  # `score_duckdb` finds where
            raise _query_error(err) from None


# ------------------------------------------------------- text outputs in SQL --
# CSV and JSONL lines formatted by DuckDB (`data.lines.lines_sql`); Python only moves Arrow buffers of them.


def _query_failed(err: Exception) -> None:
    """Re-raise a failed text query as `score_duckdb` expects: Ctrl-C, a value out of range, or one DataError."""
    import duckdb

    reraise(err)
    if isinstance(err, (duckdb.OutOfRangeException, duckdb.ConversionException)):
        raise err  # `score_duckdb` finds where
    raise _query_error(err) from None


def _stream_lines(con, sql: str, f, header: bytes = b"") -> int:
    """Run `sql` (one line column) and write its lines to the binary file `f` batch by batch; the row count.

    For a stream that is not a file descriptor (a test's captured output); files and pipes are `_copy_lines`'."""
    import duckdb
    import pyarrow as pa

    f.write(header)
    count = 0
    try:
        con.execute("SET preserve_insertion_order = true")
        for batch in con.sql(sql).to_arrow_reader(65536):
            col = batch.column(0)
            n = len(col)
            if n == 0:
                continue
            wide = pa.types.is_large_string(col.type)
            if not wide and not pa.types.is_string(col.type):
                col, wide = col.cast(pa.large_string()), True
            offsets = memoryview(col.buffers()[1]).cast("q" if wide else "i")  # lines: offsets into one data buffer
            start, end = offsets[col.offset], offsets[col.offset + n]
            f.write(memoryview(col.buffers()[2])[start:end])
            count += n
    except (duckdb.Error, RuntimeError) as err:
        _query_failed(err)
    return count


def _copy_lines(con, sql: str, target: str, header: bool, quoted: bool = False, in_place: bool = False) -> int:
    """DuckDB's own CSV writer puts out `sql`'s rows as the query runs, each line then a newline, with `header`
    the column names first. `quoted`: the cells of `data.lines.cells_sql`, quoted by the writer as RFC 4180
    says; else one column of finished lines (`lines_sql`), written as they are. The row count."""
    import duckdb

    from leadlang.sql import DIALECTS

    quoting = ", COMMENT ''" if quoted else ", QUOTE '', ESCAPE ''"  # no comment character: DuckDB would quote a `#`
    if in_place:  # `target` names an open file (`/dev/fd/N`): no temporary file renamed onto it
        quoting += ", USE_TMP_FILE false"
    try:
        con.execute("SET preserve_insertion_order = true")  # the compiled ORDER BY holds through the projection
        return con.execute(
            f"COPY ({sql}) TO {DIALECTS['duckdb'].string_literal(target)} (FORMAT csv, HEADER {str(header).lower()}{quoting}, NEW_LINE '\n')"
        ).fetchall()[0][0]
    except (duckdb.Error, RuntimeError) as err:
        if isinstance(err, duckdb.IOException) and _about_output(err):
            raise _os_error(err) from None
        _query_failed(err)


def _os_error(err: Exception) -> OSError:
    """DuckDB's failed write as the OSError Python's own write would raise (EPIPE: BrokenPipeError), for one error line."""
    import errno
    import os
    import re

    found = re.search(r'"errno":\s*"(\d+)"', str(err))
    if found is None:
        return OSError(str(err).splitlines()[0].removeprefix("IO Error: "))
    code = int(found[1])
    return (BrokenPipeError if code == errno.EPIPE else OSError)(code, os.strerror(code))


def _about_output(err: Exception) -> bool:
    """Whether a DuckDB IOException is about the output, not an interrupted or unreadable input."""
    text = str(err)
    return "Failed to read file" not in text and "interrupted" not in text.lower()


def _stdout_copy(con, cells: str, fd: int, quoted: bool) -> int:
    """COPY the CSV (`_copy_lines`' `quoted`) to the file descriptor `fd` (standard output): a pipe or terminal directly
    as they come, and so an empty regular file at its start, not appending (`> out.csv`: reopening it truncates
    nothing; `fd` is then moved past what DuckDB wrote); any other regular file through a temporary file written
    at `fd`'s own position (reopening it would truncate it)."""
    import fcntl
    import os
    import stat
    import tempfile

    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        return _copy_lines(con, cells, f"/dev/fd/{fd}", True, quoted)
    if info.st_size == 0 and os.lseek(fd, 0, os.SEEK_CUR) == 0 and not fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_APPEND:
        count = _copy_lines(con, cells, f"/dev/fd/{fd}", True, quoted, in_place=True)
        os.lseek(fd, 0, os.SEEK_END)
        return count
    with tempfile.TemporaryDirectory(prefix="leadlang-") as tmp:
        path = os.path.join(tmp, "out.csv")
        count = _copy_lines(con, cells, path, True, quoted)
        with open(path, "rb") as f:
            _send(f.fileno(), fd)
    return count


def _send(src: int, fd: int) -> None:
    """All of the file `src` written at `fd`'s position: by the kernel, or in 1 MiB writes where it cannot
    (a file opened for appending)."""
    import errno
    import os

    size, sent = os.fstat(src).st_size, 0
    try:
        while sent < size:
            n = os.sendfile(fd, src, sent, size - sent)
            if n == 0:
                break
            sent += n
        return
    except OSError as err:
        if sent or err.errno not in (errno.EINVAL, errno.ENOSYS):  # not for this pair of files
            raise
    os.lseek(src, 0, os.SEEK_SET)
    while chunk := os.read(src, 1 << 20):
        view = memoryview(chunk)
        while view:
            view = view[os.write(fd, view):]


def words(policy: Policy) -> frozenset[str]:
    """The string outputs whose every value is a word of the policy needing no CSV quotes or JSON escapes
    (`data.lines.plain`): band and classification labels, gate ids, the policy's `name@version`, an action's values."""
    from leadlang.data.lines import plain

    found = set()
    for o in policy.outputs:
        if o.kind != "string":
            continue
        if o.role == "policy":
            values = [policy.label]
        elif o.role == "action":
            values = [s.value.value for a in policy.actions.values() for act in a.actions for s in act.settings if s.key == o.name]
        elif o.labels:
            values = list(o.labels)
        else:
            continue
        if all(isinstance(v, str) and plain(v) for v in values):
            found.add(o.name)
    return frozenset(found)


def write_text(con, sql: str, columns: list[tuple[str, str]], out: Path | None, stream, words: frozenset[str] = frozenset()) -> int | None:
    """Write `sql`'s rows as CSV or JSONL (by `out`'s extension; CSV to `stream` without it), formatted by DuckDB.

    The bytes are `data.writers.write_rows`'s; None, having written nothing, when this path cannot promise that.
    `words`: string columns whose values need no escaping (`words(policy)`), formatted without looking.
    DuckDB's CSV writer writes a file or a pipe itself; Python moves Arrow buffers only for a stream without
    a file descriptor.
    """
    import os

    from leadlang.data.lines import cells_sql, lines_sql
    from leadlang.data.writers import csv_line

    fmt = "csv" if out is None else Path(out).suffix.lower()[1:]
    if fmt not in ("csv", "jsonl"):
        return None
    header = csv_line([n for n, _ in columns])[:-1] if fmt == "csv" else "line"
    lines = cells_sql(con, sql, columns) if fmt == "csv" else None
    quoted = lines is not None
    if lines is None:
        lines = lines_sql(con, sql, columns, fmt, newline=False, name=header, words=words)
    if lines is None:
        return None
    if out is not None:
        with atomic(out) as tmp:  # renamed onto `out` once complete
            return _copy_lines(con, lines, str(tmp), fmt == "csv", quoted)
    try:
        fd = stream.fileno() if os.path.isdir("/dev/fd") else None
    except (AttributeError, OSError, ValueError):
        fd = None
    stream.flush()
    if fd is not None:
        return _stdout_copy(con, lines, fd, quoted)
    binary = getattr(stream, "buffer", None)
    if binary is None:
        return None
    count = _stream_lines(con, lines_sql(con, sql, columns, fmt, words=words), binary, (header + "\n").encode("utf-8"))
    binary.flush()
    return count


# ------------------------------------------------------------ the Python engine --


def score_python(policy: Policy, data_dir: Path, as_of: dt.datetime, out: Path | None, stream, explain_out: Path | None = None,
                 size: int = 5_000, inspect=None) -> int:
    """Score every lead of `data_dir` with the interpreter, streaming: DuckDB checks the files and hands
    out chunks of leads with their events (`data.stream.stream_dataset`, by account for a policy that reads
    `by account`), each chunk's rows (and explanation rows) go to the writers and are dropped.
    The rows written are `write_rows`'s over `evaluate`'s; the count of leads scored.
    `inspect(profile)` as for `score_duckdb`."""
    from contextlib import nullcontext

    from leadlang.interpret import EXPLAIN_COLUMNS, evaluate_chunks, uses_account_events
    from leadlang.data.stream import stream_dataset
    from leadlang.data.writers import RowWriter

    by_account = uses_account_events(policy)  # chunks by account: the rows come back in key order only per chunk
    columns = [(o.name, o.kind) for o in policy.outputs]
    why_columns = [(policy.key, "string"), *EXPLAIN_COLUMNS]
    with RowWriter(columns, out, stream, ordered=not by_account, key=policy.key) as rows, (
        RowWriter(why_columns, explain_out, ordered=not by_account, key=policy.key) if explain_out is not None else nullcontext()
    ) as why:

        def sink(result) -> None:
            rows.write(result.rows)
            if why is not None:
                why.write(result.explain)

        chunks = stream_dataset(policy, data_dir, size=size, by_account=by_account, as_of=as_of, inspect=inspect)
        evaluate_chunks(policy, chunks, as_of, explain=why is not None, sink=sink, seen=True)
        return rows.count
