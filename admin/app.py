"""The admin application: ``create_app()`` builds it from the environment (or a given
config), ``python -m admin`` serves it on http://localhost:8080/admin."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web
from aiohttp_session import get_session
from aiohttp_session import setup as setup_sessions
from aiohttp_session.cookie_storage import EncryptedCookieStorage
from sqlalchemy.exc import OperationalError

from admin import api, openapi
from admin.config import AdminConfig
from admin.database import CONFIG_KEY
from admin.pages import flash_messages
from admin.security import USER_KEY, api_error, auth_middleware, csrf_token, is_api
from admin.views import auth, entries, home, review, spreadsheets, users
from bot.admin_probes import register as register_probes
from knowledge.migrate import upgrade
from widget import routes as chat_assets

logger = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent


async def _template_context(request: web.Request) -> dict[str, Any]:
    session = await get_session(request)
    return {
        "user": request.get(USER_KEY),
        "csrf_token": await csrf_token(request),
        "messages": flash_messages(session),
        "path": request.path,
    }


@web.middleware
async def error_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    """Every failure gets a clear answer in the caller's terms: JSON for the API, a
    Vietnamese page for officers; an unexpected error is logged, never shown raw."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400 or exc.empty_body:
            raise
        if is_api(request):
            return api_error(exc.status, exc.reason.lower().replace(" ", "_"), exc.text or exc.reason)
        if exc.status == 404:
            message = "Không tìm thấy trang này."
        elif exc.status == 413:
            message = "Tệp quá lớn."
        else:
            message = exc.text if exc.text and not exc.text.startswith(f"{exc.status}:") else exc.reason
        return await _error_page(request, exc.status, message)
    except Exception as exc:
        if isinstance(exc, OperationalError) and "locked" in str(exc):
            # SQLite's "database is locked": a long write (an import) holds it; try again.
            logger.warning("admin: database busy on %s %s", request.method, request.path)
            if is_api(request):
                response = api_error(503, "busy", "The database is busy with another change; retry shortly.")
            else:
                response = await _error_page(
                    request, 503, "Cơ sở dữ liệu đang bận với một thay đổi khác; hãy thử lại sau ít giây."
                )
            response.headers["Retry-After"] = "5"
            return response
        logger.exception("admin: unexpected error on %s %s", request.method, request.path)
        if is_api(request):
            return api_error(500, "internal_error", "Unexpected server error; it has been logged.")
        return await _error_page(request, 500, "Có lỗi không mong muốn; lỗi đã được ghi lại. Hãy thử lại.")


# The admin's pages load only their own scripts and styles; the map preview is an
# OpenStreetMap frame. Inline scripts are refused, which blunts any injected markup.
ADMIN_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-src https://www.openstreetmap.org; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)


@web.middleware
async def security_headers(request: web.Request, handler: Any) -> web.StreamResponse:
    response = await handler(request)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if request.path.startswith("/admin") and not request.path.startswith("/admin/static/"):
        response.headers.setdefault("Content-Security-Policy", ADMIN_CSP)
        response.headers.setdefault("X-Frame-Options", "DENY")
        # Officers' pages show unpublished data: never keep them in shared caches.
        response.headers.setdefault("Cache-Control", "no-store")
    return response


async def _error_page(request: web.Request, status: int, message: str) -> web.Response:
    # Rendered outside the session middleware (the failure may have come from there), so
    # the page gets its context here rather than from the context processor.
    context = {"status": status, "message": message, "user": request.get(USER_KEY), "csrf_token": "",
               "messages": [], "path": request.path}
    return aiohttp_jinja2.render_template("error.html", request, context, status=status)


async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def create_app(config: AdminConfig | None = None, *, migrate: bool = True) -> web.Application:
    config = config or AdminConfig.from_env()
    if migrate:
        upgrade(config.database_url)
    app = web.Application(
        client_max_size=config.max_upload_bytes, middlewares=[security_headers, error_middleware]
    )
    app[CONFIG_KEY] = config
    setup_sessions(
        app,
        EncryptedCookieStorage(
            config.secret_key,
            cookie_name="dn_admin",
            max_age=config.session_max_age,
            httponly=True,
            secure=config.cookie_secure,
            samesite="Lax",
        ),
    )
    app.middlewares.append(auth_middleware)
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(default=True),
        context_processors=[_template_context],
        undefined=jinja2.StrictUndefined,
    )
    app.router.add_get("/healthz", healthz)
    register_probes(app, config.database_url)  # /readyz (database answers) and /metrics
    app.router.add_static("/admin/static/", HERE / "static", name="static")
    for module in (home, auth, entries, spreadsheets, review, users):
        app.router.add_routes(module.routes)
    app.router.add_routes(chat_assets.routes)  # the public website widget and its demo page
    app.router.add_routes(api.routes)
    app.router.add_routes(openapi.routes)
    return app
