"""`leadlang dbt` models, built for real by `dbt build` on dbt-duckdb, agree with the interpreter.

One dbt project, one `dbt build` (dbt is slow to start): the project `leadlang init` makes (the
PLG example, a source() loaded by its hook, its unit tests), plus the other example policies on
their sample data (with their unit tests) and every policy of the shared corpus on edge-case
data from `datagen.py`, as seeds typed by the generated `column_types` (and one source() with
names that need quoting, declared by the generated `sources.yml` stub). The build runs the seeds,
the models with their contracts, the data tests and the unit tests; then every built table is
compared cell for cell with the interpreter (`test_differential.assert_same_result`). A smaller
project does the same on dbt-postgres against the PostgreSQL server of the differential tests.

Without dbt-core and dbt-duckdb these tests skip; with CI=true they fail instead.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
import os
import re
import shutil
import time
import warnings
from collections import Counter
from pathlib import Path

import pytest
import yaml
from conftest import _in_ci
from datagen import AS_OF, make_rows
from test_differential import EDGES, EXAMPLES, ROOT, assert_same_result, tables_for
from test_invalid_enum import spoiled

from leadlang.check import load
from leadlang.data.stream import load_dataset
from leadlang.data.writers import write_rows
from leadlang.dbt import init_project, relation_columns, seed_properties, write_policy
from leadlang.dbt.history import CHANGES_SUFFIX, HISTORY_SUFFIX
from leadlang.dbt.models import EXPLAIN_SUFFIX, relation_name
from leadlang.history import label_columns
from leadlang.dbt.properties import dump, sources_stub
from leadlang.interpret import evaluate

AS_OF_TEXT = AS_OF.strftime("%Y-%m-%dT%H:%M:%SZ")


def _dbt_runner():
    try:
        from dbt.cli.main import dbtRunner
        import dbt.adapters.duckdb  # noqa: F401
    except ImportError as err:
        if _in_ci():
            pytest.fail(f"dbt unavailable in CI (CI=true: the dbt tests must run): {err}", pytrace=False)
        pytest.skip(f"dbt tests need `pip install 'dbt-core>=1.10.5,<1.12' dbt-duckdb` ({err})")
    return dbtRunner


@contextlib.contextmanager
def _in(directory: Path):
    """Run dbt from `directory`, and take back what it changes in the process: the working
    directory, the root logger's handlers, the warning filters."""
    root = logging.getLogger()
    handlers, level, cwd = root.handlers[:], root.level, os.getcwd()
    with warnings.catch_warnings():
        os.chdir(directory)
        try:
            yield
        finally:
            os.chdir(cwd)
            root.handlers[:] = handlers
            root.setLevel(level)


def _no_empty_strings(rows: list[dict]) -> list[dict]:
    """A CSV seed cannot tell an empty string from a missing value, and dbt's CSV reader (agate,
    used by dbt-postgres) reads a string of only spaces or line breaks as missing: both sides get
    missing for those."""
    return [{k: (None if isinstance(v, str) and not v.strip() else v) for k, v in r.items()} for r in rows]


@dataclasses.dataclass
class Case:
    model: str
    policy: object
    leads: list
    accounts: list
    events: dict
    as_of: dt.datetime
    unit_tests: bool


def _seed(project: Path, policy, model: str, leads, accounts, events, dialect: str = "duckdb", keep=()) -> tuple[dict, list[dict]]:
    """Write the rows as seeds named `<model>__<relation>`: the `--table` mapping that makes the
    models read them, and their `seeds:` entries (`column_types` in the dialect's types).
    Relations named in `keep` are left alone."""
    mapping, seeds = {}, {}
    for t in tables_for(policy, leads, accounts, events):
        if t.name in keep:
            continue
        seed = f"{model}__{re.sub(r'[^a-z0-9]+', '_', t.name.lower()).strip('_')}"
        mapping[t.name] = seeds[t.name] = seed
        write_rows(t.rows, t.columns, project / "seeds" / f"{seed}.csv")
    return mapping, seed_properties(policy, dialect, seeds)


def _load(database: Path, tables) -> None:
    """Create and fill tables in the database file, typed as the policy declares them."""
    import duckdb
    import engines

    with engines.DuckDBEngine() as harness, duckdb.connect(str(database)) as con:  # the harness's DDL and loading
        for t in tables:
            for statement in harness.table_ddl(t):
                con.execute(statement)
            con.register("__rows", engines._arrow(t, engines._checked(t)))
            con.execute(f"INSERT INTO {harness.relation(t.name)} SELECT * FROM __rows")
            con.unregister("__rows")


