"""Signing in and out, the current user, roles, and a limit on password guessing."""
from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from functools import wraps

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user, logout_user
from werkzeug.security import check_password_hash

from workflow_engine import NotFound

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = None
login_manager.session_protection = "strong"


class SignedIn(UserMixin):
    """The signed-in person: username, role and lanes, read fresh on every request."""

    def __init__(self, record: dict):
        self.username = record["username"]
        self.full_name = record.get("full_name") or record["username"]
        self.role = record["role"]
        self.lanes = list(record.get("lanes") or [])
        self.language = record.get("language")
        self.active_flag = record.get("active", True)

    def get_id(self) -> str:
        return self.username

    @property
    def is_active(self) -> bool:
        return self.active_flag


class LoginLimiter:
    """At most `attempts` failed sign-ins per address and per username in `window` seconds."""

    def __init__(self, attempts: int = 5, window: float = 300.0):
        self.attempts, self.window = attempts, window
        self._failures: dict[str, deque] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque:
        q = self._failures[key]
        while q and q[0] < now - self.window:
            q.popleft()
        return q

    def blocked(self, *keys: str) -> bool:
        now = time.monotonic()
        with self._lock:
            return any(len(self._recent(k, now)) >= self.attempts for k in keys)

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for k in keys:
                self._recent(k, now).append(now)

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for k in keys:
                self._failures.pop(k, None)


def engine():
    return current_app.extensions["alur"]


@login_manager.user_loader
def _load(username: str):
    try:
        record = engine().user(username)
    except NotFound:
        return None
    return SignedIn(record) if record["active"] else None


def init_app(app) -> None:
    login_manager.init_app(app)
    app.extensions["alur.login_limiter"] = LoginLimiter()


def roles_required(*roles: str):
    """Only signed-in users with one of `roles` may pass; others get 403."""
    def decorate(view):
        @wraps(view)
        @login_required
        def wrapper(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)
        return wrapper
    return decorate


def safe_target(target: str | None, fallback: str = "index") -> str:
    """`target` if it is a path on this site, else the fallback endpoint's URL."""
    # Only same-site paths: an open redirect would let a link send staff to a fake login page.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for(fallback)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(safe_target(request.args.get("next")))
    error, username = None, ""
    if request.method == "POST":
        username = (request.form.get("username") or "").strip()[:100]
        password = request.form.get("password") or ""
        limiter: LoginLimiter = current_app.extensions["alur.login_limiter"]
        keys = (f"ip:{request.remote_addr}", f"user:{username.lower()}")
        if limiter.blocked(*keys):
            return render_template("auth/login.html", username=username,
                                   error=_("Too many failed attempts. Wait a few minutes and try again.")), 429
        try:
            record = engine().user(username)
        except NotFound:
            record = None
        if record and record["active"] and check_password_hash(record["password_hash"], password):
            limiter.succeeded(*keys)
            session.clear()  # a fresh session on sign-in: no fixation
            login_user(SignedIn(record))
            return redirect(safe_target(request.form.get("next") or request.args.get("next")))
        limiter.failed(*keys)
        error = _("Wrong username or password.")
    return render_template("auth/login.html", username=username, error=error), 401 if error else 200


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    session.clear()
    flash(_("You have signed out."))
    return redirect(url_for("auth.login"))
