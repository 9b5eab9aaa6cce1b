"""Cases: list, start, case page (being built)."""
from flask import Blueprint, render_template
from flask_login import login_required

bp = Blueprint("cases", __name__)


@bp.get("/cases")
@login_required
def index():
    return render_template("error.html", status=200, title="Cases", message="")


@bp.get("/cases/new")
@login_required
def new():
    return render_template("error.html", status=200, title="New case", message="")
