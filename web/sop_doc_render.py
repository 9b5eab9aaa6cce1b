"""The official SOP document as HTML (Jinja, with the flowchart as inline SVG) and as PDF (fpdf2)."""
from __future__ import annotations

import gettext as gettext_module
import io
import math
from dataclasses import dataclass
from pathlib import Path

from markupsafe import Markup, escape

from workflow_engine.sop_document import Page, SopDocument
from workflow_engine.sop_pages import paginate

WEB = Path(__file__).resolve().parent
CSS = WEB / "static" / "css" / "sopdoc.css"
# A4 landscape with 10 mm margins is 277 mm wide: 1047 CSS px at 96 px per inch.
PAGE_PX = 1047
MM_PER_PX = 25.4 / 96
TEXT_COLUMNS = ("kegiatan", "kelengkapan", "output", "keterangan")
SHARES = {"kegiatan": 0.34, "kelengkapan": 0.24, "output": 0.20, "keterangan": 0.22}
NO_PX, WAKTU_PX = 32, 58
SYMBOL_H = {"activity": 24, "terminator": 22, "decision": 30, "connector": 22}
ELBOW = 8  # how far below a row's top edge an elbow arrow turns sideways


@dataclass(frozen=True)
class Columns:
    """Column widths in CSS px; the Pelaksana area is one block of equal lane columns."""

    no: int
    kegiatan: int
    lane: int
    lanes: int
    kelengkapan: int
    waktu: int
    output: int
    keterangan: int

    @property
    def flow(self) -> int:
        return self.lane * self.lanes

    def center(self, lane: int) -> float:
        return self.lane * lane + self.lane / 2


