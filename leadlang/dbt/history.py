"""`leadlang dbt --history`: the labels of every lead over time, kept by dbt, SCD2-style.

Two more models per policy, beside the scored one (`<name>`), which they read:

- `<name>_history`, incremental: one row per lead and label set, `valid_from` (the as-of time of
  the run that first saw those labels) to `valid_to` (the as-of time of the run that saw them
  change; NULL for the lead's current row). A run at the var `leadlang_as_of` t closes the open row
  of every lead whose labels differ at t (or that left the leads) and inserts the new rows; other
  rows are untouched. A run earlier than a time the table already holds stops with a compiler
  error naming that time (a guard query before the model's SQL).
- `<name>_changes`: the transitions, long form — key, `column`, `previous_valid_from`,
  `valid_from`, `old`, `new` (as text) — one row per label column that differs between a lead's
  consecutive history rows.

Label columns are those of `leadlang.history.label_columns` (as `leadlang history --changes`):
bands, criteria verdicts, `disqualified` and classifications (matrices included), in output order.
Merging needs a unique key, (key, valid_from): `delete+insert` on DuckDB and PostgreSQL, `merge` on
Snowflake, BigQuery and Spark.
"""

from __future__ import annotations

from leadlang.check.policy import Policy
from leadlang.dbt.models import AS_OF_VAR, PRELUDE, as_of_jinja, escape, jinja_call, jinja_string
from leadlang.dbt.properties import _column, header
from leadlang.diagnostics import DataError
from leadlang.history import label_columns
from leadlang.sql import DIALECTS, Dialect

HISTORY_SUFFIX = "_history"
CHANGES_SUFFIX = "_changes"
STRATEGY = {"duckdb": "delete+insert", "postgres": "delete+insert", "snowflake": "merge", "bigquery": "merge", "spark": "merge"}


def check_names(policy: Policy, name: str) -> None:
    """A lead key or label column named as a column the history models add would make two columns
    of one name (compared without case: DuckDB and Snowflake fold it): one clear error instead."""
    added = {HISTORY_SUFFIX: ("valid_from", "valid_to"), CHANGES_SUFFIX: ("column", "previous_valid_from", "valid_from", "old", "new")}
    for suffix, columns in added.items():
        mine = [policy.key, *label_columns(policy)] if suffix == HISTORY_SUFFIX else [policy.key]
        clash = next((c for c in mine if c.lower() in columns), None)
        if clash is not None:
            raise DataError(f"{policy.path}: `{clash}` of policy `{policy.name}` is also a column `leadlang dbt --history` adds to "
                            f"`{name}{suffix}` ({', '.join(columns)}); rename it in the policy")


def _head(policy: Policy, d: Dialect, model: str, about: str) -> str:
    return "\n".join(d.comment(line) for line in [*header(policy, f"dialect {d.name}"), f"dbt model `{model}`: {about}"]) + "\n"


