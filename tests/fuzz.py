"""Mutation fuzzing of policies and data files against check, fmt, lint, compile and score.

The mutators are seeded `random.Random`s: one integer seed is one case, so a case reproduces anywhere
(`python -m tests.fuzz --replay policy:1234`). `tests/test_fuzz.py` draws the seeds with hypothesis
(derandomized in CI) and replays `tests/fuzz_corpus/`; this module's `main` runs the same cases for as
long as asked, with a random or a fixed seed, and saves every failing input into the corpus:

    python -m tests.fuzz --minutes 30 --seed random       # from the repository root
    python -m tests.fuzz --minutes 5 --seed 7 --kind data

Each case runs in-process (the click commands through CliRunner, the library functions directly) under
an alarm, so a hang is a failure, not a stuck run. A case returns the list of its problems; an empty
list is a pass. The properties, in docs/fuzz.md:

- policy text: `check` exits 0, or 1 with E-coded diagnostics; `fmt` formats (idempotent, and the
  formatter's own AST check holds) or refuses with diagnostics; `lint` exits 0 or 1; a policy that
  checks compiles for all five dialects into SQL that sqlglot parses as exactly one statement; no
  command raises or prints a traceback.
- data files: `score --engine duckdb` and `--engine python` either both write rows (one per lead,
  byte-identical CSV) or both exit 2 with one `error:` line, the same line.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import os
import random
import re
import shutil
import signal
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS_DIR = Path(__file__).resolve().parent / "fuzz_corpus"
AS_OF = "2024-06-01"
DIALECTS = ("duckdb", "postgres", "snowflake", "bigquery", "spark")
CASE_SECONDS = 60  # per case; a slower case is reported as a hang (generous: CI machines are shared)

# Failures of a known kind, owned by another part of the hardening work: (pattern in the problem, why).
# `known(problem)` names them; the test reports them as warnings instead of failing. Remove an entry once
# its fix has landed: the corpus case named beside it must then pass as it is.
KNOWN: tuple[tuple[str, str, str], ...] = ()  # none open: every corpus case passes as it is


def known(problem: str) -> str | None:
    """The category of a known problem (see KNOWN), or None."""
    for pattern, category, where in KNOWN:
        if pattern in problem and where in problem:
            return category
    return None

# Everything a run mutates: every .lead file of the repository but the fuzz corpus's own.
POLICY_GLOBS = ("policies/*/*.lead", "tests/cases/*.lead", "tests/fmt_cases/*.lead", "tests/differential/*.lead", "tests/**/*.lead")
EXAMPLES = tuple(sorted(ROOT.glob("policies/*/*.lead")))


def policy_corpus() -> list[Path]:
    seen: dict[Path, None] = {}
    for pattern in POLICY_GLOBS:
        for p in sorted(ROOT.glob(pattern)):
            if CORPUS_DIR not in p.parents and ".git" not in p.parts:
                seen.setdefault(p, None)
    return list(seen)


# ------------------------------------------------------------------ mutators --

KEYWORDS = ("policy", "leads", "accounts", "events", "from", "ref", "source", "key", "account", "lead", "at", "name",
            "signal", "score", "when", "per", "max", "min", "bands", "otherwise", "criteria", "disqualify", "classify",
            "matrix", "by", "test", "expect", "count", "sum", "avg", "in", "last", "days", "hours", "ago", "and", "or",
            "not", "is", "missing", "true", "false", "let", "use", "actions", "route", "notify", "where", "{", "}",
            "(", ")", "[", "]", ",", ":", "=", "==", "!=", ">=", "<=", "+", "-", "*", "/", "|", "->", "\n", "#", '"')
ODD = ("\x00", "\x01", "\x1b", "\x7f", "\r", "\r\n", "\t", "\ufeff", "\u2028", "\u202e", "\u200b", "é", "𝔘", "\udcff",
       "\\", '"', "'", "`", "${", "{{", "}}", "%s", "--", "/*", "*/", ";")
NUMBERS = ("0", "-0", "1e308", "1e-308", "99999999999999999999999999999999999999999", "-9223372036854775809",
           "0.00000000000000000001", "1.5", "NaN", "inf", "1_000", "0x10", "٣")


def _odd_text(rng: random.Random) -> str:
    return rng.choice((rng.choice(KEYWORDS), rng.choice(ODD), rng.choice(NUMBERS), " " * rng.randrange(1, 4),
                       "".join(chr(rng.randrange(32, 0x3000)) for _ in range(rng.randrange(1, 6)))))


OPERATORS = (">=", "<=", ">", "<", "=", "!=", "+", "-", "*", "/")
GENTLE_NUMBERS = ("0", "1", "2", "7", "10", "100", "0.5", "1.25", "1000000", "99999999999")
STRING_BITS = ("'", "\\\"", "\\\\", "\\n", "é", "日本", "🙂", "%", "_", "{{", "--", ";", "\x01", " ")


def mutate_policy(rng: random.Random, corpus: list[Path], texts: dict[Path, str]) -> tuple[Path, str]:
    """A corpus file and a mutation of it: half gentle (most still check), half wild (bytes, splices...)."""
    if rng.random() < 0.5:
        base = rng.choice([p for p in corpus if p in EXAMPLES or "differential" in p.parts] or corpus)
        return base, _gentle(rng, texts[base])
    return _wild(rng, corpus, texts)


def _gentle(rng: random.Random, text: str) -> str:
    """Edits that keep the policy well-formed more often than not: numbers, operators, string contents, layout."""
    for _ in range(rng.choice((1, 1, 2, 3))):
        how = rng.randrange(5)
        if how == 0:  # another number
            spans = [m.span() for m in re.finditer(r"(?<![\w.])\d+(\.\d+)?(?![\w.])", text)]
            if spans:
                i, j = rng.choice(spans)
                text = text[:i] + rng.choice(GENTLE_NUMBERS + NUMBERS[:4]) + text[j:]
        elif how == 1:  # another comparison or arithmetic operator
            spans = [m.span() for m in re.finditer(r"(?<=\s)(>=|<=|!=|[<>=+*/-])(?=\s)", text)]
            if spans:
                i, j = rng.choice(spans)
                text = text[:i] + rng.choice(OPERATORS) + text[j:]
        elif how == 2:  # odd characters inside a string literal
            spans = [m.span() for m in re.finditer(r'"[^"\\\n]*"', text)]
            if spans:
                i, j = rng.choice(spans)
                k = rng.randrange(i + 1, j)
                text = text[:k] + rng.choice(STRING_BITS) + text[k:]
        elif how == 3:  # and <-> or, add or drop a not
            words = [m.span() for m in re.finditer(r"\b(and|or|not)\b", text)]
            if words:
                i, j = rng.choice(words)
                text = text[:i] + rng.choice(("and", "or", "and not", "or not", "")) + text[j:]
        else:  # layout: comments, blank lines, indentation
            lines = text.splitlines(keepends=True)
            if lines:
                k = rng.randrange(len(lines))
                lines[k] = rng.choice(("# note\n", "\n", "  ", "\t", "   # trailing\n")) + lines[k]
                text = "".join(lines)
    return text


def _wild(rng: random.Random, corpus: list[Path], texts: dict[Path, str]) -> tuple[Path, str]:
    """Byte edits, truncation, line edits, tokens, or a splice of two corpus files."""
    base = rng.choice(corpus)
    text = texts[base]
    for _ in range(rng.choice((1, 1, 1, 2, 3, 5))):
        how = rng.randrange(8)
        lines = text.splitlines(keepends=True)
        if how == 0 and text:  # truncate
            text = text[:rng.randrange(len(text) + 1)]
        elif how == 1:  # insert a token or odd characters
            i = rng.randrange(len(text) + 1)
            text = text[:i] + _odd_text(rng) + text[i:]
        elif how == 2 and text:  # delete a span
            i = rng.randrange(len(text))
            text = text[:i] + text[i + rng.randrange(1, 20):]
        elif how == 3 and text:  # replace one character
            i = rng.randrange(len(text))
            text = text[:i] + _odd_text(rng)[:1] + text[i + 1:]
        elif how == 4 and lines:  # duplicate, drop or swap lines
            i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
            op = rng.randrange(3)
            if op == 0:
                lines.insert(j, lines[i])
            elif op == 1:
                del lines[i]
            else:
                lines[i], lines[j] = lines[j], lines[i]
            text = "".join(lines)
        elif how == 5:  # splice: a prefix of this text and a suffix of another corpus file
            other = texts[rng.choice(corpus)]
            if rng.random() < 0.5:
                a, b = text.splitlines(keepends=True), other.splitlines(keepends=True)
                text = "".join(a[:rng.randrange(len(a) + 1)] + b[rng.randrange(len(b) + 1):])
            else:
                text = text[:rng.randrange(len(text) + 1)] + other[rng.randrange(len(other) + 1):]
        elif how == 6 and text:  # swap a number for an extreme one
            digits = [i for i, c in enumerate(text) if c.isdigit()]
            if digits:
                i = rng.choice(digits)
                j = i
                while j < len(text) and (text[j].isdigit() or text[j] == "."):
                    j += 1
                text = text[:i] + rng.choice(NUMBERS) + text[j:]
        elif how == 7 and text:  # flip a byte of the UTF-8 encoding
            raw = bytearray(text.encode("utf-8", "surrogatepass"))
            raw[rng.randrange(len(raw))] ^= 1 << rng.randrange(8)
            text = raw.decode("utf-8", "surrogateescape")
    return base, text


CELLS = ("", " ", "NaN", "nan", "inf", "-Infinity", "-0", "1e400", "1e-400", "99999999999999999999999999999999999999999",
         "-9223372036854775809", "18446744073709551616", "0.000000000000000000001", "1,5", "1.5.5", "12abc", "true",
         "FALSE", "null", "NULL", "None", "2024-02-30", "2024-13-01", "0001-01-01", "9999-12-31T23:59:59Z", "10000-01-01",
         "2024-06-01T00:00:00+14:00", "2024-06-01 00:00", "1717200000", "\x00", "a\x00b", "\x1b[31m", "\u202e", "\ufeff",
         "ünïcödé", "𝔘", '"', '""', "a,b", "a\nb", "a\rb", "'; DROP TABLE leads; --", "{}", "[1]", "\\", "🙂" * 50,
         "x" * 5000)
JSON_VALUES = (None, True, False, 0, -1, 1.5, 1e308, 10 ** 40, -(10 ** 20), "1", "", {"a": 1}, [1, 2], "2024-06-01", "NaN")


@dataclass
class DataCase:
    policy: Path
    data: Path  # a directory holding the mutated data files
    what: str  # which mutation, for the report


def sample_data(policy_path: Path, into: Path, n_leads: int = 25, n_events: int = 300) -> None:
    """A small copy of a policy's `data/` directory: the first leads, their accounts and events."""
    from leadlang.check import load
    from leadlang.data.sample import subset

    subset(load(policy_path), policy_path.parent / "data", into, n_leads, n_events)


