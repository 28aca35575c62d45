"""Find the comments the parser drops, and a copy of the source without them.

Comments and the insides of strings and backticked names are the only places
where a `#` or a keyword may appear without being code, so one scan over
those three token shapes (the grammar's own patterns) finds every comment.
The formatter puts comments back with it; lint reads `# leadlang: ignore` from it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKENS = re.compile(r'"(?:[^"\\\n]|\\.)*"|`[^`\n]+`|#[^\n]*')


@dataclass(frozen=True, slots=True)
class Comment:
    line: int  # 1-based
    text: str  # from `#` to the end of the line, trailing blanks removed
    own_line: bool  # nothing but blanks before it on its line


def scan(text: str) -> tuple[list[Comment], str]:
    """The comments of `text` in order, and `text` with comments and string bodies blanked.

    The blanked copy keeps every offset and newline, so a search for `{` or a
    keyword in it finds only code.
    """
    comments: list[Comment] = []
    masked = list(text)
    for m in _TOKENS.finditer(text):
        start, end = m.span()
        if m.group().startswith("#"):
            line_start = text.rfind("\n", 0, start) + 1
            line = text.count("\n", 0, start) + 1
            own = text[line_start:start].strip(" \t\f\r") == ""
            comments.append(Comment(line, m.group().rstrip(), own))
            masked[start:end] = " " * (end - start)
        else:
            masked[start + 1 : end - 1] = " " * (end - start - 2)
    return comments, "".join(masked)
