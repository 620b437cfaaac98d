"""Signing in, what anonymous visitors can reach, CSRF on forms, tokens on the API."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.admin_support import AdminServer, csrf_of, signed_in
from tests.conftest import sign_in


@pytest.mark.parametrize("path", ["/admin", "/admin/places", "/admin/events/1", "/admin/unanswered",
                                  "/admin/users", "/admin/export/places.csv"])
def test_pages_need_sign_in(admin_server: AdminServer, path: str) -> None:
    response = requests.get(admin_server.url(path), allow_redirects=False)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/login")


def test_public_paths_are_reachable(admin_server: AdminServer) -> None:
    assert requests.get(admin_server.url("/admin/login")).status_code == 200
    assert requests.get(admin_server.url("/admin/static/admin.css")).status_code == 200
    assert requests.get(admin_server.url("/healthz")).json() == {"status": "ok"}


def test_wrong_password_is_refused_without_saying_which(admin_server: AdminServer) -> None:
    account = admin_server.account("editor")
    client = requests.Session()
    token = csrf_of(client.get(admin_server.url("/admin/login")).text)
    for username, password in ((account.username, "sai-mat-khau"), ("khong-co-ai", account.password)):
        response = client.post(admin_server.url("/admin/login"),
                               data={"username": username, "password": password, "_csrf": token})
        assert response.status_code == 401
        assert "Sai tên đăng nhập hoặc mật khẩu." in response.text
    assert client.get(admin_server.url("/admin"), allow_redirects=False).status_code == 302


def test_session_cookie_is_httponly_and_samesite(admin_server: AdminServer) -> None:
    response = requests.get(admin_server.url("/admin/login"))
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_forms_without_csrf_token_are_refused(admin_server: AdminServer) -> None:
    client = signed_in(admin_server)
    response = client.post(admin_server.url("/admin/logout"), data={})
    assert response.status_code == 403
    assert "biểu mẫu không hợp lệ" in response.text
    response = client.post(admin_server.url("/admin/logout"), data={"_csrf": "forged"})
    assert response.status_code == 403
    # Still signed in: the forged request changed nothing.
    assert client.get(admin_server.url("/admin"), allow_redirects=False).status_code == 200


def test_sign_out_ends_the_session(admin_server: AdminServer) -> None:
    client = signed_in(admin_server)
    token = csrf_of(client.get(admin_server.url("/admin")).text)
    client.post(admin_server.url("/admin/logout"), data={"_csrf": token})
    assert client.get(admin_server.url("/admin"), allow_redirects=False).status_code == 302


def test_sign_in_does_not_redirect_off_site(admin_server: AdminServer) -> None:
    account = admin_server.account("editor")
    client = requests.Session()
    token = csrf_of(client.get(admin_server.url("/admin/login?next=//evil.example/x")).text)
    response = client.post(admin_server.url("/admin/login"), allow_redirects=False, data={
        "username": account.username, "password": account.password, "_csrf": token,
        "next": "https://evil.example/"})
    assert response.headers["Location"] == "/admin"


@pytest.mark.parametrize("header", [None, "Bearer wrong-token", "Basic abc", "Bearer "])
def test_api_needs_a_valid_token(admin_server: AdminServer, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    response = requests.get(admin_server.url("/api/v1/places"), headers=headers)
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_api_does_not_accept_the_session_cookie(admin_server: AdminServer) -> None:
    client = signed_in(admin_server)
    assert client.get(admin_server.url("/api/v1/places")).status_code == 401


def test_browser_sign_in_shows_the_dashboard(admin_server: AdminServer, page) -> None:  # noqa: ANN001
    sign_in(page, admin_server)
    assert page.locator("h1").inner_text() == "Việc cần làm"
    assert "Địa điểm" in page.locator("nav").inner_text()
    # An editor is not shown account management.
    assert page.locator("nav a[href='/admin/users']").count() == 0


def test_admin_pages_carry_security_headers(admin_server: AdminServer) -> None:
    response = requests.get(admin_server.url("/admin/login"))
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_readiness_and_metrics_need_no_sign_in(admin_server: AdminServer) -> None:
    assert requests.get(admin_server.url("/readyz")).status_code == 200
    requests.get(admin_server.url("/admin/login"))
    metrics = requests.get(admin_server.url("/metrics")).text
    assert 'service="admin"' in metrics and "assistant_http_requests_total" in metrics


def _copy_of(client: requests.Session) -> requests.Session:
    """Another browser holding a copy of ``client``'s session cookie."""
    copy = requests.Session()
    copy.cookies.update(client.cookies)
    return copy


