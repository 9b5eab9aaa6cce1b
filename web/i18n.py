"""Languages: Bahasa Indonesia by default, English per user; catalogs compiled when the app starts.

Source strings are English. Each area of the app keeps its Indonesian translations in its own
`web/translations/id/<area>.po`; they are merged and compiled into a private folder at start-up,
so no compiled file is kept in the repository.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import g, request
from flask_babel import Babel, get_locale, get_translations
from flask_login import current_user

TRANSLATIONS = Path(__file__).resolve().parent / "translations"
LANGUAGES = ("id", "en")


def merged_catalog(language: str) -> Catalog:
    """All the .po files of one language as one catalog; a msgid defined twice must agree."""
    merged = Catalog(locale=language)
    for path in sorted((TRANSLATIONS / language).glob("*.po")):
        with path.open("rb") as f:
            for message in read_po(f, locale=language):
                if not message.id:
                    continue
                known = merged.get(message.id, message.context)
                if known is not None and known.string and message.string and known.string != message.string:
                    raise ValueError(f"{path.name}: '{message.id}' is translated differently elsewhere")
                if known is None or not known.string:
                    merged[message.id] = message
    return merged


def compile_catalogs() -> str:
    """Compile every language's merged catalog into a fresh folder; returns that folder."""
    out = Path(tempfile.mkdtemp(prefix="alur-i18n-"))
    for language in LANGUAGES:
        if not (TRANSLATIONS / language).is_dir():
            continue
        target = out / language / "LC_MESSAGES"
        target.mkdir(parents=True)
        with (target / "messages.mo").open("wb") as f:
            write_mo(f, merged_catalog(language))
    return str(out)


def catalog():
    """The reader's translations: Flask-Babel's, looked up once per request rather than once per string.

    Flask-Babel finds the catalog anew for each string (some 6 µs: its context, domain and locale); a
    page of 50 inbox rows translates a few hundred strings. The catalog is kept on `g`, beside the
    locale Flask-Babel keeps there, so both last exactly as long.
    """
    if not g:  # no application context: Flask-Babel's own (untranslated) answer
        return get_translations()
    found = g.get("_alur_catalog")
    if found is None:
        found = g._alur_catalog = get_translations()
    return found


def init_app(app, settings) -> None:
    def locale():
        if current_user and current_user.is_authenticated and current_user.language in LANGUAGES:
            return current_user.language
        chosen = request.args.get("lang") or request.cookies.get("lang")
        return chosen if chosen in LANGUAGES else settings.language

    app.config["BABEL_TRANSLATION_DIRECTORIES"] = compile_catalogs()
    app.config["BABEL_DEFAULT_TIMEZONE"] = settings.timezone
    Babel(app, locale_selector=locale, timezone_selector=lambda: settings.timezone)
    # Templates translate through the per-request catalog too (Flask-Babel installed its own).
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: catalog().ugettext(s),
        ngettext=lambda s, p, n: catalog().ungettext(s, p, n),
        pgettext=lambda c, s: catalog().upgettext(c, s),
        npgettext=lambda c, s, p, n: catalog().unpgettext(c, s, p, n),
        newstyle=True)
    app.jinja_env.globals["get_locale"] = lambda: str(get_locale() or settings.language)
