"""The `.lead` texts of the repository (files and the docs' ```lead blocks) and the grammar's keywords,
for the editor tests (tests/test_textmate.py, tests/test_pygments.py)."""

from __future__ import annotations

import functools
import re
from pathlib import Path

from lark import Token
from lark.exceptions import LarkError
from lark.lexer import PatternStr

from leadlang.syntax import comments
from leadlang.syntax.grammar import TooDeep, lalr

ROOT = Path(__file__).parent.parent
# Every keyword of the grammar in a place it is a keyword; it parses.
VOCABULARY = Path(__file__).parent / "textmate" / "vocabulary.lead"
# The grammar's terminals that are not keywords: literals, names, comments, layout.
NOT_KEYWORDS = {"DATE", "TIMESTAMP", "POINTS", "DECIMAL", "INT", "STRING", "NAME", "QUOTED_NAME", "COMMENT"}


def policies() -> list[Path]:
    """Every `.lead` file of the repository: examples, test cases, benchmarks, docs."""
    skip = {"node_modules", ".git", "editors"}
    found = (p for top in ("policies", "tests", "benchmarks", "leadlang", "docs") for p in (ROOT / top).rglob("*.lead"))
    return sorted(p for p in found if not skip & set(p.relative_to(ROOT).parts))


POLICIES = policies()  # sorted paths


def doc_blocks() -> dict[str, str]:
    """{`docs/PAGE.md:LINE`: text} of every ```lead block of docs/ and the README (LINE: its first line)."""
    out = {}
    for md in sorted((ROOT / "docs").rglob("*.md")) + [ROOT / "README.md"]:
        text = md.read_text(encoding="utf-8")
        for m in re.finditer(r"^```lead[ \t]*\n(.*?)^```", text, re.S | re.M):
            out[f"{md.relative_to(ROOT).as_posix()}:{text.count(chr(10), 0, m.start()) + 2}"] = m.group(1)
    return out


# {name: text}: every policy file by its repository path, then every docs block
SOURCES = {p.relative_to(ROOT).as_posix(): p.read_text(encoding="utf-8") for p in POLICIES} | doc_blocks()


@functools.lru_cache(maxsize=None)
def parses(text: str):
    """The Lark tree of `text`, or None when the grammar rejects it."""
    try:
        return lalr().parse(text)
    except (LarkError, TooDeep):
        return None


def grammar_keywords() -> set[str]:
    """Every word grammar/leadlang.lark reserves: its string terminals and the words of its keyword patterns."""
    words = set()
    for term in lalr().terminals:
        if isinstance(term.pattern, PatternStr):
            if term.pattern.value.isidentifier():
                words.add(term.pattern.value)
        elif term.name not in NOT_KEYWORDS and not term.name.startswith("_"):
            pattern = re.sub(r"\\.", " ", term.pattern.value)
            words |= set(re.findall(r"[A-Za-z][A-Za-z_-]*[A-Za-z_]", pattern))
    return words


def strings_and_comments(text: str) -> tuple[set[int], set[int], set[int]]:
    """The offsets of `text` (which parses) in its strings (the parser's STRING tokens, quotes included), in its
    comments (`syntax/comments.py`'s, `#` to the last non-blank), and in the blanks after a comment on its line
    (which a highlighter may count as the comment's or not)."""
    tree = parses(text)
    strings = {i for t in tree.scan_values(lambda v: isinstance(v, Token) and v.type == "STRING")
               for i in range(t.start_pos, t.end_pos)}
    starts = [0] + [m.end() for m in re.finditer(r"\n", text)]
    in_comments, after = set(), set()
    found, _ = comments.scan(text)
    for comment in found:
        end = starts[comment.line] - 1 if comment.line < len(starts) else len(text)  # its line's newline
        stop = len(text[starts[comment.line - 1]:end].rstrip(" \t\f\r")) + starts[comment.line - 1]
        in_comments |= set(range(stop - len(comment.text), stop))
        after |= set(range(stop, end))
    return strings, in_comments, after
