"""Template filters: office-zone times, durations, SLA states, safe Markdown."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from markdown_it import MarkdownIt
from markupsafe import Markup

from .i18n import catalog

# Markdown without raw HTML: instructions written in an SOP can never inject markup.
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).disable("image")


def _(string: str, **variables) -> str:
    """Flask-Babel's gettext through the per-request catalog: tables call these filters once per row."""
    text = catalog().ugettext(string)
    return text % variables if variables else text


SLA_ICONS = {"on_track": "●", "at_risk": "▲", "breached": "■", "met": "✔", "missed": "✖"}


def sla_label(state: str | None) -> str:
    # Only the label asked for is translated: a table calls this once per row.
    if state == "on_track":
        return _("On track")
    if state == "at_risk":
        return _("At risk")
    if state == "breached":
        return _("Breached")
    if state == "met":
        return _("Met")
    if state == "missed":
        return _("Missed")
    return _("No deadline")


def duration(seconds) -> str:
    """A short human duration: 2 d 3 h, 4 h 5 m, 12 m."""
    if seconds is None:
        return "–"
    seconds = int(seconds)
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        text = _("%(d)s d %(h)s h", d=days, h=hours)
    elif hours:
        text = _("%(h)s h %(m)s m", h=hours, m=minutes)
    else:
        text = _("%(m)s m", m=minutes)
    return sign + text


def register_filters(app, settings) -> None:
    zone = ZoneInfo(settings.timezone)
    zone_label = {"Asia/Jayapura": "WIT", "Asia/Makassar": "WITA", "Asia/Jakarta": "WIB"}.get(
        settings.timezone, settings.timezone)

    def localtime(value, with_zone: bool = True) -> str:
        if not value:
            return "–"
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        text = moment.astimezone(zone).strftime("%d-%m-%Y %H:%M")
        return f"{text} {zone_label}" if with_zone else text

    app.jinja_env.filters.update(
        localtime=localtime, duration=duration, sla_label=sla_label,
        sla_icon=lambda s: SLA_ICONS.get(s or "", "○"),
        markdown=lambda text: Markup(_markdown.render(text or "")),
    )
    app.jinja_env.globals.update(zone_label=zone_label)