def columns_for(lane_count: int) -> Columns:
    """Widths that keep six lanes and the mutu baku readable on A4 landscape."""
    lane = 76 if lane_count <= 4 else 68 if lane_count <= 6 else max(44, 408 // lane_count)
    rest = PAGE_PX - NO_PX - WAKTU_PX - lane * lane_count
    widths = {name: int(rest * share) for name, share in SHARES.items()}
    return Columns(no=NO_PX, lane=lane, lanes=lane_count, waktu=WAKTU_PX, **widths)


def symbol_width(kind: str, lane: int) -> float:
    if kind == "connector":
        return 22
    if kind == "decision":
        return min(lane - 22, 46)
    return min(lane - 24, 58)


def track_x(cols: Columns, lane: int, track: int) -> float:
    """Long arrows run along a lane's edges, right and left by turns, away from the symbols."""
    offset = 5 + 5 * ((track % 4) // 2)
    return cols.lane * lane + (cols.lane - offset if track % 2 == 0 else offset)


def symbol_y(row) -> float:
    """Where a row's symbol sits: near the top, so long mutu baku text never pushes it away."""
    return 17 if row.symbol == "connector" else 26


def flow_drawing(page: Page, cols: Columns) -> list[list[tuple]]:
    """Per row, the shapes of the flowchart; y is ('top', px below the row's top) or ('bot', 0)."""
    shapes: list[list[tuple]] = [[] for _ in page.rows]
    top, bot = ("top", 0), ("bot", 0)
    for arrow in page.arrows:
        s, t = page.rows[arrow.source], page.rows[arrow.target]
        x1, x2 = cols.center(s.lane), cols.center(t.lane)
        w1, w2 = symbol_width(s.symbol, cols.lane), symbol_width(t.symbol, cols.lane)
        y1, y2 = symbol_y(s), symbol_y(t)
        m1, m2 = ("top", y1), ("top", y2)
        if arrow.adjacent:
            shapes[arrow.source].append(("line", x1, m1, x1, bot))
            row = shapes[arrow.target]
            if x1 == x2:
                row.append(("line", x1, top, x2, m2))
            else:
                turn = ("top", ELBOW)
                row += [("line", x1, top, x1, turn), ("line", x1, turn, x2, turn), ("line", x2, turn, x2, m2)]
            row.append(("head", x2, ("top", y2 - SYMBOL_H[t.symbol] / 2), "down"))
            if arrow.label:  # left of the stem: the right side is where long arrows leave
                shapes[arrow.source].append(("label", x1 - 4, ("top", y1 + SYMBOL_H[s.symbol] / 2 + 9),
                                             arrow.label, "end"))
            continue
        xt = track_x(cols, s.lane, arrow.track)
        right = xt > x1
        down = arrow.target > arrow.source
        edge = x1 + (w1 / 2 if right else -w1 / 2)
        shapes[arrow.source].append(("line", edge, m1, xt, m1))
        if arrow.label:
            # Beside the track, below the exit and away from the symbol (a row holds one symbol only);
            # turned inwards where it would leave the lanes.
            width = 5 * len(arrow.label)
            outward = xt + width < cols.flow if right else xt - width > 0
            rightwards = right == outward
            shapes[arrow.source].append(("label", xt + (2 if rightwards else -2),
                                         ("top", y1 + 14 + 11 * ((arrow.track % 4) // 2)), arrow.label,
                                         "start" if rightwards else "end"))
        if arrow.source != arrow.target:
            shapes[arrow.source].append(("line", xt, m1, xt, bot if down else top))
            for between in range(min(arrow.source, arrow.target) + 1, max(arrow.source, arrow.target)):
                shapes[between].append(("line", xt, top, xt, bot))
            shapes[arrow.target].append(("line", xt, top if down else bot, xt, m2))
        into_left = xt < x2
        tip = x2 - w2 / 2 if into_left else x2 + w2 / 2
        shapes[arrow.target] += [("line", xt, m2, tip, m2), ("head", tip, m2, "right" if into_left else "left")]
    for i, row in enumerate(page.rows):
        shapes[i].append(("symbol", row.symbol, cols.center(row.lane), symbol_y(row),
                          symbol_width(row.symbol, cols.lane), SYMBOL_H[row.symbol], row.connector or ""))
    return shapes


# --- shapes as inline SVG ---------------------------------------------------------------------------
def _y(value) -> str:
    anchor, px = value
    return "100%" if anchor == "bot" else f"{px:g}"


def _poly(points) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in points)


def symbol_points(kind: str, w: float, h: float) -> list[tuple[float, float]]:
    """Outline of a diamond or an off-page connector (a home-plate pentagon), centred on 0,0."""
    if kind == "decision":
        return [(0, -h / 2), (w / 2, 0), (0, h / 2), (-w / 2, 0)]
    return [(-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 6), (0, h / 2), (-w / 2, h / 6)]


def head_points(x: float, y: float, direction: str) -> list[tuple[float, float]]:
    length, half = 7, 3.5
    return {"down": [(x, y), (x - half, y - length), (x + half, y - length)],
            "right": [(x, y), (x - length, y - half), (x - length, y + half)],
            "left": [(x, y), (x + length, y - half), (x + length, y + half)]}[direction]


def row_svg(shapes: list[tuple], cols: Columns) -> Markup:
    """One row's part of the flowchart: lane separators, arrow segments, then the symbol on top."""
    parts = [f'<line class="lane" x1="{k * cols.lane}" y1="0" x2="{k * cols.lane}" y2="100%"/>'
             for k in range(1, cols.lanes)]
    ordered = sorted(shapes, key=lambda shape: shape[0] in ("symbol", "head", "label"))
    for shape in ordered:
        kind = shape[0]
        if kind == "line":
            _, x1, y1, x2, y2 = shape
            parts.append(f'<line class="arrow" x1="{x1:.1f}" y1="{_y(y1)}" x2="{x2:.1f}" y2="{_y(y2)}"/>')
        elif kind == "head":
            _, x, (_, y), direction = shape
            parts.append(f'<polygon class="head" points="{_poly(head_points(x, y, direction))}"/>')
        elif kind == "label":
            _, x, (_, y), text, anchor = shape
            parts.append(f'<text class="branch" x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}">{escape(text)}</text>')
        else:
            _, symbol, x, y, w, h, letter = shape
            parts.append(_symbol_svg(symbol, x, y, w, h, letter))
    return Markup(f'<svg class="flow" width="{cols.flow}" height="100%" role="presentation">{"".join(parts)}</svg>')


def _symbol_svg(symbol: str, x: float, y: float, w: float, h: float, letter: str) -> str:
    if symbol in ("activity", "terminator"):
        radius = f' rx="{h / 2:g}"' if symbol == "terminator" else ""
        return (f'<rect class="symbol {symbol}" data-symbol="{symbol}" x="{x - w / 2:.1f}" y="{y - h / 2:g}" '
                f'width="{w:.1f}" height="{h:g}"{radius}/>')
    points = [(x + px, y + py) for px, py in symbol_points(symbol, w, h)]
    text = (f'<text class="letter" x="{x:.1f}" y="{y - h / 2 + 10:g}" text-anchor="middle">{escape(letter)}</text>'
            if letter else "")
    return f'<polygon class="symbol {symbol}" data-symbol="{symbol}" points="{_poly(points)}"/>{text}'


# --- HTML ------------------------------------------------------------------------------------------
def estimate_heights(document: SopDocument, cols: Columns) -> list[float]:
    """Rough row heights in px for splitting the printed table (about 6 px per character at 11 px)."""
    heights = []
    for row in document.rows:
        lines = 1
        for name in TEXT_COLUMNS:
            text = getattr(row, name) or ""
            if name == "kegiatan" and row.question:
                text += " " * 30 + row.question
            lines = max(lines, math.ceil(len(text) * 6.2 / max(getattr(cols, name) - 10, 20)))
        heights.append(max(52.0, lines * 14.5 + 10))
    return heights


def labels(_) -> dict:
    """The document's fixed words in the reader's language; `_` is the caller's gettext."""
    return {
        "title": _("Standard Operating Procedure"), "nomor": _("SOP number"), "dibuat": _("Date made"),
        "revisi": _("Revision date"), "efektif": _("Effective date"), "disahkan": _("Approved by"),
        "nama": _("SOP name"), "name_line": _("Name"), "nip": _("NIP"), "version": _("Version"),
        "dasarHukum": _("Legal basis"), "kualifikasiPelaksana": _("Executor qualifications"),
        "keterkaitan": _("Related SOPs"), "peralatan": _("Equipment and supplies"),
        "peringatan": _("Warning"), "pencatatan": _("Records and data keeping"),
        "no": _("No."), "kegiatan": _("Activity"), "pelaksana": _("Executors"), "mutu": _("Quality standard"),
        "kelengkapan": _("Requirements"), "waktu": _("Time"), "output": _("Output"), "keterangan": _("Notes"),
        "executor": _("Executor"), "procedure": _("Procedure"),
        "in_force": _("in force"), "superseded": _("superseded by a newer version"), "retired": _("retired"),
        "draft": _("draft"), "to": _("Continued at No."), "from": _("Continued from No."),
        "page": _("Page"), "of": _("of"),
        "months": (_("January"), _("February"), _("March"), _("April"), _("May"), _("June"), _("July"),
                   _("August"), _("September"), _("October"), _("November"), _("December")),
    }


def format_date(day, words: dict) -> str:
    return f"{day.day} {words['months'][day.month - 1]} {day.year}" if day else "–"


def html_context(document: SopDocument, _, **extra) -> dict:
    """Everything the template needs; the template itself only lays it out."""
    words = labels(_)
    cols = columns_for(len(document.lanes))
    pages = paginate(document, estimate_heights(document, cols), room=560, connector_height=34)
    drawn = [[row_svg(shapes, cols) for shapes in flow_drawing(page, cols)] for page in pages]
    return dict(doc=document, words=words, cols=cols, pages=pages, drawn=drawn,
                dates={k: format_date(getattr(document, f"tanggal_{k}"), words)
                       for k in ("pembuatan", "revisi", "efektif")},
                lane_names=[lane or words["executor"] for lane in document.lanes], **extra)


def standalone_html(document: SopDocument, language: str = "id") -> str:
    """A self-contained HTML file (styles inlined) rendered without Flask, for `alur sop-doc`."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(loader=FileSystemLoader(str(WEB / "templates")), autoescape=select_autoescape(),
                      extensions=["jinja2.ext.i18n"])
    translations = cli_translations(language)
    env.install_gettext_translations(translations, newstyle=True)
    context = html_context(document, translations.gettext, lang=language,
                           inline_css=Markup(CSS.read_text(encoding="utf-8")))
    return env.get_template("sopdoc/document.html").render(**context)


def cli_translations(language: str):
    """The app's merged catalog for a language, as gettext translations (English: the msgids)."""
    from babel.messages.mofile import write_mo

    from .i18n import LANGUAGES, merged_catalog

    if language not in LANGUAGES or language == "en":
        return gettext_module.NullTranslations()
    buffer = io.BytesIO()
    write_mo(buffer, merged_catalog(language))
    buffer.seek(0)
    return gettext_module.GNUTranslations(buffer)