def _cases(project: Path) -> list[Case]:
    """The models of the project, each with the rows its seeds hold."""
    cases = []
    demo = load(project / "policies" / "plg.lead")
    data = project / "plg-data"  # the demo's seeds and source file, named as `--data` wants them
    data.mkdir()
    shutil.copy(project / "seeds" / "stg_leads.csv", data / "leads.csv")
    shutil.copy(project / "seeds" / "stg_product_events.csv", data / "product.csv")
    shutil.copy(project / "data" / "hubspot" / "engagements.csv", data / "marketing.csv")
    ds = load_dataset(demo, data)
    cases.append(Case("plg", demo, ds.leads, ds.accounts, ds.events, AS_OF, True))
    for path in EXAMPLES:
        policy = load(path)
        if policy.name != "plg":  # the demo project already holds the PLG example and its data
            ds = load_dataset(policy, path.parent / "data")
            cases.append(Case(policy.name, policy, ds.leads, ds.accounts, ds.events, AS_OF, True))
    for path in EXAMPLES + EDGES:
        policy = load(path)
        leads, accounts, events = make_rows(policy, 1)
        events = {k: _no_empty_strings(v) for k, v in events.items()}
        cases.append(Case(f"{policy.name}__edge", policy, _no_empty_strings(leads), _no_empty_strings(accounts), events, AS_OF, False))
    # values outside the enums in the inputs: the model reads them as missing, as the interpreter
    # does, and the seeds' accepted_values tests warn
    policy = load(EDGES_BY_NAME["edge_logic"])
    (leads, accounts, events), _ = spoiled(policy, 1, bad=["SaaS", "Gold", "AMER", "O'Brien", "日本"])
    cases.append(Case("edge_logic__bad_enum", policy, _no_empty_strings(leads), _no_empty_strings(accounts),
                      {k: _no_empty_strings(v) for k, v in events.items()}, AS_OF, False))
    # every event after the as-of time: the model's as-of warning fires (and every count is 0)
    policy = load(EDGES_BY_NAME["edge_events"])
    leads, accounts, events = make_rows(policy, 2)
    later = {k: [dict(e, at=e["at"] + dt.timedelta(days=4000)) for e in _no_empty_strings(v)] for k, v in events.items()}
    cases.append(Case("edge_events__future", policy, _no_empty_strings(leads), _no_empty_strings(accounts), later, AS_OF, False))
    return cases


EDGES_BY_NAME = {p.stem: p for p in EDGES}
# the only warnings the build may give: these models' input and as-of tests
WARNS = {"edge_logic__bad_enum": "accepted_values", "edge_events__future": "as_of_before_every_event"}


def _expected_warning(unique_id: str) -> bool:
    return any(model in unique_id and test in unique_id for model, test in WARNS.items())


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    """The project, built once: (cases, dbt's results, seconds the build took, the database file)."""
    runner = _dbt_runner()
    project = tmp_path_factory.mktemp("dbt") / "leadlang_it"
    init_project(project)
    cases = _cases(project)
    _map_demo_leads(project)
    seed_entries = []
    database = project / f"{project.name}.duckdb"
    for case in cases:
        if case.model == "plg":
            continue  # the demo's own models, seeds and source
        # one source() stays a source, with names that need quoting: loaded into the database as
        # an ingestion tool would, declared by the stub `leadlang dbt --sources` writes
        keep = ("raw data.events-2024",) if case.model == "edge_names__edge" else ()
        mapping, entries = _seed(project, case.policy, case.model, case.leads, case.accounts, case.events, keep=keep)
        seed_entries += entries
        write_policy(case.policy, project / "models" / "corpus", "duckdb", mapping, case.model, case.unit_tests)
        if keep:
            _load(database, [t for t in tables_for(case.policy, case.leads, case.accounts, case.events) if t.name in keep])
            stub = sources_stub([case.policy], "duckdb", mapping, set())
            (project / "models" / "corpus" / "sources.yml").write_text(dump([], stub), encoding="utf-8")
    (project / "seeds" / "corpus.yml").write_text(dump([], {"version": 2, "seeds": seed_entries}), encoding="utf-8")

    with _in(project):  # as `cd demo && dbt build`: the profile's database file and the hook's data are relative
        t0 = time.perf_counter()
        result = runner().invoke(["build", "--vars", f"{{leadlang_as_of: '{AS_OF_TEXT}'}}", "--threads", "4", "--quiet", "--no-write-json", "--no-partial-parse"])
        seconds = time.perf_counter() - t0
    assert result.exception is None, f"dbt build raised: {result.exception}"
    failed = [f"{r.node.unique_id}: {r.status}: {r.message}" for r in result.result
              if str(r.status) not in ("success", "pass") and not (str(r.status) == "warn" and _expected_warning(r.node.unique_id))]
    assert result.success and not failed, "dbt build failed:\n" + "\n".join(failed[:20])
    return cases, result.result, seconds, database


