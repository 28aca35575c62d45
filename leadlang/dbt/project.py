"""`leadlang init`: a ready project — the example policy, its sample data, dbt on DuckDB, pre-commit.

The project builds offline with `dbt build` run from its directory: `profiles.yml` sits in the
project and points dbt-duckdb at a local database file. The leads and product events are seeds
(typed by the policy's declarations); the marketing events stand for a table an ingestion tool
loads, so they are a dbt source, loaded by an `on-run-start` hook from `data/`.
"""

from __future__ import annotations

import dataclasses

import re
from pathlib import Path

from leadlang.dbt.models import relation_name
from leadlang.dbt.properties import dump, relation_columns, seed_properties
from leadlang import outputs
from leadlang.diagnostics import DataError
from leadlang.sql import DIALECTS

DEMO = Path(__file__).parent / "demo"
POLICY = "policies/plg.lead"
MODELS = "models/leadlang"
AS_OF = "2024-06-01T00:00:00Z"  # the sample data's as-of time


def _name(directory: Path) -> str:
    name = re.sub(r"[^a-z0-9_]+", "_", directory.resolve().name.lower()).strip("_")
    return name if re.match(r"[a-z_]", name or "0") else f"leadlang_{name or 'project'}"


def init(directory: Path, history: bool = False) -> list[Path]:
    from leadlang.check import check_module
    from leadlang.dbt import generate
    from leadlang.syntax import parse

    name = _name(directory)
    text = (DEMO / POLICY).read_text(encoding="utf-8")
    policy = check_module(parse(text, POLICY), {POLICY: text})
    d = DIALECTS["duckdb"]
    seeds, loads = {}, []
    for rel, columns in relation_columns(policy).items():
        if rel.kind == "ref":
            seeds[relation_name(rel)] = rel.parts[0]
            continue
        schema, table = (d.ident(p) for p in rel.parts)
        types = ", ".join(f"{d.string_literal(c)}: {d.string_literal(d.type_name(k))}" for c, k in columns)
        csv = d.string_literal("data/" + "/".join(rel.parts) + ".csv")
        loads += [f"CREATE SCHEMA IF NOT EXISTS {schema}",
                  f"CREATE OR REPLACE TABLE {schema}.{table} AS SELECT * FROM read_csv({csv}, header = true, auto_detect = false, columns = {{{types}}})"]
    files = {
        "dbt_project.yml": dump(
            [f"The dbt project of {name}: leadlang policies in policies/, their models in {MODELS}/ (`leadlang dbt`)."],
            {
                "name": name, "version": "1.0.0", "config-version": 2, "profile": name,
                "model-paths": ["models"], "seed-paths": ["seeds"], "clean-targets": ["target", "logs"],
                "models": {name: {"leadlang": {"+materialized": "table"}}},
                "vars": {"leadlang_as_of": AS_OF},
                "flags": {"send_anonymous_usage_stats": False},
                # stands in for the ingestion tool that loads source tables in a real warehouse
                "on-run-start": loads,
            },
        ),
        "profiles.yml": dump(
            ["dbt-duckdb on a local file: `dbt build` needs no server and no network."],
            {name: {"target": "dev", "outputs": {"dev": {"type": "duckdb", "path": f"{name}.duckdb", "threads": 1, "settings": {"TimeZone": "UTC"}}}}},
        ),
        "seeds/seeds.yml": dump(["Column types from the policy's declarations: no value is left to type inference."],
                                {"version": 2, "seeds": seed_properties(policy, "duckdb", seeds)}),
        "leadlang.toml": _SETTINGS.format(models=MODELS, as_of=AS_OF) + ("history = true\n" if history else ""),
        ".pre-commit-config.yaml": _PRE_COMMIT,
        ".gitignore": "target/\nlogs/\ndbt_packages/\n*.duckdb\n*.duckdb.wal\n",
        "README.md": _README.format(name=name, models=MODELS, policy=POLICY, as_of=AS_OF,
                                    history_rows=_HISTORY_ROWS if history else "", history_text=_HISTORY_TEXT if history else ""),
    }
    copies = [POLICY, *(f"seeds/{s}.csv" for s in seeds.values())]
    copies += ["data/" + "/".join(rel.parts) + ".csv" for rel in relation_columns(policy) if rel.kind == "source"]
    clash = [p for p in [*files, *copies, MODELS] if (directory / p).exists()]
    if clash:
        raise DataError(f"{directory}: {clash[0]} already exists; `leadlang init` never overwrites, choose a new directory")
    written = []
    try:
        for rel_path, body in files.items():
            written.append(_put(directory / rel_path, body.encode("utf-8")))
        for rel_path in copies:
            written.append(_put(directory / rel_path, (DEMO / rel_path).read_bytes()))
    except OSError as err:
        raise DataError(f"{directory}: cannot write the project: {err.strerror}") from None
    policy = dataclasses.replace(policy, path=POLICY)
    result = generate([policy], directory / MODELS, "duckdb", sources=True, history=history)
    written += result.files[policy.name] + ([result.sources] if result.sources else [])
    return written


