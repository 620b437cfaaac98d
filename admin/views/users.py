"""Staff accounts: administrators create accounts, reset passwords, issue API tokens and
lock accounts; every officer changes their own password and token on "Tài khoản của tôi".

A new API token is shown once, on the page that answers the request (never through the
flash cookie or a redirect), and the base keeps only its digest."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy.orm import Session

from admin.database import in_transaction
from admin.labels import ROLES
from admin.pages import flash, form_dict, local_time, number
from admin.security import Staff, admin_only, current_user, keep_signed_in
from knowledge import accounts
from knowledge.accounts import AccountError
from knowledge.models import User

routes = web.RouteTableDef()

# The base stores UTC; officers read Việt Nam time (UTC+7 all year).

def _row(user: User, me: Staff) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name or "",
        "role": ROLES.get(user.role, user.role),
        "is_admin": user.is_admin,
        "active": user.active,
        "last_login": local_time(user.last_login_at, "chưa đăng nhập"),
        "token_created": local_time(user.token_created_at, "chưa có"),
        "has_password": bool(user.password_hash),
        "is_self": user.id == me.id,
    }


def _get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise web.HTTPNotFound()
    return user


def _check_confirmation(password: str, confirm: str, field: str = "confirm") -> None:
    if password != confirm:
        raise AccountError(field, "Hai lần nhập mật khẩu không giống nhau.")


def _no_store(response: web.Response) -> web.Response:
    # Pages that show a secret must not be kept by the browser or a proxy.
    response.headers["Cache-Control"] = "no-store"
    return response


async def _users_page(request: web.Request, *, typed: dict[str, str] | None = None,
                      errors: dict[str, str] | None = None, reset: dict[str, Any] | None = None,
                      status: int = 200) -> web.Response:
    me = current_user(request)
    rows = await in_transaction(request, lambda s: [_row(u, me) for u in accounts.all_users(s)])
    context = {
        "users": rows,
        "roles": list(ROLES.items()),
        "typed": typed or {"username": "", "display_name": "", "role": "editor"},
        "errors": errors or {},
        # The reset form that failed: {"id": ..., "message": ...}.
        "reset": reset or {"id": None, "message": ""},
        "min_password": accounts.MIN_PASSWORD,
    }
    return _no_store(aiohttp_jinja2.render_template("users.html", request, context, status=status))


async def _token_page(request: web.Request, username: str, token: str, own: bool) -> web.Response:
    context = {"username": username, "token": token, "own": own}
    return _no_store(aiohttp_jinja2.render_template("users_token.html", request, context))


@routes.get("/admin/users", name="users")
@admin_only
async def users_page(request: web.Request) -> web.Response:
    return await _users_page(request)


@routes.post("/admin/users")
@admin_only
async def create_user(request: web.Request) -> web.StreamResponse:
    form = await form_dict(request)
    typed = {"username": form.get("username", "").strip(),
             "display_name": form.get("display_name", "").strip(),
             "role": form.get("role", "editor")}
    password, confirm = form.get("password", ""), form.get("confirm", "")

    def save(session: Session) -> tuple[str, str]:
        if not password:
            raise AccountError("password", "Hãy đặt mật khẩu cho tài khoản.")
        _check_confirmation(password, confirm)
        user = accounts.create_user(session, typed["username"], typed["role"], password=password,
                                    display_name=typed["display_name"])
        return user.username, user.role

    try:
        username, role = await in_transaction(request, save)
    except AccountError as exc:
        return await _users_page(request, typed=typed, errors={exc.field: str(exc)}, status=400)
    await flash(request, f"Đã tạo tài khoản “{username}” ({ROLES[role].lower()}). "
                         "Hãy báo mật khẩu cho người dùng qua một kênh an toàn.")
    raise web.HTTPFound("/admin/users")


@routes.post(r"/admin/users/{user_id:\d+}/password")
@admin_only
async def reset_password(request: web.Request) -> web.StreamResponse:
    user_id = number(request.match_info["user_id"]) or 0  # 0: no such account, a 404
    form = await form_dict(request)
    password, confirm = form.get("password", ""), form.get("confirm", "")

    def save(session: Session) -> tuple[str, int]:
        user = _get_user(session, user_id)
        _check_confirmation(password, confirm)
        accounts.set_password(session, user, password)  # ends the account's open sessions
        return user.username, user.session_epoch

    try:
        username, epoch = await in_transaction(request, save)
    except AccountError as exc:
        return await _users_page(request, reset={"id": user_id, "message": str(exc)}, status=400)
    if user_id == current_user(request).id:
        await keep_signed_in(request, epoch)
    await flash(request, f"Đã đặt mật khẩu mới cho “{username}”. Các phiên đăng nhập cũ của tài khoản "
                         "này đã bị đăng xuất.")
    raise web.HTTPFound("/admin/users")


@routes.post(r"/admin/users/{user_id:\d+}/token")
@admin_only
async def issue_token(request: web.Request) -> web.StreamResponse:
    user_id = number(request.match_info["user_id"]) or 0  # 0: no such account, a 404

    def issue(session: Session) -> tuple[str, str]:
        user = _get_user(session, user_id)
        return user.username, accounts.issue_token(session, user)

    username, token = await in_transaction(request, issue)
    return await _token_page(request, username, token, own=user_id == current_user(request).id)


@routes.post(r"/admin/users/{user_id:\d+}/active")
@admin_only
async def change_active(request: web.Request) -> web.StreamResponse:
    user_id = number(request.match_info["user_id"]) or 0  # 0: no such account, a 404
    active = (await form_dict(request)).get("active") == "1"
    me = current_user(request)

    def save(session: Session) -> str:
        user = _get_user(session, user_id)
        accounts.set_active(session, user, active, me.id)
        return user.username

    try:
        username = await in_transaction(request, save)
    except AccountError as exc:
        await flash(request, str(exc), "error")
    else:
        if active:
            await flash(request, f"Đã mở khoá tài khoản “{username}”.")
        else:
            await flash(request, f"Đã khoá tài khoản “{username}”: người này không đăng nhập được nữa, "
                                 "phiên đang mở và token API của họ cũng ngừng hoạt động.")
    raise web.HTTPFound("/admin/users")


async def _account_page(request: web.Request, *, errors: dict[str, str] | None = None,
                        status: int = 200) -> web.Response:
    me = current_user(request)
    row = await in_transaction(request, lambda s: _row(_get_user(s, me.id), me))
    context = {"me": row, "errors": errors or {}, "min_password": accounts.MIN_PASSWORD}
    return aiohttp_jinja2.render_template("users_account.html", request, context, status=status)


@routes.get("/admin/account", name="account")
async def account_page(request: web.Request) -> web.Response:
    return await _account_page(request)


@routes.post("/admin/account/password")
async def change_own_password(request: web.Request) -> web.StreamResponse:
    me = current_user(request)
    form = await form_dict(request)
    current, password, confirm = form.get("current", ""), form.get("password", ""), form.get("confirm", "")

    def save(session: Session) -> int:
        user = _get_user(session, me.id)
        last_login = user.last_login_at
        if not current or accounts.authenticate(session, user.username, current) is None:
            raise AccountError("current", "Mật khẩu hiện tại không đúng.")
        user.last_login_at = last_login  # checking the password is not a sign-in
        _check_confirmation(password, confirm)
        accounts.set_password(session, user, password)  # ends every session opened before
        return user.session_epoch

    try:
        epoch = await in_transaction(request, save)
    except AccountError as exc:
        return await _account_page(request, errors={exc.field: str(exc)}, status=400)
    await keep_signed_in(request, epoch)  # this browser stays signed in; all others are signed out
    await flash(request, "Đã đổi mật khẩu. Các phiên đăng nhập khác (trình duyệt, máy khác) đã bị đăng xuất; "
                         "lần đăng nhập sau hãy dùng mật khẩu mới.")
    raise web.HTTPFound("/admin/account")


@routes.post("/admin/account/token")
async def issue_own_token(request: web.Request) -> web.StreamResponse:
    me = current_user(request)

    def issue(session: Session) -> str:
        return accounts.issue_token(session, _get_user(session, me.id))

    token = await in_transaction(request, issue)
    return await _token_page(request, me.username, token, own=True)
