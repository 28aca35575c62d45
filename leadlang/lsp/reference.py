"""Short docs of keywords, functions and aggregates for hover, taken once from docs/language.md.

The reference's tables are the one source: §3 (declarations), §6 (operators), §7 (functions),
§8 (aggregates), and the rule forms of §11 (`when`, `per`, `max`). tests/test_lsp.py checks that
every function of `builtins.BUILTINS` and every aggregate of `aggregates.AGGREGATES` has one.
"""

from __future__ import annotations

import re
from functools import lru_cache

from leadlang.syntax.grammar import KEYWORDS

_SECTION = re.compile(r"^## (\d+)\. (.+)$")
_CODE = re.compile(r"`([^`]+)`")
_CALL = re.compile(r"([a-z_]+)\(")
_WORD = re.compile(r"[a-z_][a-z0-9_-]*")


def _sections(text: str) -> dict[int, tuple[str, list[str]]]:
    """Section number -> (its title, its lines), outside code blocks."""
    out: dict[int, tuple[str, list[str]]] = {}
    current: list[str] | None = None
    fenced = False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
            continue
        m = None if fenced else _SECTION.match(line)
        if m:
            current = out.setdefault(int(m.group(1)), (m.group(2), []))[1]
        elif current is not None and not fenced:
            current.append(line)
    return out


def _table(lines: list[str]) -> list[list[str]]:
    """Every body row of every table in `lines` (header rows dropped)."""
    out, header = [], True
    for line in lines:
        if not line.startswith("|"):
            header = True
            continue
        if set(line.replace("|", "").strip()) <= {"-", " "}:
            continue
        if header:
            header = False
            continue
        out.append([c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))])
    return out


@lru_cache(maxsize=1)
def docs() -> tuple[dict[str, str], dict[str, str]]:
    """(keyword -> its doc, function or aggregate -> its doc), in markdown."""
    from leadlang.codes import docs_dir, docs_url

    path = docs_dir() / "language.md"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    sections = _sections(text)
    words: dict[str, list[str]] = {}
    calls: dict[str, list[str]] = {}

    def where(number: int) -> str:
        title = sections[number][0]
        anchor = re.sub(r"[^\w\- ]", "", f"{number}. {title}".lower()).replace(" ", "-")
        return f"[§{number} {title}]({docs_url()}/language.md#{anchor})"

    if 3 in sections:  # declarations: the first word of each form
        for form, meaning, *_ in _table(sections[3][1]):
            for code in _CODE.findall(form):
                word = code.split()[0]
                if _WORD.fullmatch(word):
                    words.setdefault(word, []).append(f"`{code}` — {meaning} ({where(3)})")
    if 6 in sections:  # operators: every keyword of the form
        for form, meaning, *_ in _table(sections[6][1]):
            for word in dict.fromkeys(w for code in _CODE.findall(form) for w in _WORD.findall(code) if w in KEYWORDS):
                words.setdefault(word, []).append(f"{form} — {meaning} ({where(6)})")
    if 11 in sections:  # the rule forms
        for line in sections[11][1]:
            m = re.match(r"- `ID: N (when|per) ([^`]*)`(.*)", line)
            if m:
                words.setdefault(m.group(1), []).append(f"`ID: N {m.group(1)} {m.group(2)}`{m.group(3)} ({where(11)})")
                if "max" in m.group(2):
                    words.setdefault("max", []).append(f"`, max M` caps a `per` rule's contribution at `M` points in magnitude ({where(11)})")
    for number in (7, 8):
        if number not in sections:
            continue
        for row in _table(sections[number][1]):
            first, rest = row[0], [c for c in row[1:] if c]
            names = dict.fromkeys(_CALL.findall(first))
            for name in names:
                calls.setdefault(name, []).append(f"{first}: {' · '.join(rest)} ({where(number)})")
    return ({w: "\n\n".join(v) for w, v in words.items()}, {n: "\n\n".join(v) for n, v in calls.items()})


def doc(word: str, call: bool = False) -> str | None:
    """The doc of a keyword, or of a function or aggregate when it is written as a call (`max(` is an aggregate, `max 30` a cap)."""
    keywords, calls = docs()
    if call and word in calls:
        return calls[word]
    return keywords.get(word) or (calls.get(word) if word not in KEYWORDS else None)
