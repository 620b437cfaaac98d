"""Sign-in and sign-out."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from admin.database import in_transaction
from admin.pages import flash, form_dict
from admin.security import Staff, sign_in, sign_out
from knowledge import accounts

routes = web.RouteTableDef()


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

    def check(session: Any) -> Staff | None:
        user = accounts.authenticate(session, username, password)
        return Staff.of(user) if user else None

    user = await in_transaction(request, check) if username and password else None
    if user is None:
        context = {"next": _safe_next(form.get("next")), "username": username,
                   "error": "Sai tên đăng nhập hoặc mật khẩu."}
        return aiohttp_jinja2.render_template("login.html", request, context, status=401)
    await sign_in(request, user)
    await flash(request, f"Xin chào {user.display_name or user.username}!")
    raise web.HTTPFound(_safe_next(form.get("next")))


@routes.post("/admin/logout", name="logout")
async def logout(request: web.Request) -> web.StreamResponse:
    await sign_out(request)
    raise web.HTTPFound("/admin/login")
