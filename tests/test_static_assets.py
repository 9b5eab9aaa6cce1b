"""Every asset is Alur's own: no page or file loads from the internet, and the vendored bpmn-js is there.

The office may have no internet at all, so a template or stylesheet pointing at a CDN would leave a
page broken there while it works on a developer's machine.
"""
from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "web"
TEMPLATES = WEB / "templates"
STATIC = WEB / "static"
VENDOR = STATIC / "vendor" / "bpmn-js"
BUNDLE = VENDOR / "bpmn-navigated-viewer.production.min.js"
VENDOR_CSS = [VENDOR / "diagram-js.css", VENDOR / "bpmn-js.css"]
SCRIPT = ROOT / "scripts" / "vendor-bpmn-js.sh"

# Addresses that are names, not places: XML namespaces and the DTD bpmn-js writes into SVG.
NAMESPACES = re.compile(
    r"https?://(www\.omg\.org/spec/|www\.w3\.org/|bpmn\.io/schema/|camunda\.org/schema/)", re.I)
# The bpmn.io watermark is a link the user may follow (its licence requires it), never a fetch.
WATERMARK_LINKS = re.compile(r"https?://(bpmn\.io(/license)?/?$|github\.com/bpmn-io/)", re.I)

# src="...", href="...", action="...", srcset="...", poster="..." and CSS url(...) / @import.
REFERENCE = re.compile(
    r"""(?:\b(?:src|href|action|srcset|poster|formaction|data)\s*=\s*["']?\s*"""
    r"""|url\(\s*["']?|@import\s+["'])(?P<url>[^"')\s>]+)""", re.I)
ANY_ADDRESS = re.compile(r"""(?:https?:)?//[a-z0-9][a-z0-9.-]*\.[a-z]{2,}[^\s"'<>)]*""", re.I)


def files(folder: Path, *suffixes: str) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in suffixes
                  and "node_modules" not in p.parts)


def remote(url: str) -> bool:
    return bool(re.match(r"(?:https?:)?//", url.strip(), re.I))


def test_templates_reference_only_local_urls():
    offenders = []
    for path in files(TEMPLATES, ".html", ".txt", ".xml"):
        text = path.read_text(encoding="utf-8")
        for match in REFERENCE.finditer(text):
            url = match.group("url")
            if remote(url) and not NAMESPACES.match(url):
                offenders.append(f"{path.relative_to(ROOT)}: {url}")
    assert not offenders, "templates load from outside Alur:\n" + "\n".join(offenders)


def test_static_files_reference_only_local_urls():
    offenders = []
    for path in files(STATIC, ".css", ".js", ".html", ".svg", ".mjs"):
        text = path.read_text(encoding="utf-8", errors="replace")
        for match in REFERENCE.finditer(text):
            url = match.group("url")
            if remote(url) and not NAMESPACES.match(url) and not WATERMARK_LINKS.match(url):
                offenders.append(f"{path.relative_to(ROOT)}: {url}")
    assert not offenders, "static files load from outside Alur:\n" + "\n".join(offenders)


def test_scripts_name_no_address_but_namespaces():
    """Alur's own scripts fetch only from Alur: any absolute address in them is a namespace."""
    offenders = []
    for path in files(STATIC, ".js", ".mjs"):
        if STATIC / "vendor" in path.parents:  # vendored bundles are checked on their own below
            continue
        for url in ANY_ADDRESS.findall(path.read_text(encoding="utf-8")):
            if not NAMESPACES.match(url):
                offenders.append(f"{path.relative_to(ROOT)}: {url}")
    assert not offenders, "\n".join(offenders)


def test_vendored_bundle_names_only_namespaces_and_the_watermark_link():
    addresses = set(re.findall(r"https?://[A-Za-z0-9./_-]+", BUNDLE.read_text(encoding="utf-8")))
    unexpected = sorted(a for a in addresses if not NAMESPACES.match(a) and not WATERMARK_LINKS.match(a))
    assert not unexpected, f"the bpmn-js bundle names addresses it might fetch: {unexpected}"


