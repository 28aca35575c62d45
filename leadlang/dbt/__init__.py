"""Checked policies -> a dbt project's models, properties YAML, data tests and unit tests.

    generate([Path("plg.lead")], Path("models/leadlang"))     what `leadlang dbt` writes
    init_project(Path("demo"))                                what `leadlang init` writes

For each policy, in the output directory: `<policy>.sql` (the scored rows), `<policy>_explain.sql`
(the explanation rows) and `<policy>.yml` (columns, contract, data tests, unit tests); with
`history`, also `<policy>_history.sql` (the labels over time, SCD2, incremental) and
`<policy>_changes.sql` (their transitions), see `leadlang.dbt.history`. The same
policy and options always give the same bytes, and a file is rewritten only when it changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from leadlang.check.policy import Policy
from leadlang.dbt.history import CHANGES_SUFFIX, HISTORY_SUFFIX, changes_model, changes_sql, check_names, history_model, history_sql
from leadlang.dbt.models import AS_OF_VAR, EXPLAIN_SUFFIX, model_sql
from leadlang.dbt.properties import dump, explain_model, header, relation_columns, score_model, seed_properties, sources_stub
from leadlang.dbt.unit_tests import FailingTests, unit_tests
from leadlang import outputs
from leadlang.diagnostics import DataError
from leadlang.sql import DIALECTS, check_tables, relation_names

__all__ = ["AS_OF_VAR", "Generated", "FailingTests", "generate", "init_project", "relation_columns", "seed_properties", "write_policy"]

SOURCES_FILE = "sources.yml"


@dataclass
class Generated:
    """What a run wrote: files by policy, unit tests by policy, and what it left alone."""

    files: dict[str, list[Path]] = field(default_factory=dict)
    unit_tests: dict[str, int] = field(default_factory=dict)
    sources: Path | None = None  # the stub written, if any
    kept: Path | None = None  # an existing sources file the stub would have replaced


def _mkdir(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DataError(f"{out}: cannot create the output directory: {err.strerror}") from None


def _write(path: Path, text: str) -> Path:
    try:
        unchanged = path.is_file() and path.read_bytes() == text.encode("utf-8")
    except OSError:
        unchanged = False
    if not unchanged:
        outputs.write_text(path, text)
    return path


def write_policy(policy: Policy, out: Path, dialect: str = "duckdb", tables: dict[str, str] | None = None,
                 name: str | None = None, with_unit_tests: bool = True, history: bool = False) -> tuple[list[Path], int]:
    """Write one policy's two models (four with `history`) and properties YAML into `out`; the files and
    the unit test count.

    `name` renames the models (default: the policy's name); `tables` maps relation names as
    `leadlang compile --table` does (`x` means `ref('x')`, `a.b` means `source('a', 'b')`).
    """
    tables = tables or {}
    name = name or policy.name
    if history:
        check_names(policy, name)
    d = DIALECTS[dialect]
    tests = unit_tests(policy, tables, name) if with_unit_tests else []
    _mkdir(out)
    models = {name: model_sql(policy, dialect, tables, "score", name), name + EXPLAIN_SUFFIX: model_sql(policy, dialect, tables, "explain", name)}
    props: dict = {"version": 2, "models": [score_model(policy, d, name, tables), explain_model(policy, d, name)]}
    if history:
        models |= {name + HISTORY_SUFFIX: history_sql(policy, dialect, name), name + CHANGES_SUFFIX: changes_sql(policy, dialect, name)}
        props["models"] += [history_model(policy, d, name), changes_model(policy, d, name)]
    if tests:
        props["unit_tests"] = tests
    files = [_write(out / f"{model}.sql", sql) for model, sql in models.items()]
    listed = ", ".join(f"`{model}`" for model in models)
    files.append(_write(out / f"{name}.yml", dump(header(policy, f"models {listed} and their tests"), props)))
    return files, len(tests)


def generate(policies: list[Policy], out: Path, dialect: str = "duckdb", tables: dict[str, str] | None = None,
             sources: bool = False, history: bool = False) -> Generated:
    """`leadlang dbt`: every policy's models into `out`; with `sources`, a `sources.yml` stub for the
    source() tables the dbt project does not declare yet (never replacing an existing file); with
    `history`, the history and changes models too."""
    tables = tables or {}
    check_tables(tables, list(dict.fromkeys(n for p in policies for n in relation_names(p))), 2,
                 "x for ref('x') or a.b for source('a', 'b')")
    names: dict[str, str] = {}
    for p in policies:
        if p.name in names:
            raise DataError(f"{p.path}: policy `{p.name}` is also the name of {names[p.name]}; dbt needs one model per name")
        names[p.name] = p.path
        if history:  # before anything is written
            check_names(p, p.name)
    result = Generated()
    for p in policies:
        result.files[p.name], result.unit_tests[p.name] = write_policy(p, out, dialect, tables, history=history)
    if sources:
        stub_path = out / SOURCES_FILE
        stub = sources_stub(policies, dialect, tables, _declared_sources(out))
        if stub is not None and stub_path.exists():
            result.kept = stub_path
        elif stub is not None:
            result.sources = _write(stub_path, dump(["Written by leadlang dbt as a starting point: edit it, leadlang never overwrites it."], stub))
    return result


def _project_root(start: Path) -> Path | None:
    for d in [start.resolve(), *start.resolve().parents]:
        if (d / "dbt_project.yml").is_file():
            return d
    return None


def _declared_sources(out: Path) -> set[tuple[str, str]]:
    """(source, table) pairs already declared in the dbt project's YAML (or in `out` without a project)."""
    root = _project_root(out)
    dirs = [out]
    if root is not None:
        try:
            conf = yaml.safe_load((root / "dbt_project.yml").read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError):
            conf = {}
        dirs = [root / p for p in conf.get("model-paths", ["models"])]
    declared = set()
    for d in dirs:
        for path in sorted(d.rglob("*.y*ml")) if d.is_dir() else []:
            try:
                doc = yaml.safe_load(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, yaml.YAMLError):
                continue
            for src in (doc or {}).get("sources") or [] if isinstance(doc, dict) else []:
                for t in src.get("tables") or []:
                    declared.add((str(src.get("name")), str(t.get("name"))))
    return declared


def init_project(directory: Path, history: bool = False) -> list[Path]:
    """`leadlang init`: a ready dbt project on DuckDB with the example policy and its sample data
    (with `history`, the history models too)."""
    from leadlang.dbt.project import init

    return init(directory, history)

