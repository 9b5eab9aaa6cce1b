"""The Flask application factory: configuration, extensions, security headers, error pages."""
from __future__ import annotations

import logging
import os
import secrets
import uuid
from pathlib import Path

from flask import Flask, g, jsonify, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy import text

from workflow_engine import Engine, Settings, open_engine

from . import auth, compression, i18n
from .formatting import register_filters

log = logging.getLogger("alur.web")

# No inline scripts or styles, nothing from elsewhere: the office may have no internet at all.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
       "form-action 'self'; frame-ancestors 'none'")


def _secret_key(settings: Settings) -> str:
    """ALUR_SECRET_KEY, or a random key kept beside the embedded database so sessions survive restarts."""
    if os.environ.get("ALUR_SECRET_KEY"):
        return os.environ["ALUR_SECRET_KEY"]
    home = Path(os.environ.get("ALUR_HOME", Path.home() / ".local" / "share" / "alur"))
    home.mkdir(parents=True, exist_ok=True)
    path = home / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def create_app(settings: Settings | None = None, engine: Engine | None = None,
               config: dict | None = None) -> Flask:
    """Build the web app around an engine (one is opened from the settings if none is given)."""
    settings = settings or Settings.from_env()
    engine = engine or open_engine(settings)
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=_secret_key(settings),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=os.environ.get("ALUR_SECURE_COOKIES", "").lower() in ("1", "true"),
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=settings.max_bpmn_bytes + 1_000_000,
        WTF_CSRF_TIME_LIMIT=None,
        ALUR_SETTINGS=settings,
    )
    app.config.update(config or {})
    app.extensions["alur"] = engine
    csrf = CSRFProtect(app)
    auth.init_app(app)
    i18n.init_app(app, settings)
    register_filters(app, settings)
    compression.init_app(app)

    from .admin_views import bp as admin_bp
    from .cases_views import bp as cases_bp
    from .compare_views import bp as compare_bp
    from .eventlog_views import bp as eventlog_bp
    from .sop_doc_views import bp as sopdoc_bp
    from .tasks_views import bp as tasks_bp
    from .tracking_views import bp as tracking_bp
    from .workbench_views import bp as workbench_bp
    for blueprint in (auth.bp, tasks_bp, cases_bp, admin_bp, workbench_bp, compare_bp, sopdoc_bp,
                      eventlog_bp, tracking_bp):
        app.register_blueprint(blueprint)
    from .admin_tokens import bp as tokens_bp
    from .api import bp as api_bp
    app.register_blueprint(tokens_bp)
    app.register_blueprint(api_bp)
    from .dashboard_views import bp as dashboard_bp
    app.register_blueprint(dashboard_bp)
    from .admin_connectors import bp as connectors_bp
    app.register_blueprint(connectors_bp)
    csrf.exempt(api_bp)  # the API authenticates by bearer token only, never by the session cookie

    @app.before_request
    def _request_id():
        g.request_id = uuid.uuid4().hex[:12]

    @app.after_request
    def _headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Request-Id"] = g.get("request_id", "")
        return response

    @app.get("/")
    def index():
        from flask import redirect, url_for
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login"))
        return redirect(url_for("tasks.inbox") if current_user.role == "staff" else url_for("cases.index"))

    @app.get("/healthz")
    def healthz():
        try:
            with engine.db.read() as session:
                session.execute(text("SELECT 1"))
        except Exception as exc:  # the check reports any database failure instead of crashing
            return jsonify(status="error", database=type(exc).__name__), 503
        return jsonify(status="ok", database=engine.db.dialect)

    def _error(status: int, title: str, message: str):
        if request.path.startswith("/api/"):
            return jsonify(error={"code": status, "message": message, "request_id": g.get("request_id")}), status
        return render_template("error.html", status=status, title=title, message=message), status

    @app.errorhandler(400)
    def _bad_request(exc):
        return _error(400, _("Invalid request"), getattr(exc, "description", ""))

    @app.errorhandler(CSRFError)
    def _csrf(exc):
        return _error(400, _("The form has expired"), _("Reload the page and send it again."))

    @app.errorhandler(403)
    def _forbidden(exc):
        return _error(403, _("Not allowed"), _("You may not open this page."))

    @app.errorhandler(404)
    def _not_found(exc):
        return _error(404, _("Not found"), _("This page or record does not exist."))

    @app.errorhandler(413)
    def _too_large(exc):
        return _error(413, _("Too large"), _("The file or form is over the size limit."))

    @app.errorhandler(429)
    def _too_many(exc):
        return _error(429, _("Too many attempts"), getattr(exc, "description", ""))

    @app.errorhandler(Exception)
    def _crash(exc):
        from werkzeug.exceptions import HTTPException
        if isinstance(exc, HTTPException):
            return exc
        log.exception("request %s failed", g.get("request_id"))
        return _error(500, _("Something went wrong"), _("The error has been logged."))

    return app