def _csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def _csv_text(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def mutate_data(rng: random.Random, sample: Path, into: Path) -> str:
    """Copy `sample` into `into` with one file mutated; returns what was done."""
    shutil.copytree(sample, into)
    files = sorted(into.iterdir())
    target = rng.choice(files)
    text = target.read_text(encoding="utf-8")
    rows = _csv_rows(text)
    fmt = rng.choice(("csv", "csv", "csv", "jsonl", "parquet"))
    how = rng.randrange(8)
    what = f"{target.stem}.{fmt}:"
    if how == 0 and len(rows) > 1:  # type-confusing or odd cell values
        for _ in range(rng.choice((1, 1, 3))):
            r = rng.randrange(1, len(rows))
            if rows[r]:
                c = rng.randrange(len(rows[r]))
                rows[r][c] = rng.choice(CELLS)
                what += f" cell[{r},{rows[0][c] if c < len(rows[0]) else c}]={rows[r][c][:40]!r}"
    elif how == 1 and rows:  # header: rename, drop, duplicate, reorder or recase a column
        h = rows[0]
        c = rng.randrange(len(h))
        op = rng.randrange(6)
        if op == 0:
            h[c] = h[c] + rng.choice(("_x", " ", "\ufeff", "é"))
        elif op == 1:
            for row in rows:
                del row[c:c + 1]
        elif op == 2:
            h.append(h[c])
            for row in rows[1:]:
                row.append(row[c] if c < len(row) else "")
        elif op == 3:
            order = list(range(len(h)))
            rng.shuffle(order)
            rows = [[row[i] for i in order if i < len(row)] for row in rows]
        elif op == 4:
            h[c] = h[c].upper()
        else:
            h[c] = ""
        what += f" header op {op} col {c}"
    elif how == 2 and len(rows) > 1:  # duplicate, drop, or ragged rows
        r = rng.randrange(1, len(rows))
        op = rng.randrange(4)
        if op == 0:
            rows.insert(rng.randrange(1, len(rows) + 1), list(rows[r]))
        elif op == 1:
            rows[r] = rows[r][:-1]
        elif op == 2:
            rows[r] = rows[r] + ["extra"]
        else:
            rows = rows[:1]
        what += f" rows op {op} row {r}"
    elif how == 3 and len(rows) > 1:  # huge numbers in every numeric-looking cell of a column
        c = rng.randrange(len(rows[0]))
        big = rng.choice(NUMBERS)
        for row in rows[1:]:
            if c < len(row) and row[c].replace(".", "", 1).lstrip("-").isdigit():
                row[c] = big
        what += f" numbers col {c}={big}"
    if fmt == "jsonl" and rows:
        lines = []
        for row in rows[1:]:
            obj = dict(zip(rows[0], row))
            if how == 4 and obj and rng.random() < 0.3:  # JSON-typed confusion
                obj[rng.choice(list(obj))] = rng.choice(JSON_VALUES)
            lines.append(json.dumps(obj, ensure_ascii=rng.random() < 0.5))
        data = ("\n".join(lines) + "\n").encode("utf-8")
        if how == 4:
            what += " json values"
    else:
        data = _csv_text(rows).encode("utf-8")
    if how == 5:  # odd bytes and encodings
        op = rng.randrange(5)
        if op == 0:
            data = data.decode("utf-8").encode("utf-16")
        elif op == 1:
            data = data.decode("utf-8").encode("latin-1", "replace") + "é\n".encode("latin-1")
        elif op == 2:
            data = data.replace(b"\n", b"\r")
        elif op == 3:
            data = b"\xef\xbb\xbf" + data
        else:
            i = rng.randrange(len(data) + 1)
            data = data[:i] + bytes([rng.choice((0, 1, 0x1b, 0x7f, 0x80, 0xff, 0xc3))]) + data[i:]
        what += f" bytes op {op}"
    target.unlink()
    out = into / f"{target.stem}.{fmt}"
    if fmt == "parquet":
        data = _to_parquet(rng, data, out)
        what += " (parquet)"
    if how == 6 and data:  # byte flips
        data = bytearray(data)
        for _ in range(rng.randrange(1, 4)):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        data = bytes(data)
        what += " bit flips"
    elif how == 7:  # truncation
        data = data[:rng.randrange(len(data) + 1)]
        what += f" truncated to {len(data)}"
    out.write_bytes(data)
    return what


def _to_parquet(rng: random.Random, csv_bytes: bytes, out: Path) -> bytes:
    """The CSV as Parquet: every column text, or typed as DuckDB detects it; unparseable CSV stays bytes."""
    import duckdb

    src = out.with_suffix(".tmp.csv")
    src.write_bytes(csv_bytes)
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        typed = "" if rng.random() < 0.5 else ", all_varchar = true"
        con.execute(f"COPY (SELECT * FROM read_csv('{src}'{typed})) TO '{out}' (FORMAT parquet)")
        return out.read_bytes()
    except duckdb.Error:
        return csv_bytes
    finally:
        con.close()
        src.unlink()


# ------------------------------------------------------------------ oracles --


class Hang(Exception):
    pass


@contextlib.contextmanager
def time_bound(seconds: int):
    """Raise `Hang` in the main thread after `seconds` (SIGALRM; no guard off the main thread or on Windows)."""
    if not hasattr(signal, "SIGALRM") or os.name == "nt":
        yield
        return

    def ring(signum, frame):
        raise Hang(f"no answer within {seconds}s")

    previous = signal.signal(signal.SIGALRM, ring)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _cli(*args):
    from click.testing import CliRunner

    from leadlang.cli import main

    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=True)


