"""Lint settings from `pyproject.toml` (`[tool.leadlang.lint]`) and inline `# leadlang: ignore[...]`."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from leadlang.diagnostics import DataError, Diagnostic
from leadlang.project import find_settings

FAIL_LEVELS = ("error", "warning")
_KEYS = {"select", "ignore", "fail-level", "per-file-ignores"}
_IGNORE = re.compile(r"#\s*leadlang:\s*ignore\b(?:\s*\[([^\]]*)\])?")


@dataclass(frozen=True)
class Settings:
    """Which rules run, which findings fail the run, and where they came from."""

    select: tuple[str, ...] = ("L",)
    ignore: tuple[str, ...] = ()
    fail_level: str = "error"
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    root: Path = field(default_factory=Path.cwd)  # per-file patterns are relative to it
    source: Path | None = None  # the pyproject.toml read, if any

    def enabled(self, code: str, path: str | Path) -> bool:
        """Whether findings of rule `code` are reported for file `path`."""
        if not _matches(code, self.select) or _matches(code, self.ignore):
            return False
        rel = _relative(Path(path), self.root)
        return not any(fnmatch.fnmatch(rel, pattern) and _matches(code, codes) for pattern, codes in self.per_file_ignores)


def _matches(code: str, selectors: Iterable[str]) -> bool:
    """A selector is a code (`L101`), a prefix (`L1`, `L`) or `ALL`."""
    return any(s == "ALL" or code.startswith(s) for s in selectors)


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def split_codes(values: Sequence[str]) -> tuple[str, ...]:
    """`("L101,L2", "L3")` -> `("L101", "L2", "L3")`: options may repeat or hold commas."""
    return tuple(c.strip().upper() for v in values for c in v.split(",") if c.strip())


def validate_codes(codes: Iterable[str], known: Iterable[str], where: str) -> None:
    known = list(known)
    for c in codes:
        if c != "ALL" and not any(k.startswith(c) for k in known):
            raise DataError(f"{where}: `{c}` is not a lint rule code or prefix (rules: {', '.join(known)})")


def load_settings(policy: Path, known: Iterable[str]) -> Settings:
    """The settings for one policy file: its closest configured pyproject.toml, else the cwd's."""
    from leadlang.config import table_of

    found = find_settings(policy.resolve().parent) or find_settings(Path.cwd().resolve())
    if found is None:
        return Settings()
    lint = table_of(found).get("lint", {})
    where = f"{found}: [tool.leadlang.lint]" if found.name == "pyproject.toml" else f"{found}: [lint]"
    if not isinstance(lint, dict):
        raise DataError(f"{where}: must be a table")
    unknown = set(lint) - _KEYS
    if unknown:
        raise DataError(f"{where}: unknown key `{sorted(unknown)[0]}` (keys: {', '.join(sorted(_KEYS))})")

    def codes(key: str, value) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise DataError(f"{where}: `{key}` must be a list of rule codes, e.g. [\"L101\", \"L2\"]")
        out = split_codes(value)
        validate_codes(out, known, where)
        return out

    settings = Settings(root=found.parent, source=found)
    if "select" in lint:
        settings = _replace(settings, select=codes("select", lint["select"]))
    if "ignore" in lint:
        settings = _replace(settings, ignore=codes("ignore", lint["ignore"]))
    if "fail-level" in lint:
        if lint["fail-level"] not in FAIL_LEVELS:
            raise DataError(f"{where}: `fail-level` must be one of {', '.join(FAIL_LEVELS)}, not {lint['fail-level']!r}")
        settings = _replace(settings, fail_level=lint["fail-level"])
    per_file = lint.get("per-file-ignores", {})
    if not isinstance(per_file, dict):
        raise DataError(f"{where}: `per-file-ignores` must be a table of glob = [codes]")
    settings = _replace(settings, per_file_ignores=tuple((pattern, codes(f"per-file-ignores.{pattern}", v)) for pattern, v in per_file.items()))
    return settings


def _replace(s: Settings, **changes) -> Settings:
    from dataclasses import replace

    return replace(s, **changes)


def inline_ignores(text: str) -> dict[int, set[str] | None]:
    """Line number -> codes ignored there (None: every code), from `# leadlang: ignore[...]` comments.

    A comment after code applies to its own line; a comment alone on its line
    applies to the next line.
    """
    from leadlang.syntax.comments import scan

    out: dict[int, set[str] | None] = {}
    for comment in scan(text)[0]:
        m = _IGNORE.search(comment.text)
        if m is None:
            continue
        target = comment.line + 1 if comment.own_line else comment.line
        codes = None if m.group(1) is None else set(split_codes([m.group(1)]))
        previous = out.get(target, set())
        out[target] = None if codes is None or previous is None else previous | codes
    return out


def suppressed(d: Diagnostic, ignores: dict[int, set[str] | None]) -> bool:
    if d.span.line not in ignores:
        return False
    codes = ignores[d.span.line]
    return codes is None or any(d.code.startswith(c) for c in codes)
