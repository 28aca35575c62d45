"""The project's settings: `leadlang.toml`, or `[tool.leadlang]` in `pyproject.toml` (docs/config.md).

Found by walking up from the working directory (like ruff); in one folder `leadlang.toml` wins.
Every command reads it: `default_map` turns the settings into the default of each command's
options and arguments, so an option on the command line always overrides the file. Paths in the
file are relative to the file's folder. `effective` says, for `leadlang config`, each value and
where it came from.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from leadlang.diagnostics import DataError, closest

DIALECTS = ("duckdb", "postgres", "snowflake", "bigquery", "spark")


@dataclass(frozen=True)
class Key:
    """One setting: its TOML type, its allowed values, whether it is a path, its meaning (docs, `config`)."""

    kind: str  # "str", "bool", "number", "paths", "codes", "tables", "table"
    doc: str
    choices: tuple[str, ...] = ()
    path: bool = False
    default: Any = None  # what applies without the setting (None: nothing; the option is then required)


KEYS: dict[str, Key] = {
    "policies": Key("paths", "the policy files and folders commands take when none is named (folders: every `*.lead` under them)", path=True, default=["."]),
    "exclude": Key("paths", "glob patterns of policy files and folders to leave out when a folder is expanded", default=[]),
    "data": Key("str", "the `--data` directory of `score`, `explain`, `diff`, `backtest`, `calibrate`, `history`, `changes`", path=True),
    "as-of": Key("str", "the `--as-of` time (a timestamp, a date, or `now`)", default="now"),
    "outcomes": Key("str", "the `--outcomes` file of `backtest` and `calibrate`", path=True),
    "dialect": Key("str", "the SQL dialect of `compile` and `dbt`", DIALECTS),
    "tables": Key("tables", "relation mappings `NAME = RELATION` for `compile` and `dbt` (`--table`)", default={}),
    "score.engine": Key("str", "`score --engine`", ("duckdb", "python"), default="duckdb"),
    "score.on-invalid-enum": Key("str", "`--on-invalid-enum` of the scoring commands", ("error", "null"), default="error"),
    "test.coverage": Key("bool", "`test --coverage`", default=False),
    "test.fail-under": Key("number", "`test --fail-under` (0-100)"),
    "test.format": Key("str", "`test --format`", ("text", "junit", "json"), default="text"),
    "dbt.out": Key("str", "`dbt --out`: the models directory", path=True),
    "dbt.dialect": Key("str", "`dbt --dialect` (default: `dialect`)", DIALECTS, default="duckdb"),
    "dbt.sources": Key("bool", "`dbt --sources`", default=False),
    "dbt.history": Key("bool", "`dbt --history`", default=False),
    "lint": Key("table", "lint settings: `select`, `ignore`, `fail-level`, `per-file-ignores` ([lint.md](lint.md#configuration))"),
    "policy": Key("table", "per-policy settings: `[tool.leadlang.policy.\"path/to/x.lead\"]` with `tables`"),
}
PER_POLICY = ("tables",)

# command -> {parameter name: setting}; "policy" is the single policy of a one-policy command.
# `tables` is not a default: `compile` and `dbt` apply it per policy (`Config.tables_for`).
_COMMANDS: dict[str, dict[str, str]] = {
    "check": {"policies": "policies"},
    "lint": {"policies": "policies"},
    "fmt": {"policies": "policies"},
    "test": {"targets": "policies", "with_coverage": "test.coverage", "fail_under": "test.fail-under", "fmt": "test.format"},
    "dbt": {"policies": "policies", "out": "dbt.out", "dialect": "dbt.dialect", "sources": "dbt.sources", "history": "dbt.history"},
    "compile": {"policy": "policy", "dialect": "dialect", "as_of": "as-of"},
    "score": {"policy": "policy", "data": "data", "as_of": "as-of", "engine": "score.engine", "on_invalid_enum": "score.on-invalid-enum"},
    "explain": {"policy": "policy", "data": "data", "as_of": "as-of", "on_invalid_enum": "score.on-invalid-enum"},
    "diff": {"data": "data", "as_of": "as-of"},
    "backtest": {"policy": "policy", "data": "data", "outcomes": "outcomes", "as_of": "as-of"},
    "calibrate": {"policy": "policy", "data": "data", "outcomes": "outcomes", "as_of": "as-of"},
    "history": {"policy": "policy", "data": "data"},
    "changes": {"policy": "policy", "data": "data", "as_of": "as-of"},
}


@dataclass
class Config:
    """The settings found (flattened `section.key` -> value, paths relative to the working directory)
    and the file they came from (None: no file, every setting at its default)."""

    file: Path | None = None
    values: dict[str, Any] = field(default_factory=dict)
    per_policy: dict[str, dict[str, Any]] = field(default_factory=dict)  # resolved policy path -> settings

    @property
    def where(self) -> str:
        if self.file is None:
            return "default"
        return f"{_shown(self.file)} [tool.leadlang]" if self.file.name == "pyproject.toml" else _shown(self.file)

    def get(self, key: str, default=None):
        return self.values.get(key, default)

    def for_policy(self, policy: str | Path, key: str, default=None):
        """A per-policy setting (`[tool.leadlang.policy."x.lead"]`), else the project's."""
        own = self.per_policy.get(_key(policy), {})
        return own.get(key, self.values.get(key, default))

    def tables_for(self, path: str | Path, policy, given: dict[str, str]) -> dict[str, str]:
        """Relation mappings for one checked policy read from `path`: the project's for the relations
        it reads, its own (`policy."path"`) over them, the command line's (`given`, never filtered:
        a wrong name there is an error) over both."""
        from leadlang.sql import relation_names

        reads = set(relation_names(policy))
        merged = {k: v for k, v in self.values.get("tables", {}).items() if k in reads}
        merged.update(self.per_policy.get(_key(path), {}).get("tables", {}))
        merged.update(given)
        return merged