def _rows(con, table: str) -> list[dict]:
    arrow = con.sql(f'SELECT * FROM "main"."{table}"').to_arrow_table()
    columns = [[v.astimezone(dt.timezone.utc) if isinstance(v, dt.datetime) and v.tzinfo else v for v in arrow.column(i).to_pylist()]
               for i in range(arrow.num_columns)]
    return [dict(zip(arrow.column_names, r)) for r in zip(*columns)]


def test_dbt_build_passes_models_data_tests_and_unit_tests(build):
    cases, results, seconds, _ = build
    kinds = Counter(r.node.resource_type.value if hasattr(r.node.resource_type, "value") else str(r.node.resource_type) for r in results)
    print(f"\ndbt build: {seconds:.1f} s, {dict(kinds)}")
    assert kinds["model"] == 2 * len(cases)
    # one unit test per test block of each example policy, plus the explanation ones
    assert kinds["unit_test"] >= sum(len(load(p).tests) for p in EXAMPLES)
    assert kinds["test"] > 3 * len(cases)


MODELS = ["plg"] + [p.stem for p in EXAMPLES if p.stem != "plg"] + [f"{p.stem}__edge" for p in EXAMPLES + EDGES] + list(WARNS)


def test_out_of_enum_inputs_and_an_early_as_of_warn_and_nothing_else_does(build):
    """dbt's accepted_values on the enum inputs (severity warn) find the planted values; the as-of
    test warns on the model whose events all come after the as-of time; every other test passes."""
    _, results, _, _ = build
    warned = Counter(model for r in results if str(r.status) == "warn" for model in WARNS if model in r.node.unique_id)
    assert set(warned) == set(WARNS)
    enum_tests = [r for r in results if "accepted_values" in r.node.unique_id  # those on its seeds
                  and any(n.startswith("seed.") and ".edge_logic__bad_enum__" in n for n in r.node.depends_on.nodes)]
    assert enum_tests and all(str(r.status) == "warn" and r.failures > 0 for r in enum_tests)
    as_of = [r for r in results if "as_of_before_every_event" in r.node.unique_id]
    assert as_of and {str(r.status) for r in as_of if "edge_events__future" not in r.node.unique_id} == {"pass"}
    assert {str(r.status) for r in as_of if "edge_events__future" in r.node.unique_id} == {"warn"}


@pytest.mark.parametrize("index", range(len(MODELS)), ids=MODELS)
def test_built_tables_equal_the_interpreter(build, index):
    import duckdb

    cases, _, _, database = build
    case = cases[index]
    assert case.model == MODELS[index]
    oracle = evaluate(case.policy, case.leads, case.accounts, case.events, case.as_of)
    with duckdb.connect(str(database)) as con:  # dbt-duckdb may still hold it open, read-write
        got, why = _rows(con, case.model), _rows(con, case.model + "_explain")
    assert len(got) == len(case.leads)
    assert_same_result(case.policy, oracle, got, why, f"dbt {case.model}", ordered=False)


# ---------------------------------------------- the history models (`--history`), run at three as-ofs --

# three runs: windows close and decay goes on between them, so labels change
HISTORY_AS_OFS = [AS_OF - dt.timedelta(days=14), AS_OF, AS_OF + dt.timedelta(days=30)]


