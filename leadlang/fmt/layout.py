"""Chunks + comments -> text: blank lines, comments back in place, `# fmt: off` regions verbatim."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from leadlang.fmt.comments import FMT_OFF, FMT_ON, Comment
from leadlang.fmt.doc import Cat, Suffix, render
from leadlang.fmt.render import INDENT, Chunk


@dataclass(eq=False)
class _Verbatim:
    first: int
    last: int
    text: str


@dataclass(eq=False)
class _Slot:
    """An output element (a chunk or a verbatim region) with the comments that go with it."""

    element: Chunk | _Verbatim
    leading: list[Comment] = field(default_factory=list)
    inner: list[Comment] = field(default_factory=list)
    trailing: Comment | None = None


def _regions(comments: list[Comment], chunks: list[Chunk], last_line: int) -> list[tuple[int, int]]:
    """Source line ranges between `# fmt: off` and `# fmt: on`, widened to whole chunks."""
    regions: list[tuple[int, int]] = []
    start = None
    for c in comments:
        if not c.own_line:
            continue
        if start is None and FMT_OFF.fullmatch(c.text):
            start = c.line
        elif start is not None and FMT_ON.fullmatch(c.text):
            regions.append((start, c.line))
            start = None
    if start is not None:
        regions.append((start, last_line))
    widened: list[tuple[int, int]] = []
    for a, b in regions:
        changed = True
        while changed:
            changed = False
            for ch in chunks:
                if ch.first <= b and ch.last >= a and (ch.first < a or ch.last > b):
                    a, b, changed = min(a, ch.first), max(b, ch.last), True
        if widened and a <= widened[-1][1]:
            a = widened.pop()[0]
        widened.append((a, b))
    return widened


def layout(text: str, chunks: list[Chunk], comments: list[Comment], width: int) -> str:
    src = text.split("\n")
    last_line = max((n for n, line in enumerate(src, 1) if line.strip()), default=1)
    regions = _regions(comments, chunks, last_line)

    def in_region(line: int) -> bool:
        return any(a <= line <= b for a, b in regions)

    slots: list[_Slot] = []
    pending = sorted(regions)
    for ch in chunks:
        while pending and pending[0][0] <= ch.first:
            a, b = pending.pop(0)
            slots.append(_Slot(_Verbatim(a, b, "\n".join(src[a - 1 : b]))))
        if not in_region(ch.first):
            slots.append(_Slot(ch))
    for a, b in pending:
        slots.append(_Slot(_Verbatim(a, b, "\n".join(src[a - 1 : b]))))

    # Where each comment goes, found through line indexes (scanning every slot per comment is quadratic):
    # the last chunk spanning its line (after the chunk's first line, or on it for an end-of-line comment),
    # else the first slot starting below it.
    spanning: dict[int, int] = {}  # line -> the last slot whose chunk spans it after its first line
    starting: dict[int, int] = {}  # line -> the last slot whose chunk starts on it
    reach: list[int] = []  # the highest first line among slots[: k + 1], for the first slot below a line
    for k, slot in enumerate(slots):
        el = slot.element
        if isinstance(el, Chunk):
            starting[el.first] = k
            for line in range(el.first + 1, el.last + 1):
                spanning[line] = k
        reach.append(max(reach[-1], el.first) if reach else el.first)
    eof: list[Comment] = []
    for c in comments:
        if in_region(c.line):
            continue
        found = [k for k in (spanning.get(c.line), None if c.own_line else starting.get(c.line)) if k is not None]
        if found:
            holder = slots[max(found)]
            if c.own_line or c.line < holder.element.last:
                holder.inner.append(c)
            else:
                holder.trailing = c
            continue
        k = bisect.bisect_right(reach, c.line)
        (slots[k].leading if k < len(slots) else eof).append(c)

    out: list[tuple[str, str | None] | None] = []  # (code, trailing comment); None is a blank line
    prev_last = 0
    prev_opens = True  # nothing before the first line

    def blank_before(line: int) -> bool:
        return line >= 2 and src[line - 2].strip() == ""

    def put_blank(wanted: bool) -> None:
        if wanted and not prev_opens and out and out[-1] is not None:
            out.append(None)

    for slot in slots:
        el = slot.element
        if isinstance(el, _Verbatim):
            for k, c in enumerate(slot.leading):
                put_blank(blank_before(c.line))
                out.append((" " * (len(src[el.first - 1]) - len(src[el.first - 1].lstrip())) + c.text, None))
                prev_opens = False
            top_level = not src[el.first - 1][:1].isspace()
            put_blank(top_level or blank_before(el.first))
            out.append((el.text, "verbatim"))
            prev_last, prev_opens = el.last, False
            continue
        inner = slot.inner
        if inner and el.chain is not None and _place(el, inner):
            inner = []
        leading = slot.leading + inner
        policy = el.blank
        comment_indent = el.indent + (INDENT if el.closes else 0)
        for k, c in enumerate(leading):
            first_policy = "keep" if el.closes else policy
            p = first_policy if k == 0 else "keep"
            # a comment from inside the chunk's lines goes before it: a blank line inside a
            # declaration is not one between declarations (which decides alignment runs)
            inside = el.first < c.line <= el.last
            put_blank(p == "always" or (p == "keep" and blank_before(c.line) and c.line > prev_last and not inside))
            out.append((" " * comment_indent + c.text, None))
            prev_opens = False
        if leading:
            policy = "never" if el.closes else "keep"
            wanted = policy == "keep" and blank_before(el.first) and el.first > leading[-1].line
        else:
            wanted = policy == "always" or (policy == "keep" and blank_before(el.first) and el.first > prev_last)
        put_blank(wanted)
        doc = el.doc if slot.trailing is None else Cat([el.doc, Suffix(slot.trailing.text)])
        for n, (line, suffixes) in enumerate(render(doc, el.indent, width)):
            out.append(((" " * el.indent if n == 0 else "") + line, "  ".join(suffixes) or None))
        prev_last, prev_opens = max(prev_last, el.last), el.opens
    for c in eof:
        put_blank(blank_before(c.line))
        out.append((c.text, None))
        prev_opens = False
    return _join(out)


def _place(chunk: Chunk, inner: list[Comment]) -> bool:
    """Put comments inside a condition after the chain operand their line ends; False if one does not fit."""
    chain = chunk.chain
    ends = {end: i for i, (_, end) in enumerate(chain.operands[:-1])}
    if any(c.own_line or c.line not in ends for c in inner):
        return False
    for c in inner:
        chain.slots[ends[c.line]].parts.append(Suffix(c.text))
    chain.group.brk = True
    return True


def _join(out: list) -> str:
    """Lines with trailing comments lined up in each run of consecutive commented lines."""
    while out and out[-1] is None:
        out.pop()
    lines: list[str] = []
    k = 0
    while k < len(out):
        entry = out[k]
        if entry is None or entry[1] in (None, "verbatim"):
            lines.append("" if entry is None else entry[0])
            k += 1
            continue
        run = k
        while run < len(out) and out[run] is not None and out[run][1] not in (None, "verbatim"):
            run += 1
        column = max(len(code) for code, _ in out[k:run]) + 2
        lines += [(code.ljust(column) if code.strip() else code) + comment for code, comment in out[k:run]]
        k = run
    return "\n".join(lines) + "\n" if lines else ""