def find(start: Path | None = None) -> Path | None:
    """The settings file that applies in `start` (default: the working directory)."""
    from leadlang.project import find_settings

    return find_settings((start or Path.cwd()).resolve())


def table_of(file: Path) -> dict:
    """The leadlang table of a settings file: all of `leadlang.toml`, `[tool.leadlang]` of a pyproject.toml."""
    import tomllib

    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as err:
        raise DataError(f"{_shown(file)}: cannot read it as TOML: {err}") from None
    return data if file.name == "leadlang.toml" else data.get("tool", {}).get("leadlang", {})


def load(start: Path | None = None) -> Config:
    """The settings that apply in `start` (default: the working directory), validated."""
    file = find(start)
    if file is None:
        return Config()
    table = table_of(file)
    where = f"{_shown(file)}" + (": [tool.leadlang]" if file.name == "pyproject.toml" else "")
    config = Config(file=file)
    base = file.parent
    for key, value in _flatten(table, where):
        if key.startswith("policy."):
            continue
        config.values[key] = _valid(key, value, where, base)
    for policy, settings in (table.get("policy") or {}).items():
        if not isinstance(settings, dict):
            raise DataError(f"{where}: `policy.\"{policy}\"` must be a table of {', '.join(PER_POLICY)}")
        own = {}
        for key, value in settings.items():
            if key not in PER_POLICY:
                raise DataError(f"{where}: unknown key `policy.\"{policy}\".{key}`{_hint(key, PER_POLICY)}")
            own[key] = _valid(key, value, f"{where} policy.\"{policy}\"", base)
        config.per_policy[_key(base / policy)] = own
    return config


def _flatten(table: dict, where: str):
    """(`section.key`, value) of every setting; an unknown key is an error with a did-you-mean."""
    for name, value in table.items():
        if name in ("lint", "policy"):
            if not isinstance(value, dict):
                raise DataError(f"{where}: `{name}` must be a table")
            continue  # lint's own loader validates it; per-policy settings below
        if isinstance(value, dict) and name in {k.split(".")[0] for k in KEYS if "." in k}:
            for sub, inner in value.items():
                yield _known(f"{name}.{sub}", where), inner
        else:
            yield _known(name, where), value


def _known(key: str, where: str) -> str:
    if key not in KEYS:
        raise DataError(f"{where}: unknown key `{key}`{_hint(key, KEYS)}")
    return key


def _hint(key: str, known) -> str:
    close = closest(key, list(known))
    return f"; did you mean `{close}`?" if close else f" (keys: {', '.join(sorted(known))})"