def expected_history(policy, labels_at: list[tuple[dt.datetime, dict]]) -> tuple[set, set]:
    """The SCD2 rows and the changes that the labels of each lead at each run imply (runs in time
    order): a lead's row opens at the first run that sees its labels and closes at the first run
    that sees others, or no such lead; a change per label column that differs between a lead's
    consecutive rows."""
    columns = label_columns(policy)
    rows, open_rows = [], {}
    for at, labels in labels_at:
        for key in [k for k in open_rows if k not in labels]:
            open_rows.pop(key)["valid_to"] = at
        for key, values in labels.items():
            row = open_rows.get(key)
            if row is not None and row["labels"] == values:
                continue
            if row is not None:
                row["valid_to"] = at
            open_rows[key] = {"key": key, "labels": values, "valid_from": at, "valid_to": None}
            rows.append(open_rows[key])
    text = lambda v: None if v is None else ("true" if v else "false") if isinstance(v, bool) else str(v)  # noqa: E731
    changes, previous = set(), {}
    for row in rows:  # in run order: a lead's rows come in valid_from order
        before = previous.get(row["key"])
        previous[row["key"]] = row
        if before is not None:
            changes |= {(row["key"], c, before["valid_from"], row["valid_from"], text(old), text(new))
                        for c, old, new in zip(columns, before["labels"], row["labels"]) if old != new}
    return {(r["key"], *r["labels"], r["valid_from"], r["valid_to"]) for r in rows}, changes


def _history_data():
    """The PLG example and its first 500 sample leads with their events."""
    policy = load(ROOT / "policies" / "plg" / "plg.lead")
    ds = load_dataset(policy, ROOT / "policies" / "plg" / "data")
    leads = ds.leads[:500]
    keys = {r[policy.key] for r in leads}
    return policy, leads, ds.accounts, {name: [e for e in rows if e["lead"] in keys] for name, rows in ds.events.items()}


def _history_runs(project: Path, dialect: str, schema: str, profile: dict, read, refusal: bool = True) -> None:
    """`leadlang dbt --history` of the PLG example in a project of its own (a small project: dbt
    parses it quickly), reading its sample data from tables already loaded (`schema` holds the
    ref() ones), run at each of HISTORY_AS_OFS; after each run the history and changes models
    (`read(table)` gives their rows) equal what the interpreter's labels at every as-of so far
    imply. Then (with `refusal`) a run at an earlier as-of is refused by the model's guard and
    changes nothing."""
    runner = _dbt_runner()
    policy, leads, accounts, events = _history_data()
    mapping = {relation_name(rel): f"{schema}.{rel.parts[0]}" for rel in relation_columns(policy) if rel.kind == "ref"}
    write_policy(policy, project / "models", dialect, mapping, with_unit_tests=False, history=True)
    (project / "models" / "sources.yml").write_text(dump([], sources_stub([policy], dialect, mapping, set())), encoding="utf-8")
    (project / "dbt_project.yml").write_text(dump([], {
        "name": "leadlang_history", "version": "1.0.0", "config-version": 2, "profile": "leadlang_history",
        "flags": {"send_anonymous_usage_stats": False}, "models": {"leadlang_history": {"+materialized": "table"}},
    }), encoding="utf-8")
    (project / "profiles.yml").write_text(dump([], {"leadlang_history": {"target": "dev", "outputs": {"dev": profile}}}), encoding="utf-8")
    columns, key = label_columns(policy), policy.key

    def run(at: dt.datetime):
        with _in(project):
            return runner().invoke(["build", "--exclude", policy.name + EXPLAIN_SUFFIX, "--vars", f"{{leadlang_as_of: '{at.isoformat()}'}}",
                                     "--quiet", "--no-write-json"])

    def history() -> set:
        return {(r[key], *(r[c] for c in columns), r["valid_from"], r["valid_to"]) for r in read(policy.name + HISTORY_SUFFIX)}

    labels_at = []
    for i, at in enumerate(HISTORY_AS_OFS):
        result = run(at)
        assert result.exception is None and result.success, [f"{r.node.unique_id}: {r.message}" for r in result.result or []
                                                              if str(r.status) not in ("success", "pass")] or result.exception
        oracle = evaluate(policy, leads, accounts, events, at)
        labels_at.append((at, {r[key]: tuple(r[c] for c in columns) for r in oracle.rows}))
        want_rows, want_changes = expected_history(policy, labels_at)
        got_rows, got_changes = history(), {tuple(r.values()) for r in read(policy.name + CHANGES_SUFFIX)}
        assert got_rows == want_rows, f"run {i + 1} at {at}: {len(got_rows ^ want_rows)} rows differ, e.g. {sorted(got_rows ^ want_rows, key=repr)[:4]}"
        assert got_changes == want_changes, f"run {i + 1} at {at}: changes differ, e.g. {sorted(got_changes ^ want_changes, key=repr)[:4]}"
    assert len(want_changes) > 10 and len({c[1] for c in want_changes}) > 1, "the runs should change labels"
    assert len(want_rows) > len(leads)
    if not refusal:
        return
    result = run(HISTORY_AS_OFS[1])  # out of order
    refused = [r for r in result.result if r.node.name == policy.name + HISTORY_SUFFIX]
    assert not result.success and refused and str(refused[0].status) == "error"
    assert f"earlier than {HISTORY_AS_OFS[-1]:%Y-%m-%d %H:%M:%S}" in refused[0].message and "runs go forward in time" in refused[0].message
    assert history() == want_rows


