"""The Flask application factory; for now the health check the office's monitoring polls."""
from __future__ import annotations

from flask import Flask, jsonify
from sqlalchemy import text

from workflow_engine import Engine, Settings, open_engine


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> Flask:
    """Build the web app around an engine (one is opened from the settings if none is given)."""
    settings = settings or Settings.from_env()
    engine = engine or open_engine(settings)
    app = Flask(__name__)
    app.config.update(ALUR_SETTINGS=settings)
    app.extensions["alur"] = engine

    @app.get("/healthz")
    def healthz():
        try:
            with engine.db.read() as session:
                session.execute(text("SELECT 1"))
        except Exception as exc:  # the check reports any database failure instead of crashing
            return jsonify(status="error", database=type(exc).__name__), 503
        return jsonify(status="ok", database=engine.db.dialect)

    return app
