"""The SOP document's procedure table split into printed pages, with off-page connectors where arrows cross."""
from __future__ import annotations

from dataclasses import replace

from .sop_document import Arrow, Page, Row, SopDocument


def paginate(document: SopDocument, heights: list[float], room: float, connector_height: float) -> list[Page]:
    """Split the table into pages of at most `room` height; arrows that cross a page end in connectors."""
    rows, arrows, pages, start = document.rows, document.arrows, [], 0

    def needed(first: int, last: int) -> float:
        inside = range(first, last + 1)
        crossing = [a for a in arrows if (a.source in inside) != (a.target in inside)]
        keys = _group_keys(crossing, lambda i: "here" if i in inside else "after" if i > last else "before")
        return sum(heights[first:last + 1]) + len(set(keys.values())) * connector_height
    for i in range(len(rows)):
        if i > start and needed(start, i) > room:
            pages.append((start, i))
            start = i
    pages.append((start, len(rows)))
    if len(pages) == 1:
        return [document.whole()]
    page_of = {i: p for p, (a, b) in enumerate(pages) for i in range(a, b)}
    top: list[list[Row]] = [[] for _ in pages]
    bottom: list[list[Row]] = [[] for _ in pages]
    local: list[list[tuple]] = [[] for _ in pages]
    crossing = [a for a in arrows if page_of[a.source] != page_of[a.target]]
    keys = _group_keys(crossing, page_of.get)
    groups: dict[tuple, list[Arrow]] = {}
    for arrow in crossing:
        groups.setdefault(keys[id(arrow)], []).append(arrow)
    for arrow in arrows:
        if page_of[arrow.source] == page_of[arrow.target]:
            local[page_of[arrow.source]].append(("row", arrow.source, "row", arrow.target, arrow))
    for name, (key, members) in zip(_connector_names(), groups.items()):
        ps, pt = page_of[members[0].source], page_of[members[0].target]
        down = pt > ps
        fan_out = key[0] == "out"
        sources = sorted({a.source for a in members})
        targets = sorted({a.target for a in members})
        out_row = Row(f"connector-{name}-out", "", rows[sources[0] if fan_out else targets[0]].lane, "connector",
                      connector=name, keterangan=", ".join(str(rows[t].number) for t in targets))
        in_row = Row(f"connector-{name}-in", "", rows[sources[0] if fan_out else targets[0]].lane, "connector",
                     connector=name, keterangan=", ".join(str(rows[s].number) for s in sources))
        (bottom if down else top)[ps].append(out_row)
        (top if down else bottom)[pt].append(in_row)
        # A fan-out leaves its row once and spreads on the next page; a fan-in gathers before the break.
        for arrow in members[:1] if fan_out else members:
            local[ps].append(("row", arrow.source, "conn", out_row, replace(arrow, back=not down)))
        for arrow in members if fan_out else members[:1]:
            local[pt].append(("conn", in_row, "row", arrow.target,
                              replace(arrow, label=None, back=not down)))
    result = []
    for p, (a, b) in enumerate(pages):
        page_rows = top[p] + list(rows[a:b]) + bottom[p]
        position = {id(r): k for k, r in enumerate(page_rows)}

        def at(kind, ref):
            return len(top[p]) + ref - a if kind == "row" else position[id(ref)]
        moved = [replace(arrow, source=at(sk, s), target=at(tk, t)) for sk, s, tk, t, arrow in local[p]]
        result.append(Page(tuple(page_rows), assign_tracks(page_rows, moved)))
    return result


def _group_keys(crossing: list[Arrow], page) -> dict[int, tuple]:
    """One connector pair per fan-out (a row's same-labelled arrows to one page) or per fan-in (a row's
    arrivals from one page), so a parallel split or join across a break costs one connector, not five."""
    fans: dict[tuple, int] = {}
    for arrow in crossing:
        key = ("out", arrow.source, arrow.label, page(arrow.target))
        fans[key] = fans.get(key, 0) + 1
    keys = {}
    for arrow in crossing:
        out = ("out", arrow.source, arrow.label, page(arrow.target))
        keys[id(arrow)] = out if fans[out] > 1 else ("in", arrow.target, page(arrow.source))
    return keys


def _connector_names():
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    for letter in alphabet:
        yield letter
    n = 2
    while True:
        for letter in alphabet:
            yield f"{letter}{n}"
        n += 1


def assign_tracks(rows, arrows) -> tuple[Arrow, ...]:
    """Give each long arrow a vertical track in its source column so parallel runs do not overlap."""
    busy: dict[int, list[tuple[int, int, int]]] = {}
    out = []
    for arrow in sorted(arrows, key=lambda a: (min(a.source, a.target), a.source, a.target)):
        if arrow.adjacent:
            out.append(arrow)
            continue
        low, high = sorted((arrow.source, arrow.target))
        column = rows[arrow.source].lane
        taken = {t for lo, hi, t in busy.get(column, []) if lo <= high and low <= hi}
        track = next(t for t in range(len(taken) + 1) if t not in taken)
        busy.setdefault(column, []).append((low, high, track))
        out.append(replace(arrow, track=track))
    return tuple(sorted(out, key=lambda a: (a.source, a.target)))
