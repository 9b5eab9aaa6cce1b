"""The public tracking page (/lacak) and the applicant's satisfaction survey: no sign-in needed."""
from __future__ import annotations

import time

from flask import Blueprint, current_app, render_template, request

from workflow_engine import FormError, InvalidState, NotFound
from workflow_engine.tracking import COMMENT_LIMIT, NUMBER_LIMIT, SKM_CODES, normalise_number

from .auth import LoginLimiter

bp = Blueprint("tracking", __name__)

# Lookups per client address and window (seconds); app.config may change them before the first lookup.
LOOKUPS, WINDOW = 20, 300.0
# Above this many remembered addresses the limiter forgets those with no recent lookups.
PRUNE_ABOVE = 10_000


class LookupLimiter(LoginLimiter):
    """Counts every lookup, not only failures: a number is guessed by trying many numbers."""

    def allow(self, key: str) -> bool:
        """Count one lookup for `key`; False once `attempts` were made in the window."""
        if self.blocked(key):
            return False
        self.failed(key)
        if len(self._failures) > PRUNE_ABOVE:
            now = time.monotonic()
            with self._lock:
                for stale in [k for k, q in self._failures.items() if not q or q[-1] < now - self.window]:
                    self._failures.pop(stale, None)
                if len(self._failures) > PRUNE_ABOVE:
                    self._failures.clear()
        return True


def engine():
    return current_app.extensions["alur"]


def limiter() -> LookupLimiter:
    app = current_app
    if "alur.tracking_limiter" not in app.extensions:
        app.extensions["alur.tracking_limiter"] = LookupLimiter(
            int(app.config.get("ALUR_TRACKING_LOOKUPS", LOOKUPS)),
            float(app.config.get("ALUR_TRACKING_WINDOW", WINDOW)))
    return app.extensions["alur.tracking_limiter"]


def _page(status: int = 200, **context):
    context.setdefault("number", "")
    context.setdefault("lang", request.args.get("lang") if request.args.get("lang") in ("id", "en") else None)
    return render_template("tracking/page.html", number_limit=NUMBER_LIMIT, comment_limit=COMMENT_LIMIT,
                           codes=SKM_CODES, **context), status


def _too_many():
    body, status = _page(429, too_many=True)
    return body, status, {"Retry-After": str(int(limiter().window))}


def _not_found(number: str):
    # The same page for every number that is not a real file: it shows only what was typed.
    return _page(404, not_found=True, number=number[:NUMBER_LIMIT])


@bp.after_request
def _private(response):
    # What a file's number shows is for its holder: no search engine, no shared cache keeps it.
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/lacak")
def lookup():
    number = (request.args.get("nomor") or "").strip()
    if not number:
        return _page()
    if not limiter().allow(f"ip:{request.remote_addr}"):
        return _too_many()
    view = engine().track(number)
    if view is None:
        return _not_found(number)
    return _page(view=view, number=view["number"])


@bp.post("/lacak/survei")
def survey():
    if not limiter().allow(f"ip:{request.remote_addr}"):
        return _too_many()
    number = (request.form.get("nomor") or "").strip()
    answers = {code: request.form.get(code) for code in SKM_CODES if request.form.get(code)}
    comment = request.form.get("komentar") or ""
    try:
        engine().submit_survey(number, answers, comment)
    except NotFound:
        return _not_found(number)
    except (FormError, InvalidState) as exc:
        # Answers are checked before the number: an unknown number must still read as not found.
        view = engine().track(number)
        if view is None:
            return _not_found(number)
        if isinstance(exc, InvalidState):
            return _page(409, view=view, number=view["number"], refused=True)
        return _page(422, view=view, number=view["number"], errors=exc.fields, answers=answers,
                     comment=comment[:COMMENT_LIMIT * 2])
    return render_template("tracking/thanks.html", number=normalise_number(number),
                           lang=request.args.get("lang") if request.args.get("lang") in ("id", "en") else None)
