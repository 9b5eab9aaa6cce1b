"""Web: the admin's user pages — add, change role, lanes, language, deactivate, reset passwords."""
import pytest
from sqlalchemy import select
from werkzeug.security import check_password_hash

from conftest import csrf_of, sign_in
from workflow_engine.models import AuditEvent


def html_of(response):
    return response.get_data(as_text=True)


@pytest.fixture
def admin(web, deploy):
    deploy("linear3.bpmn")
    deploy("parallel.bpmn")
    return sign_in(web, "admin")


def token(client, path="/admin/users"):
    return csrf_of(html_of(client.get(path)))


def audit(engine, action):
    with engine.db.read() as s:
        return [(e.actor, e.detail) for e in s.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))]


def test_user_list_shows_everyone_and_the_known_lanes(admin):
    html = html_of(admin.get("/admin/users"))
    assert 'class="responsive users"' in html
    for username in ("admin", "analis", "pimpinan", "fo", "bo", "kadin"):
        assert f'<a href="/admin/users/{username}">{username}</a>' in html
    assert "Petugas" in html and "Pimpinan" in html and "Analis proses" in html
    # Lanes of every deployed SOP (linear3 and parallel) are offered as checkboxes.
    for lane in ("Front Office", "Back Office", "Tim Teknis", "Kepala Dinas"):
        assert f'name="lanes" value="{lane}"' in html


def test_add_a_user_who_then_signs_in(web, admin, engine):
    response = admin.post("/admin/users", data={
        "username": "maria", "full_name": "Maria Kogoya", "role": "staff",
        "lanes": ["Front Office", "Back Office"], "other_lanes": "Loket Distrik, ", "language": "en",
        "password": "kata-sandi-baru", "csrf_token": token(admin)})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/users"
    html = html_of(admin.get("/admin/users"))
    assert "Pengguna maria ditambahkan." in html
    assert "Back Office, Front Office, Loket Distrik" in html
    record = engine.user("maria")
    assert record["full_name"] == "Maria Kogoya" and record["language"] == "en" and record["active"]
    assert check_password_hash(record["password_hash"], "kata-sandi-baru")
    assert not record["password_hash"].startswith("kata")
    assert ("admin", {"username": "maria", "role": "staff",
                      "lanes": ["Back Office", "Front Office", "Loket Distrik"]}) in audit(engine, "user.added")
    maria = sign_in(web, "maria", "kata-sandi-baru")
    assert maria.get("/cases").status_code == 200
    assert '<html lang="en">' in html_of(maria.get("/cases"))


def test_a_duplicate_or_bad_user_is_refused_next_to_the_field(admin, engine):
    data = {"username": "fo", "full_name": "Fransiska", "role": "manager", "lanes": ["Tim Teknis"],
            "other_lanes": "Loket", "password": "panjang-sekali", "csrf_token": token(admin)}
    response = admin.post("/admin/users", data=data)
    html = html_of(response)
    assert response.status_code == 422
    assert '<p class="field-error" id="username-error">Pengguna dengan nama ini sudah ada.</p>' in html
    assert 'aria-invalid="true"' in html and 'aria-describedby="username-error"' in html
    # What was typed stays (except the password).
    assert 'name="username" maxlength="100"' in html and 'value="fo"' in html and 'value="Fransiska"' in html
    assert '<option value="manager" selected>' in html and 'value="Loket"' in html
    assert 'name="lanes" value="Tim Teknis" checked' in html
    assert "panjang-sekali" not in html
    assert engine.user("fo")["role"] == "staff"

    response = admin.post("/admin/users", data={**data, "username": "dua kata", "password": "pendek"})
    html = html_of(response)
    assert response.status_code == 422 and 'id="username-error"' in html and 'id="password-error"' in html
    assert "Kata sandi minimal 8 karakter." in html
    response = admin.post("/admin/users", data={**data, "username": "baru", "role": "raja"})
    assert response.status_code == 422 and 'id="role-error"' in html_of(response)
    assert admin.post("/admin/users", data={**data, "username": "baru", "csrf_token": ""}).status_code == 400


def test_change_role_lanes_language_and_name(web, admin, engine):
    page = admin.get("/admin/users/bo")
    html = html_of(page)
    assert page.status_code == 200 and 'name="lanes" value="Back Office" checked' in html
    response = admin.post("/admin/users/bo", data={
        "full_name": "Benny Tabuni", "role": "manager", "lanes": ["Back Office", "Tim Teknis"],
        "other_lanes": "", "language": "en", "active": "1", "csrf_token": csrf_of(html)})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/users/bo"
    assert "Perubahan untuk bo disimpan." in html_of(admin.get("/admin/users/bo"))
    record = engine.user("bo")
    assert (record["role"], record["lanes"], record["language"], record["full_name"]) == (
        "manager", ["Back Office", "Tim Teknis"], "en", "Benny Tabuni")
    # Only what changed is recorded, with who changed it.
    assert audit(engine, "user.changed")[-1] == ("admin", {
        "username": "bo", "full_name": "Benny Tabuni", "role": "manager",
        "lanes": ["Back Office", "Tim Teknis"], "language": "en"})
    # Saving again without a change says so and records nothing.
    before = len(audit(engine, "user.changed"))
    admin.post("/admin/users/bo", data={
        "full_name": "Benny Tabuni", "role": "manager", "lanes": ["Back Office", "Tim Teknis"],
        "language": "en", "active": "1", "csrf_token": csrf_of(html)})
    assert len(audit(engine, "user.changed")) == before
    assert "Tidak ada yang berubah." in html_of(admin.get("/admin/users/bo"))
    # A manager now: still no admin pages.
    assert sign_in(web, "bo").get("/admin/users").status_code == 403


