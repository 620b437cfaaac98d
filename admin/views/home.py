"""The admin's front page: what needs attention."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy import func, select

from admin.database import in_transaction
from knowledge import editing
from knowledge.models import UnansweredQuestion

routes = web.RouteTableDef()


@routes.get("/")
async def root(_request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/admin")


@routes.get("/admin", name="home")
@aiohttp_jinja2.template("home.html")
async def home(request: web.Request) -> dict[str, Any]:
    def counts(session: Any) -> dict[str, Any]:
        tables = {}
        for kind in editing.MODELS:
            live = editing.listing(session, kind, limit=0).total
            stale = editing.listing(session, kind, limit=0, filters={"stale": True}).total
            tables[kind] = {"live": live, "stale": stale}
        open_questions = session.execute(
            select(func.count(UnansweredQuestion.id)).where(UnansweredQuestion.status == "open")
        ).scalar_one()
        return {"tables": tables, "open_questions": open_questions}

    return await in_transaction(request, counts)
