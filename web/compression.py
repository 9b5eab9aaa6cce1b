"""Static files and BPMN diagrams sent gzip-compressed to browsers that accept it.

Offices reach Alur over slow links, and the diagram viewer and the diagram it draws are most of a
task page's bytes: bpmn-js, the stylesheets and Chart.js shrink to a quarter, BPMN XML to a tenth.
Each static file is compressed once per version (path, size, modification time) and kept in memory;
a diagram is compressed as it is sent. Pages themselves are not compressed: they carry the CSRF token next to text a visitor can put in
the URL, and compressing both together leaks the token to an eavesdropper (the BREACH attack).
The ETag of a compressed answer is made weak, so a browser's revalidation still gets 304.
(Hand-written rather than Flask-Compress: that library compresses pages too, and is not among
Alur's dependencies; this is the small part needed.)
"""
from __future__ import annotations

import gzip
import os
import threading

from flask import request
from werkzeug.security import safe_join

COMPRESSIBLE = {"text/css", "text/javascript", "application/javascript", "application/json", "image/svg+xml",
                "text/plain", "application/xml", "text/xml"}
MIN_BYTES = 1024
# Views that answer with a document holding no secret (no CSRF token, nothing of the session).
DOCUMENTS = {"cases.diagram", "compare.model"}


def init_app(app) -> None:
    kept: dict[str, tuple[tuple, bytes]] = {}
    lock = threading.Lock()

    def compressed(path: str) -> bytes | None:
        try:
            info = os.stat(path)
        except OSError:
            return None
        version = (info.st_size, info.st_mtime_ns)
        with lock:
            found = kept.get(path)
        if found is not None and found[0] == version:
            return found[1]
        with open(path, "rb") as f:
            body = gzip.compress(f.read(), compresslevel=6, mtime=0)
        with lock:
            kept[path] = (version, body)
        return body

    @app.after_request
    def _gzip(response):
        static = request.endpoint == "static"
        if not (static or request.endpoint in DOCUMENTS) or response.status_code != 200 \
                or response.mimetype not in COMPRESSIBLE:
            return response
        response.vary.add("Accept-Encoding")
        if request.accept_encodings["gzip"] <= 0 or "Content-Encoding" in response.headers:
            return response
        if (response.content_length or 0) < MIN_BYTES or (response.is_streamed and not static):
            return response
        if static:
            path = safe_join(app.static_folder, (request.view_args or {}).get("filename", ""))
            body = compressed(path) if path else None
        else:
            body = gzip.compress(response.get_data(), compresslevel=6, mtime=0)
        if body is None:
            return response
        original = response.response
        response.direct_passthrough = False
        response.set_data(body)
        if hasattr(original, "close"):
            original.close()  # the file the static view opened
        response.headers["Content-Encoding"] = "gzip"
        etag, weak = response.get_etag()
        if etag and not weak:
            response.set_etag(etag, weak=True)
        return response