def _valid(key: str, value, where: str, base: Path):
    """`value` checked against the key's type; paths made relative to the working directory."""
    spec = KEYS[key]

    def wrong(expected: str):
        raise DataError(f"{where}: `{key}` must be {expected}, not {value!r}")

    if spec.kind == "bool":
        return value if isinstance(value, bool) else wrong("true or false")
    if spec.kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            wrong("a number")
        return float(value)
    if spec.kind == "tables":
        if not isinstance(value, dict) or not all(isinstance(v, str) and v.strip() for v in value.values()):
            wrong('a table of NAME = "RELATION"')
        return {str(k): v.strip() for k, v in value.items()}
    if spec.kind == "paths":
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            wrong("a list of paths")
        return [_relative(base / v) for v in value] if spec.path else list(value)
    if not isinstance(value, str) or not value:
        wrong("a string")
    if spec.choices and value not in spec.choices:
        raise DataError(f"{where}: `{key}` must be one of {', '.join(spec.choices)}, not {value!r}")
    if key == "as-of" and value != "now":
        from leadlang.syntax.literals import parse_timestamp

        try:
            parse_timestamp(value)
        except (ValueError, OverflowError):
            raise DataError(f"{where}: `as-of` {value!r} is not a date or timestamp; use 2024-06-01, 2024-06-01T00:00:00Z or now") from None
    return _relative(base / value) if spec.path else value


def default_map(config: Config, command: str) -> dict[str, Any]:
    """The defaults `config` gives `command`'s parameters (click's `default_map`)."""
    out: dict[str, Any] = {}
    for param, key in _COMMANDS.get(command, {}).items():
        if key == "policy":
            paths = config.get("policies")
            if paths:
                found = expand(paths, config.get("exclude", ()))
                if len(found) == 1:  # a one-policy command takes the project's policy when it has just one
                    out[param] = found[0]
            continue
        value = config.get(key)
        if key == "dbt.dialect" and value is None:
            value = config.get("dialect")
        if value is not None:
            out[param] = value
    return out


def expand(paths, exclude=()) -> list[str]:
    """Policy files as given; a folder stands for every `*.lead` under it, sorted, minus what git
    ignores (`.gitignore`, in a git work tree) and what matches an `exclude` pattern."""
    import fnmatch

    out: list[str] = []
    for p in paths:
        p = str(p)
        if Path(p).is_dir():
            out += _lead_files(Path(p))
        else:
            out.append(p)

    def excluded(path: str) -> bool:
        parts = Path(path).as_posix()
        return any(fnmatch.fnmatch(parts, pat) or fnmatch.fnmatch(Path(path).name, pat) or fnmatch.fnmatch(parts, f"*/{pat}")
                   or any(fnmatch.fnmatch(part, pat) for part in Path(path).parts[:-1]) for pat in exclude)

    return [p for p in dict.fromkeys(out) if not excluded(p)]


def _lead_files(folder: Path) -> list[str]:
    import subprocess

    found = sorted(str(f) for f in folder.rglob("*.lead") if f.is_file())
    try:
        proc = subprocess.run(["git", "ls-files", "-ci", "--others", "--exclude-standard", "--directory", "--", "."],
                              cwd=folder, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return found
    if proc.returncode != 0:  # not a git work tree
        return found
    ignored = [(folder / line.rstrip("/")).as_posix() for line in proc.stdout.splitlines() if line]
    return [f for f in found if not any(Path(f).as_posix() == i or Path(f).as_posix().startswith(i + "/") for i in ignored)]


def effective(config: Config) -> list[tuple[str, Any, str]]:
    """(key, value, where) of every setting, for `leadlang config`: from the file, or the default."""
    rows = []
    for key, spec in KEYS.items():
        if spec.kind == "table":
            continue
        if key in config.values:
            rows.append((key, config.values[key], config.where))
        elif key == "dbt.dialect" and "dialect" in config.values:
            rows.append((key, config.values["dialect"], f"{config.where} dialect"))
        else:
            rows.append((key, spec.default, "default"))
    for policy, settings in config.per_policy.items():
        for key, value in settings.items():
            rows.append((f'policy."{_shown(Path(policy))}".{key}', value, config.where))
    return rows


def _key(policy: str | Path) -> str:
    return str(Path(policy).resolve())


def _relative(path: Path) -> str:
    try:
        return os.path.relpath(path, Path.cwd())
    except ValueError:  # another drive on Windows
        return str(path)


def _shown(path: Path) -> str:
    return _relative(path)
