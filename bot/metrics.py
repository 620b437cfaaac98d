"""Prometheus metrics and probes for our Sanic servers (the Rasa server and the action
server): request count and latency by route, readiness, and the request id nginx sends.

Each process serves its own ``/metrics`` (one Sanic worker per process, so no
multiprocess collector is needed); Prometheus scrapes every replica on its own port.
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from sanic import Sanic, response
from sanic.request import Request

from bot.logging_config import request_id

REQUESTS = Counter(
    "assistant_http_requests_total", "HTTP requests handled", ["service", "method", "route", "status"]
)
LATENCY = Histogram(
    "assistant_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["service", "method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10),
)
MESSAGES = Counter("assistant_messages_total", "User messages handled by the Rasa server", ["outcome"])
TURN = Histogram(
    "assistant_turn_duration_seconds",
    "Time to handle one user message (NLU, policies, actions, tracker store)",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10),
)


def _route(request: Request) -> str:
    # The route's template, not the raw path: sender ids or query strings in the label
    # would give Prometheus one series per user.
    route = getattr(request, "route", None)
    path = getattr(route, "path", None) if route is not None else None
    return "/" + path.lstrip("/") if path is not None else "unmatched"


def instrument(app: Sanic, service: str) -> None:
    """Count and time every request, bind nginx's X-Request-ID to the request's log lines,
    and serve ``/metrics``."""

    @app.middleware("request")
    async def _start(request: Request) -> None:
        request.ctx.started = time.perf_counter()
        request.ctx.rid_token = request_id.set(request.headers.get("x-request-id"))

    @app.middleware("response")
    async def _observe(request: Request, resp: Any) -> None:
        started = getattr(request.ctx, "started", None)
        if started is None:
            return
        route = _route(request)
        status = str(getattr(resp, "status", 0))
        REQUESTS.labels(service, request.method, route, status).inc()
        LATENCY.labels(service, request.method, route).observe(time.perf_counter() - started)

    async def metrics(_request: Request) -> response.HTTPResponse:
        return response.raw(generate_latest(), content_type=CONTENT_TYPE_LATEST)

    app.add_route(metrics, "/metrics", methods=["GET"], name="prometheus_metrics")


def count_turns() -> None:
    """Time every message the Rasa agent handles, whichever channel brought it."""
    from rasa.core.agent import Agent

    original = Agent.handle_message
    if getattr(original, "_counted", False):
        return

    async def handle_message(self: Agent, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            result = await original(self, *args, **kwargs)
        except Exception:
            MESSAGES.labels("error").inc()
            raise
        MESSAGES.labels("ok").inc()
        TURN.observe(time.perf_counter() - started)
        return result

    handle_message._counted = True  # type: ignore[attr-defined]
    Agent.handle_message = handle_message  # type: ignore[method-assign]