def test_sign_out_ends_every_copy_of_the_session(admin_server: AdminServer) -> None:
    client = signed_in(admin_server)
    copy = _copy_of(client)
    page = client.get(admin_server.url("/admin")).text
    assert copy.get(admin_server.url("/admin"), allow_redirects=False).status_code == 200
    assert "Đăng xuất khỏi mọi nơi" in page
    client.post(admin_server.url("/admin/logout"), data={"_csrf": csrf_of(page)})
    assert copy.get(admin_server.url("/admin"), allow_redirects=False).status_code == 302
    # Signing in again works, and that new session is not ended by the old copy.
    again = signed_in(admin_server)
    assert again.get(admin_server.url("/admin"), allow_redirects=False).status_code == 200


def test_too_many_failed_sign_ins_are_refused_without_checking_the_password(
    admin_server: AdminServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from knowledge import accounts

    account = admin_server.account("editor")
    checks: list[str] = []
    real = accounts.authenticate

    def counted(session, username, password):  # noqa: ANN001, ANN202
        checks.append(username)
        return real(session, username, password)

    monkeypatch.setattr(accounts, "authenticate", counted)
    client = requests.Session()
    token = csrf_of(client.get(admin_server.url("/admin/login")).text)

    def attempt(username: str, password: str) -> requests.Response:
        return client.post(admin_server.url("/admin/login"), allow_redirects=False,
                           data={"username": username, "password": password, "_csrf": token})

    for _ in range(10):
        assert attempt(account.username, "sai-mat-khau").status_code == 401
    refused = attempt(account.username, account.password)  # even the right password, for now
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "900"
    assert "Bạn đã nhập sai quá nhiều lần, hãy thử lại sau 15 phút." in refused.text
    assert len(checks) == 10  # no Argon2 work while throttled
    # The address is limited too: another account from the same place is refused as well.
    other = admin_server.account("editor", "editor-2")
    assert attempt(other.username, other.password).status_code == 429
    assert len(checks) == 10


def test_failed_sign_ins_are_counted_per_address_and_per_name() -> None:
    from admin.throttle import Throttle

    now = [1000.0]
    throttle = Throttle(limit=3, window=60, clock=lambda: now[0])
    for name in ("a", "b", "c"):
        throttle.failed("ip:1", f"user:{name}")
    assert throttle.wait_minutes("ip:1", "user:d") == 1 and throttle.wait_seconds("ip:2", "user:d") == 0
    assert throttle.wait_seconds("ip:2", "user:a") == 0  # one failure for "a" so far
    now[0] += 61
    assert throttle.wait_seconds("ip:1") == 0


def test_sign_in_returns_to_the_whole_address(admin_server: AdminServer) -> None:
    account = admin_server.account("editor")
    client = requests.Session()
    wanted = "/admin/places?q=cau&verified=no"
    bounced = client.get(admin_server.url(wanted), allow_redirects=False)
    location = urlsplit(bounced.headers["Location"])
    assert location.path == "/admin/login" and parse_qs(location.query) == {"next": [wanted]}
    page = client.get(admin_server.url(bounced.headers["Location"])).text
    assert 'name="next" value="/admin/places?q=cau&amp;verified=no"' in page
    response = client.post(admin_server.url("/admin/login"), allow_redirects=False, data={
        "username": account.username, "password": account.password, "_csrf": csrf_of(page),
        "next": "/admin/places?q=cau&verified=no"})
    assert response.headers["Location"] == wanted
