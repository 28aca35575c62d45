"""`use`: the files a policy brings in, found, confined to its project and parsed, each once."""

from __future__ import annotations

from pathlib import Path

from leadlang.diagnostics import Diagnostic, LeadError
from leadlang.syntax import ast as A


def _use_problem(target: Path, given: Path, root: Path) -> str | None:
    """Why a `use`d file may not be read, or None: only `.lead` files inside the project.

    `target` is `given` resolved (symlinks followed), so a link out of the project is refused.
    """
    if given.suffix != ".lead" or target.suffix != ".lead":
        return "only .lead files can be used"
    if not target.is_relative_to(root):
        return f"{given.as_posix()} is outside the project ({root})"
    if target.exists() and not target.is_file():
        return f"{given.as_posix()} is not a file"
    return None


def _read_used(loader, shown: str) -> tuple[A.Module, str] | str:
    """Parse a used file, or say why it is not a policy without quoting any of it."""
    try:
        sub, text = loader(shown)
    except OSError as err:
        return f"cannot read {shown}: {err.strerror or err}"
    except LeadError as err:
        if any(d.code == "E100" for d in err.diagnostics):
            return f"{shown} is not a leadlang policy (not UTF-8 text)"
        if any(d.code == "E101" and "NUL" in d.message for d in err.diagnostics):
            return f"{shown} is not a leadlang policy (it holds NUL bytes)"
        raise
    return sub, text


def resolve_uses(module: A.Module, texts: dict[str, str], diags: list[Diagnostic], loader, root: Path | None = None) -> list[A.Module]:
    """Every file `module` brings in with `use`, transitively, each once.

    Only `.lead` files inside the project (`project.project_root`, or `root`)
    are read; any other `use` is an `E308` at its line that quotes nothing of the target.
    """
    used: list[A.Module] = []
    seen = {str(Path(module.path).resolve())}
    queue = [module]
    while queue:
        current = queue.pop(0)
        for d in current.decls:
            if not isinstance(d, A.Use):
                continue
            given = Path(current.path).parent / d.path
            if root is None:
                from leadlang.project import project_root

                root = Path(project_root(module.path))
            root = root.resolve()
            try:
                target = given.resolve()
                problem = _use_problem(target, given, root)
                missing = problem is None and not target.exists()
            except (OSError, RuntimeError) as err:  # a symlink loop, a folder that cannot be searched
                target, problem, missing = given.absolute(), f"cannot read {given.as_posix()}: {getattr(err, 'strerror', None) or 'symlink loop'}", False
            if str(target) in seen:
                continue
            seen.add(str(target))
            if missing:
                diags.append(Diagnostic("E308", "error", f'`use "{d.path}"`: no such file', d.span, (f"looked for {given.as_posix()}, relative to the file that uses it",)))
                continue
            try:
                read = _read_used(loader, str(given)) if problem is None else problem
            except LeadError as err:  # a policy with errors: they point into it, as usual
                diags.extend(err.diagnostics)
                continue
            if isinstance(read, str):
                hint = "a policy may use .lead files in its project: its folder and below, or below the folder of a pyproject.toml with a [tool.leadlang] table"
                diags.append(Diagnostic("E308", "error", f'`use "{d.path}"`: {read}', d.span, (hint,)))
                continue
            sub, text = read
            texts[sub.path] = text
            used.append(sub)
            queue.append(sub)
    return used
