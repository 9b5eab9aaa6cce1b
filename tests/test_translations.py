"""Every string the app shows has an Indonesian translation, and the catalogs agree with each other."""
from pathlib import Path

from babel.messages.extract import extract_from_dir

from web.i18n import merged_catalog

WEB = Path(__file__).resolve().parent.parent / "web"
METHODS = [("**/static/**", "ignore"), ("**/templates/**.html", "jinja2"), ("**.py", "python")]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None}


def _source_strings() -> dict[str, str]:
    found = {}
    for filename, _line, message, _comments, _context in extract_from_dir(
            str(WEB), METHODS, options_map=OPTIONS, keywords=KEYWORDS):
        for text in (message if isinstance(message, tuple) else (message,)):
            if text:
                found.setdefault(text, filename)
    return found


def test_strings_are_found():
    assert "Sign in to Alur" in _source_strings()


def test_every_string_has_an_indonesian_translation():
    catalog = merged_catalog("id")
    missing = sorted(f"{where}: {text!r}" for text, where in _source_strings().items()
                     if not (catalog.get(text) and catalog.get(text).string))
    assert missing == []


def test_catalogs_hold_no_stale_strings():
    used = set(_source_strings())
    stale = sorted(m.id for m in merged_catalog("id") if m.id and m.id not in used)
    assert stale == []
