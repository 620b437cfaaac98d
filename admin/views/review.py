"""Review of the questions the assistant could not answer: grouped, with one-click fixes
(add the visitors' wording as another name of an entry, create an entry, dismiss)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from admin.database import in_transaction
from admin.labels import TABLES
from admin.pages import flash, form_dict, local_time, number, numbers
from admin.security import current_user
from knowledge import review
from knowledge.models import UnansweredQuestion
from knowledge.schemas import InvalidEntry

routes = web.RouteTableDef()

PER_PAGE = 20
EXAMPLES = 5
# The base stores UTC; officers read Việt Nam time (UTC+7 all year).
STATUS_LABELS = {"open": "Đang chờ xem xét", "resolved": "Đã xử lý", "dismissed": "Đã bỏ qua"}
REASON_LABELS = {
    "fallback": "trợ lý không hiểu câu hỏi",
    "no_such_place": "không có địa điểm này",
    "no_such_fact": "mục có nhưng thiếu thông tin được hỏi",
    "no_such_event": "không có sự kiện này",
    "no_such_topic": "không có chủ đề thông tin này",
}
LANGUAGE_LABELS = {"vi": "tiếng Việt", "en": "tiếng Anh"}
# The table a new entry most likely belongs in, from why the assistant had no answer.
REASON_KIND = {"no_such_place": "places", "no_such_event": "events", "no_such_topic": "faqs"}
NAME_PARAM = {"places": "name_vi", "events": "name_vi", "faqs": "title_vi"}


def _link(status: str, page: int) -> str:
    query = {k: v for k, v in (("status", status), ("page", page)) if v not in ("open", 1)}
    return "/admin/unanswered" + ("?" + urlencode(query) if query else "")


def _pages(groups: int) -> int:
    return max(1, math.ceil(groups / PER_PAGE))


def _page_number(text: str) -> int:
    value = number(text)
    return max(1, min(100_000, value)) if value is not None else 1


def _resolution_label(resolution: str, titles: dict[str, dict[int, str]]) -> str:
    """What was done, in words: ``alias:places/12`` -> thêm tên gọi khác cho địa điểm “Cầu Rồng”;
    a note typed by the officer as it is."""
    if resolution.startswith("alias:"):
        kind, _, row_id = resolution[len("alias:"):].partition("/")
        name = titles.get(kind, {}).get(number(row_id) or 0)
        if name is None:
            return f"thêm tên gọi khác ({resolution})"
        return f"thêm tên gọi khác cho {TABLES.get(kind, kind).lower()} “{name}”"
    return resolution


def _create_links(group: review.Group) -> list[dict[str, str]]:
    likely = next((REASON_KIND[r] for r in group.reasons if r in REASON_KIND), None)
    if likely is None:
        likely = group.suggestion.kind if group.suggestion else "places"
    kinds = [likely, *(k for k in TABLES if k != likely)]
    ids = ",".join(map(str, group.question_ids))
    return [
        {"kind": kind, "label": TABLES[kind],
         "url": f"/admin/{kind}/new?" + urlencode({NAME_PARAM[kind]: group.subject, "from_questions": ids})}
        for kind in kinds
    ]


def _view(group: review.Group, titles: dict[str, dict[int, str]]) -> dict[str, Any]:
    suggestion = group.suggestion
    return {
        "ids": ",".join(map(str, group.question_ids)),
        "first_id": group.question_ids[0],
        "count": group.count,
        "text": group.text,
        "examples": group.texts[:EXAMPLES],
        "more": max(0, len(group.texts) - EXAMPLES),
        "reasons": [REASON_LABELS.get(r, r) for r in group.reasons],
        "languages": [LANGUAGE_LABELS.get(lang, lang) for lang in group.languages] or ["không rõ"],
        "first_seen": local_time(group.first_seen),
        "last_seen": local_time(group.last_seen),
        "alias": group.subject,
        "target": f"{suggestion.kind}:{suggestion.id}" if suggestion else "",
        "suggestion": (
            {"table": TABLES[suggestion.kind].lower(), "name": suggestion.name,
             "url": f"/admin/{suggestion.kind}/{suggestion.id}"}
            if suggestion else None
        ),
        "create_links": _create_links(group),
        "resolutions": [_resolution_label(r, titles) for r in group.resolutions],
        "resolved_by": group.resolved_by,
        "error": None,
        "open": False,
    }


async def _page(request: web.Request, query: Mapping[str, str], *, failed: dict[str, Any] | None = None,
                status_code: int = 200) -> web.Response:
    status = query.get("status", "open")
    status = status if status in review.STATUSES else "open"
    page = _page_number(query.get("page", ""))

    def load(session: Session) -> dict[str, Any]:
        counts = dict(
            session.execute(
                select(UnansweredQuestion.status, func.count(UnansweredQuestion.id))
                .group_by(UnansweredQuestion.status)
            ).all()
        )
        found = review.groups(session, status, limit=None, suggest=False)
        # Back from the last page after its groups were handled: show the new last page.
        at = min(page, _pages(len(found)))
        shown = found[(at - 1) * PER_PAGE: at * PER_PAGE]
        review.add_suggestions(session, shown)
        titles = review.titles(session)
        return {"counts": counts, "total": len(found), "groups": shown, "titles": titles, "page": at}

    loaded = await in_transaction(request, load)
    page = loaded["page"]
    titles = loaded["titles"]
    groups = [_view(g, titles) for g in loaded["groups"]]
    if failed is not None:
        # The form that failed: shown open, with the error and what the officer typed.
        for group in groups:
            if failed["first_id"] in map(int, group["ids"].split(",")):
                group.update(alias=failed["alias"], target=failed["target"], error=failed["message"],
                             open=True)
                break
        else:
            await flash(request, failed["message"], "error")
    total = loaded["total"]
    pages = _pages(total)
    context = {
        "status": status,
        "tabs": [{"code": code, "label": label, "count": loaded["counts"].get(code, 0),
                  "url": _link(code, 1)}
                 for code, label in STATUS_LABELS.items()],
        "groups": groups,
        "total_groups": total,
        "total_questions": loaded["counts"].get(status, 0),
        "page": page,
        "pages": pages,
        "prev_link": _link(status, page - 1) if page > 1 else None,
        "next_link": _link(status, page + 1) if page < pages else None,
        "back": _link(status, page),
        "entries": [{"kind": kind, "label": TABLES[kind], "rows": list(titles[kind].items())}
                    for kind in TABLES],
    }
    return aiohttp_jinja2.render_template("review.html", request, context, status=status_code)


@routes.get("/admin/unanswered", name="unanswered")
async def unanswered(request: web.Request) -> web.Response:
    return await _page(request, request.query)


def _back(form: dict[str, str]) -> str:
    back = form.get("back", "")
    # Only this page: never bounce the officer anywhere else.
    return back if back.startswith("/admin/unanswered") and not back.startswith("//") else "/admin/unanswered"


def _ids(form: dict[str, str]) -> list[int]:
    ids = numbers(form.get("ids", ""))
    if not ids:
        raise web.HTTPBadRequest(text="Không có câu hỏi nào được chọn. Hãy tải lại trang và thử lại.")
    return ids


def _plural(count: int) -> str:
    return f"{count} câu hỏi"


@routes.post("/admin/unanswered/alias")
async def add_alias(request: web.Request) -> web.StreamResponse:
    form = await form_dict(request)
    ids, back = _ids(form), _back(form)
    alias, target = form.get("alias", "").strip(), form.get("target", "")
    user = current_user(request).username
    kind, _, row_id = target.partition(":")

    def save(session: Session) -> tuple[str, bool, int]:
        if kind not in review.ALIAS_FIELD or number(row_id) is None:
            raise review.ReviewError("Hãy chọn mục sẽ nhận tên gọi khác này.")
        row, added = review.add_alias(session, kind, number(row_id) or 0, alias, user, ids)
        return review.title_of(row, kind), added, len(ids)

    try:
        title, added, count = await in_transaction(request, save)
    except (review.ReviewError, InvalidEntry) as exc:
        message = str(exc) if isinstance(exc, review.ReviewError) else "; ".join(
            e["message"] for e in exc.errors)
        failed = {"first_id": ids[0], "alias": alias, "target": target, "message": message, "back": back}
        query = {k: v[-1] for k, v in parse_qs(urlparse(back).query).items()}
        return await _page(request, query, failed=failed, status_code=400)
    if added:
        await flash(request, f"Đã thêm “{alias}” làm tên gọi khác của “{title}” và đánh dấu "
                             f"{_plural(count)} là đã xử lý.")
    else:
        await flash(request, f"“{title}” đã có tên gọi “{alias}”; đã đánh dấu {_plural(count)} là đã xử lý.")
    raise web.HTTPFound(back)


@routes.post("/admin/unanswered/resolve")
async def resolve(request: web.Request) -> web.StreamResponse:
    form = await form_dict(request)
    ids, back = _ids(form), _back(form)
    user = current_user(request).username
    note = form.get("note", "").strip()[:500] or None
    count = await in_transaction(request, lambda session: review.resolve(session, ids, user, note))
    await flash(request, f"Đã đánh dấu {_plural(count)} là đã xử lý.")
    raise web.HTTPFound(back)


@routes.post("/admin/unanswered/dismiss")
async def dismiss(request: web.Request) -> web.StreamResponse:
    form = await form_dict(request)
    ids, back = _ids(form), _back(form)
    user = current_user(request).username
    count = await in_transaction(request, lambda session: review.dismiss(session, ids, user))
    await flash(request, f"Đã bỏ qua {_plural(count)}. Có thể xem lại ở mục “{STATUS_LABELS['dismissed']}”.")
    raise web.HTTPFound(back)


@routes.post("/admin/unanswered/reopen")
async def reopen(request: web.Request) -> web.StreamResponse:
    form = await form_dict(request)
    ids, back = _ids(form), _back(form)
    count = await in_transaction(request, lambda session: review.reopen(session, ids))
    await flash(request, f"Đã đưa {_plural(count)} trở lại danh sách chờ xem xét.")
    raise web.HTTPFound(back)
