"""Administration: users, roles and lanes (being built)."""
from flask import Blueprint, render_template

from .auth import roles_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/users")
@roles_required("admin")
def users():
    return render_template("error.html", status=200, title="Users", message="")