def test_bad_changes_are_refused_next_to_the_field(admin, engine):
    html = html_of(admin.get("/admin/users/bo"))
    response = admin.post("/admin/users/bo", data={"role": "raja", "lanes": ["Back Office"],
                                                   "language": "fr", "active": "1",
                                                   "full_name": "Benny", "csrf_token": csrf_of(html)})
    html = html_of(response)
    assert response.status_code == 422 and 'id="role-error"' in html and 'id="language-error"' in html
    assert 'value="Benny"' in html
    assert engine.user("bo")["role"] == "staff"
    # An admin cannot lock themselves out.
    response = admin.post("/admin/users/admin", data={"role": "staff", "language": "",
                                                      "csrf_token": csrf_of(html)})
    html = html_of(response)
    assert response.status_code == 422 and 'id="role-error"' in html and 'id="active-error"' in html
    assert engine.user("admin")["role"] == "admin" and engine.user("admin")["active"]


def test_reset_a_password_then_sign_in_with_it(web, admin, engine):
    html = html_of(admin.get("/admin/users/kadin"))
    short = admin.post("/admin/users/kadin/password", data={"password": "1234567", "csrf_token": csrf_of(html)})
    assert short.status_code == 422 and 'id="password-error"' in html_of(short)
    response = admin.post("/admin/users/kadin/password",
                          data={"password": "sandi-baru-kadin", "csrf_token": csrf_of(html)})
    assert response.status_code == 302
    assert "Kata sandi kadin sudah diatur ulang." in html_of(admin.get("/admin/users/kadin"))
    assert audit(engine, "user.changed")[-1] == ("admin", {"username": "kadin", "password": "reset"})
    client = web.test_client()
    login = csrf_of(html_of(client.get("/login")))
    assert client.post("/login", data={"username": "kadin", "password": "rahasia",
                                       "csrf_token": login}).status_code == 401
    sign_in(web, "kadin", "sandi-baru-kadin")
    assert admin.post("/admin/users/nobody/password",
                      data={"password": "sandi-baru-kadin", "csrf_token": csrf_of(html)}).status_code == 404


def test_a_deactivated_user_cannot_sign_in(web, admin, engine):
    signed_in_before = sign_in(web, "teknis")
    html = html_of(admin.get("/admin/users/teknis"))
    response = admin.post("/admin/users/teknis", data={
        "role": "staff", "lanes": ["Tim Teknis"], "language": "", "full_name": "",
        "csrf_token": csrf_of(html)})  # the "active" box left unticked
    assert response.status_code == 302
    assert engine.user("teknis")["active"] is False
    assert "Nonaktif" in html_of(admin.get("/admin/users"))
    client = web.test_client()
    login = csrf_of(html_of(client.get("/login")))
    assert client.post("/login", data={"username": "teknis", "password": "rahasia",
                                       "csrf_token": login}).status_code == 401
    # A session that was open is closed as well.
    assert signed_in_before.get("/cases").status_code == 302


def test_only_admins_manage_users(web):
    for username in ("fo", "analis", "pimpinan"):
        client = sign_in(web, username)
        assert client.get("/admin/users").status_code == 403
        assert client.get("/admin/users/fo").status_code == 403
        form = csrf_of(html_of(client.get("/cases")))
        assert client.post("/admin/users", data={"username": "x", "role": "admin", "password": "12345678",
                                                 "csrf_token": form}).status_code == 403
        assert client.post("/admin/users/fo/password", data={"password": "12345678",
                                                             "csrf_token": form}).status_code == 403
    assert web.test_client().get("/admin/users").status_code == 302
    assert sign_in(web, "admin").get("/admin/users/nobody").status_code == 404


def test_admin_sets_an_email_for_escalation_notices(web, engine):
    from conftest import csrf_of, sign_in
    client = sign_in(web, "admin")
    page = client.get("/admin/users/kabid").get_data(as_text=True)
    form = {"csrf_token": csrf_of(page), "full_name": "Kepala Bidang", "role": "staff",
            "lanes": "Kepala Bidang", "language": "", "active": "1", "email": "bukan-surel"}
    refused = client.post("/admin/users/kabid", data=form)
    assert refused.status_code == 422 and "bukan-surel" in refused.get_data(as_text=True)
    assert engine.user("kabid")["email"] is None
    assert client.post("/admin/users/kabid", data={**form, "email": "kabid@tolikara.go.id"}).status_code == 302
    assert engine.user("kabid")["email"] == "kabid@tolikara.go.id"