def history_sql(policy: Policy, dialect: str, name: str | None = None) -> str:
    """The text of `<name>_history.sql`: the incremental SCD2 model over the scored model `<name>`."""
    d = DIALECTS[dialect]
    name = name or policy.name
    model = name + HISTORY_SUFFIX
    q = lambda column: escape(d.ident(column))  # noqa: E731
    key, labels = q(policy.key), [q(c) for c in label_columns(policy)]
    ts = d.type_name("timestamp")
    scored = "{{ " + jinja_call("ref", (name,)) + " }}"
    keep = ", ".join([key, *labels])
    same = " AND ".join([f"c.{key} = o.{key}", *(f"c.{c} IS NOT DISTINCT FROM o.{c}" for c in labels)])
    unique_key = ", ".join(jinja_string(d.ident(c)) for c in (policy.key, "valid_from"))
    config = (f"{{{{ config(materialized='incremental', incremental_strategy='{STRATEGY[dialect]}', unique_key=[{unique_key}], "
              "on_schema_change='append_new_columns', tags=['leadlang']) }}")
    fresh = (f"SELECT {', '.join(f'c.{x}' for x in [key, *labels])}, CAST({{{{ leadlang_run_as_of }}}} AS {ts}) AS {q('valid_from')}, "
             f"CAST(NULL AS {ts}) AS {q('valid_to')}\nFROM {q('__current')} c")
    later = (f"SELECT CAST(MAX(t) AS {d.type_name('string')}) FROM (SELECT {q('valid_from')} AS t FROM ' ~ this ~ ' "
             f"UNION ALL SELECT {q('valid_to')} AS t FROM ' ~ this ~ ') s WHERE t > ' ~ leadlang_run_as_of ~ '")
    refusal = (f"{jinja_string(model)} ~ ': the as-of time of this run is earlier than ' ~ leadlang_later ~ ', a time the history already holds; "
               f"runs go forward in time: run at a later `{AS_OF_VAR}`, or rebuild the history with --full-refresh")
    return "".join([
        _head(policy, d, model, "one row per lead and label set, valid_from to valid_to (NULL: current); appended at each run's "
                                f"as-of time, the var `{AS_OF_VAR}`"),
        config, "\n", PRELUDE,
        "{#- this run's as-of time: the scored model's, or the var's when it holds no lead -#}\n",
        f"{{%- set leadlang_run_as_of -%}}COALESCE((SELECT MAX({q('as_of')}) FROM {scored}), {as_of_jinja(d)}){{%- endset -%}}\n",
        "{%- if is_incremental() and execute -%}\n",
        f"{{%-   set leadlang_later = run_query('{later}').columns[0].values()[0] -%}}\n",
        f"{{%-   if leadlang_later is not none -%}}{{{{ exceptions.raise_compiler_error({refusal}') }}}}{{%- endif -%}}\n",
        "{%- endif %}\n",
        f"WITH {q('__current')} AS (\n  SELECT {keep}\n  FROM {scored}\n)\n",
        "{% if is_incremental() %}",
        f", {q('__open')} AS (\n  SELECT {keep}, {q('valid_from')}\n  FROM {{{{ this }}}}\n  WHERE {q('valid_to')} IS NULL\n)\n",
        "-- the open rows whose lead's labels changed (or whose lead is gone), closed at this run's as-of time\n",
        f"SELECT {', '.join(f'o.{x}' for x in [key, *labels])}, o.{q('valid_from')}, CAST({{{{ leadlang_run_as_of }}}} AS {ts}) AS {q('valid_to')}\n",
        f"FROM {q('__open')} o\nWHERE o.{q('valid_from')} < {{{{ leadlang_run_as_of }}}}\n",
        f"  AND NOT EXISTS (SELECT 1 FROM {q('__current')} c WHERE {same})\n",
        "UNION ALL\n-- the leads whose labels are new: a new open row (a rerun at the same as-of time replaces its own rows)\n",
        fresh, f"\nWHERE NOT EXISTS (SELECT 1 FROM {q('__open')} o WHERE {same})\n",
        "{% else %}\n", fresh, "\n{% endif %}\n",
    ])


def changes_sql(policy: Policy, dialect: str, name: str | None = None) -> str:
    """The text of `<name>_changes.sql`: one row per label column that differs between consecutive history rows."""
    d = DIALECTS[dialect]
    name = name or policy.name
    q = lambda column: escape(d.ident(column))  # noqa: E731
    key, text = q(policy.key), d.type_name("string")
    window = f"OVER (PARTITION BY {key} ORDER BY {q('valid_from')})"
    olds = [q(f"__leadlang_old_{i}") for i in range(len(label_columns(policy)))]
    rows = ",\n    ".join([f"LAG({q('valid_from')}) {window} AS {q('previous_valid_from')}",
                           *(f"{q(c)}, LAG({q(c)}) {window} AS {old}" for c, old in zip(label_columns(policy), olds))])
    selects = [
        f"SELECT {key}, CAST({escape(d.string_literal(c))} AS {text}) AS {q('column')}, {q('previous_valid_from')}, {q('valid_from')}, "
        f"CAST({old} AS {text}) AS {q('old')}, CAST({q(c)} AS {text}) AS {q('new')}\n"
        f"FROM {q('__rows')}\nWHERE {q('previous_valid_from')} IS NOT NULL AND {old} IS DISTINCT FROM {q(c)}"
        for c, old in zip(label_columns(policy), olds)
    ]
    return "".join([
        _head(policy, d, name + CHANGES_SUFFIX, "one row per label column that changed between two consecutive rows of a lead's history"),
        f"WITH {q('__rows')} AS (\n  SELECT {key}, {q('valid_from')},\n    {rows}\n",
        f"  FROM {{{{ {jinja_call('ref', (name + HISTORY_SUFFIX,))} }}}}\n)\n",
        "\nUNION ALL\n".join(selects), "\n",
    ])