def _cli_problem(name: str, r, allowed: tuple[int, ...]) -> str | None:
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        tb = "".join(traceback.format_exception(r.exception))
        return f"{name}: raised {type(r.exception).__name__}: {r.exception}\n{tb[-2000:]}"
    if r.exit_code not in allowed:
        return f"{name}: exit {r.exit_code} (expected {allowed}): {r.stderr[-500:]}"
    if "Traceback" in r.stderr:
        return f"{name}: a traceback on standard error: {r.stderr[-1000:]}"
    return None


def _sql_statements(sql: str, dialect: str) -> int:
    import sqlglot

    return len([s for s in sqlglot.parse(sql, read=dialect) if s is not None])


def check_policy(path: Path, data: Path | None = None) -> list[str]:
    """Every property of one policy file (see the module docstring); `data`: also score it there."""
    from leadlang.check import load
    from leadlang.diagnostics import LeadError
    from leadlang.fmt import FormatterBug, format_source
    from leadlang.sql import to_sql

    problems: list[str] = []

    def note(p):
        if p:
            problems.append(p)

    r = _cli("check", path)
    note(_cli_problem("check", r, (0, 1)))
    if r.exit_code == 1 and "error[E" not in r.stderr and "error:" not in r.stderr:
        problems.append(f"check: exit 1 without an E-coded diagnostic: {r.stderr[-500:]}")
    try:
        policy = load(path)
    except LeadError as err:
        policy = None
        bad = [d.code for d in err.diagnostics if not d.code.startswith("E")]
        if not err.diagnostics or bad:
            problems.append(f"load: a LeadError without E-coded diagnostics: {bad or 'none'}")
    except Exception as err:  # noqa: BLE001 — the property under test
        policy = None
        problems.append(f"load: raised {type(err).__name__}: {err}\n{traceback.format_exc()[-2000:]}")
    if (r.exit_code == 0) != (policy is not None) and not problems:
        problems.append(f"check exit {r.exit_code} but load {'succeeded' if policy else 'failed'}")

    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = None
    if text is not None:
        try:
            formatted = format_source(text, str(path))
        except LeadError:
            pass
        except FormatterBug as err:
            problems.append(f"fmt: formatter bug: {err}")
        except Exception as err:  # noqa: BLE001
            problems.append(f"fmt: raised {type(err).__name__}: {err}\n{traceback.format_exc()[-2000:]}")
        else:
            if format_source(formatted, str(path)) != formatted:
                problems.append("fmt: not idempotent")
            problems += _same_policy(path, policy, formatted)
    r = _cli("fmt", "--check", path)
    note(_cli_problem("fmt --check", r, (0, 1)))
    r = _cli("lint", "--format", "json", path)
    note(_cli_problem("lint", r, (0, 1)))

    if policy is None:
        return problems
    for dialect in DIALECTS:
        for what in ("score", "explain"):
            try:
                sql = to_sql(policy, dialect, None, {}, what=what)
            except Exception as err:  # noqa: BLE001
                problems.append(f"compile {dialect} {what}: raised {type(err).__name__}: {err}\n{traceback.format_exc()[-2000:]}")
                continue
            if what == "explain" and dialect != "duckdb":
                continue  # sqlglot takes ~0.2 s a statement: the explain query's shape is parsed once
            try:
                n = _sql_statements(sql, dialect)
            except Exception as err:  # noqa: BLE001 — sqlglot's ParseError or TokenError
                problems.append(f"compile {dialect} {what}: sqlglot cannot parse it: {str(err)[:300]}")
                continue
            if n != 1:
                problems.append(f"compile {dialect} {what}: {n} statements")
    r = _cli("compile", path, "--dialect", "duckdb", "--as-of", AS_OF)
    note(_cli_problem("compile (cli)", r, (0,)))
    if data is not None:
        problems += check_score(path, data)
    return problems


