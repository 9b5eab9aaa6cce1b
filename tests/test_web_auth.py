"""Signing in: the form, CSRF, wrong passwords, rate limiting, sessions, headers."""
import pytest

from conftest import csrf_of, sign_in


@pytest.fixture
def client(web):
    return web.test_client()


def test_login_page_is_indonesian_by_default(client):
    page = client.get("/login")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and '<html lang="id">' in html
    assert 'name="csrf_token"' in html


def test_sign_in_and_out(web):
    client = sign_in(web, "fo")
    assert client.get("/tasks").status_code == 200
    token = csrf_of(client.get("/tasks").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/tasks").status_code == 302


def test_pages_need_a_sign_in(client):
    response = client.get("/tasks")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_wrong_password_is_refused(client):
    token = csrf_of(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": "fo", "password": "salah", "csrf_token": token})
    assert response.status_code == 401
    assert client.get("/tasks").status_code == 302


def test_login_without_csrf_token_is_refused(client):
    response = client.post("/login", data={"username": "fo", "password": "rahasia"})
    assert response.status_code == 400


def test_password_guessing_is_limited(client):
    token = csrf_of(client.get("/login").get_data(as_text=True))
    for _ in range(5):
        client.post("/login", data={"username": "fo", "password": "salah", "csrf_token": token})
    response = client.post("/login", data={"username": "fo", "password": "rahasia", "csrf_token": token})
    assert response.status_code == 429


def test_session_cookie_flags(web):
    client = web.test_client()
    token = csrf_of(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": "fo", "password": "rahasia", "csrf_token": token})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_session_is_renewed_at_sign_in(web):
    client = web.test_client()
    token = csrf_of(client.get("/login").get_data(as_text=True))
    before = client.get_cookie("session")
    client.post("/login", data={"username": "fo", "password": "rahasia", "csrf_token": token})
    after = client.get_cookie("session")
    assert after is not None and (before is None or before.value != after.value)


def test_open_redirect_after_login_is_refused(web):
    client = web.test_client()
    token = csrf_of(client.get("/login").get_data(as_text=True))
    response = client.post("/login?next=//evil.example/x",
                           data={"username": "fo", "password": "rahasia", "csrf_token": token})
    assert response.headers["Location"].startswith("/") and "evil" not in response.headers["Location"]


def test_security_headers(client):
    headers = client.get("/login").headers
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_unknown_page_is_a_404_with_a_request_id(client):
    response = client.get("/tidak-ada")
    assert response.status_code == 404
    assert response.headers["X-Request-Id"] in response.get_data(as_text=True)
