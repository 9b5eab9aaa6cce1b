"""The official SOP document (PermenPANRB 35/2012, flowchart format) as a renderer-independent layout."""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date


from .bpmn_loader import parse_bpmn
from .bpmn_xml import ACTIVITIES, effective_lanes, is_bpmn, local_name, xpath
from .sop_info import SopInfo, read_sop_info

# Identity fields in the order of the regulation's "Bagian Identitas"; list-like ones are split on ';'.
IDENTITY_ORDER = ("dasarHukum", "kualifikasiPelaksana", "keterkaitan", "peralatan", "peringatan", "pencatatan")
LIST_FIELDS = ("dasarHukum", "kualifikasiPelaksana", "keterkaitan", "peralatan", "pencatatan")
_NEGATIVE = re.compile(r"\b(tidak|tolak|ditolak|batal|kembali|perbaikan|no|not|reject(ed)?|return)\b", re.I)
DECISIONS = ("exclusiveGateway", "inclusiveGateway", "eventBasedGateway")
WORDS = {
    "id": {"yes": "Ya", "no": "Tidak", "start": "Mulai", "end": "Selesai", "parallel": "Paralel dengan No. {}",
           "day": "hari", "hour": "jam", "minute": "menit", "timer": "Batas waktu", "event": "Kejadian"},
    "en": {"yes": "Yes", "no": "No", "start": "Start", "end": "End", "parallel": "In parallel with No. {}",
           "day": ("day", "days"), "hour": ("hour", "hours"), "minute": ("minute", "minutes"),
           "timer": "Time limit", "event": "Event"},
}


@dataclass(frozen=True)
class Row:
    """One line of the procedure table: its activity, the lane column holding its symbol, its mutu baku."""

    node_id: str
    kegiatan: str
    lane: int
    symbol: str  # terminator | activity | decision | connector
    number: int | None = None
    question: str | None = None
    kelengkapan: str = ""
    waktu: str = ""
    budget_seconds: int | None = None
    output: str = ""
    keterangan: str = ""
    connector: str | None = None  # the letter an off-page connector shows


@dataclass(frozen=True)
class Arrow:
    """A flow between two rows (indices into the rows of the document or of one page)."""

    source: int
    target: int
    label: str | None = None
    back: bool = False  # rework: the flow returns to an earlier row
    track: int = 0  # which vertical track a long arrow runs in (renderers map it to an offset)

    @property
    def adjacent(self) -> bool:
        return self.target == self.source + 1


@dataclass(frozen=True)
class Page:
    rows: tuple[Row, ...]
    arrows: tuple[Arrow, ...]


@dataclass(frozen=True)
class SopDocument:
    """Identity block and procedure table of one SOP version."""

    key: str
    name: str
    version: int | None
    status: str | None  # in_force | superseded | retired | draft
    agency: str | None
    nomor: str | None
    disahkan_oleh: str | None
    tanggal_pembuatan: date | None
    tanggal_revisi: date | None
    tanggal_efektif: date | None
    identity: tuple[tuple[str, tuple[str, ...]], ...]
    lanes: tuple[str, ...]
    rows: tuple[Row, ...]
    arrows: tuple[Arrow, ...]
    language: str = "id"

    def whole(self) -> Page:
        """The table as one page with tracks assigned (for a screen or a single sheet)."""
        from .sop_pages import assign_tracks

        return Page(self.rows, assign_tracks(self.rows, self.arrows))


def waktu_text(seconds: int | None, language: str = "id") -> str:
    """A budget in words as SOP documents write it: '2 jam', '30 menit', '1 hari 4 jam'."""
    if not seconds:
        return ""
    words = WORDS.get(language, WORDS["id"])
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = []
    for amount, unit in ((days, "day"), (hours, "hour"), (minutes, "minute")):
        if amount:
            word = words[unit]
            if isinstance(word, tuple):
                word = word[0] if amount == 1 else word[1]
            parts.append(f"{amount} {word}")
    return " ".join(parts) or f"{int(seconds)} s"


