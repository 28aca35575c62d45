"""Shared fixtures.

`checked(text, path)`: a policy text parsed and checked, the one helper every test file imports
(`from conftest import checked`).

Engines (tests/engines.py), each started once per test session:
    duckdb_engine, postgres_engine, spark_engine   one engine
    engine                                         parametrized over all three (ids duckdb/postgres/spark)

Without pgserver/psycopg, pyspark or Java 17+, the postgres and spark fixtures skip their tests and
say why; with CI=true they fail instead, so that CI never passes with an engine left out.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # `import engines` whatever pytest's import mode

import engines  # noqa: E402
from hypothesis import settings as _hypothesis_settings  # noqa: E402

# Property tests: in CI (CI=true) every run draws the same examples, so a red run reproduces; locally
# they are randomized (HYPOTHESIS_PROFILE=ci to reproduce CI, =dev to force random draws).
_hypothesis_settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
_hypothesis_settings.register_profile("dev", derandomize=False)

ENGINES = ("duckdb", "postgres", "spark")


def checked(text: str, path: str = "t.lead"):
    """`text`, as the file `path`, parsed and checked: the `Policy`, or `LeadError` with its diagnostics."""
    from leadlang.check import check_module
    from leadlang.syntax import parse

    return check_module(parse(text, path), {path: text})


def checked_signals(header: str, lines, path: str):
    """`header` plus one `signal NAME = EXPR` per `(what, NAME, EXPR)` of `lines`, keeping only the lines
    the checker accepts: the checked policy and {NAME: what} of the kept lines (generated tests of a table)."""
    from leadlang.diagnostics import LeadError

    def load(lines):
        return checked(header + "".join(f"signal {name} = {expr}\n" for _, name, expr in lines), path)

    lines = list(lines)
    try:
        load(lines)
    except LeadError as err:
        first = header.count("\n") + 1
        bad = {d.span.line - first for d in err.diagnostics}
        lines = [line for i, line in enumerate(lines) if i not in bad]
    return load(lines), {name: what for what, name, _ in lines}


def assert_one_statement_per_what(policy, dialect: str, as_of) -> None:
    """Snowflake and BigQuery cannot run here: the score and explain statements must at least parse
    (sqlglot, in the dialect's own grammar), each as exactly one statement."""
    import sqlglot

    from leadlang.sql import to_sql

    for what in ("score", "explain"):
        statements = [s for s in sqlglot.parse(to_sql(policy, dialect, as_of, what=what), read=dialect) if s is not None]
        assert len(statements) == 1, (dialect, what)


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


_hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if _in_ci() else "dev"))


def _start(name: str):
    t0 = time.perf_counter()
    try:
        eng = engines.FACTORIES[name]()
    except engines.EngineUnavailable as err:
        reason = str(err)
    else:
        reason = None
    if reason is not None:
        if _in_ci():
            pytest.fail(f"{name} engine unavailable in CI (CI=true: every engine test must run): {reason}", pytrace=False)
        pytest.skip(f"{name} engine unavailable: {reason}")
    eng.startup_seconds = time.perf_counter() - t0
    return eng


@pytest.fixture(scope="session")
def duckdb_engine():
    eng = _start("duckdb")
    yield eng
    eng.close()


@pytest.fixture(scope="session")
def postgres_engine():
    eng = _start("postgres")
    yield eng
    eng.close()


@pytest.fixture(scope="session")
def spark_engine():
    eng = _start("spark")
    yield eng
    eng.close()


@pytest.fixture(params=ENGINES)
def engine(request):
    """Each engine in turn: a test taking `engine` runs once per engine."""
    return request.getfixturevalue(f"{request.param}_engine")


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def chromium():
    """Debian's Chromium driven by playwright, for tests that open a page; skips without them, fails in CI.

    Per module, not per session: playwright's sync API keeps an asyncio loop running in the main
    thread while it is open, and the language server's tests (pytest-asyncio) cannot start theirs then."""
    reason = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        reason = "the python package playwright is not installed (pip install '.[test]')"
    if reason is None and not Path(CHROMIUM).exists():
        reason = f"{CHROMIUM} is missing (apt-get install chromium)"
    if reason is not None:
        if _in_ci():
            pytest.fail(f"browser unavailable in CI (CI=true: browser tests must run): {reason}", pytrace=False)
        pytest.skip(f"browser unavailable: {reason}")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
