"""What a policy expects of its `--data` files: one `Column` per declared column, from the checked policy.

Also the value formats a file's cells are read in (the regular expressions `staging` matches in SQL
and `errors` in Python) and the DuckDB type of each kind, the dialect's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from leadlang.check.types import Type
from leadlang.diagnostics import DataError

EXTENSIONS = ("csv", "parquet", "jsonl")
INT = r"[+-]?[0-9]+(\.0*)?"  # a whole number: digits, at most a fraction of zeros
NUM = r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?"
DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
TS = DATE + r"([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?"


@dataclass(frozen=True)
class Column:
    """One column a source file must have."""

    key: str  # the key in the row dicts
    name: str  # the column in the file
    kind: str  # string, enum, int, number, bool, date, timestamp
    where: str  # "declared int at policies/x.lead:9", quoted in every message about it
    required: bool = False  # a row without a value is an error
    values: tuple[str, ...] = ()  # an enum's values

    @property
    def duck_type(self) -> str:
        """The column's DuckDB type once checked."""
        return duck_type(self.kind)


class Source(NamedTuple):
    """A declared source: its name, its file in the data directory, its columns, and its key column (or None)."""

    name: str
    path: Path
    columns: list[Column]
    key: str | None


def duck_type(kind: str) -> str:
    """The DuckDB type of a column kind: the duckdb dialect's, the one type map."""
    from leadlang.sql.dialects import DIALECTS

    return DIALECTS["duckdb"].type_name("string" if kind == "enum" else kind)


def find_source_file(data_dir: Path, name: str, declared: str | None = None) -> Path:
    """`data_dir/<name>.csv|.parquet|.jsonl`; a DataError when there is none or more than one."""
    data_dir, note = Path(data_dir), (f" ({declared})" if declared else "")
    if not data_dir.is_dir():
        raise DataError(f"{data_dir}: the data directory does not exist{note}")
    found = [data_dir / f"{name}.{ext}" for ext in EXTENSIONS if (data_dir / f"{name}.{ext}").is_file()]
    if not found:
        raise DataError(f"{data_dir}: no data file for source `{name}`: expected {name}.csv, {name}.parquet or {name}.jsonl{note}")
    if len(found) > 1:
        raise DataError(f"{data_dir}: more than one data file for source `{name}` ({', '.join(p.name for p in found)}); keep one{note}")
    return found[0]


def columns(policy) -> dict[str, tuple[list[Column], str | None, str]]:
    """Each source `policy` (checked) declares, leads first, then accounts, then each events source:
    (its columns, its key column or None, where it is declared)."""
    leads, accounts = policy.leads, policy.accounts
    out = {"leads": _keyed("leads", leads, leads.account, policy.lead_types)}
    if accounts is not None:
        out["accounts"] = _keyed("accounts", accounts, None, policy.account_types)
    for ev in policy.events.values():
        at = f'events "{ev.name}", declared at {_at(ev.span)}'
        cols = [Column("lead", ev.lead or "lead", "string", f"the lead column of {at}"),
                Column("at", ev.at or "at", "timestamp", f"the time column of {at}", required=True),
                Column("name", ev.event_name or "name", "string", f"the name column of {at}")]
        types = policy.event_types[ev.name]
        out[ev.name] = (cols + [_field(f, types[f.name]) for f in ev.fields if f.name not in ("lead", "at", "name")], None, at)
    return out


def sources(policy, data_dir: Path) -> list[Source]:
    """Every source `policy` (checked) declares, with its file in `data_dir` (see `columns`)."""
    return [Source(name, find_source_file(data_dir, name, declared), cols, key) for name, (cols, key, declared) in columns(policy).items()]


def _keyed(source: str, decl, account: str | None, types: dict[str, Type]) -> tuple[list[Column], str, str]:
    """The columns of the leads or accounts source: the key first."""
    key, span = decl.key, decl.span
    spans = {f.name: f.span for f in decl.fields}  # a key or link may be listed again as a string field
    cols = [Column(key, key, "string", f"the {source[:-1]} key, declared at {_at(spans.get(key, span))}", required=True)]
    if account:
        cols.append(Column(account, account, "string", f"the account link, declared at {_at(spans.get(account, span))}"))
    cols += [_field(f, types[f.name]) for f in decl.fields if f.name not in (key, account)]
    return cols, key, f"the {source} source, declared at {_at(span)}"


def _at(span) -> str:
    return f"{span.file}:{span.line}"


def _field(f, t: Type) -> Column:
    """A declared field's column, typed as the checker typed it."""
    text = "enum(" + ", ".join(json.dumps(v, ensure_ascii=False) for v in t.values) + ")" if t.values else t.kind
    return Column(f.name, f.name, "enum" if t.values else t.kind, f"declared {text if len(text) <= 60 else 'enum(...)'} at {_at(f.span)}",
                  values=t.values)
