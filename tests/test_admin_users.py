"""Account management pages: administrators only; tokens shown once; locked accounts stop
working at once; the last administrator cannot be locked out."""

from __future__ import annotations

import re

import pytest
import requests
from sqlalchemy import select

from knowledge import accounts
from knowledge.db import new_session
from knowledge.models import User
from tests.admin_support import AdminServer, csrf_of, login, signed_in


def _token(client: requests.Session, server: AdminServer, path: str = "/admin/users") -> str:
    return csrf_of(client.get(server.url(path)).text)


def _user(server: AdminServer, username: str) -> User:
    with new_session(server.database_url) as session:
        return session.execute(select(User).where(User.username == username)).scalar_one()


def _shown_token(page: str) -> str:
    match = re.search(r'<input id="token" value="(dn_[^"]+)"', page)
    assert match, "the new token is not on the page"
    return match.group(1)


def test_editors_cannot_manage_accounts(admin_server: AdminServer) -> None:
    other = admin_server.account("editor", "bien-tap-2")
    target = _user(admin_server, other.username).id
    client = signed_in(admin_server, "editor")
    assert client.get(admin_server.url("/admin/users")).status_code == 403
    token = _token(client, admin_server, "/admin/account")
    for path, data in [
        ("/admin/users", {"username": "ke-gian", "role": "admin", "password": "x" * 12, "confirm": "x" * 12}),
        (f"/admin/users/{target}/password", {"password": "mat-khau-moi-1", "confirm": "mat-khau-moi-1"}),
        (f"/admin/users/{target}/token", {}),
        (f"/admin/users/{target}/active", {"active": "0"}),
    ]:
        response = client.post(admin_server.url(path), data={"_csrf": token, **data})
        assert response.status_code == 403, path
        assert "Chỉ quản trị viên mới làm được việc này." in response.text
    with new_session(admin_server.database_url) as session:
        assert accounts.find_user(session, "ke-gian") is None
        assert accounts.authenticate(session, other.username, other.password) is not None
        assert session.get(User, target).active and session.get(User, target).token_digest is not None


def test_admin_sees_the_accounts(admin_server: AdminServer) -> None:
    admin_server.account("editor")
    client = signed_in(admin_server, "admin")
    page = client.get(admin_server.url("/admin/users")).text
    row = re.search(r'<tr id="user-editor-1">.*?</tr>', page, re.S).group(0)
    assert "Biên tập viên" in row and "đang hoạt động" in row and "chưa đăng nhập" in row
    own = re.search(r'<tr id="user-admin-1">.*?</tr>', page, re.S).group(0)
    assert "Quản trị viên" in own and "(bạn)" in own and "Khoá tài khoản" not in own


def test_admin_creates_an_account_that_can_sign_in(admin_server: AdminServer) -> None:
    client = signed_in(admin_server, "admin")
    response = client.post(admin_server.url("/admin/users"), data={
        "_csrf": _token(client, admin_server), "username": "Tran.Thi.B", "display_name": "Trần Thị B",
        "role": "editor", "password": "mot-mat-khau-dai", "confirm": "mot-mat-khau-dai"})
    assert response.url == admin_server.url("/admin/users")
    assert "Đã tạo tài khoản “tran.thi.b” (biên tập viên)." in response.text
    assert "Trần Thị B" in response.text

    new_client, signed = login(admin_server, "tran.thi.b", "mot-mat-khau-dai")
    assert signed.url == admin_server.url("/admin") and "Xin chào Trần Thị B!" in signed.text
    # An editor: no account management.
    assert new_client.get(admin_server.url("/admin/users")).status_code == 403


@pytest.mark.parametrize("data, field_message", [
    ({"username": "admin-1"}, "Tên đăng nhập “admin-1” đã có."),
    ({"username": "Có Dấu"}, "Tên đăng nhập gồm 2–60 chữ thường không dấu"),
    ({"password": "ngan", "confirm": "ngan"}, "Mật khẩu cần ít nhất 10 ký tự."),
    ({"confirm": "khac-han-mat-khau"}, "Hai lần nhập mật khẩu không giống nhau."),
    ({"role": "superuser"}, "Vai trò phải là một trong"),
])
def test_account_form_explains_mistakes_and_keeps_input(admin_server: AdminServer, data: dict[str, str],
                                                        field_message: str) -> None:
    client = signed_in(admin_server, "admin")
    form = {"username": "nguyen.van.c", "display_name": "Nguyễn Văn C", "role": "editor",
            "password": "mot-mat-khau-dai", "confirm": "mot-mat-khau-dai", **data}
    response = client.post(admin_server.url("/admin/users"),
                           data={"_csrf": _token(client, admin_server), **form})
    assert response.status_code == 400
    error = re.search(r'<p class="field-error" role="alert">([^<]+)</p>', response.text)
    assert error and field_message in error.group(1)
    assert f'name="username" value="{form["username"]}"' in response.text
    assert 'name="display_name" value="Nguyễn Văn C"' in response.text
    with new_session(admin_server.database_url) as session:
        assert accounts.count_users(session) == 1


