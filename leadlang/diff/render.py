"""The diff for people: text for a terminal, markdown for a pull-request comment."""

from __future__ import annotations


def _label(x: str | None) -> str:
    return "(absent)" if x is None else x


def _grid(entry: dict) -> list[list[str]]:
    """The transition matrix as rows of cells: a header, one row per old label, a total row."""
    counts = {(t["from"], t["to"]): t["count"] for t in entry["transitions"]}
    froms = list(entry["before"]) or [None]
    tos = list(entry["after"]) or [None]
    froms += [a for a, _ in counts if a not in froms]
    tos += [b for _, b in counts if b not in tos]
    rows = [["old \\ new", *map(_label, tos), "before"]]
    for a in froms:
        rows.append([_label(a), *(str(counts.get((a, b), 0) or "·") for b in tos), str(sum(counts.get((a, b), 0) for b in tos))])
    rows.append(["after", *(str(sum(counts.get((a, b), 0) for a in froms)) for b in tos), str(sum(counts.values()))])
    return rows


def _pct(n: int, total: int) -> str:
    return f"{100 * n / total:.1f}%" if total else "0.0%"


def _stat(entry: dict | None, name: str) -> str:
    return "—" if entry is None else f"{entry[name]:g}"


def _change(a: dict | None, b: dict | None, name: str) -> str:
    x, y = _stat(a, name), _stat(b, name)
    return x if x == y else f"{x} → {y}"


def _moves(m: dict) -> str:
    return ", ".join(f"{out} {_label(a)} → {_label(b)}" for out, (a, b) in m["changes"].items())


def render_text(d: dict, limit: int = 20) -> str:
    out = [
        f"diff {d['old']['policy']} ({d['old']['label']}) → {d['new']['policy']} ({d['new']['label']})",
        f"{d['leads']} leads as of {d['as_of']}; {d['moved_count']} moved ({_pct(d['moved_count'], d['leads'])})",
    ]
    for name, e in d["outputs"].items():
        only = "" if len(e["in"]) == 2 else f" (only in {e['in'][0]})"
        out += ["", f"{name}: {e['changed']} leads changed{only}"]
        grid = _grid(e)
        widths = [max(len(r[i]) for r in grid) for i in range(len(grid[0]))]
        out += ["  " + "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in grid]
    if d["scores"]:
        out += ["", "scores (before → after)"]
        for sc, e in d["scores"].items():
            out.append(f"  {sc}: " + ", ".join(f"{k} {_change(e['before'], e['after'], k)}" for k in ("mean", "q1", "median", "q3")))
    if d["moved"]:
        shown = d["moved"][:limit]
        out += ["", f"moved leads ({'first ' + str(len(shown)) + ' of ' if len(shown) < d['moved_count'] else ''}{d['moved_count']}, by key)"]
        for m in shown:
            out.append(f"  {m['key']}  {_moves(m)}" + (f"  [{', '.join(m['rules'])}]" if m["rules"] else ""))
    return "\n".join(out)


def _md(text: str) -> str:
    """A table cell: pipes and HTML escaped, so a lead key cannot break the table."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|").replace("\n", " ")


def _table(rows: list[list[str]], right: int = 99) -> list[str]:
    """A markdown table; the columns from the second to `right` (counts) are right-aligned."""
    head, *body = rows
    rule = ["---:" if 0 < i <= right else "---" for i in range(len(head))]
    return ["| " + " | ".join(map(_md, r)) + " |" for r in (head, rule, *body)]


def render_markdown(d: dict, limit: int = 20) -> str:
    """A pull-request comment: summary first, details folded."""
    total = d["leads"]
    out = [
        "### leadlang diff",
        "",
        (f"`{d['old']['policy']}` ({_md(d['old']['label'])}) → `{d['new']['policy']}` ({_md(d['new']['label'])}), "
         f"{total} leads as of {d['as_of']}"),
        "",
        f"**{d['moved_count']} of {total} leads moved** ({_pct(d['moved_count'], total)})." if d["moved_count"] else "**No lead moved.**",
        "",
    ]
    rows = [["output", "leads changed", "labels (before → after)"]]
    for name, e in d["outputs"].items():
        labels = list(e["before"]) + [x for x in e["after"] if x not in e["before"]]
        shift = ", ".join(f"{x} {e['before'].get(x, '—')} → {e['after'].get(x, '—')}" for x in labels
                          if e["before"].get(x) != e["after"].get(x))
        only = "" if len(e["in"]) == 2 else f" (only in {e['in'][0]})"
        rows.append([f"{name}{only}", str(e["changed"]), shift or "no change"])
    out += _table(rows, right=1)
    for name, e in d["outputs"].items():
        out += ["", f"<details{' open' if e['changed'] else ''}><summary><code>{_md(name)}</code>: {e['changed']} leads changed</summary>", ""]
        out += _table(_grid(e))
        out += ["", "</details>"]
    if d["scores"]:
        out += ["", "#### Scores", ""]
        rows = [["score", "mean", "q1", "median", "q3"]]
        rows += [[sc, *(_change(e["before"], e["after"], k) for k in ("mean", "q1", "median", "q3"))] for sc, e in d["scores"].items()]
        out += _table(rows)
    if d["moved"]:
        shown = d["moved"][:limit]
        what = f"first {len(shown)} of {d['moved_count']}" if len(shown) < d["moved_count"] else f"all {d['moved_count']}"
        out += ["", f"<details><summary>Moved leads ({what}, by key)</summary>", ""]
        rows = [["lead", "changes", "rules whose firing changed"]]
        rows += [[m["key"], _moves(m), ", ".join(m["rules"]) or "—"] for m in shown]
        out += _table(rows, right=0)
        out += ["", "</details>"]
    out += ["", "<sub>quartiles: DuckDB <code>quantile_cont</code> (linear interpolation); rules: <code>score.rule</code>, gates <code>disqualify.gate</code>, members <code>criteria.member</code></sub>"]
    return "\n".join(out) + "\n"
