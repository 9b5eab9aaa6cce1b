"""The official SOP document as an A4 landscape PDF drawn with fpdf2: the same table, symbols and arrows."""
from __future__ import annotations

import unicodedata

from fpdf import FPDF

from workflow_engine.sop_document import SopDocument
from workflow_engine.sop_pages import paginate

from .sop_doc_render import (MM_PER_PX, columns_for, flow_drawing, format_date, head_points, labels,
                             symbol_points)

MARGIN = 10.0
PAGE_H = 210.0
FONT = "Helvetica"  # a core font: nothing to ship or download; text is kept to Latin-1
SIZE, LINE, PAD = 7.0, 3.1, 1.0
ROW_MIN = 52 * MM_PER_PX
CONNECTOR_ROW = 34 * MM_PER_PX
# Typographic characters a modeler may paste that Latin-1 lacks.
PLAIN = {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-",
         "\u2026": "...", "\u2022": "-", "\u2192": "->", "\u2190": "<-", "\u2264": "<=", "\u2265": ">=",
         "\u00a0": " ", "\u2009": " ", "\u200b": ""}


def latin1(text) -> str:
    """Text the core fonts can draw: typographic marks made plain, accents kept, the rest as '?'."""
    out = []
    for char in str(text or ""):
        char = PLAIN.get(char, char)
        if char and ord(char[0]) > 255:
            char = unicodedata.normalize("NFKD", char).encode("latin-1", "ignore").decode("latin-1") or "?"
        out.append(char)
    return "".join(out)


class _Pdf(FPDF):
    def __init__(self, foot: str):
        super().__init__(orientation="L", unit="mm", format="A4")
        self.foot = foot
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(False)

    def footer(self):
        self.set_xy(MARGIN, PAGE_H - MARGIN + 2)
        self.set_font(FONT, "", 6.5)
        self.cell(self.epw, 4, latin1(self.foot.replace("{n}", str(self.page_no()))), align="R")


def sop_pdf(document: SopDocument, gettext) -> bytes:
    """The PDF bytes of the document; `gettext` translates the fixed words."""
    words = labels(gettext)
    pdf = _Pdf(f"{document.nomor or document.key} · {words['page']} {{n}} {words['of']} {{nb}}")
    pdf.set_title(latin1(document.name))
    pdf.set_creator("Alur")
    pdf.set_lang(document.language)
    _identity(pdf, document, words)
    _procedure(pdf, document, words)
    return bytes(pdf.output())


def _lines(pdf, width: float, text: str, style: str = "", size: float = SIZE) -> list[str]:
    pdf.set_font(FONT, style, size)
    if not text:
        return []
    return pdf.multi_cell(width - 2 * PAD, LINE, latin1(text), dry_run=True, output="LINES", align="L")


def _line_h(size: float) -> float:
    """Line height in mm: the table's 3.1 mm, more for the larger type of the identity block."""
    return max(LINE, size * 0.42) if size > SIZE else LINE * size / SIZE


def _write(pdf, x, y, width, lines, style="", size=SIZE, align="L"):
    pdf.set_font(FONT, style, size)
    for k, line in enumerate(lines):
        pdf.set_xy(x + PAD, y + PAD + k * _line_h(size))
        pdf.cell(width - 2 * PAD, _line_h(size), line, align=align)