def test_history_models_on_duckdb_equal_the_interpreters_labels_at_each_run(tmp_path):
    import duckdb

    database = tmp_path / "history.duckdb"
    _load(database, tables_for(*_history_data()))

    def read(table: str) -> list[dict]:
        with duckdb.connect(str(database)) as con:
            return _rows(con, table)

    _history_runs(tmp_path / "project", "duckdb", "main", {"type": "duckdb", "path": str(database), "threads": 1,
                                                           "settings": {"TimeZone": "UTC"}}, read)


# ------------------------------------------------------------------ PostgreSQL, on the pgserver --


def _dbt_postgres() -> None:
    try:
        import dbt.adapters.postgres  # noqa: F401
    except ImportError as err:
        if _in_ci():
            pytest.fail(f"dbt-postgres unavailable in CI: {err}", pytrace=False)
        pytest.skip(f"needs `pip install dbt-postgres` ({err})")


def _postgres_profile(postgres_engine, schema: str) -> dict:
    socket_dir = postgres_engine._server.get_uri(postgres_engine.DATABASE).split("host=", 1)[1]
    return {"type": "postgres", "host": socket_dir, "port": 5432, "user": "postgres", "password": "",
            "dbname": postgres_engine.DATABASE, "schema": schema, "threads": 4}


def _postgres_rows(con, schema: str, table: str) -> list[dict]:
    cur = con.execute(f'SELECT * FROM "{schema}"."{table}"')
    names = [d.name for d in cur.description]
    return [{n: v.astimezone(dt.timezone.utc) if isinstance(v, dt.datetime) else v for n, v in zip(names, r)} for r in cur.fetchall()]


def test_history_models_on_postgres_equal_the_interpreters_labels_at_each_run(tmp_path, postgres_engine):
    import engines

    _dbt_runner()
    _dbt_postgres()
    inputs, schema, con = "leadlang_history_in", "leadlang_history", postgres_engine.con
    tables = [dataclasses.replace(t, name=t.name if "." in t.name else f"{inputs}.{t.name}") for t in tables_for(*_history_data())]
    try:
        with con.cursor() as cur:
            for t in tables:
                for statement in postgres_engine.table_ddl(t):
                    cur.execute(statement)
                with cur.copy(f"COPY {postgres_engine.relation(t.name)} FROM STDIN") as copy:
                    for r in engines._checked(t):
                        copy.write_row(r)
        _history_runs(tmp_path / "project", "postgres", inputs, _postgres_profile(postgres_engine, schema),
                      lambda table: _postgres_rows(con, schema, table), refusal=False)  # the same guard as on DuckDB: one dbt run less
    finally:
        for s in {inputs, schema, *(t.name.split(".")[0] for t in tables)}:
            con.execute(f'DROP SCHEMA IF EXISTS "{s}" CASCADE')


