"""The project a policy belongs to: the folder its `use`d files must lie in, and where settings live.

The project root is the folder of the closest `leadlang.toml`, or `pyproject.toml` with a
`[tool.leadlang]` table, walking up from the policy's folder; without one it is
the policy's own folder (the one holding the file named, even if that is a
symlink). Paths are resolved (symlinks followed) before they are compared.
"""

from __future__ import annotations

from pathlib import Path

from leadlang.diagnostics import DataError


def configures_leadlang(text: str) -> bool:
    """Whether a pyproject.toml's text has a `[tool.leadlang]` table (TOMLDecodeError if it is not TOML)."""
    import tomllib

    return "leadlang" in tomllib.loads(text).get("tool", {})


def find_settings(start: Path) -> Path | None:
    """The closest `leadlang.toml`, or `pyproject.toml` with a `[tool.leadlang]` table, walking up from
    `start`; in one folder `leadlang.toml` wins (docs/config.md)."""
    import tomllib

    for folder in [start, *start.parents]:
        if (folder / "leadlang.toml").is_file():
            return folder / "leadlang.toml"
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            try:
                if configures_leadlang(candidate.read_text(encoding="utf-8")):
                    return candidate
            except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError) as err:
                raise DataError(f"{candidate}: cannot read it as TOML: {err}") from None
    return None


def project_root(policy: str | Path) -> Path:
    """The resolved folder a policy's `use`d files must lie in (see the module docstring).

    A pyproject.toml that cannot be read does not configure anything here (the
    root stays the narrower policy folder); `leadlang lint` reports it.
    """
    folder = Path(policy).absolute().parent.resolve()  # the folder holding the policy (even when it is a symlink)
    try:
        found = find_settings(folder)
    except DataError:
        found = None
    return found.parent if found is not None else folder