# --- Bagian Identitas -------------------------------------------------------------------------------
def _identity(pdf, document: SopDocument, words: dict) -> None:
    pdf.add_page()
    pdf.set_line_width(0.3)
    left, label_w = 98.0, 44.0
    value_w = pdf.epw - left - label_w
    version = f"{words['version']} {document.version or '-'}"
    if document.status:
        version += f" - {words[document.status]}"
    dates = {k: format_date(getattr(document, f"tanggal_{k}"), words) for k in ("pembuatan", "revisi", "efektif")}
    rows = [(words["nomor"], document.nomor or "-", ""), (words["dibuat"], dates["pembuatan"], ""),
            (words["revisi"], dates["revisi"], ""), (words["efektif"], dates["efektif"], ""),
            (words["disahkan"], document.disahkan_oleh or "-", "sign"), (words["nama"], document.name, "B")]
    y = top = MARGIN
    for label, value, kind in rows:
        lines = _lines(pdf, value_w, value, "B" if kind == "B" else "", 9 if kind == "B" else 8)
        height = max(1, len(lines)) * _line_h(9 if kind == "B" else 8) + 2 * PAD + (18 if kind == "sign" else 1)
        pdf.rect(MARGIN + left, y, label_w, height)
        pdf.rect(MARGIN + left + label_w, y, value_w, height)
        _write(pdf, MARGIN + left, y + 0.5, label_w, [latin1(label)], "B", 8)
        _write(pdf, MARGIN + left + label_w, y + 0.5, value_w, lines, "B" if kind == "B" else "",
               9 if kind == "B" else 8)
        if kind == "sign":
            dots = "." * 60
            _write(pdf, MARGIN + left + label_w, y + height - 2 * _line_h(8) - 2 * PAD, value_w,
                   [latin1(f"{words['name_line']}: {dots}"), latin1(f"{words['nip']}: {dots}")], "", 8)
        y += height
    pdf.rect(MARGIN, top, left, y - top)
    agency = _lines(pdf, left, (document.agency or "").upper(), "B", 11)
    block = [(agency, "B", 11), (_lines(pdf, left, words["title"], "B", 10), "B", 10),
             (_lines(pdf, left, version, "", 8), "", 8)]
    height = sum(len(lines) * _line_h(size) + 3 for lines, _, size in block)
    cursor = top + (y - top - height) / 2
    for lines, style, size in block:
        _write(pdf, MARGIN, cursor, left, lines, style, size, align="C")
        cursor += len(lines) * _line_h(size) + 3
    half = pdf.epw / 2
    y += 3
    identity = list(document.identity)
    for pair in (identity[i:i + 2] for i in range(0, len(identity), 2)):
        cells = []
        for name, items in pair:
            text = [f"{k}. {item}" for k, item in enumerate(items, 1)] if len(items) > 1 else list(items) or ["-"]
            lines = [latin1(words[name] + ":")]
            for item in text:
                lines += _lines(pdf, half, item, "", 6.8)
            cells.append(lines)
        height = max(len(c) for c in cells) * _line_h(6.8) + 2 * PAD + 1
        if y + height > PAGE_H - MARGIN - 4:
            pdf.add_page()
            y = MARGIN
        for k, lines in enumerate(cells):
            pdf.rect(MARGIN + k * half, y, half, height)
            _write(pdf, MARGIN + k * half, y, half, lines[:1], "B", 6.8)
            _write(pdf, MARGIN + k * half, y + _line_h(6.8), half, lines[1:], "", 6.8)
        y += height


# --- Bagian Flowchart -------------------------------------------------------------------------------
def _procedure(pdf, document: SopDocument, words: dict) -> None:
    cols = columns_for(len(document.lanes))
    mm = MM_PER_PX
    widths = [cols.no, cols.kegiatan, cols.flow, cols.kelengkapan, cols.waktu, cols.output, cols.keterangan]
    xs = [MARGIN]
    for w in widths:
        xs.append(xs[-1] + w * mm)
    lane_names = [lane or words["executor"] for lane in document.lanes]
    lane_lines = [_lines(pdf, cols.lane * mm, name, "B", 6.5) for name in lane_names]
    head_h = (5.0, max(len(lines) for lines in lane_lines) * LINE + 2 * PAD)
    heights = [_row_height(pdf, row, widths) for row in document.rows]
    room = PAGE_H - 2 * MARGIN - 6 - sum(head_h)
    pages = paginate(document, heights, room, CONNECTOR_ROW)
    for page in pages:
        pdf.add_page()
        y = _header(pdf, xs, head_h, lane_lines, cols, words, document)
        shapes = flow_drawing(page, cols)
        for index, row in enumerate(page.rows):
            height = CONNECTOR_ROW if row.symbol == "connector" else _row_height(pdf, row, widths)
            _row(pdf, row, xs, y, height, words)
            _flow(pdf, shapes[index], xs[2], y, height, cols)
            y += height


def _row_height(pdf, row, widths) -> float:
    mm = MM_PER_PX
    texts = [(widths[1], row.kegiatan), (widths[3], row.kelengkapan), (widths[4], row.waktu),
             (widths[5], row.output), (widths[6], row.keterangan)]
    lines = max(len(_lines(pdf, w * mm, text)) for w, text in texts)
    if row.question:
        lines = max(lines, len(_lines(pdf, widths[1] * mm, row.kegiatan)) + len(_lines(pdf, widths[1] * mm,
                                                                                         row.question, "I")))
    return max(ROW_MIN, lines * LINE + 2 * PAD + 0.5)


def _header(pdf, xs, head_h, lane_lines, cols, words, document) -> float:
    y = MARGIN
    pdf.set_fill_color(240, 242, 245)
    pdf.set_line_width(0.25)
    full = head_h[0] + head_h[1]
    spans = [(0, 1, words["no"], full), (1, 2, words["kegiatan"], full), (2, 3, words["pelaksana"], head_h[0]),
             (3, 6, words["mutu"], head_h[0]), (6, 7, words["keterangan"], full)]
    for a, b, text, height in spans:
        pdf.rect(xs[a], y, xs[b] - xs[a], height, style="FD")
        lines = _lines(pdf, xs[b] - xs[a], text, "B", 7)
        _write(pdf, xs[a], y + (height - len(lines) * LINE) / 2 - PAD, xs[b] - xs[a], lines, "B", 7, "C")
    lane_w = cols.lane * MM_PER_PX
    below = y + head_h[0]
    for k, lines in enumerate(lane_lines):
        x = xs[2] + k * lane_w
        pdf.rect(x, below, lane_w, head_h[1], style="FD")
        _write(pdf, x, below + (head_h[1] - len(lines) * LINE) / 2 - PAD, lane_w, lines, "B", 6.5, "C")
    for k, text in enumerate((words["kelengkapan"], words["waktu"], words["output"])):
        pdf.rect(xs[3 + k], below, xs[4 + k] - xs[3 + k], head_h[1], style="FD")
        _write(pdf, xs[3 + k], below + (head_h[1] - LINE) / 2 - PAD, xs[4 + k] - xs[3 + k], [latin1(text)],
               "B", 7, "C")
    return below + head_h[1]


