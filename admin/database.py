"""Database work for request handlers, off the event loop.

SQLAlchemy 1.4 here is synchronous; each call runs in a worker thread inside one
transaction (committed if the function returns, rolled back if it raises), so a slow
import never stalls other officers' pages and nothing is ever half-saved."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from aiohttp import web
from sqlalchemy.orm import Session

from admin.config import AdminConfig
from knowledge.db import session_factory

T = TypeVar("T")
CONFIG_KEY: web.AppKey[AdminConfig] = web.AppKey("config", AdminConfig)


async def in_transaction(request: web.Request, work: Callable[[Session], T]) -> T:
    factory = session_factory(request.app[CONFIG_KEY].database_url)

    def run() -> T:
        with factory() as session, session.begin():
            return work(session)

    return await asyncio.get_running_loop().run_in_executor(None, run)
