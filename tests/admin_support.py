"""The admin served for real on loopback (its own thread and event loop), staff accounts
made directly in the base, and an HTTP client that speaks to it like a script would."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field

import requests

from admin.app import create_app
from admin.config import AdminConfig
from knowledge import accounts
from knowledge.db import new_session
from tests.loopback import LoopbackServer


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
    _server: LoopbackServer | None = None
    accounts: dict[str, Account] = field(default_factory=dict)

    def start(self) -> AdminServer:
        config = AdminConfig(database_url=self.database_url, secret_key=secrets.token_bytes(32))
        self._server = LoopbackServer(lambda: create_app(config), "admin-server").start()
        self.base_url = self._server.base_url
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()

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


def csrf_of(html: str) -> str:
    """The CSRF token a page's forms carry."""
    match = re.search(r'name="_csrf" value="([^"]+)"', html)
    assert match, "page has no CSRF field"
    return match.group(1)


def login(server: AdminServer, username: str, password: str) -> tuple[requests.Session, requests.Response]:
    """Sign in through the real form; the client keeps the session cookie."""
    client = requests.Session()
    token = csrf_of(client.get(server.url("/admin/login")).text)
    response = client.post(server.url("/admin/login"), data={
        "username": username, "password": password, "_csrf": token, "next": "/admin"})
    return client, response


def signed_in(server: AdminServer, role: str = "editor", username: str | None = None) -> requests.Session:
    """A client signed in as a staff account of ``role`` (made on first use)."""
    account = server.account(role, username)
    client, response = login(server, account.username, account.password)
    assert response.status_code == 200 and response.url == server.url("/admin")
    return client