def _row(pdf, row, xs, y, height, words) -> None:
    pdf.set_line_width(0.25)
    for a in range(7):
        pdf.rect(xs[a], y, xs[a + 1] - xs[a], height)
    if row.symbol == "connector":
        arrow_word = words["to"] if row.node_id.endswith("-out") else words["from"]
        text = f"{arrow_word} {row.keterangan} ({row.connector})"
        _write(pdf, xs[1], y, xs[2] - xs[1], _lines(pdf, xs[2] - xs[1], text, "I"), "I")
        return
    _write(pdf, xs[0], y, xs[1] - xs[0], [str(row.number)], "", SIZE, "C")
    name = _lines(pdf, xs[2] - xs[1], row.kegiatan)
    _write(pdf, xs[1], y, xs[2] - xs[1], name)
    if row.question:
        _write(pdf, xs[1], y + len(name) * LINE, xs[2] - xs[1], _lines(pdf, xs[2] - xs[1], row.question, "I"), "I")
    for column, text, align in ((3, row.kelengkapan, "L"), (4, row.waktu, "C"), (5, row.output, "L"),
                                (6, row.keterangan, "L")):
        _write(pdf, xs[column], y, xs[column + 1] - xs[column], _lines(pdf, xs[column + 1] - xs[column], text),
               "", SIZE, align)


def _flow(pdf, shapes, x0, y0, height, cols) -> None:
    """Draw one row's flowchart shapes; px from the shared geometry become mm here."""
    mm = MM_PER_PX

    def X(px):
        return x0 + px * mm

    def Y(value):
        anchor, px = value
        return y0 + height if anchor == "bot" else y0 + px * mm
    pdf.set_draw_color(34, 34, 34)
    pdf.set_line_width(0.2)
    for k in range(1, cols.lanes):
        pdf.line(X(k * cols.lane), y0, X(k * cols.lane), y0 + height)
    pdf.set_draw_color(0, 0, 0)
    pdf.set_fill_color(0, 0, 0)
    ordered = sorted(shapes, key=lambda shape: shape[0] in ("symbol", "head", "label"))
    for shape in ordered:
        kind = shape[0]
        pdf.set_line_width(0.3)
        if kind == "line":
            _, x1, ya, x2, yb = shape
            pdf.line(X(x1), Y(ya), X(x2), Y(yb))
        elif kind == "head":
            _, x, (_, y), direction = shape
            pdf.set_fill_color(0, 0, 0)
            pdf.polygon([(X(px), y0 + py * mm) for px, py in head_points(x, y, direction)], style="F")
        elif kind == "label":
            _, x, (_, y), text, anchor = shape
            pdf.set_font(FONT, "", 5.5)
            text = latin1(text)
            width = pdf.get_string_width(text)
            left = X(x) - width if anchor == "end" else X(x)
            pdf.set_fill_color(255, 255, 255)
            pdf.rect(left - 0.3, y0 + y * mm - 1.9, width + 0.6, 2.3, style="F")
            pdf.text(left, y0 + y * mm, text)
        else:
            _symbol(pdf, shape, X, y0)


def _symbol(pdf, shape, X, y0) -> None:
    _, symbol, x, y, w, h, letter = shape
    mm = MM_PER_PX
    cx, cy, wm, hm = X(x), y0 + y * mm, w * mm, h * mm
    pdf.set_fill_color(255, 255, 255)
    pdf.set_line_width(0.35)
    if symbol in ("activity", "terminator"):
        pdf.rect(cx - wm / 2, cy - hm / 2, wm, hm, style="FD", round_corners=symbol == "terminator",
                 corner_radius=hm * 0.49 if symbol == "terminator" else 0)  # fpdf2 shrinks r >= h/2
        return
    pdf.polygon([(cx + px * mm, cy + py * mm) for px, py in symbol_points(symbol, w, h)], style="FD")
    if letter:
        pdf.set_font(FONT, "B", 6.5)
        pdf.text(cx - pdf.get_string_width(letter) / 2, cy - hm / 2 + 10 * mm, letter)