def _same_policy(path: Path, policy, formatted: str) -> list[str]:
    """The formatted text checks exactly when the original does, and compiles to the same SQL."""
    from leadlang.check import check_module
    from leadlang.diagnostics import LeadError
    from leadlang.sql import to_sql
    from leadlang.syntax import parse

    try:
        again = check_module(parse(formatted, str(path)), {str(path): formatted})
    except LeadError:
        return ["fmt: the original checks but the formatted text does not"] if policy is not None else []
    if policy is None:
        return ["fmt: the original has errors but the formatted text checks"]
    if to_sql(again, "duckdb") != to_sql(policy, "duckdb"):
        return ["fmt: the formatted policy compiles to other SQL"]
    return []


def check_score(policy: Path, data: Path) -> list[str]:
    """Both engines: the same CSV bytes, one row per lead; or both exit 2 with the same one error line."""
    problems: list[str] = []
    runs = {e: _cli("score", policy, "--data", data, "--as-of", AS_OF, "--engine", e) for e in ("duckdb", "python")}
    for e, r in runs.items():
        p = _cli_problem(f"score --engine {e}", r, (0, 2))
        if p:
            problems.append(p)
        elif r.exit_code == 2:
            lines = r.stderr.strip().splitlines()
            if len(lines) != 1 or not lines[0].startswith("error: "):
                problems.append(f"score --engine {e}: exit 2 without one `error:` line: {r.stderr[-800:]!r}")
    if problems:
        return problems
    duck, py = runs["duckdb"], runs["python"]
    if duck.exit_code != py.exit_code:
        return [f"score: engines disagree: duckdb exit {duck.exit_code} {duck.stderr.strip()[:300]!r}, "
                f"python exit {py.exit_code} {py.stderr.strip()[:300]!r}"]
    if duck.exit_code == 2:
        if duck.stderr != py.stderr:
            problems.append(f"score: engines give different errors: duckdb {duck.stderr.strip()[:300]!r}, python {py.stderr.strip()[:300]!r}")
        return problems
    rows = [r for r in csv.reader(io.StringIO(py.stdout, newline="")) if r][1:]
    leads = _lead_count(data)
    if leads is not None and len(rows) != leads:
        problems.append(f"score: {len(rows)} rows for {leads} leads")
    if duck.stdout != py.stdout:
        a, b = duck.stdout.splitlines(), py.stdout.splitlines()
        diff = next(((i, x, y) for i, (x, y) in enumerate(zip(a, b)) if x != y), (min(len(a), len(b)), None, None))
        problems.append(f"score: engines disagree at output line {diff[0]}: duckdb {diff[1]!r} python {diff[2]!r} ({len(a)} vs {len(b)} lines)")
    return problems


