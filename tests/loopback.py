"""An aiohttp application served for real on a free loopback port, by a thread with its
own event loop: the admin under test and the fake platform servers all run this way, so
tests talk to them over HTTP exactly as the real peers would."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

from aiohttp import web


class LoopbackServer:
    def __init__(self, make_app: Callable[[], web.Application], name: str) -> None:
        # The app is built inside the server's loop: handlers may create loop-bound
        # objects (events, queues) when it is made.
        self._make_app = make_app
        self._name = name
        self.base_url = ""
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def start(self, timeout: float = 30) -> LoopbackServer:
        ready = threading.Event()

        def serve() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self.loop = loop
            runner = web.AppRunner(self._make_app(), access_log=None)
            loop.run_until_complete(runner.setup())
            site = web.TCPSite(runner, "127.0.0.1", 0)
            loop.run_until_complete(site.start())
            port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            self.base_url = f"http://127.0.0.1:{port}"
            ready.set()
            loop.run_forever()
            loop.run_until_complete(runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=serve, name=self._name, daemon=True)
        self._thread.start()
        if not ready.wait(timeout):
            raise RuntimeError(f"{self._name} did not start")
        return self

    def stop(self, before: Callable[[], None] | None = None) -> None:
        """Stop the loop (after ``before``, run in the loop: e.g. release long polls)."""

        def close() -> None:
            if before is not None:
                before()
            assert self.loop is not None
            self.loop.stop()

        if self.loop is not None:
            self.loop.call_soon_threadsafe(close)
        if self._thread is not None:
            self._thread.join(10)

    def url(self, path: str) -> str:
        return self.base_url + path
