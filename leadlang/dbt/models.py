"""The two dbt models of a policy: the scored rows and the explanation rows, as plain SQL models.

The SQL is the compiler's (`leadlang.sql`), with two hooks: every declared relation is written
as `{{ ref('x') }}` or `{{ source('a', 'b') }}`, and the as-of time is the dbt var
`leadlang_as_of` (the run's current timestamp when unset). Every output column is cast to the
type the properties YAML declares, so the enforced contract holds on every warehouse. Anything
else that looks like Jinja (a policy string holding `{{`) is escaped, so dbt renders it verbatim.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

from leadlang.check.policy import Output, Policy
from leadlang.sql import DIALECTS, Dialect, plan, render
from leadlang.syntax import ast as A

AS_OF_VAR = "leadlang_as_of"
EXPLAIN_SUFFIX = "_explain"

# The as-of literal is compiled for a sentinel time whose text is then replaced by the var's
# normalised text, so each dialect's own timestamp literal is reused as it is.
_SENTINEL = dt.datetime(1111, 11, 11, 11, 11, 11, 111111, tzinfo=dt.timezone.utc)
_SENTINEL_TEXT = "1111-11-11 11:11:11.111111"
_MARK = "\x00leadlang:{}\x00"  # placeholders that no policy text produces, swapped in after escaping

# Turns the var into "YYYY-MM-DD HH:MM:SS.ffffff" in UTC (an ISO 8601 date or timestamp; UTC
# unless it names an offset), or none for `now` and unset.
PRELUDE = """\
{#- the as-of time: dbt var `leadlang_as_of` (ISO 8601, UTC unless it names an offset); unset or `now`: when the model runs -#}
{%- set leadlang_as_of = var('leadlang_as_of', none) -%}
{%- if leadlang_as_of is not none and (leadlang_as_of | string | trim | lower) != 'now' -%}
{%-   set leadlang_as_of = modules.datetime.datetime.fromisoformat((leadlang_as_of | string | trim | upper).replace('Z', '+00:00')) -%}
{%-   if leadlang_as_of.tzinfo is none -%}{%- set leadlang_as_of = leadlang_as_of.replace(tzinfo=modules.pytz.utc) -%}{%- endif -%}
{%-   set leadlang_as_of = leadlang_as_of.astimezone(modules.pytz.utc).strftime('%Y-%m-%d %H:%M:%S.%f') -%}
{%- else -%}
{%-   set leadlang_as_of = none -%}
{%- endif %}
"""


def relation_name(rel: A.Relation) -> str:
    """The name `--table` maps: `stg_leads` for ref("stg_leads"), `hubspot.engagements` for a source."""
    return ".".join(rel.parts)


def target(rel: A.Relation, tables: dict[str, str]) -> tuple[str, tuple[str, ...]]:
    """The dbt relation a declared one reads: ("ref", (name,)) or ("source", (source, table)).

    `tables` maps a relation name to another: `x` is `ref('x')`, `a.b` is `source('a', 'b')`.
    """
    mapped = tables.get(relation_name(rel))
    if mapped is None:
        return rel.kind, rel.parts
    parts = tuple(mapped.split("."))
    return ("ref", parts) if len(parts) == 1 else ("source", parts)


def jinja_string(text: str) -> str:
    """A single-quoted Jinja string literal holding `text`."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def jinja_call(kind: str, parts: tuple[str, ...]) -> str:
    """`ref('x')` or `source('a', 'b')`, with Jinja string literals."""
    return f"{kind}({', '.join(jinja_string(p) for p in parts)})"


def column_type(d: Dialect, o: Output) -> str:
    """The SQL type of an output column: scores have two decimal places, other numbers ten."""
    return d.score if o.role == "score" else d.type_name(o.kind)


def as_of_jinja(d: Dialect) -> str:
    """The as-of time in a model (after `PRELUDE`): the var's timestamp literal, or the run's current timestamp."""
    fixed = d.timestamp_literal(_SENTINEL)
    assert _SENTINEL_TEXT in fixed, f"{d.name}: timestamp literal {fixed!r} does not spell the time as expected"
    return (
        "{% if leadlang_as_of is none %}" + d.cast(d.current_timestamp(), "timestamp")
        + "{% else %}" + fixed.replace(_SENTINEL_TEXT, "{{ leadlang_as_of }}") + "{% endif %}"
    )


def escape(sql: str) -> str:
    """Text dbt's Jinja renders back to itself: `{{`, `{%` and `{#` become `{{ '{' }}{`, ..."""
    return re.sub(r"\{(?=[{%#])", "{{ '{' }}", sql)


def model_sql(policy: Policy, dialect: str, tables: dict[str, str], what: str = "score", name: str | None = None) -> str:
    """The text of `<name>.sql` (what="score") or `<name>_explain.sql` (what="explain"); name: the policy's."""
    d = DIALECTS[dialect]
    relations: dict[str, str] = {}

    def relation_sql(rel: A.Relation) -> str:
        mark = _MARK.format(len(relations))
        relations[mark] = "{{ " + jinja_call(*target(rel, tables)) + " }}"
        return mark

    as_of_mark = _MARK.format("as_of")
    p = plan(policy, dialect, relation_sql=relation_sql, as_of_sql=as_of_mark)
    p = dataclasses.replace(p, outputs=[(name, f"CAST({sql} AS {column_type(d, policy.output(name))})") for name, sql in p.outputs])
    sql = escape(render(p, what))

    for mark, text in {**relations, as_of_mark: as_of_jinja(d)}.items():
        sql = sql.replace(mark, text)

    lines = sql.split("\n")
    head = 0
    while head < len(lines) and lines[head].startswith("--"):
        head += 1
    model = (name or policy.name) + (EXPLAIN_SUFFIX if what == "explain" else "")
    about = "one row per lead" if what == "score" else "one row per fired rule, true criteria member and true gate of each lead"
    note = d.comment(f"dbt model `{model}`: {about}; as of the var `{AS_OF_VAR}`, default the run's current timestamp")
    return "\n".join([*lines[:head], note, PRELUDE + "\n".join(lines[head:]).lstrip("\n")])
