"""`leadlang explain-code CODE`: the documentation page of a diagnostic code.

E codes are the `## E104 — ...` sections of docs/errors.md, L codes the lint
rule pages docs/lint/L101.md. The wheel ships both under `leadlang/docs/`
(pyproject's force-include); a checkout reads the repository's `docs/`.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from leadlang.diagnostics import DataError, did_you_mean

_CODE = re.compile(r"^[EL]\d{3}$")
_SECTION = re.compile(r"^## ([EL]\d{3}) — ")


def docs_dir() -> Path:
    """The docs shipped in the package, or the repository's copy in a checkout."""
    packaged = Path(__file__).resolve().parent / "docs"
    if (packaged / "errors.md").exists():
        return packaged
    return Path(__file__).resolve().parents[1] / "docs"


def _sections(text: str) -> dict[str, str]:
    """`## CODE — title` sections of a markdown text, each up to the next heading of level 1 or 2 outside code."""
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    fenced = False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and (line.startswith("# ") or line.startswith("## ")):
            m = _SECTION.match(line)
            current = found.setdefault(m.group(1), []) if m else None
            if current is not None:
                line = line[1:]  # the section's heading becomes the page's title
        if current is not None:
            current.append(line)
    return {code: "\n".join(lines).strip("\n") + "\n" for code, lines in found.items()}


def pages() -> dict[str, str]:
    """Every documented code's page, by code."""
    root = docs_dir()
    out: dict[str, str] = {}
    errors = root / "errors.md"
    if errors.exists():
        out.update(_sections(errors.read_text(encoding="utf-8")))
    for page in sorted((root / "lint").glob("L[0-9][0-9][0-9].md")):
        out[page.stem] = page.read_text(encoding="utf-8")
    return out


def explain_code(code: str) -> str:
    """The page of `code` (`E205`, `l101` ...); a DataError naming the closest code for an unknown one."""
    wanted = code.strip().upper()
    known = pages()
    if wanted in known:
        return known[wanted]
    hints = did_you_mean(wanted, known) if _CODE.match(wanted) or known else ()
    shape = "" if _CODE.match(wanted) else " (codes look like E205 or L101)"
    raise DataError(f"unknown code `{code}`{shape}" + (f"; {hints[0]}" if hints else ""))


DOCS_URL = "https://github.com/leadlang/leadlang/blob/main/docs"
"""Where the docs are read online when the installed package names no `Documentation` URL."""


@lru_cache(maxsize=1)
def docs_url() -> str:
    """The `Documentation` URL of pyproject's [project.urls] (the installed package's metadata), else `DOCS_URL`."""
    from importlib.metadata import PackageNotFoundError, metadata

    try:
        urls = metadata("leadlang").get_all("Project-URL") or []
    except PackageNotFoundError:
        urls = []
    for entry in urls:
        label, _, url = entry.partition(",")
        if label.strip().lower() == "documentation" and url.strip():
            return url.strip().rstrip("/")
    return DOCS_URL


def _anchor(title: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")


@lru_cache(maxsize=None)
def help_url(code: str) -> str:
    """The page documenting a diagnostic code: `errors.md#e205--...` for an E code, `lint/L101.md` for a rule.

    The one place the URL is made (the editor's `codeDescription.href`, SARIF's `helpUri`)."""
    if code.startswith("L"):
        return f"{docs_url()}/lint/{code}.md"
    return f"{docs_url()}/errors.md#{_anchor(_error_titles().get(code, code))}"


@lru_cache(maxsize=1)
def _error_titles() -> dict[str, str]:
    """`E205` -> `E205 — not a value of the enum`: the headings of docs/errors.md."""
    path = docs_dir() / "errors.md"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    return {m.group(1): m.group(0)[3:] for m in re.finditer(r"^## ([EL]\d{3}) — .*$", text, re.M)}
