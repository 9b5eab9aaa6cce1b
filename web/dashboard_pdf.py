"""The monthly compliance report as an A4 landscape PDF drawn with fpdf2 and its core fonts."""
from __future__ import annotations

from datetime import datetime

from fpdf import FPDF

from .sop_doc_pdf import latin1

FONT = "Helvetica"
MARGIN = 12.0


def words(_) -> dict:
    """The report's fixed words, translated by `_` (the web's gettext or the CLI's catalog)."""
    return {"title": _("Service time compliance report"), "period": _("Period: %(period)s"),
            "as_of": _("Figures as of %(moment)s"), "no": _("No."), "sop": _("Service (SOP)"),
            "limit": _("Time limit"), "received": _("Received"), "completed": _("Completed"),
            "met": _("On time"), "missed": _("Late"), "share": _("Share on time"),
            "median": _("Median completion time"), "open": _("Still in process"),
            "breached": _("Past the limit"), "total": _("Office total"), "notes": _("Notes:"),
            "head": _("Head of office"), "name": _("Name"), "nip": _("NIP"),
            "note1": _("Received: applications registered in the month. Completed, on time, late and the completion time: applications completed in the month."),
            "note2": _("On time: completed within the SOP's time limit, counted from the start of the clock; the time the file waited on the applicant (fixing the file, paying fees) is not counted."),
            "note3": _("Still in process and past the limit: applications of the month not yet completed, as of the date above."),
            "note4": _("Practice cases are not counted.")}


def month_words(month: str, _) -> str:
    """ "2026-11" as "November 2026", the month's name translated by `_`."""
    names = (_("January"), _("February"), _("March"), _("April"), _("May"), _("June"), _("July"),
             _("August"), _("September"), _("October"), _("November"), _("December"))
    year, number = month.split("-")
    return f"{names[int(number) - 1]} {year}"


def duration(seconds, _) -> str:
    """A short duration as the pages write it (2 d 3 h, 4 h 5 m, 12 m), in the report's language."""
    if seconds is None:
        return "-"
    days, rest = divmod(int(seconds), 86400)
    hours, minutes = rest // 3600, rest % 3600 // 60
    if days:
        return _("%(d)s d %(h)s h") % {"d": days, "h": hours}
    if hours:
        return _("%(h)s h %(m)s m") % {"h": hours, "m": minutes}
    return _("%(m)s m") % {"m": minutes}


def _pct(value) -> str:
    return "-" if value is None else f"{value * 100:.1f} %"


def report_pdf(report: dict, _, *, period: str, moment: str | None = None) -> bytes:
    """The PDF bytes of engine.monthly_report(...); `moment` is the "as of" text (default: from the report)."""
    w = words(_)
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(True, MARGIN + 4)
    pdf.set_title(latin1(f"{w['title']} {report['month']}"))
    pdf.set_creator("Alur")
    pdf.add_page()
    pdf.set_font(FONT, "B", 13)
    pdf.cell(pdf.epw, 7, latin1(w["title"].upper()), align="C", new_x="LMARGIN", new_y="NEXT")
    if report.get("office"):
        pdf.set_font(FONT, "B", 11)
        pdf.multi_cell(pdf.epw, 5.5, latin1(report["office"]), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 10)
    pdf.cell(pdf.epw, 5.5, latin1(w["period"] % {"period": period}), align="C", new_x="LMARGIN", new_y="NEXT")
    moment = moment or datetime.fromisoformat(report["as_of"]).strftime("%d-%m-%Y %H:%M UTC")
    pdf.set_font(FONT, "", 8.5)
    pdf.cell(pdf.epw, 5, latin1(w["as_of"] % {"moment": moment}), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    _table(pdf, report, w, _)
    pdf.ln(3)
    pdf.set_font(FONT, "B", 8.5)
    pdf.cell(pdf.epw, 4.5, latin1(w["notes"]), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 8)
    for number in range(1, 5):
        pdf.multi_cell(pdf.epw, 4, latin1(f"{number}. {w[f'note{number}']}"), new_x="LMARGIN", new_y="NEXT")
    _signature(pdf, report, w)
    return bytes(pdf.output())


def _table(pdf: FPDF, report: dict, w: dict, _) -> None:
    heads = ["no", "sop", "limit", "received", "completed", "met", "missed", "share", "median", "open", "breached"]
    widths = [9, 78, 18, 18, 18, 18, 18, 20, 28, 24, 24]
    widths[1] += pdf.epw - sum(widths)
    pdf.set_font(FONT, "B", 8)
    pdf.set_fill_color(236, 238, 241)
    lines = [pdf.multi_cell(width - 2, 3.6, latin1(w[h]), dry_run=True, output="LINES") for h, width in zip(heads, widths)]
    height = max(len(found) for found in lines) * 3.6 + 2
    x, y = pdf.get_x(), pdf.get_y()
    for width, found in zip(widths, lines):
        pdf.rect(x, y, width, height, style="DF")
        pdf.set_xy(x + 1, y + 1)
        pdf.multi_cell(width - 2, 3.6, "\n".join(found), align="C")
        x += width
    pdf.set_xy(MARGIN, y + height)
    for index, sop in enumerate(report["sops"], start=1):
        _row(pdf, widths, [str(index), sop["name"], _("%(n)s hours") % {"n": "%g" % (sop["limit_seconds"] / 3600)} if sop["limit_seconds"] else "-",
                           *_figures(sop, _)])
    total = report["total"]
    _row(pdf, widths, ["", w["total"], "", *_figures(total, _)], bold=True)


def _figures(row: dict, _) -> list[str]:
    return [str(row["received"]), str(row["completed"]), str(row["met"]), str(row["missed"]),
            _pct(row["met_share"]), duration(row["median_case_seconds"], _), str(row["open"]), str(row["breached"])]


def _row(pdf: FPDF, widths: list[float], cells: list[str], bold: bool = False) -> None:
    pdf.set_font(FONT, "B" if bold else "", 8.5)
    name = pdf.multi_cell(widths[1] - 2, 4, latin1(cells[1]), dry_run=True, output="LINES")
    height = max(1, len(name)) * 4 + 2
    if pdf.get_y() + height > pdf.h - MARGIN - 4:
        pdf.add_page()
    x, y = MARGIN, pdf.get_y()
    for column, (width, text) in enumerate(zip(widths, cells)):
        pdf.rect(x, y, width, height)
        pdf.set_xy(x + 1, y + 1)
        if column == 1:
            pdf.multi_cell(width - 2, 4, "\n".join(name), align="L")
        else:
            pdf.cell(width - 2, height - 2, latin1(text), align="R" if column > 1 else "C")
        x += width
    pdf.set_xy(MARGIN, y + height)


def _signature(pdf: FPDF, report: dict, w: dict) -> None:
    if pdf.get_y() + 40 > pdf.h - MARGIN:
        pdf.add_page()
    left, width = pdf.w - MARGIN - 90, 90
    pdf.set_font(FONT, "", 9)
    pdf.set_xy(left, pdf.get_y() + 6)
    pdf.multi_cell(width, 4.5, latin1(report.get("approver") or w["head"]), align="C", new_x="LEFT", new_y="NEXT")
    pdf.ln(18)
    pdf.set_x(left)
    pdf.cell(width, 4.5, latin1(f"{w['name']}: " + "." * 40), align="C", new_x="LEFT", new_y="NEXT")
    pdf.cell(width, 4.5, latin1(f"{w['nip']}: " + "." * 40), align="C")
