"""Pages where officers list, add, edit, check, retire and restore places, events and
practical-information entries (FAQ rows), with each entry's history.

Every change goes through ``knowledge.editing`` in one transaction, so the rules (validation,
unique names, optimistic locking, revisions) are the same as for the API and the
spreadsheet import. Forms are plain HTML that works without JavaScript; a few lines of
script only refresh the map preview while coordinates are typed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from admin.database import in_transaction
from admin.labels import ACTIONS, KINDS, TABLES, field_label
from admin.pages import flash, form_dict, int_arg, local_time, number, numbers
from admin.security import current_user
from bot.text_normalise import normalise
from knowledge import editing, review
from knowledge.models import Place, Revision
from knowledge.schemas import SCHEMAS, InvalidEntry, field_names

routes = web.RouteTableDef()

KIND = "{kind:places|events|faqs}"
ROW = KIND + r"/{row_id:\d+}"
PER_PAGE = 50
# The base stores UTC; officers read Việt Nam time (UTC+7 all year, no daylight saving).
SINGULAR = {"places": "địa điểm", "events": "sự kiện", "faqs": "mục thông tin thiết thực"}
# The column beside the name in the list: where a place is, where an event happens.
WHERE_COLUMN = {"places": ("district", "Quận/huyện"), "events": ("venue_vi", "Nơi tổ chức"),
                "faqs": ("topic", "Chủ đề")}
CODE_COLUMN = {"places": "category", "events": "category", "faqs": "topic"}

TEXTAREAS = {"aliases", "tags", "keywords", "dates", "summary_vi", "summary_en", "description_vi",
             "description_en", "how_to_get_vi", "how_to_get_en", "answer_vi", "answer_en"}
CHECKBOXES = {"verified", "retired"}
DATE_INPUTS = {"recurrence_start", "recurrence_end"}
NUMBERS = {"lat", "lon"}
FREE_CHOICES = [("", "Không rõ"), ("true", "Có"), ("false", "Không")]

# Which fields go together on the form, in the order an officer fills them in. A test
# checks that every field of the schemas is on the form.
LAYOUT: dict[str, list[tuple[str, list[str]]]] = {
    "places": [
        ("Thông tin chính", ["name_vi", "name_en", "kind", "category", "district", "slug", "aliases",
                             "tags"]),
        ("Địa chỉ và vị trí", ["address_vi", "address_en", "lat", "lon"]),
        ("Cách đi", ["how_to_get_vi", "how_to_get_en"]),
        ("Giờ mở cửa, giá vé, liên hệ", ["hours_vi", "hours_en", "price_vi", "price_en", "free", "phone",
                                         "website"]),
        ("Giới thiệu", ["summary_vi", "summary_en", "description_vi", "description_en"]),
        ("Nguồn và kiểm chứng", ["source", "verified", "retired"]),
    ],
    "events": [
        ("Thông tin chính", ["name_vi", "name_en", "category", "slug", "aliases"]),
        ("Nơi tổ chức", ["venue_slug", "venue_vi", "venue_en"]),
        ("Thời gian", ["dates", "typical_vi", "typical_en", "start_time", "end_time", "recurrence",
                       "recurrence_start", "recurrence_end"]),
        ("Giá vé và giới thiệu", ["price_vi", "price_en", "summary_vi", "summary_en", "description_vi",
                                  "description_en"]),
        ("Nguồn và kiểm chứng", ["source", "verified", "retired"]),
    ],
    "faqs": [
        ("Thông tin chính", ["title_vi", "title_en", "topic", "slug", "keywords"]),
        ("Câu trả lời", ["answer_vi", "answer_en"]),
        ("Nguồn và kiểm chứng", ["source", "verified", "retired"]),
    ],
}

HINTS = {
    "slug": "Để trống thì hệ thống tự tạo từ tên, ví dụ cau-rong.",
    "category": "Mã viết thường không dấu, ví dụ beach, museum, hospital. Chọn từ gợi ý nếu đã có.",
    "topic": "Mã viết thường không dấu, ví dụ visa, emergency, weather.",
    "lat": "Ví dụ 16.0612 (dùng dấu chấm).",
    "lon": "Ví dụ 108.2272 (dùng dấu chấm).",
    "phone": "Ví dụ 0236 3822 022.",
    "website": "Bắt đầu bằng http:// hoặc https://.",
    "source": "Đường dẫn hoặc tên văn bản mà thông tin được lấy từ đó.",
    "venue_slug": "Chọn địa điểm đã có trong dữ liệu; để trống nếu không có.",
    "dates": "Ví dụ: 2027-06-01..2027-06-03 (nhiều ngày liền) hoặc 2027-07-01 (một ngày).",
    "recurrence": "Chỉ dùng cho lịch dương lặp đều, ví dụ FREQ=WEEKLY;BYDAY=SA,SU "
                  "(tối thứ Bảy và Chủ nhật hằng tuần).",
    "start_time": "Dạng HH:MM, ví dụ 20:30.",
    "end_time": "Dạng HH:MM, ví dụ 21:15.",
    "verified": "Đánh dấu khi đã đối chiếu thông tin với nguồn.",
    "retired": "Mục ngừng sử dụng vẫn được lưu nhưng trợ lý sẽ không nhắc tới.",
}


@dataclass
class FormField:
    """Everything the template needs to draw one field."""

    name: str
    label: str
    widget: str
    value: str
    required: bool = False
    hint: str | None = None
    errors: list[str] = field(default_factory=list)
    options: list[tuple[str, str]] = field(default_factory=list)
    datalist: str | None = None
    saved: str | None = None  # on a version conflict: what the other officer saved


# ---------------------------------------------------------------- values and display


def _date_lines(dates: list[dict[str, str]]) -> str:
    return "\n".join(d["start"] if d["start"] == d["end"] else f"{d['start']}..{d['end']}" for d in dates)


def _as_form(kind: str, data: dict[str, Any]) -> dict[str, str]:
    """A saved row as the strings its form fields hold."""
    values: dict[str, str] = {}
    for name in field_names(kind):
        value = data.get(name)
        if name in CHECKBOXES:
            values[name] = "1" if value else ""
        elif name == "free":
            values[name] = "" if value is None else ("true" if value else "false")
        elif name == "dates":
            values[name] = _date_lines(value or [])
        elif isinstance(value, list):
            values[name] = "\n".join(str(v) for v in value)
        else:
            values[name] = "" if value is None else str(value)
    return values


def _typed(kind: str, form: dict[str, Any]) -> dict[str, str]:
    """What the officer submitted, field by field (an unticked box sends nothing)."""
    values = {}
    for name in field_names(kind):
        raw = str(form.get(name, "")).replace("\r\n", "\n")
        values[name] = ("1" if raw else "") if name in CHECKBOXES else raw
    return values


def _data(kind: str, typed: dict[str, str]) -> dict[str, Any]:
    """The submitted strings as input for ``editing`` (which validates them)."""
    data: dict[str, Any] = {}
    for name, value in typed.items():
        if name in CHECKBOXES:
            data[name] = bool(value)
        elif name == "free" and not value.strip():
            data[name] = None  # "Không rõ": the schema would read an empty string as "no"
        elif name in NUMBERS and value.count(",") == 1 and "." not in value:
            data[name] = value.replace(",", ".")  # a decimal comma, as Vietnamese is written
        else:
            data[name] = value
    return data


def _show(name: str, value: Any) -> str:
    """A stored value as an officer reads it in the history and conflict tables."""
    if name == "free" and value is None:
        return "Không rõ"
    if value is None or value == "" or value == []:
        return "(trống)"
    if isinstance(value, bool):
        return "Có" if value else "Không"
    if name == "kind":
        return KINDS.get(value, value)
    if name in ("verified_at", "updated_at", "created_at"):
        return local_time(value)
    if name == "dates" and isinstance(value, list):
        return "; ".join(line.replace("..", " → ") for line in _date_lines(value).split("\n"))
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _show_typed(name: str, value: str) -> str:
    if name in CHECKBOXES:
        return "Có" if value else "Không"
    if name == "free":
        return dict(FREE_CHOICES)[value] if value in dict(FREE_CHOICES) else value
    if name == "kind":
        return KINDS.get(value, value) or "(trống)"
    lines = [line.strip() for line in value.split("\n") if line.strip()]
    return "; ".join(lines) if lines else "(trống)"


def _same(a: str, b: str) -> bool:
    def clean(text: str) -> str:
        return "\n".join(normalise(line.strip()) for line in text.split("\n") if line.strip())

    return clean(a) == clean(b)


def _map_urls(lat: str, lon: str) -> dict[str, str] | None:
    """OpenStreetMap's embeddable map around the point (the same formula as the page's
    script), or None while the coordinates are missing or not numbers."""
    try:
        y, x = float(lat.replace(",", ".")), float(lon.replace(",", "."))
    except ValueError:
        return None
    if not (-90 <= y <= 90 and -180 <= x <= 180):
        return None
    bbox = f"{x - 0.01:.5f},{y - 0.006:.5f},{x + 0.01:.5f},{y + 0.006:.5f}"
    return {
        "embed": f"https://www.openstreetmap.org/export/embed.html?bbox={bbox}&layer=mapnik&marker={y},{x}",
        "link": f"https://www.openstreetmap.org/?mlat={y}&mlon={x}#map=17/{y}/{x}",
    }


# ---------------------------------------------------------------- database work


def _choices(session: Session, kind: str) -> dict[str, Any]:
    """Suggestions for the form: codes in use, districts, and places an event can be at."""
    code = CODE_COLUMN[kind]
    datalists = {code: editing.distinct_values(session, kind, code)}
    venues: list[tuple[str, str]] = []
    if kind == "places":
        datalists["district"] = editing.distinct_values(session, kind, "district")
    if kind == "events":
        rows = session.execute(select(Place.slug, Place.name_vi, Place.retired).order_by(Place.name_vi)).all()
        venues = [(slug, f"{name} ({slug})" + (" – đã ngừng sử dụng" if retired else ""))
                  for slug, name, retired in rows]
    return {"datalists": datalists, "venues": venues}


def _latest_change(session: Session, kind: str, row_id: int) -> dict[str, str]:
    """Who saved the row last and when, for 'someone else saved it meanwhile'."""
    revision = session.execute(
        select(Revision).where(Revision.table_name == kind, Revision.row_id == row_id)
        .order_by(Revision.version.desc(), Revision.id.desc()).limit(1)
    ).scalar()
    if revision is None:
        row = editing.get(session, kind, row_id)
        return {"who": "một người khác", "when": local_time(row.updated_at)}
    return {"who": revision.username or "một người khác", "when": local_time(revision.at)}


async def _db(request: web.Request, work: Any) -> Any:
    try:
        return await in_transaction(request, work)
    except editing.NotFound:
        raise web.HTTPNotFound() from None


def _kind(request: web.Request) -> str:
    return request.match_info["kind"]


def _row_id(request: web.Request) -> int:
    row_id = number(request.match_info["row_id"])
    if row_id is None:
        raise web.HTTPNotFound()
    return row_id


def _title(kind: str, data: dict[str, Any]) -> str:
    return str(data.get(editing.TITLE_FIELD[kind]) or "")


# ---------------------------------------------------------------- list


def _yes_no(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(value or "")


@routes.get(f"/admin/{KIND}", name="entries")
@aiohttp_jinja2.template("entries_list.html")
async def entry_list(request: web.Request) -> dict[str, Any]:
    kind = _kind(request)
    query = request.query
    q = query.get("q", "").strip()
    page_no = int_arg(request, "page", 1, lo=1)
    filters: dict[str, Any] = {
        "verified": _yes_no(query.get("verified")),
        "stale": True if query.get("stale") == "yes" else None,
        "retired": True if query.get("retired") == "yes" else None,
    }
    code = CODE_COLUMN[kind]
    filters[code] = query.get(code) or None
    if kind == "places":
        filters["kind"] = query.get("kind") if query.get("kind") in KINDS else None
        filters["district"] = query.get("district") or None

    def load(session: Session) -> dict[str, Any]:
        page = editing.listing(session, kind, q=q, offset=(page_no - 1) * PER_PAGE, limit=PER_PAGE,
                               filters=filters)
        rows = [_list_row(kind, row) for row in page.rows]
        choices = {code: editing.distinct_values(session, kind, code)}
        if kind == "places":
            choices["district"] = editing.distinct_values(session, kind, "district")
        return {"rows": rows, "total": page.total, "choices": choices}

    loaded = await _db(request, load)
    total, shown = loaded["total"], len(loaded["rows"])
    first = (page_no - 1) * PER_PAGE + 1
    kept = {k: v for k, v in query.items() if k != "page" and v}

    def page_link(number: int) -> str:
        return f"/admin/{kind}?" + urlencode({**kept, "page": number})

    return {
        "kind": kind,
        "table_label": TABLES[kind],
        "singular": SINGULAR[kind],
        "q": q,
        "filters": _filter_controls(kind, query, loaded["choices"]),
        "filtered": bool(kept),
        "rows": loaded["rows"],
        "where_label": WHERE_COLUMN[kind][1],
        "code_label": field_label(code),
        "total": total,
        "first": first if shown else 0,
        "last": first + shown - 1 if shown else 0,
        "prev_link": page_link(page_no - 1) if page_no > 1 else None,
        "next_link": page_link(page_no + 1) if first + shown - 1 < total and shown else None,
        "new_kind": query.get("kind") if query.get("kind") in KINDS else "attraction",
    }


def _list_row(kind: str, row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "title": getattr(row, editing.TITLE_FIELD[kind]),
        "group": KINDS.get(getattr(row, "kind", ""), ""),
        "code": getattr(row, CODE_COLUMN[kind]),
        "where": getattr(row, WHERE_COLUMN[kind][0]) or "",
        "verified": row.verified,
        "verified_by": row.verified_by or "",
        "verified_at": local_time(row.verified_at),
        "stale": editing.is_stale(row),
        "retired": row.retired,
        "updated": local_time(row.updated_at),
    }


def _filter_controls(kind: str, query: Any, choices: dict[str, list[str]]) -> list[dict[str, Any]]:
    def control(name: str, label: str, options: list[tuple[str, str]]) -> dict[str, Any]:
        return {"name": name, "label": label, "value": query.get(name, ""), "options": options}

    controls = []
    if kind == "places":
        controls.append(control("kind", "Nhóm", [("", "Tất cả"), *KINDS.items()]))
    code = CODE_COLUMN[kind]
    controls.append(control(code, field_label(code), [("", "Tất cả"), *((c, c) for c in choices[code])]))
    if kind == "places":
        controls.append(control("district", "Quận/huyện",
                                [("", "Tất cả"), *((d, d) for d in choices["district"])]))
    controls += [
        control("verified", "Kiểm chứng",
                [("", "Tất cả"), ("yes", "Đã kiểm chứng"), ("no", "Chưa kiểm chứng")]),
        control("stale", "Cần xem lại", [("", "Tất cả"),
                                         ("yes", "Chưa kiểm chứng hoặc kiểm chứng đã quá 1 năm")]),
        control("retired", "Trạng thái", [("", "Đang sử dụng"), ("yes", "Đã ngừng sử dụng")]),
    ]
    return controls


# ---------------------------------------------------------------- forms


def _sections(kind: str, values: dict[str, str], errors: dict[str, list[str]],
              saved: dict[str, str], choices: dict[str, Any]) -> list[dict[str, Any]]:
    schema = SCHEMAS[kind].__fields__
    sections = []
    for title, names in LAYOUT[kind]:
        fields = []
        for name in names:
            widget, options, datalist = "text", [], None
            if name in TEXTAREAS:
                widget = "textarea"
            elif name in CHECKBOXES:
                widget = "checkbox"
            elif name in DATE_INPUTS:
                widget = "date"
            elif name == "kind":
                widget, options = "select", list(KINDS.items())
            elif name == "free":
                widget, options = "select", FREE_CHOICES
            elif name == "venue_slug":
                widget, options = "select", [("", "(Không gắn với địa điểm nào)"), *choices["venues"]]
                if values.get(name) and values[name] not in dict(options):
                    options.append((values[name], values[name]))  # keep what was typed, even unknown
            if name in choices["datalists"]:
                datalist = f"list-{name}"
            fields.append(FormField(
                name=name, label=field_label(name), widget=widget, value=values.get(name, ""),
                required=schema[name].required, hint=HINTS.get(name), errors=errors.get(name, []),
                options=options, datalist=datalist, saved=saved.get(name),
            ))
        sections.append({"title": title, "fields": fields, "map": "lat" in names})
    return sections


def _error_index(kind: str,
                 errors: list[dict[str, str]]) -> tuple[dict[str, list[str]], list[dict[str, str]]]:
    """Messages by form field ('dates.1.end' belongs to the dates box, said as its line),
    and the summary list shown at the top of the form."""
    known = set(field_names(kind))
    by_field: dict[str, list[str]] = {}
    summary = []
    for error in errors:
        path = error["field"].split(".")
        name, message = path[0], error["message"]
        if name == "dates" and len(path) > 1 and path[1].isdigit():
            message = f"Dòng {int(path[1]) + 1}: {message}"
        if name in known:
            by_field.setdefault(name, []).append(message)
            summary.append({"field": name, "label": field_label(name), "message": message})
        else:
            summary.append({"field": "", "label": "", "message": message})
    return by_field, summary


async def _form_page(request: web.Request, kind: str, *, row_id: int | None = None,
                     typed: dict[str, str] | None = None, errors: list[dict[str, str]] | None = None,
                     version: int | None = None, conflict: bool = False, status: int = 200,
                     from_questions: str = "") -> web.Response:
    """The new/edit form: blank, from the saved row, or with what the officer typed plus
    what is wrong with it (``errors``) or what someone else saved meanwhile (``conflict``)."""

    def load(session: Session) -> dict[str, Any]:
        loaded: dict[str, Any] = {"choices": _choices(session, kind), "current": None, "latest": None}
        if row_id is not None:
            row = editing.get(session, kind, row_id)
            loaded["current"] = editing.to_dict(row)
            loaded["stale"] = editing.is_stale(row)
            if conflict:
                loaded["latest"] = _latest_change(session, kind, row_id)
        return loaded

    loaded = await _db(request, load)
    current = loaded["current"]
    saved_values = _as_form(kind, current) if current else {}
    if typed is None:
        typed = saved_values or _as_form(kind, {"kind": request.query.get("kind", "attraction")})
    if current is not None and version is None:
        version = current["version"]

    saved_shown: dict[str, str] = {}
    conflict_info = None
    if conflict and current is not None:
        differences = [
            {"name": name, "label": field_label(name), "saved": _show(name, current.get(name)),
             "typed": _show_typed(name, typed[name])}
            for name in field_names(kind) if not _same(saved_values[name], typed[name])
        ]
        saved_shown = {d["name"]: d["saved"] for d in differences}
        conflict_info = {**loaded["latest"], "version": current["version"], "differences": differences}
        version = current["version"]  # saving again, deliberately, replaces the newer version

    by_field, summary = _error_index(kind, errors or [])
    meta = None
    if current is not None:
        meta = {
            "id": row_id, "version": current["version"], "title": _title(kind, current),
            "verified": current["verified"], "verified_note": _verified_note(current),
            "stale": loaded["stale"], "retired": current["retired"],
            "updated": local_time(current["updated_at"]), "slug": current["slug"],
        }
    base = f"/admin/{kind}"
    context = {
        "kind": kind,
        "table_label": TABLES[kind],
        "singular": SINGULAR[kind],
        "heading": meta["title"] if meta else f"Thêm {SINGULAR[kind]}",
        "action": f"{base}/{row_id}" if row_id is not None else f"{base}/new",
        "entry_url": f"{base}/{row_id}" if row_id is not None else None,
        "meta": meta,
        "version": version,
        "sections": _sections(kind, typed, by_field, saved_shown, loaded["choices"]),
        "datalists": loaded["choices"]["datalists"],
        "errors": summary,
        "conflict": conflict_info,
        "map": _map_urls(typed.get("lat", ""), typed.get("lon", "")) if kind == "places" else None,
        # Visitor questions this new entry answers (from the unanswered-question review).
        "from_questions": from_questions,
    }
    return aiohttp_jinja2.render_template("entry_form.html", request, context, status=status)


def _verified_note(data: dict[str, Any]) -> str:
    who, when = data["verified_by"], local_time(data["verified_at"])
    if who and when:
        return f"Đã kiểm chứng bởi {who} lúc {when}"
    if who or when:
        return f"Đã kiểm chứng bởi {who}" if who else f"Đã kiểm chứng lúc {when}"
    return "Đã kiểm chứng (không ghi lại ai kiểm chứng và khi nào)"


def _question_ids(text: str) -> list[int]:
    return numbers(text)


@routes.get(f"/admin/{KIND}/new")
async def new_form(request: web.Request) -> web.Response:
    """A blank form, or one started from a visitor's question (``name_vi``/``title_vi`` and
    ``from_questions`` in the query, as the unanswered-question review links)."""
    kind = _kind(request)
    title = editing.TITLE_FIELD[kind]
    start = {"kind": request.query.get("kind", "attraction"), title: request.query.get(title, "")}
    questions = ",".join(str(i) for i in _question_ids(request.query.get("from_questions", "")))
    return await _form_page(request, kind, typed=_as_form(kind, start), from_questions=questions)


# Two saves taking the same code (slug) at the same moment: the database keeps one, the
# other officer is asked to save again (a free code is picked then) instead of a 500 page.
_SAVED_AT_ONCE = [{"field": "slug", "message": "Một mục khác vừa được lưu cùng lúc với mã này. "
                                              "Hãy bấm Lưu lần nữa (hệ thống sẽ chọn mã khác)."}]


@routes.post(f"/admin/{KIND}/new")
async def create(request: web.Request) -> web.StreamResponse:
    kind = _kind(request)
    form = await form_dict(request)
    typed = _typed(kind, form)
    questions = _question_ids(form.get("from_questions", ""))
    user = current_user(request).username

    def save(session: Session) -> tuple[int, str]:
        row = editing.create(session, kind, _data(kind, typed), user)
        if questions:  # the questions that led here are answered now, in the same transaction
            review.resolve(session, questions, user, f"created:{kind}/{row.id}")
        return row.id, getattr(row, editing.TITLE_FIELD[kind])

    try:
        row_id, title = await _db(request, save)
    except InvalidEntry as exc:
        return await _form_page(request, kind, typed=typed, errors=exc.errors, status=400,
                                from_questions=",".join(map(str, questions)))
    except IntegrityError:
        return await _form_page(request, kind, typed=typed, errors=_SAVED_AT_ONCE, status=409,
                                from_questions=",".join(map(str, questions)))
    await flash(request, f"Đã lưu “{title}”.")
    raise web.HTTPFound(f"/admin/{kind}/{row_id}")


@routes.get(f"/admin/{ROW}")
async def edit_form(request: web.Request) -> web.Response:
    return await _form_page(request, _kind(request), row_id=_row_id(request))


def _version(form: dict[str, Any]) -> int:
    # A form without a version can't prove it started from the current row: treat it as
    # out of date (0 matches no row) rather than overwrite blindly.
    return number(form.get("version")) or 0


@routes.post(f"/admin/{ROW}")
async def save(request: web.Request) -> web.StreamResponse:
    kind, row_id = _kind(request), _row_id(request)
    form = await form_dict(request)
    typed, version = _typed(kind, form), _version(form)
    user = current_user(request).username

    def work(session: Session) -> tuple[int, str]:
        row = editing.update(session, kind, row_id, _data(kind, typed), user, expected_version=version)
        return row.version, getattr(row, editing.TITLE_FIELD[kind])

    try:
        new_version, title = await _db(request, work)
    except InvalidEntry as exc:
        return await _form_page(request, kind, row_id=row_id, typed=typed, errors=exc.errors,
                                version=version, status=400)
    except editing.VersionConflict:
        return await _form_page(request, kind, row_id=row_id, typed=typed, conflict=True, status=409)
    except IntegrityError:
        return await _form_page(request, kind, row_id=row_id, typed=typed, errors=_SAVED_AT_ONCE,
                                version=version, status=409)
    if new_version == version:
        await flash(request, f"Không có gì thay đổi ở “{title}”.", "warning")
    else:
        await flash(request, f"Đã lưu “{title}” (phiên bản {new_version}).")
    raise web.HTTPFound(f"/admin/{kind}/{row_id}")


# ---------------------------------------------------------------- one-click actions


async def _act(request: web.Request, work: Any, done: str) -> web.StreamResponse:
    """Run a button's change (``work`` returns the row); whatever happens, say so and go
    back to the entry."""
    kind, row_id = _kind(request), _row_id(request)
    form = await form_dict(request)
    user = current_user(request).username
    version = _version(form)
    try:
        # The version is read inside the transaction: the row is expired once it commits.
        new_version = await _db(request,
                                lambda session: work(session, kind, row_id, user, version, form).version)
    except editing.VersionConflict:
        latest = await _db(request, lambda session: _latest_change(session, kind, row_id))
        await flash(request, f"Chưa làm được: mục này vừa được lưu bởi {latest['who']} lúc {latest['when']}. "
                             "Hãy xem lại nội dung hiện tại rồi bấm lại.", "error")
    except InvalidEntry as exc:
        messages = "; ".join(
            f"{field_label(e['field'].split('.')[0])}: {e['message']}" for e in exc.errors
        )
        await flash(request, f"Chưa làm được: {messages}", "error")
    else:
        # A change that left the row as it was made no new version: say so.
        unchanged = new_version == version
        await flash(request, "Không có gì thay đổi: mục đã đúng như vậy." if unchanged else done,
                    "warning" if unchanged else "success")
    raise web.HTTPFound(f"/admin/{kind}/{row_id}")


@routes.post(f"/admin/{ROW}/verify")
async def verify(request: web.Request) -> web.StreamResponse:
    def work(session: Session, kind: str, row_id: int, user: str, version: int, _form: Any) -> Any:
        return editing.verify(session, kind, row_id, user, expected_version=version)

    return await _act(request, work, "Đã đánh dấu đã kiểm chứng.")


@routes.post(f"/admin/{ROW}/retire")
async def retire(request: web.Request) -> web.StreamResponse:
    def work(session: Session, kind: str, row_id: int, user: str, version: int, _form: Any) -> Any:
        return editing.set_retired(session, kind, row_id, True, user, expected_version=version)

    return await _act(request, work, "Đã ngừng sử dụng mục này: trợ lý sẽ không nhắc tới nữa.")


@routes.post(f"/admin/{ROW}/unretire")
async def unretire(request: web.Request) -> web.StreamResponse:
    def work(session: Session, kind: str, row_id: int, user: str, version: int, _form: Any) -> Any:
        return editing.set_retired(session, kind, row_id, False, user, expected_version=version)

    return await _act(request, work, "Đã dùng lại mục này.")


# ---------------------------------------------------------------- history and restore


@routes.post(f"/admin/{ROW}/restore")
async def restore(request: web.Request) -> web.StreamResponse:
    def work(session: Session, kind: str, row_id: int, user: str, version: int, form: Any) -> Any:
        revision_id = number(form.get("revision_id")) or 0
        return editing.restore(session, kind, row_id, revision_id, user, expected_version=version)

    return await _act(request, work, "Đã khôi phục phiên bản đã chọn (thành một phiên bản mới).")


@routes.get(f"/admin/{ROW}/history")
@aiohttp_jinja2.template("entry_history.html")
async def history(request: web.Request) -> dict[str, Any]:
    kind, row_id = _kind(request), _row_id(request)

    def load(session: Session) -> dict[str, Any]:
        row = editing.get(session, kind, row_id)
        revisions = [_revision_view(r, row.version) for r in editing.history(session, kind, row_id)]
        return {"title": getattr(row, editing.TITLE_FIELD[kind]), "version": row.version,
                "revisions": revisions}

    loaded = await _db(request, load)
    return {
        "kind": kind,
        "table_label": TABLES[kind],
        "entry_url": f"/admin/{kind}/{row_id}",
        "title": loaded["title"],
        "version": loaded["version"],
        "revisions": loaded["revisions"],
    }


def _revision_view(revision: Revision, current_version: int) -> dict[str, Any]:
    changes = [
        {"label": field_label(name), "old": _show(name, old), "new": _show(name, new)}
        for name, (old, new) in revision.changes.items()
    ]
    return {
        "id": revision.id,
        "version": revision.version,
        "action_code": revision.action,
        "action": ACTIONS.get(revision.action, revision.action),
        "who": revision.username or "không rõ",
        "when": local_time(revision.at),
        "changes": changes,
        "current": revision.version == current_version,
    }

