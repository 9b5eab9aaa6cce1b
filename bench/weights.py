"""Page weight: the bytes a browser fetches for a page and every same-origin asset it loads."""
from __future__ import annotations

import gzip
import html
import re
from urllib.parse import urljoin, urlsplit

from .http_load import Client

# What a page loads by itself: stylesheets, scripts, images, and the URLs its scripts load on
# demand (data-viewer-src, data-diagram-css, data-bpmn-url ... of the diagram box).
LOADS = [(re.compile(p), lazy) for p, lazy in (
    (r'<link\b[^>]*\srel="stylesheet"[^>]*\shref="([^"]+)"', False),
    (r'<script\b[^>]*\ssrc="([^"]+)"', False),
    (r'<img\b[^>]*\ssrc="([^"]+)"', False),
    (r'\sdata-[\w-]*(?:src|css|url)="([^"]+)"', True))]
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)['"]?\s*\)|@import\s+['"]([^'"]+)['"]""")


def _fetch(client: Client, path: str) -> tuple[bytes, int, bool, int]:
    """(uncompressed body, gzip bytes, whether the server sent gzip, bytes sent) of one same-origin URL."""
    status, headers, body, _ = client.request("GET", path, headers={"Accept-Encoding": "gzip"})
    if status != 200:
        raise RuntimeError(f"GET {path}: status {status}")
    if headers.get("content-encoding") == "gzip":
        return gzip.decompress(body), len(body), True, len(body)
    return body, len(gzip.compress(body, 6)), False, len(body)


def _same_origin(base: str, ref: str) -> str | None:
    """The path of `ref` if it stays on this site (not data:, not another host), else None."""
    if ref.startswith(("data:", "#", "javascript:")):
        return None
    url = urljoin(base, ref)
    if urlsplit(url).netloc not in ("", urlsplit(base).netloc):
        return None
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _assets(page: str) -> list[tuple[str, bool]]:
    """(reference, loaded on demand) of everything the page loads, in order, each once."""
    found: dict[str, bool] = {}
    for pattern, lazy in LOADS:
        for m in pattern.finditer(page):
            found.setdefault(html.unescape(m.group(1)), lazy)
    return list(found.items())


def page_weight(client: Client, base: str, path: str) -> dict:
    """The page's HTML and assets (CSS url()/@import followed), uncompressed and gzipped."""
    page, zipped, served_gzip, sent = _fetch(client, path)
    parts = [{"url": path, "bytes": len(page), "gzip": zipped, "sent": sent, "on_demand": False}]
    queue, seen = [(ref, lazy) for ref, lazy in _assets(page.decode())], {path}
    while queue:
        ref, lazy = queue.pop(0)
        where = _same_origin(urljoin(base, path), ref)
        if where is None or where in seen:
            continue
        seen.add(where)
        body, zipped, sent_gzip, sent = _fetch(client, where)
        served_gzip = served_gzip or sent_gzip
        parts.append({"url": where, "bytes": len(body), "gzip": zipped, "sent": sent, "on_demand": lazy})
        if where.split("?")[0].endswith(".css"):
            queue += [(a or b, lazy) for a, b in CSS_URL.findall(body.decode(errors="replace"))]
    return {"bytes": sum(p["bytes"] for p in parts), "gzip_bytes": sum(p["gzip"] for p in parts),
            "html_bytes": parts[0]["bytes"], "served_gzip": served_gzip,
            "sent_bytes": sum(p["sent"] for p in parts),
            "direct_bytes": sum(p["bytes"] for p in parts if not p["on_demand"]), "parts": parts}


def measure(base: str, user: str, password: str = "demo") -> dict[str, dict]:
    """Weights of the inbox and of one task page of `user`'s inbox (the first it may act on)."""
    client = Client([base])
    client.login(user, password)
    inbox = page_weight(client, base, "/tasks")
    _, _, page, _ = client.request("GET", "/tasks")
    inbox["rows"] = len(re.findall(r'href="/tasks/\d+"', page.decode()))
    task = re.search(r'action="/tasks/(\d+)/claim"', page.decode()) or re.search(r'href="/tasks/(\d+)"',
                                                                                   page.decode())
    if task is None:
        raise RuntimeError(f"no task in the inbox of {user} to weigh")
    return {"inbox": inbox, "task": page_weight(client, base, f"/tasks/{task.group(1)}")}
