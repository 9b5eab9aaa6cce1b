"""The web app's health check."""
from web.app import create_app
from workflow_engine import Database, Engine


def test_healthz_reports_the_database(settings, clock):
    db = Database(settings.database_url)
    app = create_app(settings, Engine(db, clock, settings))
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": db.dialect}
    db.dispose()


def test_healthz_fails_when_the_database_is_gone(tmp_path, clock):
    from workflow_engine import Settings
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'x.sqlite'}")
    db = Database(settings.database_url)
    app = create_app(settings, Engine(db, clock, settings))
    (tmp_path / "x.sqlite").unlink(missing_ok=True)
    (tmp_path / "x.sqlite").mkdir()  # a folder where the file should be: every query fails
    db.dispose()
    response = app.test_client().get("/healthz")
    assert response.status_code == 503 and response.get_json()["status"] == "error"
