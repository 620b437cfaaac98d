"""The admin served for real on loopback (its own thread and event loop), staff accounts
made directly in the base, and an HTTP client that speaks to it like a script would."""

from __future__ import annotations

import asyncio
import secrets
import threading
from dataclasses import dataclass, field

import requests
from aiohttp import web

from admin.app import create_app
from admin.config import AdminConfig
from knowledge import accounts
from knowledge.db import new_session


@dataclass
class Account:
    username: str
    password: str
    token: str
    role: str


@dataclass
class AdminServer:
    database_url: str
    base_url: str = ""
    _loop: asyncio.AbstractEventLoop | None = None
    _runner: web.AppRunner | None = None
    _thread: threading.Thread | None = None
    accounts: dict[str, Account] = field(default_factory=dict)

    def start(self) -> AdminServer:
        config = AdminConfig(database_url=self.database_url, secret_key=secrets.token_bytes(32))
        ready = threading.Event()

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            self._runner = web.AppRunner(create_app(config), access_log=None)
            loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            loop.run_until_complete(site.start())
            port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            self.base_url = f"http://127.0.0.1:{port}"
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=serve, name="admin-server", daemon=True)
        self._thread.start()
        if not ready.wait(30):
            raise RuntimeError("admin server did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    def account(self, role: str = "editor", username: str | None = None) -> Account:
        """A staff account with a password and an API token (made once per name)."""
        username = username or f"{role}-1"
        if username not in self.accounts:
            password = f"mat-khau-{secrets.token_hex(4)}"
            with new_session(self.database_url) as session, session.begin():
                user = accounts.create_user(session, username, role, password=password,
                                            display_name=username.title())
                token = accounts.issue_token(session, user)
            self.accounts[username] = Account(username, password, token, role)
        return self.accounts[username]

    def api(self, account: Account | None = None) -> requests.Session:
        """An HTTP session sending ``account``'s bearer token (none: anonymous)."""
        client = requests.Session()
        if account is not None:
            client.headers["Authorization"] = f"Bearer {account.token}"
        return client

    def url(self, path: str) -> str:
        return self.base_url + path
