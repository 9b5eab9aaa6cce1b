"""Staff tasks: the inbox and the task page (being built)."""
from flask import Blueprint, render_template
from flask_login import login_required

bp = Blueprint("tasks", __name__)


@bp.get("/tasks")
@login_required
def inbox():
    return render_template("error.html", status=200, title="Inbox", message="")