def test_reset_password(admin_server: AdminServer) -> None:
    editor = admin_server.account("editor")
    user_id = _user(admin_server, editor.username).id
    client = signed_in(admin_server, "admin")
    response = client.post(admin_server.url(f"/admin/users/{user_id}/password"), data={
        "_csrf": _token(client, admin_server), "password": "ngan", "confirm": "ngan"})
    assert response.status_code == 400
    form = re.search(rf'action="/admin/users/{user_id}/password">.*?</form>', response.text, re.S)
    assert form and "Mật khẩu cần ít nhất 10 ký tự." in form.group(0)
    response = client.post(admin_server.url(f"/admin/users/{user_id}/password"), data={
        "_csrf": _token(client, admin_server), "password": "mat-khau-moi-123", "confirm": "mat-khau-moi-123"})
    assert "Đã đặt mật khẩu mới cho “editor-1”." in response.text
    assert login(admin_server, editor.username, editor.password)[1].status_code == 401
    assert login(admin_server, editor.username, "mat-khau-moi-123")[1].url == admin_server.url("/admin")


def test_issued_token_is_shown_once_and_works(admin_server: AdminServer) -> None:
    editor = admin_server.account("editor")
    user_id = _user(admin_server, editor.username).id
    client = signed_in(admin_server, "admin")
    response = client.post(admin_server.url(f"/admin/users/{user_id}/token"),
                           data={"_csrf": _token(client, admin_server)}, allow_redirects=False)
    assert response.status_code == 200  # the page itself, not a redirect through the flash cookie
    assert "no-store" in response.headers["Cache-Control"]
    assert "sẽ không hiển thị lại" in response.text
    token = _shown_token(response.text)
    assert token not in response.headers.get("Set-Cookie", "")

    me = requests.get(admin_server.url("/api/v1/me"), headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["username"] == editor.username
    # The token it replaces stops working, and the new one is never shown again.
    old = requests.get(admin_server.url("/api/v1/me"), headers={"Authorization": f"Bearer {editor.token}"})
    assert old.status_code == 401
    assert token not in client.get(admin_server.url("/admin/users")).text


def test_locked_account_cannot_sign_in_and_loses_its_session(admin_server: AdminServer) -> None:
    editor = admin_server.account("editor")
    user_id = _user(admin_server, editor.username).id
    editor_client = signed_in(admin_server, "editor")
    assert editor_client.get(admin_server.url("/admin"), allow_redirects=False).status_code == 200

    client = signed_in(admin_server, "admin")
    response = client.post(admin_server.url(f"/admin/users/{user_id}/active"),
                           data={"_csrf": _token(client, admin_server), "active": "0"})
    assert "Đã khoá tài khoản “editor-1”" in response.text
    assert re.search(r'<tr id="user-editor-1">.*?đã khoá', response.text, re.S)

    assert editor_client.get(admin_server.url("/admin"), allow_redirects=False).status_code == 302
    assert login(admin_server, editor.username, editor.password)[1].status_code == 401
    api = requests.get(admin_server.url("/api/v1/me"), headers={"Authorization": f"Bearer {editor.token}"})
    assert api.status_code == 401

    client.post(admin_server.url(f"/admin/users/{user_id}/active"),
                data={"_csrf": _token(client, admin_server), "active": "1"})
    assert login(admin_server, editor.username, editor.password)[1].url == admin_server.url("/admin")


def test_admin_cannot_lock_themselves_or_the_last_admin(admin_server: AdminServer) -> None:
    admin = admin_server.account("admin")
    client = signed_in(admin_server, "admin")
    own_id = _user(admin_server, admin.username).id
    response = client.post(admin_server.url(f"/admin/users/{own_id}/active"),
                           data={"_csrf": _token(client, admin_server), "active": "0"})
    assert "Bạn không thể tự khoá tài khoản của chính mình." in response.text
    assert _user(admin_server, admin.username).active

    # A second administrator may be locked while another stays active...
    second = admin_server.account("admin", "admin-2")
    second_id = _user(admin_server, second.username).id
    response = client.post(admin_server.url(f"/admin/users/{second_id}/active"),
                           data={"_csrf": _token(client, admin_server), "active": "0"})
    assert "Đã khoá tài khoản “admin-2”" in response.text
    # ...but the rule itself refuses to lock the last active one, whoever asks.
    from knowledge.accounts import set_active

    with new_session(admin_server.database_url) as session:
        last = session.get(User, own_id)
        with pytest.raises(accounts.AccountError, match="quản trị viên cuối cùng"):
            set_active(session, last, False, actor_id=None)


def test_own_account_password_and_token(admin_server: AdminServer) -> None:
    editor = admin_server.account("editor")
    client = signed_in(admin_server, "editor")
    page = client.get(admin_server.url("/admin/account"))
    assert page.status_code == 200 and "editor-1" in page.text and "Biên tập viên" in page.text
    token = csrf_of(page.text)

    new = {"password": "mat-khau-moi-456", "confirm": "mat-khau-moi-456"}
    wrong = client.post(admin_server.url("/admin/account/password"),
                        data={"_csrf": token, "current": "khong-dung-dau", **new})
    assert wrong.status_code == 400 and "Mật khẩu hiện tại không đúng." in wrong.text
    changed = client.post(admin_server.url("/admin/account/password"),
                          data={"_csrf": token, "current": editor.password, **new})
    assert changed.url == admin_server.url("/admin/account") and "Đã đổi mật khẩu." in changed.text
    assert login(admin_server, editor.username, "mat-khau-moi-456")[1].url == admin_server.url("/admin")

    issued = client.post(admin_server.url("/admin/account/token"), data={"_csrf": token})
    new_token = _shown_token(issued.text)
    me = requests.get(admin_server.url("/api/v1/me"), headers={"Authorization": f"Bearer {new_token}"})
    assert me.json()["username"] == "editor-1"


def test_a_new_password_ends_the_other_sessions(admin_server: AdminServer) -> None:
    editor = admin_server.account("editor")
    client = signed_in(admin_server, "editor")
    copy = requests.Session()
    copy.cookies.update(client.cookies)  # a cookie copied before the change
    new = {"password": "mat-khau-moi-456", "confirm": "mat-khau-moi-456"}
    changed = client.post(admin_server.url("/admin/account/password"),
                          data={"_csrf": _token(client, admin_server, "/admin/account"),
                                "current": editor.password, **new})
    assert changed.url == admin_server.url("/admin/account")
    assert client.get(admin_server.url("/admin"), allow_redirects=False).status_code == 200  # this one stays
    assert copy.get(admin_server.url("/admin"), allow_redirects=False).status_code == 302

    # An administrator's reset ends the officer's sessions too.
    again, _ = login(admin_server, editor.username, "mat-khau-moi-456")
    admin = signed_in(admin_server, "admin")
    reset = admin.post(admin_server.url(f"/admin/users/{_user(admin_server, editor.username).id}/password"),
                       data={"_csrf": _token(admin, admin_server), "password": "mat-khau-thu-ba",
                             "confirm": "mat-khau-thu-ba"})
    assert reset.status_code == 200
    assert again.get(admin_server.url("/admin"), allow_redirects=False).status_code == 302
    assert admin.get(admin_server.url("/admin"), allow_redirects=False).status_code == 200


def test_locking_an_account_ends_its_sessions_for_good(admin_server: AdminServer) -> None:
    editor = admin_server.account("editor")
    client = signed_in(admin_server, "editor")
    admin = signed_in(admin_server, "admin")
    user_id = _user(admin_server, editor.username).id
    for active in ("0", "1"):
        admin.post(admin_server.url(f"/admin/users/{user_id}/active"),
                   data={"_csrf": _token(admin, admin_server), "active": active})
    # Unlocked again, but the session opened before the lock does not come back.
    assert client.get(admin_server.url("/admin"), allow_redirects=False).status_code == 302
    assert login(admin_server, editor.username, editor.password)[1].url == admin_server.url("/admin")