def _lead_count(data: Path) -> int | None:
    """The records of the leads file, counted without leadlang (None when it is not one plain file)."""
    found = sorted(data.glob("leads.*"))
    if len(found) != 1:
        return None
    path = found[0]
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).metadata.num_rows
    text = path.read_bytes().decode("utf-8-sig")
    if path.suffix == ".jsonl":
        return sum(1 for line in text.splitlines() if line.strip())
    return max(0, len([r for r in csv.reader(io.StringIO(text, newline="")) if r]) - 1)


# ------------------------------------------------------------------ cases --


class Fuzzer:
    """Seeded cases over the repository's corpus, in one scratch directory."""

    def __init__(self, scratch: Path):
        self.scratch = scratch
        self.corpus = policy_corpus()
        self.texts = {p: p.read_text(encoding="utf-8") for p in self.corpus}
        self._samples: dict[Path, Path] = {}

    def sample(self, policy: Path) -> Path:
        if policy not in self._samples:
            into = self.scratch / "samples" / policy.stem
            sample_data(policy, into)
            self._samples[policy] = into
        return self._samples[policy]

    def policy_case(self, seed: int) -> tuple[Path, Path | None]:
        """A mutated policy in its own file (beside a sample of its data when it is an example)."""
        rng = random.Random(f"policy:{seed}")
        base, text = mutate_policy(rng, self.corpus, self.texts)
        case = self.scratch / f"p{seed}"
        shutil.rmtree(case, ignore_errors=True)
        case.mkdir(parents=True)
        path = case / "fuzz.lead"
        path.write_bytes(text.encode("utf-8", "surrogateescape"))
        return path, (self.sample(base) if base in EXAMPLES else None)

    def data_case(self, seed: int) -> DataCase:
        rng = random.Random(f"data:{seed}")
        policy = rng.choice(EXAMPLES)
        into = self.scratch / f"d{seed}"
        shutil.rmtree(into, ignore_errors=True)
        what = mutate_data(rng, self.sample(policy), into)
        return DataCase(policy, into, what)

    def run(self, kind: str, seed: int) -> list[str]:
        """The problems of case `kind:seed`, including a hang or an exception of the harness itself."""
        try:
            with time_bound(CASE_SECONDS):
                if kind == "policy":
                    path, data = self.policy_case(seed)
                    return check_policy(path, data)
                case = self.data_case(seed)
                return [f"{p} [{case.policy.stem}: {case.what}]" for p in check_score(case.policy, case.data)]
        except Hang as err:
            return [f"hang: {err}"]
        finally:  # `save` makes the case again from its seed
            shutil.rmtree(self.scratch / f"{kind[0]}{seed}", ignore_errors=True)


