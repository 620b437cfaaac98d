"""Small helpers the page handlers share: flash messages, form values, paging links."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from aiohttp_session import Session, get_session


async def flash(request: web.Request, message: str, level: str = "success") -> None:
    """A message shown once on the next page (after a redirect)."""
    session = await get_session(request)
    session["flash"] = [*session.get("flash", []), [level, message]]


def flash_messages(session: Session) -> list[list[str]]:
    return session.pop("flash", [])


async def form_dict(request: web.Request) -> dict[str, Any]:
    """The submitted form as a dict of strings (the CSRF field removed)."""
    form = await request.post()
    return {k: v for k, v in form.items() if k != "_csrf" and isinstance(v, str)}


# Ids and versions are plain ASCII digits that fit a database integer; anything else
# (superscripts, other scripts' digits, 30-digit numbers) is "no such row", never a 500.
_NUMBER = re.compile(r"[0-9]{1,18}")
MAX_ID = 2**31 - 1


def number(text: object) -> int | None:
    value = str(text if text is not None else "").strip()
    if not _NUMBER.fullmatch(value) or int(value) > MAX_ID:
        return None
    return int(value)


def numbers(text: object, limit: int = 1000) -> list[int]:
    """Comma-separated ids (question groups, links from the review page)."""
    found = [number(part) for part in str(text or "").split(",")]
    return [n for n in found if n is not None][:limit]


def int_arg(request: web.Request, name: str, default: int, lo: int = 0, hi: int = 10_000_000) -> int:
    value = number(request.query.get(name, default))
    return default if value is None else max(lo, min(hi, value))


def redirect(location: str) -> web.HTTPFound:
    return web.HTTPFound(location)


# Times are stored in UTC; officers read them in Đà Nẵng time (UTC+7, no daylight saving).
LOCAL_OFFSET = timedelta(hours=7)


def local_time(moment: datetime | str | None, never: str = "") -> str:
    """A stored UTC time as officers read it: "14:05 ngày 25/11/2026"."""
    if not moment:
        return never
    value = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return (value + LOCAL_OFFSET).strftime("%H:%M ngày %d/%m/%Y")
