"""`use`: the files a policy brings in, found, confined to its project and parsed, each once.

Every path question goes to the policy's `fs.Files` (the working tree, a git revision, an overlay
of unsaved texts), so a policy is confined the same way wherever it is read from.
"""

from __future__ import annotations

from pathlib import PurePath

from leadlang.diagnostics import Diagnostic, LeadError
from leadlang.fs import Files
from leadlang.syntax import ast as A
from leadlang.syntax.parser import parse_bytes


def _use_problem(files: Files, target: str, given: str, root: str) -> str | None:
    """Why a `use`d file may not be read, or None: only `.lead` files inside the project.

    `target` is `given` resolved (symlinks followed), so a link out of the project is refused.
    """
    if PurePath(given).suffix != ".lead" or PurePath(target).suffix != ".lead":
        return "only .lead files can be used"
    if not files.is_inside(target, root):
        return f"{files.shown(given)} is outside the project ({files.shown(root)})"
    if files.exists(target) and not files.is_file(target):
        return f"{files.shown(given)} is not a file"
    return None


def _read_used(files: Files, path: str) -> tuple[A.Module, str] | str:
    """Parse a used file, or say why it is not a policy without quoting any of it."""
    try:
        sub, text = parse_bytes(files.read_bytes(path), path)
    except OSError as err:
        return f"cannot read {path}: {err.strerror or err}"
    except LeadError as err:
        if any(d.code == "E100" for d in err.diagnostics):
            return f"{path} is not a leadlang policy (not UTF-8 text)"
        if any(d.code == "E101" and "NUL" in d.message for d in err.diagnostics):
            return f"{path} is not a leadlang policy (it holds NUL bytes)"
        raise
    return sub, text


def resolve_uses(module: A.Module, texts: dict[str, str], diags: list[Diagnostic], files: Files) -> list[A.Module]:
    """Every file `module` brings in with `use`, transitively, each once, read through `files`.

    Only `.lead` files inside the project (`files.project_root`) are read; any other `use` is an
    `E308` at its line that quotes nothing of the target.
    """
    used: list[A.Module] = []
    seen = {files.resolve(module.path)}
    queue = [module]
    root: str | None = None
    while queue:
        current = queue.pop(0)
        for d in current.decls:
            if not isinstance(d, A.Use):
                continue
            given = files.near(current.path, d.path)
            if root is None:
                root = files.project_root(module.path)
            try:
                target = files.resolve(given)
                problem = _use_problem(files, target, given, root)
                missing = problem is None and not files.exists(target)
            except (OSError, RuntimeError) as err:  # a symlink loop, a folder that cannot be searched
                target, problem, missing = given, f"cannot read {files.shown(given)}: {getattr(err, 'strerror', None) or 'symlink loop'}", False
            if target in seen:
                continue
            seen.add(target)
            if missing:
                diags.append(Diagnostic("E308", "error", f'`use "{d.path}"`: no such file', d.span, (f"looked for {files.shown(given)}, relative to the file that uses it",)))
                continue
            try:
                read = _read_used(files, given) if problem is None else problem
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