# ------------------------------------------------------------------ corpus --


def corpus_cases() -> list[Path]:
    """The saved reproducers: `*.lead` files (policy cases) and directories holding `policy.txt` + data files."""
    if not CORPUS_DIR.is_dir():
        return []
    return sorted(p for p in CORPUS_DIR.iterdir() if p.suffix == ".lead" or (p.is_dir() and (p / "policy.txt").exists()))


def replay(case: Path) -> list[str]:
    """Check one corpus case: a policy file, or a data directory scored with the policy named in policy.txt."""
    with time_bound(CASE_SECONDS):
        if case.suffix == ".lead":
            return check_policy(case)
        lines = (case / "policy.txt").read_text(encoding="utf-8").splitlines()
        policy = ROOT / lines[0].strip()
        what = lines[2].removeprefix("# ") if len(lines) > 2 else ""  # the mutation, as `save` wrote it
        return [f"{p} [{policy.stem}: {what}]" for p in check_score(policy, case / "data")]


def save(fuzzer: Fuzzer, kind: str, seed: int, problems: list[str]) -> Path:
    """Copy a failing case into the corpus, with its problems as a note."""
    CORPUS_DIR.mkdir(exist_ok=True)
    note = "".join(f"# {line}\n" for p in problems for line in p.splitlines()[:3])
    if kind == "policy":
        path, _ = fuzzer.policy_case(seed)
        dest = CORPUS_DIR / f"policy-{seed}.lead"
        shutil.copyfile(path, dest)
        (CORPUS_DIR / f"policy-{seed}.txt").write_text(f"found by: python -m tests.fuzz --replay policy:{seed}\n{note}", encoding="utf-8")
        return dest
    case = fuzzer.data_case(seed)
    dest = CORPUS_DIR / f"data-{seed}"
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(case.data, dest / "data")
    (dest / "policy.txt").write_text(f"{case.policy.relative_to(ROOT)}\n# found by: python -m tests.fuzz --replay data:{seed}\n"
                                     f"# {case.what}\n{note}", encoding="utf-8")
    return dest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.fuzz", description="Mutation-fuzz leadlang for a while.")
    ap.add_argument("--minutes", type=float, default=5.0, help="Stop after this long (default 5).")
    ap.add_argument("--seed", default="random", help="First seed (an integer), or `random` (default).")
    ap.add_argument("--kind", choices=("policy", "data", "both"), default="both")
    ap.add_argument("--replay", metavar="KIND:SEED", help="Run one case, e.g. policy:1234, and print its problems.")
    ap.add_argument("--save", action="store_true", help="Save each failing case into tests/fuzz_corpus/.")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="leadlang-fuzz-") as tmp:
        fuzzer = Fuzzer(Path(tmp))
        if args.replay:
            kind, _, seed = args.replay.partition(":")
            problems = fuzzer.run(kind, int(seed))
            print("\n".join(problems) or "ok")
            return 1 if problems else 0
        seed = random.SystemRandom().randrange(2 ** 32) if args.seed == "random" else int(args.seed)
        kinds = ("policy", "data") if args.kind == "both" else (args.kind,)
        print(f"fuzzing {', '.join(kinds)} from seed {seed} for {args.minutes:g} min", flush=True)
        deadline, cases, failed = time.monotonic() + args.minutes * 60, 0, 0
        while time.monotonic() < deadline:
            for kind in kinds:
                problems = [p for p in fuzzer.run(kind, seed) if not known(p)]
                cases += 1
                if problems:
                    failed += 1
                    where = f" -> {save(fuzzer, kind, seed, problems)}" if args.save else ""
                    print(f"FAIL {kind}:{seed}{where}\n  " + "\n  ".join(p.splitlines()[0] for p in problems), flush=True)
            seed += 1
        print(f"{cases} cases, {failed} failing; next seed {seed}")
        return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