def build_document(xml, *, key: str | None = None, version: int | None = None, status: str | None = None,
                   created: date | None = None, revised: date | None = None, effective: date | None = None,
                   language: str = "id") -> SopDocument:
    """Lay out the SOP document of one BPMN file (its process `key`, else its first executable one)."""
    root = parse_bpmn(xml, "sop.bpmn")
    processes = xpath(root, "./bpmn:process")
    chosen = [p for p in processes if p.get("id") == key] or \
        [p for p in processes if p.get("isExecutable", "true") == "true"] or processes
    if not chosen:
        raise ValueError("the file has no BPMN process")
    process = chosen[0]
    info = read_sop_info(process, root)
    words = WORDS.get(language, WORDS["id"])
    lanes = info.lanes or ("",)
    rows, arrows = _Flow(process, root, info, lanes, words, language).layout()
    identity = tuple((name, _items(info.identity.get(name), name in LIST_FIELDS)) for name in IDENTITY_ORDER)
    approver = info.identity.get("disahkanOleh")
    agency = approver[len("Kepala "):] if approver and approver.startswith("Kepala ") else None
    return SopDocument(key=info.key, name=info.name, version=version, status=status, agency=agency,
                       nomor=info.identity.get("nomor"), disahkan_oleh=approver, tanggal_pembuatan=created,
                       tanggal_revisi=revised, tanggal_efektif=effective, identity=identity, lanes=lanes,
                       rows=rows, arrows=arrows, language=language)


def _items(value: str | None, split: bool) -> tuple[str, ...]:
    if not value:
        return ()
    return tuple(i.strip() for i in value.split(";") if i.strip()) if split else (value.strip(),)


