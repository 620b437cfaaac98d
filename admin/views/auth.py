"""Sign-in and sign-out."""

from __future__ import annotations

import weakref
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from admin.database import in_transaction
from admin.pages import flash, form_dict
from admin.security import Staff, sign_in, sign_out
from admin.throttle import Throttle
from knowledge import accounts

routes = web.RouteTableDef()

# One failed-sign-in counter per running admin (an aiohttp app is not hashable and is
# frozen once started, so it is looked up by identity and dropped with the app).
_throttles: dict[int, Throttle] = {}


def throttle_of(app: web.Application) -> Throttle:
    key = id(app)
    if key not in _throttles:
        _throttles[key] = Throttle()
        weakref.finalize(app, _throttles.pop, key, None)
    return _throttles[key]


def _throttle_keys(request: web.Request, username: str) -> tuple[str, ...]:
    keys = [f"ip:{request.remote or '?'}"]
    if username:
        keys.append(f"user:{username.lower()}")
    return tuple(keys)


def _safe_next(target: str | None) -> str:
    # Only paths inside the admin: never bounce an officer to another site after sign-in.
    if target and target.startswith("/admin") and not target.startswith("//"):
        return target
    return "/admin"


@routes.get("/admin/login", name="login")
@aiohttp_jinja2.template("login.html")
async def login_page(request: web.Request) -> dict[str, Any]:
    return {"next": _safe_next(request.query.get("next")), "username": "", "error": None}


@routes.post("/admin/login")
async def login(request: web.Request) -> web.StreamResponse:
    form = await form_dict(request)
    username, password = form.get("username", "").strip(), form.get("password", "")
    throttle, keys = throttle_of(request.app), _throttle_keys(request, username)
    minutes = throttle.wait_minutes(*keys)
    if minutes:
        # Refused before the password is even looked at: no Argon2 work for a guesser.
        context = {"next": _safe_next(form.get("next")), "username": username,
                   "error": f"Bạn đã nhập sai quá nhiều lần, hãy thử lại sau {minutes} phút."}
        response = aiohttp_jinja2.render_template("login.html", request, context, status=429)
        response.headers["Retry-After"] = str(minutes * 60)
        return response

    def check(session: Any) -> Staff | None:
        user = accounts.authenticate(session, username, password)
        return Staff.of(user) if user else None

    user = await in_transaction(request, check) if username and password else None
    if user is None:
        throttle.failed(*keys)
        context = {"next": _safe_next(form.get("next")), "username": username,
                   "error": "Sai tên đăng nhập hoặc mật khẩu."}
        return aiohttp_jinja2.render_template("login.html", request, context, status=401)
    throttle.forget(*keys[1:])  # the account's count; the address keeps its own
    await sign_in(request, user)
    await flash(request, f"Xin chào {user.display_name or user.username}!")
    raise web.HTTPFound(_safe_next(form.get("next")))


@routes.post("/admin/logout", name="logout")
async def logout(request: web.Request) -> web.StreamResponse:
    await sign_out(request)
    raise web.HTTPFound("/admin/login")
