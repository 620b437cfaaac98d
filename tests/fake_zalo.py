"""A fake Zalo: the OA message API (``/v3.0/oa/message/cs``) and the OAuth token endpoint
(``/v4/oa/access_token``), served with aiohttp on loopback in its own thread.

It behaves like the real one where the channel depends on it: one access token is valid
at a time (anything else gets error -216), a refresh token works once and yields a new
pair, and messages over Zalo's limits are refused. Every request is recorded with its
headers, body and the answer given, so tests can assert exactly what was sent. Failures
can be scripted: the next N sends answer HTTP 500, a user's sends are answered slowly, the
current token expires."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.loopback import LoopbackServer

VALID_BUTTON_TYPES = {"oa.query.show", "oa.query.hide", "oa.open.url", "oa.open.phone", "oa.open.sms"}


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: Any  # the JSON of a send, the form of a refresh
    status: int = 200
    answer: dict[str, Any] | None = None

    @property
    def delivered(self) -> bool:
        return self.status == 200 and (self.answer or {}).get("error") == 0

    @property
    def user_id(self) -> str | None:
        if not self.path.endswith("/cs"):
            return None
        return ((self.body or {}).get("recipient") or {}).get("user_id")

    @property
    def message(self) -> dict[str, Any]:
        return (self.body or {}).get("message") or {}


@dataclass
class FakeZalo:
    app_id: str
    app_secret: str
    access_token: str | None = "access-0"
    refresh_token: str = "refresh-0"
    expires_in: str = "90000"  # what the next refresh answers (Zalo sends a string)
    slow_users: dict[str, float] = field(default_factory=dict)  # user id -> seconds
    url: str = ""
    _failures: int = 0
    _serial: itertools.count = field(default_factory=lambda: itertools.count(1))
    _requests: list[Recorded] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: LoopbackServer | None = None

    # --- scripting -----------------------------------------------------------------------

    def fail_next(self, times: int = 1) -> None:
        """The next ``times`` sends are answered HTTP 500."""
        with self._lock:
            self._failures = times

    def expire_token(self) -> None:
        """The current access token stops working; the refresh token still works."""
        with self._lock:
            self.access_token = None

    # --- what was received ---------------------------------------------------------------

    def requests(self, path_end: str = "") -> list[Recorded]:
        with self._lock:
            return [r for r in self._requests if r.path.endswith(path_end)]

    def sends(self, user_id: str) -> list[Recorded]:
        return [r for r in self.requests("/message/cs") if r.user_id == user_id]

    def delivered(self, user_id: str) -> list[dict[str, Any]]:
        return [r.message for r in self.sends(user_id) if r.delivered]

    def refreshes(self) -> list[Recorded]:
        return self.requests("/oa/access_token")

    def wait_for(self, condition: Callable[[], Any], timeout: float = 60, what: str = "") -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = condition()
            if result:
                return result
            time.sleep(0.05)
        raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what or condition}")

    # --- the server ----------------------------------------------------------------------

    def _record(self, entry: Recorded) -> None:
        with self._lock:
            self._requests.append(entry)

    async def _send(self, request: web.Request) -> web.Response:
        headers = dict(request.headers)
        try:
            body = await request.json()
        except ValueError:
            body = None
        entry = Recorded(request.path, headers, body)
        user = ((body or {}).get("recipient") or {}).get("user_id") if isinstance(body, dict) else None
        if user in self.slow_users:
            await asyncio.sleep(self.slow_users[user])
        with self._lock:
            failing = self._failures > 0
            self._failures -= failing
            valid_token = self.access_token is not None and headers.get("access_token") == self.access_token
        if failing:
            entry.status = 500
            self._record(entry)
            return web.Response(status=500, text="Internal Server Error")
        if not valid_token:
            entry.answer = {"error": -216, "message": "Access token is invalid"}
        else:
            entry.answer = _check_message(body) or {
                "error": 0,
                "message": "Success",
                "data": {"message_id": f"m{next(self._serial)}", "user_id": user},
            }
        self._record(entry)
        return web.json_response(entry.answer)

    async def _refresh(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        entry = Recorded(request.path, dict(request.headers), form)
        with self._lock:
            good = (
                request.headers.get("secret_key") == self.app_secret
                and form.get("app_id") == self.app_id
                and form.get("grant_type") == "refresh_token"
                and form.get("refresh_token") == self.refresh_token
            )
            if good:
                serial = next(self._serial)
                self.access_token, self.refresh_token = f"access-{serial}", f"refresh-{serial}"
                entry.answer = {
                    "access_token": self.access_token,
                    "refresh_token": self.refresh_token,
                    "expires_in": self.expires_in,
                }
                self.expires_in = "90000"
            else:
                entry.answer = {"error": -14014, "error_name": "Invalid refresh token",
                                "error_description": "Refresh token is invalid or used"}
        self._record(entry)
        return web.json_response(entry.answer)

    def start(self) -> FakeZalo:
        def make_app() -> web.Application:
            app = web.Application()
            app.router.add_post("/v3.0/oa/message/cs", self._send)
            app.router.add_post("/v4/oa/access_token", self._refresh)
            return app

        self._server = LoopbackServer(make_app, "fake-zalo").start()
        self.url = self._server.base_url
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()


def _check_message(body: Any) -> dict[str, Any] | None:
    """Zalo's refusal of a malformed or oversized message, or None if it is fine."""
    invalid = {"error": -201, "message": "Parameters are invalid"}
    if not isinstance(body, dict) or not ((body.get("recipient") or {}).get("user_id")):
        return invalid
    message = body.get("message")
    if not isinstance(message, dict) or not isinstance(message.get("text"), str) or not message["text"]:
        return invalid
    if len(message["text"].encode("utf-16-le")) // 2 > 2000:
        return {"error": -210, "message": "Text is too long"}
    attachment = message.get("attachment")
    if attachment is not None:
        buttons = ((attachment or {}).get("payload") or {}).get("buttons")
        if attachment.get("type") != "template" or not isinstance(buttons, list) or not 0 < len(buttons) <= 5:
            return invalid
        for button in buttons:
            if button.get("type") not in VALID_BUTTON_TYPES or not 0 < len(button.get("title") or "") <= 100:
                return invalid
            if button["type"] == "oa.open.url" and not (button.get("payload") or {}).get("url"):
                return invalid
    return None