def test_dbt_build_on_postgres_equals_the_interpreter(tmp_path, postgres_engine):
    """A smaller project on dbt-postgres against the real server the differential tests use: the
    PLG example (its unit tests and the demo's sample rows) and the quoting and logic edge cases."""
    runner = _dbt_runner()
    _dbt_postgres()
    demo = tmp_path / "demo"
    init_project(demo)  # only for its sample rows
    project = tmp_path / "pg"
    (project / "seeds").mkdir(parents=True)
    plg = load(demo / "policies" / "plg.lead")
    data = tmp_path / "plg-data"
    data.mkdir()
    for seed, name in [("seeds/stg_leads.csv", "leads"), ("seeds/stg_product_events.csv", "product"), ("data/hubspot/engagements.csv", "marketing")]:
        shutil.copy(demo / seed, data / f"{name}.csv")
    ds = load_dataset(plg, data)
    cases = [Case("plg", plg, ds.leads, ds.accounts, ds.events, AS_OF, True)]
    for path in [p for p in EDGES if p.stem in ("edge_names", "edge_logic")]:
        policy = load(path)
        leads, accounts, events = make_rows(policy, 2)
        cases.append(Case(f"{policy.name}__edge", policy, _no_empty_strings(leads), _no_empty_strings(accounts),
                          {k: _no_empty_strings(v) for k, v in events.items()}, AS_OF, False))
    seed_entries = []
    for case in cases:
        mapping, entries = _seed(project, case.policy, case.model, case.leads, case.accounts, case.events, "postgres")
        seed_entries += entries
        write_policy(case.policy, project / "models", "postgres", mapping, case.model, case.unit_tests)
    schema = "dbt_leadlang"
    (project / "seeds" / "seeds.yml").write_text(dump([], {"version": 2, "seeds": seed_entries}), encoding="utf-8")
    (project / "dbt_project.yml").write_text(dump([], {
        "name": "leadlang_pg", "version": "1.0.0", "config-version": 2, "profile": "leadlang_pg",
        "flags": {"send_anonymous_usage_stats": False},
    }), encoding="utf-8")
    (project / "profiles.yml").write_text(dump([], {"leadlang_pg": {"target": "dev", "outputs": {"dev": _postgres_profile(postgres_engine, schema)}}}),
                                          encoding="utf-8")
    with _in(project):
        t0 = time.perf_counter()
        result = runner().invoke(["build", "--vars", f"{{leadlang_as_of: '{AS_OF_TEXT}'}}", "--quiet", "--no-write-json", "--no-partial-parse"])
        seconds = time.perf_counter() - t0
    assert result.exception is None, f"dbt build raised: {result.exception}"
    failed = [f"{r.node.unique_id}: {r.status}: {r.message}" for r in result.result
              if str(r.status) not in ("success", "pass") and not (str(r.status) == "warn" and _expected_warning(r.node.unique_id))]
    assert result.success and not failed, "dbt build failed:\n" + "\n".join(failed[:20])
    kinds = Counter(str(getattr(r.node.resource_type, "value", r.node.resource_type)) for r in result.result)
    print(f"\ndbt build on PostgreSQL: {seconds:.1f} s, {dict(kinds)}")
    assert kinds["unit_test"] >= len(plg.tests) and kinds["model"] == 2 * len(cases)
    con = postgres_engine.con
    for case in cases:
        oracle = evaluate(case.policy, case.leads, case.accounts, case.events, case.as_of)
        tables = []
        for table in (case.model, case.model + "_explain"):
            tables.append(_postgres_rows(con, schema, table))
        assert len(tables[0]) == len(case.leads)
        assert_same_result(case.policy, oracle, *tables, f"dbt-postgres {case.model}", ordered=False)


def _map_demo_leads(project: Path) -> None:
    """The `init` project with its leads in a seed of another name, mapped only in its leadlang.toml:
    the pre-commit hooks' commands, with no option, must regenerate the models from the settings
    (the dbt hook fails once, as the models changed, then passes) and `dbt build` must pass."""
    from click.testing import CliRunner

    from leadlang.cli import main

    (project / "seeds" / "stg_leads.csv").rename(project / "seeds" / "crm_leads.csv")
    seeds = project / "seeds" / "seeds.yml"
    seeds.write_text(seeds.read_text(encoding="utf-8").replace("stg_leads", "crm_leads"), encoding="utf-8")
    settings = project / "leadlang.toml"
    text = settings.read_text(encoding="utf-8")
    assert '# stg_leads = "my_leads"' in text
    settings.write_text(text.replace('# stg_leads = "my_leads"', 'stg_leads = "crm_leads"'), encoding="utf-8")
    hooks = yaml.safe_load((project / ".pre-commit-config.yaml").read_text(encoding="utf-8"))["repos"][0]["hooks"]
    with _in(project):
        codes = {h["id"]: CliRunner().invoke(main, h["entry"].split()[1:]).exit_code for h in hooks}
        assert codes == {"leadlang-fmt": 0, "leadlang-lint": 0, "leadlang-check": 0, "leadlang-test": 0, "leadlang-dbt": 1}
        assert CliRunner().invoke(main, ["dbt", "--fail-on-change"]).exit_code == 0  # nothing left to change
    assert "ref('crm_leads')" in (project / "models" / "leadlang" / "plg.sql").read_text(encoding="utf-8")