def _expression_test(test: str, name: str, column_sql: str, description: str, **more) -> dict:
    return {test: {"name": name, "description": description, "column_name": column_sql, **more}}


def history_model(policy: Policy, d: Dialect, name: str) -> dict:
    """`<name>_history`'s properties: the columns, the contract and the SCD2 data tests."""
    model = name + HISTORY_SUFFIX
    ts, text = d.type_name("timestamp"), d.type_name("string")
    key, vf, vt = d.ident(policy.key), d.ident("valid_from"), d.ident("valid_to")
    columns = [_column(policy.key, text, "the lead's key", ["not_null"])]
    labels = set(label_columns(policy))
    for o in policy.outputs:
        if o.name in labels:
            tests = [{"accepted_values": {"arguments": {"values": list(o.labels)}}}] if o.labels else []
            columns.append(_column(o.name, d.type_name(o.kind), o.description, tests))
    columns += [
        _column("valid_from", ts, "the as-of time of the run that first saw these labels", ["not_null"]),
        _column("valid_to", ts, "the as-of time of the run that saw them change; empty for the lead's current row", []),
    ]
    return {
        "name": model,
        "description": f"{policy.title}: the labels of each lead over time under leadlang policy {policy.label}, "
                       "one row per lead and label set (SCD2), appended at each run's as-of time.",
        "config": {"contract": {"enforced": True}, "tags": ["leadlang"]},
        "columns": columns,
        "data_tests": [
            _expression_test("unique", f"{model}_unique_key_and_valid_from", f"CONCAT(CAST({vf} AS {text}), '|', {key})",
                             "one row per lead and valid_from"),
            _expression_test("unique", f"{model}_one_open_row_per_lead", key, "at most one current row (valid_to empty) per lead",
                             config={"where": f"{vt} IS NULL"}),
            _expression_test("accepted_values", f"{model}_valid_from_before_valid_to", f"CASE WHEN {vf} < {vt} THEN 1 ELSE 0 END",
                             "every closed row ends after it starts", arguments={"values": [1], "quote": False},
                             config={"where": f"{vt} IS NOT NULL"}),
        ],
    }


def changes_model(policy: Policy, d: Dialect, name: str) -> dict:
    """`<name>_changes`'s properties."""
    model = name + CHANGES_SUFFIX
    ts, text = d.type_name("timestamp"), d.type_name("string")
    key, vf, column = d.ident(policy.key), d.ident("valid_from"), d.ident("column")
    return {
        "name": model,
        "description": f"The label changes of each lead under leadlang policy {policy.label}: one row per label column "
                       f"that differs between two consecutive rows of `{name}{HISTORY_SUFFIX}`.",
        "config": {"contract": {"enforced": True}, "tags": ["leadlang"]},
        "columns": [
            _column(policy.key, text, "the lead's key", ["not_null"]),
            _column("column", text, "the label column that changed",
                    ["not_null", {"accepted_values": {"arguments": {"values": label_columns(policy)}}}]),
            _column("previous_valid_from", ts, "when the old value began: valid_from of the lead's previous row", ["not_null"]),
            _column("valid_from", ts, "when the new value began: the as-of time of the run that saw the change", ["not_null"]),
            _column("old", text, "the value before, as text (true/false for verdicts); empty when missing", []),
            _column("new", text, "the value after, as text; empty when missing", []),
        ],
        "data_tests": [
            _expression_test("unique", f"{model}_unique_key_valid_from_and_column",
                             f"CONCAT(CAST({vf} AS {text}), '|', {column}, '|', {key})", "one row per lead, change and column"),
        ],
    }