class _Flow:
    """The process graph collapsed to rows: events, activities and decisions; other nodes pass through."""

    def __init__(self, process, root, info: SopInfo, lanes, words, language):
        self.info, self.lanes, self.words, self.language = info, lanes, words, language
        self.lane_of = effective_lanes(process, root)
        self.nodes = {e.get("id"): e for e in process if is_bpmn(e) and e.get("id")
                      and local_name(e) not in ("sequenceFlow", "laneSet", "extensionElements", "documentation",
                                                "association", "textAnnotation", "dataObject",
                                                "dataObjectReference", "dataStoreReference")}
        self.doc_order = {node_id: i for i, node_id in enumerate(self.nodes)}
        self.out: dict[str, list] = {n: [] for n in self.nodes}
        self.inc: dict[str, list] = {n: [] for n in self.nodes}
        for flow in xpath(process, "./bpmn:sequenceFlow"):
            src, tgt = flow.get("sourceRef"), flow.get("targetRef")
            if src in self.nodes and tgt in self.nodes:
                self.out[src].append((tgt, (flow.get("name") or "").strip() or None, flow.get("id")))
                self.inc[tgt].append(src)
        for node_id, element in self.nodes.items():
            host = element.get("attachedToRef")
            if local_name(element) == "boundaryEvent" and host in self.nodes:
                self.out[host].append((node_id, self._event_label(element), None))
                self.inc[node_id].append(host)
        self.merged = self._merged_decisions()
        self.defaults: set[tuple[str, str]] = set()  # (row, next row) reached by a gateway's default flow

    def _event_label(self, element) -> str:
        name = (element.get("name") or "").strip()
        if name:
            return name
        return self.words["timer"] if xpath(element, "./bpmn:timerEventDefinition") else self.words["event"]

    def kind(self, node_id: str) -> str | None:
        """The row symbol of a node, or None when it only passes the flow on."""
        element = self.nodes[node_id]
        name = local_name(element)
        if name in ("startEvent", "endEvent"):
            return "terminator"
        if name in ACTIVITIES:
            return "decision" if node_id in self.merged.values() else "activity"
        if name in DECISIONS and len(self.out[node_id]) > 1 and node_id not in self.merged:
            return "decision"
        return None

    def _merged_decisions(self) -> dict[str, str]:
        """Gateway → the task just before it: the task's row carries the diamond (its check decides)."""
        merged = {}
        for node_id, element in self.nodes.items():
            if local_name(element) in DECISIONS and len(self.out[node_id]) > 1 and len(self.inc[node_id]) == 1:
                task = self.inc[node_id][0]
                if local_name(self.nodes[task]) in ACTIVITIES and len(self.out[task]) == 1:
                    merged[node_id] = task
        return merged

    def successors(self, row_id: str) -> list[tuple[str, str | None]]:
        """Rows reached from a row through pass-through nodes, with the branch label of each."""
        gateway = row_id
        if len(self.out[row_id]) == 1 and self.merged.get(self.out[row_id][0][0]) == row_id:
            gateway = self.out[row_id][0][0]
        default = self.nodes[gateway].get("default")
        found = []
        for target, label, flow_id in self.out[gateway]:
            for k, (row, row_label) in enumerate(self._collect([(target, label)])):
                if all(row != f for f, _ in found):
                    # A flow that forks further (a parallel split) is labelled once, on its first row.
                    found.append((row, row_label if k == 0 or row_label != label else None))
                    if flow_id is not None and flow_id == default:
                        self.defaults.add((row_id, row))
        return found

    def _collect(self, start) -> list[tuple[str, str | None]]:
        found: list[tuple[str, str | None]] = []
        for first, label in start:
            stack, seen = [(first, label)], set()
            while stack:
                node, lab = stack.pop()
                if node in seen:
                    continue
                seen.add(node)
                if self.kind(node) is not None:
                    if all(node != f for f, _ in found):
                        found.append((node, lab))
                    continue
                for nxt, nlabel, _ in reversed(self.out[node]):
                    stack.append((nxt, lab or nlabel))
        return found

    def layout(self) -> tuple[tuple[Row, ...], tuple[Arrow, ...]]:
        row_ids = [n for n in self.nodes if self.kind(n) is not None]
        succ = {r: self.successors(r) for r in row_ids}
        starts = [r for r in row_ids if local_name(self.nodes[r]) == "startEvent"] or row_ids[:1]
        back = self._back_edges(starts, succ)
        forward = {r: [t for t, _ in succ[r] if (r, t) not in back] for r in row_ids}
        length = self._longest(row_ids, forward)
        labels = {(r, t): label for r in row_ids for t, label in succ[r]}
        main = self._main_path(starts, forward, length, labels)
        order = self._order(row_ids, starts, forward, main)
        index = {r: i for i, r in enumerate(order)}
        rows = [self._row(r, i + 1) for i, r in enumerate(order)]
        rows = self._fill_lanes(rows, order, succ)
        arrows = []
        for r in order:
            branches = succ[r]
            unnamed = rows[index[r]].symbol == "decision" and len(branches) == 2 and not any(lab for _, lab in branches)
            # An unnamed two-way decision: "Ya" goes on with the longer story, "Tidak" turns aside.
            yes = max(branches, key=lambda b: (length.get(b[0], 0) if (r, b[0]) not in back else -1))[0] \
                if unnamed else None
            for target, label in branches:
                if unnamed:
                    label = self.words["yes"] if target == yes else self.words["no"]
                arrows.append(Arrow(index[r], index[target], label,
                                    back=(r, target) in back or index[target] <= index[r]))
        rows = self._parallel_notes(rows, order, index, forward)
        return tuple(rows), tuple(arrows)

    def _back_edges(self, starts, succ) -> set:
        back, state = set(), {}
        for start in starts + list(succ):
            if start in state:
                continue
            stack = [(start, iter(succ[start]))]
            state[start] = 1
            while stack:
                node, it = stack[-1]
                nxt = next(it, None)
                if nxt is None:
                    state[node] = 2
                    stack.pop()
                    continue
                target = nxt[0]
                if state.get(target) == 1:
                    back.add((node, target))
                elif target not in state:
                    state[target] = 1
                    stack.append((target, iter(succ[target])))
        return back

    def _longest(self, row_ids, forward) -> dict[str, int]:
        """Rows on the longest forward path from each row to an end (the main story is the longest)."""
        indeg = {r: 0 for r in row_ids}
        for r in row_ids:
            for t in forward[r]:
                indeg[t] += 1
        ready, order = [r for r in row_ids if indeg[r] == 0], []
        while ready:
            order.append(ready.pop())
            for t in forward[order[-1]]:
                indeg[t] -= 1
                if indeg[t] == 0:
                    ready.append(t)
        memo: dict[str, int] = {}
        for r in reversed(order):
            memo[r] = 1 + max((memo.get(t, 0) for t in forward[r]), default=0)
        return memo

    def _main_path(self, starts, forward, length, labels) -> dict[str, int]:
        main, node = {}, starts[0] if starts else None
        while node is not None and node not in main:
            main[node] = len(main)
            options = forward.get(node) or []
            # The expected outcome first: not the gateway's default ("otherwise") flow, not a flow named
            # like a refusal or a return; then the longest remaining path; then the order in the file.
            node = max(options, key=lambda t, n=node: ((n, t) not in self.defaults,
                                                       not _NEGATIVE.search(labels.get((n, t)) or ""),
                                                       length.get(t, 0), -self.doc_order[t]), default=None)
        return main

    def _order(self, row_ids, starts, forward, main) -> list[str]:
        """Topological order: the main path's rows first, side branches depth-first where they fit."""
        indeg = {r: 0 for r in row_ids}
        for r in row_ids:
            for t in forward[r]:
                indeg[t] += 1
        stamp = {r: 0 for r in row_ids if indeg[r] == 0}
        # Side rows that rejoin the main path come where they fit; dead ends (rework, refusal) last.
        rejoins = {r: bool(self._reach([r], forward) & set(main)) for r in row_ids}
        order, clock = [], 0
        while stamp:
            def priority(r):
                if r in main:
                    return (0, main[r], 0, 0)
                return (1, not rejoins[r], -stamp[r], self.doc_order[r])
            r = min(stamp, key=priority)
            del stamp[r]
            order.append(r)
            clock += 1
            for t in forward[r]:
                indeg[t] -= 1
                if indeg[t] == 0:
                    stamp[t] = clock
        return order + [r for r in row_ids if r not in order]

    def _row(self, node_id: str, number: int) -> Row:
        element = self.nodes[node_id]
        name = " ".join((element.get("name") or "").split())
        kind = self.kind(node_id)
        lane = self.lane_of.get(node_id)
        column = self.lanes.index(lane) if lane in self.lanes else -1
        if kind == "terminator":
            start = local_name(element) == "startEvent"
            return Row(node_id, name or self.words["start" if start else "end"], column, kind, number)
        step = self.info.steps.get(node_id)
        if step is None:  # a decision of its own (after a join or an event)
            return Row(node_id, name or node_id, column, kind, number)
        gateway = next((g for g, t in self.merged.items() if t == node_id), None)
        question = " ".join((self.nodes[gateway].get("name") or "").split()) or None if gateway else None
        return Row(node_id, step.name, column, kind, number, question=question,
                   kelengkapan=step.requirements or "", waktu=waktu_text(step.budget_seconds, self.language),
                   budget_seconds=step.budget_seconds, output=step.output or "", keterangan=step.note or "")

    def _fill_lanes(self, rows, order, succ) -> list[Row]:
        """A row outside every lane takes the lane of the row before it (gateways often sit on a border)."""
        filled, previous = [], 0
        for row in rows:
            if row.lane < 0:
                nxt = next((rows[order.index(t)].lane for t, _ in succ[row.node_id]
                            if rows[order.index(t)].lane >= 0), previous)
                row = replace(row, lane=previous if filled else nxt)
            filled.append(row)
            previous = row.lane
        return filled

    def _parallel_notes(self, rows, order, index, forward) -> list[Row]:
        """Rows of parallel branches say which rows run beside them (no SOP symbol shows it)."""
        notes: dict[int, set] = {}
        for node_id, element in self.nodes.items():
            if local_name(element) != "parallelGateway" or len(self.out[node_id]) < 2:
                continue
            heads = [[t for t, _ in self._collect([(target, None)])] for target, _, _ in self.out[node_id]]
            reach = [self._reach(h, forward) for h in heads]
            for i, mine in enumerate(reach):
                others = set().union(*(reach[j] for j in range(len(reach)) if j != i)) if len(reach) > 1 else set()
                other_heads = {index[h] + 1 for j, hs in enumerate(heads) if j != i for h in hs if h in index}
                for r in mine - others:
                    notes.setdefault(index[r], set()).update(other_heads)
        out = []
        for i, row in enumerate(rows):
            if notes.get(i):
                text = self.words["parallel"].format(", ".join(str(n) for n in sorted(notes[i])))
                row = replace(row, keterangan="; ".join(x for x in (row.keterangan, text) if x))
            out.append(row)
        return out

    @staticmethod
    def _reach(heads, forward) -> set:
        seen, stack = set(), list(heads)
        while stack:
            r = stack.pop()
            if r not in seen:
                seen.add(r)
                stack.extend(forward.get(r, ()))
        return seen


# --- from a stored version ------------------------------------------------------------------------
def document_for_version(engine, key: str, number: int | None = None, *, language: str = "id") -> SopDocument:
    """The document of version `number` of SOP `key` (default: the latest published); NotFound if none."""
    from . import store
    from .models import ProcessVersion

    with engine.db.read() as session:
        row = session.get(ProcessVersion, store.version_id(session, key, number))
        versions = store.version_summaries(session, key)
        xml, version, row_status, created = row.bpmn_xml, row.version, row.status, row.created_at
    published = [v.version for v in versions if v.status == "published"]
    status = ("retired" if row_status == "retired" else
              "in_force" if published and version == max(published) else "superseded")

    def day(moment):
        return moment.astimezone(engine.zone).date() if moment is not None else None
    first = min(versions, key=lambda v: v.version)
    # Tanggal Pembuatan is when the SOP was first finished (its first version); a later version is
    # a revision dated when it was published, and takes effect then (new cases start on it).
    return build_document(xml, key=key, version=version, status=status, created=day(first.created_at),
                          revised=day(created) if version != first.version else None,
                          effective=day(created), language=language)