def test_vendored_bpmn_js_is_complete():
    assert BUNDLE.stat().st_size > 100_000, "the viewer bundle is missing or truncated"
    assert "BpmnJS" in BUNDLE.read_text(encoding="utf-8"), "the bundle does not define window.BpmnJS"
    for css in VENDOR_CSS:
        assert css.stat().st_size > 1_000, css
    licence = (VENDOR / "LICENSE").read_text(encoding="utf-8")
    assert "Camunda" in licence and "watermark" in licence
    readme = (VENDOR / "README.md").read_text(encoding="utf-8")
    pinned = re.search(r'VERSION="\$\{BPMN_JS_VERSION:-([0-9][0-9.]*)\}"', SCRIPT.read_text(encoding="utf-8"))
    assert pinned, "scripts/vendor-bpmn-js.sh pins no version"
    assert f"bpmn-js {pinned.group(1)}" in readme, "the vendored README and the script disagree on the version"
    assert "licen" in readme.lower() and "watermark" in readme.lower()
    assert not list(STATIC.rglob("node_modules")), "node_modules must not be kept under web/static"


def test_vendor_script_is_rerunnable_and_keeps_no_node_modules():
    text = SCRIPT.read_text(encoding="utf-8")
    assert SCRIPT.stat().st_mode & stat.S_IXUSR, "scripts/vendor-bpmn-js.sh is not executable"
    assert "set -euo pipefail" in text and "mktemp -d" in text and "trap" in text
    assert "npm install" in text
    gitignore = (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert "node_modules/" in gitignore
    assert any("tests/browser/artifacts" in line for line in gitignore)


def css_references(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    return [m.strip("'\" ") for m in re.findall(r"url\(([^)]*)\)", text)] + \
        re.findall(r"""@import\s+["']([^"']+)["']""", text)


@pytest.mark.parametrize("css", files(STATIC, ".css"), ids=lambda p: str(p.relative_to(STATIC)))
def test_files_named_by_stylesheets_exist(css):
    missing = []
    for url in css_references(css):
        if url.startswith("data:") or url.startswith("#"):
            continue
        assert not remote(url), f"{css.name} loads {url}"
        local = url.split("?")[0].split("#")[0]
        target = (STATIC / local.removeprefix("/static/")) if local.startswith("/static/") else css.parent / local
        if not target.resolve().is_file():
            missing.append(url)
    assert not missing, f"{css.relative_to(ROOT)} names missing files: {missing}"


def test_our_css_keeps_the_bpmn_io_watermark_visible():
    for css in files(STATIC, ".css"):
        if VENDOR in css.parents:
            continue
        for rule in re.findall(r"[^{}]*bjs-powered-by[^{}]*\{[^}]*\}", css.read_text(encoding="utf-8")):
            assert not re.search(r"display\s*:\s*none|visibility\s*:\s*hidden|opacity\s*:\s*0(?![.\d])", rule), \
                f"{css.name} hides the bpmn.io watermark, which its licence forbids: {rule.strip()}"


def test_diagram_files_stay_small():
    """The task page stays under 100 KB: the diagram's own files are a few KB, the viewer loads on demand."""
    own = (STATIC / "js" / "diagram.js").stat().st_size + (STATIC / "css" / "diagram.css").stat().st_size
    assert own < 16_000, own
    text = (STATIC / "js" / "diagram.js").read_text(encoding="utf-8")
    assert "document.createElement(\"script\")" in text, "diagram.js should load the viewer on demand"


# --- served by the app ---------------------------------------------------------------------------

@pytest.fixture
def app(sqlite_url, tmp_path, monkeypatch):
    from web.app import create_app
    from workflow_engine import Database, Engine, SystemClock, Settings

    monkeypatch.setenv("ALUR_HOME", str(tmp_path / "home"))
    settings = Settings(database_url=sqlite_url)
    db = Database(sqlite_url)
    application = create_app(settings, Engine(db, SystemClock(), settings), config={"TESTING": True})
    yield application
    db.dispose()


@pytest.mark.parametrize("path, kind", [
    ("vendor/bpmn-js/bpmn-navigated-viewer.production.min.js", "javascript"),
    ("vendor/bpmn-js/diagram-js.css", "text/css"),
    ("vendor/bpmn-js/bpmn-js.css", "text/css"),
    ("js/diagram.js", "javascript"),
    ("css/diagram.css", "text/css"),
])
def test_assets_are_served_with_their_content_type(app, path, kind):
    with app.test_client() as client:
        response = client.get(f"/static/{path}")
        assert response.status_code == 200
        assert kind in response.content_type, response.content_type
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.get_data() == (STATIC / path).read_bytes()


@pytest.mark.parametrize("language, failed, completed", [
    ("id", "Diagram tidak dapat ditampilkan", "Selesai"),
    ("en", "The diagram could not be shown", "Completed"),
])
def test_diagram_partial_points_at_served_files_and_is_translated(app, language, failed, completed):
    from flask import render_template

    with app.test_request_context(f"/?lang={language}"):
        html = render_template("_diagram.html")
    assert failed in html and f'data-msg-completed="{completed}"' in html
    assert "<script" in html and " defer" in html and "<style" not in html and "onload=" not in html
    urls = re.findall(r'(?:src|href|data-viewer-src|data-[a-z]+-css)="([^"]+)"', html)
    assert len(urls) == 5, urls
    with app.test_client() as client:
        for url in urls:
            assert url.startswith("/static/"), url
            assert client.get(url).status_code == 200, url


# --- the SOP modeler (vendor/bpmn-js-modeler, only on /sop/drafts/<id>) ----------------------------

MODELER = STATIC / "vendor" / "bpmn-js-modeler"
MODELER_BUNDLE = MODELER / "bpmn-modeler.production.min.js"
MODELER_SCRIPT = ROOT / "scripts" / "vendor-bpmn-modeler.sh"
# Beside namespaces and the watermark: diagram-js deprecation notes and a licence note in a comment.
SOURCE_NOTES = re.compile(r"https?://github\.com/(bpmn-io/diagram-js/(issues|pull)/\d+|adobe-webplatform/Snap\.svg/)")


def test_vendored_modeler_names_only_namespaces_the_watermark_and_source_notes():
    for path in (MODELER_BUNDLE, MODELER / "camunda.json"):
        addresses = set(re.findall(r"https?://[A-Za-z0-9./_-]+", path.read_text(encoding="utf-8")))
        unexpected = sorted(a for a in addresses if not NAMESPACES.match(a) and not WATERMARK_LINKS.match(a)
                            and not SOURCE_NOTES.match(a))
        assert not unexpected, f"{path.name} names addresses it might fetch: {unexpected}"


def test_vendored_modeler_is_complete_and_pinned():
    import json

    assert MODELER_BUNDLE.stat().st_size > 300_000, "the modeler bundle is missing or truncated"
    head = MODELER_BUNDLE.read_text(encoding="utf-8")[:300]
    pinned = re.search(r'VERSION="\$\{BPMN_JS_VERSION:-([0-9][0-9.]*)\}"', MODELER_SCRIPT.read_text(encoding="utf-8"))
    assert pinned and f"bpmn-modeler v{pinned.group(1)}" in head
    for name in ("diagram-js.css", "bpmn-js.css", "bpmn-font/css/bpmn.css", "bpmn-font/font/bpmn.woff2"):
        assert (MODELER / name).stat().st_size > 1_000, name
    camunda = json.loads((MODELER / "camunda.json").read_text(encoding="utf-8"))
    assert camunda["prefix"] == "camunda" and camunda["uri"] == "http://camunda.org/schema/1.0/bpmn"
    assert {"Properties", "FormData", "FormField", "Validation", "Constraint", "Value"} <= \
        {t["name"] for t in camunda["types"]}
    readme = (MODELER / "README.md").read_text(encoding="utf-8")
    assert f"bpmn-js {pinned.group(1)}" in readme and "watermark" in readme.lower()
    assert "Camunda" in (MODELER / "LICENSE").read_text(encoding="utf-8")
    assert "MIT" in (MODELER / "LICENSE.camunda-bpmn-moddle").read_text(encoding="utf-8") or \
        "Permission is hereby granted" in (MODELER / "LICENSE.camunda-bpmn-moddle").read_text(encoding="utf-8")
    text = MODELER_SCRIPT.read_text(encoding="utf-8")
    assert MODELER_SCRIPT.stat().st_mode & stat.S_IXUSR
    assert "set -euo pipefail" in text and "mktemp -d" in text and "--ignore-scripts" in text


def test_only_the_modeler_page_loads_the_modeler():
    users = sorted(str(p.relative_to(TEMPLATES)) for p in files(TEMPLATES, ".html")
                   if "bpmn-js-modeler" in p.read_text(encoding="utf-8"))
    assert users == ["workbench/modeler.html"], users


def test_modeler_page_own_files_stay_small():
    """The analyst's page carries the 570 KB modeler; Alur's own scripts and styles beside it stay small."""
    own = sum((STATIC / "js" / name).stat().st_size for name in ("modeler.js", "modeler-panel.js", "modeler-model.js"))
    own += (STATIC / "css" / "workbench.css").stat().st_size
    assert own < 64_000, own


@pytest.mark.parametrize("path, kind", [
    ("vendor/bpmn-js-modeler/bpmn-modeler.production.min.js", "javascript"),
    ("vendor/bpmn-js-modeler/camunda.json", "json"),
    ("vendor/bpmn-js-modeler/bpmn-font/css/bpmn.css", "text/css"),
    ("vendor/bpmn-js-modeler/bpmn-font/font/bpmn.woff2", "font/woff2"),
    ("js/modeler.js", "javascript"),
    ("css/workbench.css", "text/css"),
])
def test_modeler_assets_are_served_with_their_content_type(app, path, kind):
    with app.test_client() as client:
        response = client.get(f"/static/{path}")
        assert response.status_code == 200 and kind in response.content_type, response.content_type



# --- every vendored folder ----------------------------------------------------------------------

VENDORED = sorted(p for p in (STATIC / "vendor").iterdir() if p.is_dir())


@pytest.mark.parametrize("folder", VENDORED, ids=lambda p: p.name)
def test_vendored_folder_has_its_licence_and_checksums_that_match(folder):
    """Each vendored folder names its files with their sha256 in its README, and the files match."""
    import hashlib

    assert (folder / "LICENSE").is_file(), f"{folder.name} has no LICENSE"
    readme = (folder / "README.md").read_text(encoding="utf-8")
    listed = re.findall(r"^- `([^`]+)` \((\d+) bytes, sha256 ([0-9a-f]{16,64})\)", readme, re.M)
    assert listed, f"{folder.name}/README.md lists no file with its sha256"
    for name, size, digest in listed:
        data = (folder / name).read_bytes()
        assert len(data) == int(size), f"{folder.name}/{name}: {len(data)} bytes, README says {size}"
        assert hashlib.sha256(data).hexdigest().startswith(digest), f"{folder.name}/{name} differs from README"


@pytest.mark.parametrize("folder", VENDORED, ids=lambda p: p.name)
def test_vendored_scripts_are_made_by_a_script_in_scripts(folder):
    readme = (folder / "README.md").read_text(encoding="utf-8")
    scripts = re.findall(r"scripts/(vendor-[\w-]+\.sh)", readme)
    assert scripts and all((ROOT / "scripts" / s).is_file() for s in scripts), \
        f"{folder.name}/README.md names no script in scripts/ that re-creates it"
