"""Who may do what: session sign-in for the pages, bearer tokens for the API, roles, and
CSRF protection for every form.

CSRF uses the synchronizer-token pattern: a random token lives in the encrypted session
and every unsafe request from a page must echo it (hidden ``_csrf`` field or
``X-CSRF-Token`` header). The API is exempt because it never reads the cookie: a token in
``Authorization`` is not something another site can make a browser send. (aiohttp-csrf,
the one aiohttp package for this, is unmaintained since 2020 and no longer installs.)
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from aiohttp_session import get_session, new_session

from admin.database import in_transaction
from knowledge import accounts
from knowledge.models import User

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Reachable without signing in: the sign-in page, its stylesheet, the public chat assets
# (the website widget), the health and readiness checks and Prometheus metrics (counts and
# timings only; keep the admin port internal or block /metrics at the edge).
PUBLIC_PREFIXES = ("/admin/login", "/admin/static/", "/chat/", "/healthz", "/readyz", "/metrics")
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
USER_KEY = "user"
# The account's session_epoch when the session was opened; a session whose epoch is no
# longer the account's (signed out, password changed, account locked) is refused.
EPOCH_KEY = "epoch"


@dataclass(frozen=True)
class Staff:
    """The signed-in officer, detached from the database session."""

    id: int
    username: str
    role: str
    display_name: str | None
    session_epoch: int = 0

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @classmethod
    def of(cls, user: User) -> Staff:
        return cls(user.id, user.username, user.role, user.display_name, user.session_epoch or 0)


def is_api(request: web.Request) -> bool:
    return request.path.startswith("/api/")


def _is_public(path: str) -> bool:
    return path == "/" or any(path.startswith(p) for p in PUBLIC_PREFIXES)


async def csrf_token(request: web.Request) -> str:
    session = await get_session(request)
    token = session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


async def _csrf_ok(request: web.Request) -> bool:
    session = await get_session(request)
    expected = session.get("csrf")
    if not expected:
        return False
    sent = request.headers.get("X-CSRF-Token")
    if sent is None and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()  # cached by aiohttp: the handler reads it again for free
        value = form.get("_csrf")
        sent = value if isinstance(value, str) else None
    return sent is not None and hmac.compare_digest(sent, expected)


async def _user_from_bearer(request: web.Request) -> Staff | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None

    def lookup(session: Any) -> Staff | None:
        user = accounts.user_for_token(session, token.strip())
        return Staff.of(user) if user else None

    return await in_transaction(request, lookup)


async def _user_from_session(request: web.Request) -> Staff | None:
    session = await get_session(request)
    user_id, epoch = session.get("uid"), session.get(EPOCH_KEY)
    if not user_id:
        return None

    def lookup(db: Any) -> Staff | None:
        user = db.get(User, user_id)
        # An account disabled by an administrator loses its open sessions at once, and so
        # does every session opened before a sign-out or a new password.
        if user is None or not user.active or user.session_epoch != epoch:
            return None
        return Staff.of(user)

    return await in_transaction(request, lookup)


async def sign_in(request: web.Request, user: Staff) -> None:
    session = await new_session(request)  # a fresh session id: no fixation
    session["uid"] = user.id
    session[EPOCH_KEY] = user.session_epoch
    session["csrf"] = secrets.token_urlsafe(32)


async def keep_signed_in(request: web.Request, epoch: int) -> None:
    """After this officer's own sessions were ended (a new password), keep the one they
    are using: it takes the account's new epoch."""
    session = await get_session(request)
    session[EPOCH_KEY] = epoch


async def sign_out(request: web.Request) -> None:
    """Sign out everywhere: the account's epoch moves on, so this session and every copy
    of its cookie (or any other browser signed in as the same officer) stop working."""
    session = await get_session(request)
    user_id, epoch = session.get("uid"), session.get(EPOCH_KEY)
    if user_id:
        await in_transaction(request, lambda db: accounts.end_sessions(db, user_id, epoch))
    session.invalidate()


def api_error(status: int, code: str, message: str, fields: list[dict] | None = None) -> web.Response:
    body: dict[str, Any] = {"error": code, "message": message}
    if fields is not None:
        body["fields"] = fields
    return web.json_response(body, status=status)


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if is_api(request):
        user = await _user_from_bearer(request)
        if user is None:
            response = api_error(
                401, "unauthorized", "Send a valid API token: Authorization: Bearer <token>."
            )
            response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
            return response
        request[USER_KEY] = user
        return await handler(request)

    request[USER_KEY] = await _user_from_session(request)
    if request.method in UNSAFE and not await _csrf_ok(request):
        raise web.HTTPForbidden(
            text="Phiên làm việc đã hết hạn hoặc biểu mẫu không hợp lệ. Hãy tải lại trang."
        )
    if request[USER_KEY] is None and not _is_public(request.path):
        back = "?" + urlencode({"next": request.path_qs}) if request.method == "GET" else ""
        raise web.HTTPFound(f"/admin/login{back}")
    return await handler(request)


def current_user(request: web.Request) -> Staff:
    user = request.get(USER_KEY)
    if user is None:
        raise web.HTTPUnauthorized()
    return user


def admin_only(handler: Handler) -> Handler:
    """Account management is for administrators; editors get a 403 page."""

    @wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        if not current_user(request).is_admin:
            if is_api(request):
                return api_error(403, "forbidden", "Only administrators may do this.")
            raise web.HTTPForbidden(text="Chỉ quản trị viên mới làm được việc này.")
        return await handler(request)

    return wrapped
