"""A small Wadler-style document printer: groups that break when a line is too long.

The formatter describes a line's layout as a tree of `Doc` pieces and this
module decides where to break it, after the algorithm of Wadler's "prettier
printer" as implemented by prettier (`printDocToString`): a `Group` is printed
flat when everything up to the next possible break fits the width, otherwise
its `Line`s become newlines; a `Fill` packs items greedily. `Align` indents
continuation lines to the column where it starts, and `Suffix` holds a
trailing comment until the end of the line it lands on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

FLAT, BREAK = 0, 1


@dataclass(eq=False)
class Cat:
    parts: list = field(default_factory=list)


@dataclass(eq=False)
class Line:
    """A possible break: `flat` when its group fits, a newline otherwise."""

    flat: str = " "


@dataclass(eq=False)
class Group:
    doc: object
    brk: bool = False  # break even when it would fit


@dataclass(eq=False)
class Align:
    """Continuation lines inside start at the column where this starts."""

    doc: object


@dataclass(eq=False)
class Fill:
    """`[item, Line, item, Line, ...]`: as many items per line as fit."""

    parts: list


@dataclass(eq=False)
class Suffix:
    """A trailing comment, printed at the end of the line it falls on."""

    text: str


def join(sep, docs) -> Cat:
    out: list = []
    for i, d in enumerate(docs):
        if i:
            out.append(sep)
        out.append(d)
    return Cat(out)


def _fits(next_cmd, rest: list, width: int, must_be_flat: bool) -> bool:
    stack = [next_cmd]
    rest_idx = len(rest)
    while width >= 0:
        if not stack:
            if must_be_flat or rest_idx == 0:
                return True
            rest_idx -= 1
            stack.append(rest[rest_idx])
            continue
        ind, mode, d = stack.pop()
        if isinstance(d, str):
            width -= len(d)
        elif isinstance(d, (Cat, Fill)):
            stack.extend((ind, mode, p) for p in reversed(d.parts))
        elif isinstance(d, Align):
            stack.append((ind, mode, d.doc))
        elif isinstance(d, Group):
            if must_be_flat and d.brk:
                return False
            stack.append((ind, BREAK if d.brk else mode, d.doc))
        elif isinstance(d, Line):
            if mode == BREAK:
                return True
            width -= len(d.flat)
    return False


def render(doc, column: int, width: int) -> list[tuple[str, list[str]]]:
    """Print `doc` starting at `column`: a list of (line text, trailing comments).

    The first line's text does not include the `column` spaces it starts at;
    later lines carry their own indentation.
    """
    lines: list[tuple[str, list[str]]] = []
    buf: list[str] = []
    suffixes: list[str] = []
    pos = column
    cmds = [(column, BREAK, doc)]
    while cmds:
        ind, mode, d = cmds.pop()
        if isinstance(d, str):
            buf.append(d)
            pos += len(d)
        elif isinstance(d, Cat):
            cmds.extend((ind, mode, p) for p in reversed(d.parts))
        elif isinstance(d, Align):
            cmds.append((pos, mode, d.doc))
        elif isinstance(d, Group):
            if mode == FLAT and not d.brk:
                cmds.append((ind, FLAT, d.doc))
            else:
                flat = not d.brk and _fits((ind, FLAT, d.doc), cmds, width - pos, False)
                cmds.append((ind, FLAT if flat else BREAK, d.doc))
        elif isinstance(d, Line):
            if mode == FLAT:
                buf.append(d.flat)
                pos += len(d.flat)
            else:
                lines.append(("".join(buf).rstrip(), suffixes))
                buf, suffixes = [" " * ind], []
                pos = ind
        elif isinstance(d, Suffix):
            suffixes.append(d.text)
        elif isinstance(d, Fill):
            _fill(d.parts, ind, mode, pos, width, cmds)
        else:  # pragma: no cover - a bug in the formatter, not in the input
            raise TypeError(f"not a doc: {d!r}")
    lines.append(("".join(buf).rstrip(), suffixes))
    return lines


def _fill(parts: list, ind: int, mode: int, pos: int, width: int, cmds: list) -> None:
    if not parts:
        return
    room = width - pos
    content = parts[0]
    content_fits = _fits((ind, FLAT, content), [], room, True)
    if len(parts) == 1:
        cmds.append((ind, FLAT if content_fits else BREAK, content))
        return
    sep = parts[1]
    if len(parts) == 2:
        cmds.append((ind, FLAT if content_fits else BREAK, sep))
        cmds.append((ind, FLAT if content_fits else BREAK, content))
        return
    pair_fits = _fits((ind, FLAT, Cat([content, sep, parts[2]])), [], room, True)
    cmds.append((ind, mode, Fill(parts[2:])))
    cmds.append((ind, FLAT if pair_fits else BREAK, sep))
    cmds.append((ind, FLAT if content_fits else BREAK, content))
