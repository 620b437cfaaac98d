"""A fake Telegram Bot API on loopback (aiohttp, its own thread and event loop) that
records every call, so tests can assert exactly what the bot sent.

It answers the methods the channel and the poller use with results shaped like the real
API's (python-telegram-bot parses them), serves queued updates to getUpdates with long
polling and offsets, and can fail a method once with a given error."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.loopback import LoopbackServer

BOT_USER = {
    "id": 7000001,
    "is_bot": True,
    "first_name": "Trợ lý Đà Nẵng",
    "username": "danang_test_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
_JSON_PARAMS = {"reply_markup", "allowed_updates", "link_preview_options"}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float


class FakeTelegram:
    def __init__(self, token: str) -> None:
        self.token = token
        self.calls: list[Call] = []
        self.api_url = ""
        self._lock = threading.Lock()
        self._updates: list[dict[str, Any]] = []
        self._failures: dict[str, tuple[int, str]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: LoopbackServer | None = None
        self._new_update: asyncio.Event | None = None
        self._message_id = 0
        self._stopping = False

    # --- test side -------------------------------------------------------------------

    def start(self) -> FakeTelegram:
        def make_app() -> web.Application:
            self._new_update = asyncio.Event()
            app = web.Application()
            app.router.add_post("/bot{token}/{method}", self._handle)
            return app

        self._server = LoopbackServer(make_app, "fake-telegram").start(timeout=10)
        self._loop = self._server.loop
        self.api_url = self._server.base_url + "/bot"
        return self

    def stop(self) -> None:
        def release_long_polls() -> None:
            # Long polls still held open end now, so the server closes without pending tasks.
            self._stopping = True
            assert self._new_update is not None
            self._new_update.set()

        if self._server is not None:
            self._server.stop(before=release_long_polls)

    def queue_update(self, update: dict[str, Any]) -> None:
        """An update for the next getUpdates."""
        with self._lock:
            self._updates.append(update)
        assert self._loop is not None and self._new_update is not None
        self._loop.call_soon_threadsafe(self._new_update.set)

    def fail_once(self, method: str, status: int, description: str) -> None:
        with self._lock:
            self._failures[method] = (status, description)

    def calls_to(self, method: str | None = None, chat_id: int | None = None) -> list[Call]:
        with self._lock:
            return [
                c
                for c in self.calls
                if (method is None or c.method == method)
                and (chat_id is None or str(c.params.get("chat_id")) == str(chat_id))
            ]

    def wait_for(
        self, condition: Callable[[FakeTelegram], bool], timeout: float = 30, what: str = "calls"
    ) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition(self):
                return
            time.sleep(0.05)
        raise AssertionError(
            f"timed out waiting for {what}; calls: {[(c.method, c.params) for c in self.calls]}"
        )

    # --- the API -----------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        if request.content_type == "application/json":
            params = await request.json()
        else:
            form = await request.post()
            params = {k: json.loads(v) if k in _JSON_PARAMS else v for k, v in form.items()}
        with self._lock:
            self.calls.append(Call(method, params, time.monotonic()))
            failure = self._failures.pop(method, None)
        if failure is not None:
            return _error(*failure)
        if method == "getUpdates":
            return _ok(await self._get_updates(params))
        if method == "getMe":
            return _ok(BOT_USER)
        if method in ("setWebhook", "deleteWebhook", "answerCallbackQuery"):
            return _ok(True)
        if method in ("sendMessage", "sendVenue", "sendLocation"):
            return _ok(self._sent_message(method, params))
        return _error(404, "Not Found: method not found")

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), 30)
        assert self._new_update is not None
        while True:
            with self._lock:
                # As Telegram does: an offset confirms (drops) every earlier update.
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
                pending = list(self._updates[: int(params.get("limit") or 100)])
            left = deadline - time.monotonic()
            if pending or left <= 0 or self._stopping:
                return pending
            self._new_update.clear()
            try:
                await asyncio.wait_for(self._new_update.wait(), timeout=left)
            except asyncio.TimeoutError:
                pass

    def _sent_message(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        self._message_id += 1
        message: dict[str, Any] = {
            "message_id": self._message_id,
            "date": int(time.time()),
            "chat": {"id": int(params["chat_id"]), "type": "private"},
            "from": BOT_USER,
        }
        if method == "sendMessage":
            message["text"] = params["text"]
        else:
            location = {"latitude": float(params["latitude"]), "longitude": float(params["longitude"])}
            message["location"] = location
            if method == "sendVenue":
                message["venue"] = {
                    "location": location,
                    "title": params["title"],
                    "address": params["address"],
                }
        return message


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(status: int, description: str) -> web.Response:
    return web.json_response({"ok": False, "error_code": status, "description": description}, status=status)