def _put(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return outputs.write_bytes(path, data)


_PRE_COMMIT = """\
# pre-commit hooks for leadlang policies (https://pre-commit.com): `pre-commit install` once.
repos:
  - repo: local
    hooks:
      - id: leadlang-fmt
        name: leadlang fmt (the canonical layout)
        entry: leadlang fmt
        language: system
        files: \\.lead$
      - id: leadlang-lint
        name: leadlang lint
        entry: leadlang lint
        language: system
        files: \\.lead$
      - id: leadlang-check
        name: leadlang check
        entry: leadlang check
        language: system
        files: \\.lead$
      - id: leadlang-test
        name: leadlang test
        entry: leadlang test
        language: system
        files: \\.lead$
      # every policy of leadlang.toml, its --out and table mappings; fails when a model changed or is not in git
      - id: leadlang-dbt
        name: leadlang dbt (the models match the policies)
        entry: leadlang dbt --fail-on-change
        language: system
        files: \\.lead$|^leadlang\\.toml$
        pass_filenames: false
"""

_SETTINGS = """\
# leadlang's settings (docs/config.md): every command, the pre-commit hooks and CI read them,
# and an option on the command line overrides them. `leadlang config` shows what applies.
policies = ["policies"]
dialect = "duckdb"
as-of = "{as_of}"

# Map a relation a policy reads to one of this project: NAME = "model" (ref) or "schema.table" (source).
[tables]
# stg_leads = "my_leads"

[dbt]
out = "{models}"
"""

_README = """\
# {name}

A lead qualification project: the policy in `{policy}` (leadlang) is scored in
the warehouse by dbt. It is the product-led example of leadlang — fit and
engagement scores, disqualifiers, UCC criteria and the fit × engagement
matrix — with 300 sample leads.

```sh
pip install leadlang dbt-core dbt-duckdb
dbt build              # seeds, models, data tests and unit tests, offline
```

`dbt build` runs from this directory: `profiles.yml` here points dbt-duckdb at
`{name}.duckdb`, a local file. It builds:

| model | what |
| --- | --- |
| `plg` | one row per lead: scores, bands, criteria, the segment, the stage and the routing |
| `plg_explain` | why: every fired rule with its points, every true criteria member and gate |
{history_rows}
and runs the contract, the data tests and one unit test per `test` block of
the policy (see `{models}/plg.yml`).

## Layout

| path | what |
| --- | --- |
| `{policy}` | the policy; edit it, then regenerate the models |
| `{models}/` | generated by `leadlang dbt`: never edit by hand |
| `seeds/` | leads and product events, typed by `seeds/seeds.yml` |
| `data/hubspot/engagements.csv` | marketing events: a dbt source, loaded by the `on-run-start` hook of `dbt_project.yml` as an ingestion tool would |
| `leadlang.toml` | leadlang's settings: the policies, the models directory, table mappings; every command and hook reads it |
| `.pre-commit-config.yaml` | formats, lints, checks and tests the policies and regenerates the models on commit |

## Changing the policy

```sh
leadlang check          # the policies of leadlang.toml
leadlang test
leadlang dbt            # into {models}, with the table mappings of leadlang.toml
dbt build
```

## As-of time

The models score as of the dbt var `leadlang_as_of`; `dbt_project.yml` sets it
to `{as_of}`, the time the sample data was made for. Remove it to score as of
each run's current time, or pass another one:

```sh
dbt build --vars '{{leadlang_as_of: "2024-05-01T00:00:00Z"}}'
```
{history_text}"""

_HISTORY_ROWS = """\
| `plg_history` | the labels of each lead over time: one row per lead and label set, `valid_from` to `valid_to` (incremental: each run appends) |
| `plg_changes` | the label changes: one row per lead, change and label column, with the old and new value |
"""

_HISTORY_TEXT = """
## History

`plg_history` keeps, across runs, when each lead's labels (bands, criteria,
`disqualified`, segment, stage) changed: each `dbt build` records them as of
its `leadlang_as_of`. Runs must go forward in time, so set a later as-of for
each run (or remove the var from `dbt_project.yml`: each run is then as of its
own time):

```sh
dbt build --vars '{leadlang_as_of: "2024-06-08T00:00:00Z"}'
dbt build --vars '{leadlang_as_of: "2024-06-15T00:00:00Z"}'
```

`dbt build --full-refresh` starts the history again from the run's as-of.
"""
