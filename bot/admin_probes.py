"""Readiness and Prometheus metrics for the staff admin (aiohttp), for the admin to
register (``register(app, database_url)`` in admin/app.py's create_app; both paths must
then be public in admin/security.py's PUBLIC_PREFIXES).

    /readyz   200 when the knowledge base answers ``SELECT 1``, else 503 (``/healthz`` only
              says the process is up)
    /metrics  assistant_http_requests_total / _duration_seconds with service="admin"
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.logging_config import request_id
from bot.metrics import LATENCY, REQUESTS

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
DATABASE_URL_KEY = web.AppKey("probes_database_url", str)


def _database_answers(url: str) -> str | None:
    from sqlalchemy import text

    from knowledge.db import get_engine

    try:
        with get_engine(url).connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
        return f"knowledge base: {exc.__class__.__name__}"
    return None


async def readyz(request: web.Request) -> web.Response:
    problem = await asyncio.to_thread(_database_answers, request.app[DATABASE_URL_KEY])
    if problem:
        return web.json_response({"status": "unavailable", "reason": problem}, status=503)
    return web.json_response({"status": "ready"})


async def metrics(_request: web.Request) -> web.Response:
    response = web.Response(body=generate_latest())
    response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
    return response


def _route(request: web.Request) -> str:
    # The route's pattern (e.g. /api/v1/places/{slug}), never the raw path.
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


@web.middleware
async def count_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    token = request_id.set(request.headers.get("X-Request-ID"))
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        route = _route(request)
        REQUESTS.labels("admin", request.method, route, str(status)).inc()
        LATENCY.labels("admin", request.method, route).observe(time.perf_counter() - started)
        request_id.reset(token)


def register(app: web.Application, database_url: str) -> None:
    app[DATABASE_URL_KEY] = database_url
    app.middlewares.insert(0, count_requests)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
