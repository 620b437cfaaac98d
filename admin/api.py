"""The JSON API under ``/api/v1/``: the same places, events and practical information the
admin's pages edit, for the department's scripts and partner systems.

Every request carries a staff member's bearer token (checked by ``admin.security``); every
change goes through ``knowledge.editing`` exactly as a form save does (validation, unique
names, verification stamps, a revision in the history). Changing an existing row needs the
version the client started from (``If-Match: "<version>"`` or a ``version`` field), so a
script can never silently overwrite an officer's edit. ``admin/openapi.py`` documents it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable, Iterator
from functools import partial
from typing import Any

from aiohttp import web
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from admin.database import in_transaction
from admin.security import current_user
from knowledge import editing
from knowledge.schemas import FieldError, InvalidEntry, field_names, text_problem

routes = web.RouteTableDef()

API = "/api/v1"
KINDS: tuple[str, ...] = tuple(editing.MODELS)
DEFAULT_LIMIT, MAX_LIMIT = 50, 500
# Ids and versions are PostgreSQL integers: anything larger names no row, and must be
# refused before it reaches the database (which would fail instead of finding nothing).
MAX_INT = 2**31 - 1
# Longest search text or filter value: each search word is one LIKE clause.
MAX_QUERY_TEXT = 200
BOOLEAN_FILTERS = frozenset({"verified", "retired", "stale"})
TRUE_WORDS, FALSE_WORDS = frozenset({"true", "1"}), frozenset({"false", "0"})

# (action, method, path after /api/v1/{kind}): the routes below and the OpenAPI document
# are both built from this table.
OPERATIONS: tuple[tuple[str, str, str], ...] = (
    ("list", "GET", ""),
    ("create", "POST", ""),
    ("get", "GET", "/{id}"),
    ("replace", "PUT", "/{id}"),
    ("update", "PATCH", "/{id}"),
    ("delete", "DELETE", "/{id}"),
    ("verify", "POST", "/{id}/verify"),
    ("history", "GET", "/{id}/history"),
    ("restore", "POST", "/{id}/restore"),
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Work = Callable[[web.Request, str], Awaitable[web.StreamResponse]]
_dumps = partial(json.dumps, ensure_ascii=False)


class Refusal(Exception):
    """A request the API answers with an error of its own (bad parameter, bad body,
    missing precondition), raised from deep inside a handler."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra

    def response(self) -> web.Response:
        return _json({"error": self.code, "message": self.message, **self.extra}, status=self.status)


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=_dumps)


def path_of(kind: str, suffix: str) -> str:
    """The documented path of an operation, e.g. ``/api/v1/places/{id}``."""
    return f"{API}/{kind}{suffix}"


def etag(version: int) -> str:
    return f'"{version}"'


# --- reading the request -------------------------------------------------------------------

def _printable(text: str) -> str:
    """``text`` safe to echo back in an error: NUL and unpaired surrogates escaped."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\u0000")


def _unsafe_values(body: dict[str, Any]) -> Iterator[FieldError]:
    """Values no field can hold, anywhere in the body. Iterative, because a deeply nested
    body must not exhaust the stack."""
    stack: list[tuple[str, Any]] = [(str(k), v) for k, v in body.items()]
    while stack:
        where, value = stack.pop()
        problem = text_problem(where)
        if problem:
            yield FieldError(_printable(where), problem)
        elif isinstance(value, str):
            problem = text_problem(value)
            if problem:
                yield FieldError(where, problem)
        elif isinstance(value, bool) or value is None:
            continue
        elif isinstance(value, int) and abs(value) > 2**53:
            yield FieldError(where, "Số quá lớn.")
        elif isinstance(value, float) and not math.isfinite(value):
            yield FieldError(where, "Số quá lớn.")
        elif isinstance(value, dict):
            stack.extend((f"{where}.{k}", v) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((f"{where}.{i}", v) for i, v in enumerate(value))


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in JSON")


async def _json_object(request: web.Request, *, optional: bool = False) -> dict[str, Any]:
    raw = await request.read()
    if not raw.strip():
        if optional:
            return {}
        raise Refusal(400, "invalid_json", "Send a JSON object in the request body.")
    try:
        body = json.loads(raw, parse_constant=_no_constants)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError too
        raise Refusal(400, "invalid_json", f"The request body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise Refusal(400, "invalid_body",
                      f"The request body must be a JSON object, not {type(body).__name__}.")
    problems = list(_unsafe_values(body))
    if problems:
        raise InvalidEntry(problems)
    return body


def _only_fields(body: dict[str, Any], allowed: set[str] | frozenset[str]) -> None:
    unknown = [key for key in body if key not in allowed]
    if unknown:
        raise InvalidEntry([FieldError(key, "Trường này không có trong biểu mẫu.") for key in unknown])


def _entry(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    """The body as entry values: unknown fields refused by name, system fields (id,
    version, timestamps...) dropped, so a row fetched with GET can be sent back as it is."""
    _only_fields(body, set(field_names(kind)) | set(editing.SYSTEM_FIELDS))
    return editing.editable(body)


def _query(request: web.Request, allowed: tuple[str, ...] | frozenset[str]) -> dict[str, str]:
    """The query string, each parameter at most once; a misspelt filter is an error rather
    than silently ignored (it would return every row)."""
    values: dict[str, str] = {}
    for name in request.query:
        if name not in allowed:
            expected, name = ", ".join(allowed) or "none", _printable(name)
            raise Refusal(400, "invalid_parameter",
                          f"Unknown query parameter '{name}' (expected: {expected}).", parameter=name)
        given = request.query.getall(name)
        if len(given) > 1:
            raise Refusal(400, "invalid_parameter", f"Give '{name}' only once.", parameter=name)
        value = given[0]
        problem = text_problem(value)
        if problem or len(value) > MAX_QUERY_TEXT:
            message = f"'{name}' is not valid" + (": it contains NUL or invalid characters." if problem
                                                  else f": at most {MAX_QUERY_TEXT} characters.")
            raise Refusal(400, "invalid_parameter", message, parameter=name)
        values[name] = value
    return values


def _int_value(value: Any, name: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        number = None
    else:
        try:
            number = int(value.strip() if isinstance(value, str) else value)
        except ValueError:
            number = None
    if number is None or not lo <= number <= hi:
        raise Refusal(400, "invalid_parameter", f"'{name}' must be a whole number from {lo} to {hi}.",
                      parameter=name)
    return number


def _row_id(request: web.Request) -> int:
    row_id = int(request.match_info["id"])  # the route only matches digits
    if row_id > MAX_INT:
        raise editing.NotFound(request.path)
    return row_id


def _etag_version(header: str) -> int:
    tag = header.strip().removeprefix("W/")
    if len(tag) >= 2 and tag[0] == tag[-1] == '"':
        tag = tag[1:-1]
    if not tag.isdigit():
        raise Refusal(400, "invalid_parameter",
                      'If-Match must be the ETag of the version being changed, e.g. If-Match: "3".',
                      parameter="If-Match")
    return _int_value(tag, "If-Match", 1, MAX_INT)


def _expected_version(request: web.Request, given: Any, source: str, *, required: bool) -> int | None:
    """The version the client says it is changing: the If-Match header, else ``given``
    (the body's ``version`` field, or ``?version=`` for DELETE, as ``source`` says)."""
    header = request.headers.get("If-Match")
    if header is not None:
        return _etag_version(header)
    if given is not None:
        return _int_value(given, "version", 1, MAX_INT)
    if required:
        raise Refusal(
            428, "precondition_required",
            f'Say which version you are changing: send If-Match: "<version>" (the ETag from GET) '
            f"or {source}. This keeps you from overwriting someone else's change.",
        )
    return None


# --- database work --------------------------------------------------------------------------

def _row_response(data: dict[str, Any], status: int = 200, location: str | None = None) -> web.Response:
    response = _json(data, status=status)
    response.headers["ETag"] = etag(data["version"])
    if location:
        response.headers["Location"] = location
    return response


def _revision(revision: Any) -> dict[str, Any]:
    return {
        "id": revision.id,
        "version": revision.version,
        "action": revision.action,
        "username": revision.username,
        "at": revision.at.replace(microsecond=0).isoformat(),
        "changes": revision.changes,
    }


# --- handlers -------------------------------------------------------------------------------

def _list_parameters(kind: str) -> tuple[str, ...]:
    return (*editing.FILTERS[kind], "q", "offset", "limit")


async def list_rows(request: web.Request, kind: str) -> web.StreamResponse:
    query = _query(request, _list_parameters(kind))
    offset = _int_value(query.get("offset", 0), "offset", 0, MAX_INT)
    limit = _int_value(query.get("limit", DEFAULT_LIMIT), "limit", 0, MAX_LIMIT)
    filters: dict[str, Any] = {}
    for name in editing.FILTERS[kind]:
        value = query.get(name, "")
        if name in BOOLEAN_FILTERS and value:
            word = value.strip().lower()
            if word not in TRUE_WORDS | FALSE_WORDS:
                raise Refusal(400, "invalid_parameter", f"'{name}' must be true, false, 1 or 0.",
                              parameter=name)
            filters[name] = word in TRUE_WORDS
        elif value:
            filters[name] = value
    q = query.get("q")

    def work(session: Session) -> tuple[int, list[dict[str, Any]]]:
        page = editing.listing(session, kind, q=q, offset=offset, limit=limit, filters=filters)
        return page.total, [editing.to_dict(row) for row in page.rows]

    total, items = await in_transaction(request, work)
    following = None
    if limit and offset + limit < total:
        following = str(request.rel_url.update_query(offset=offset + limit, limit=limit))
    return _json({"items": items, "total": total, "offset": offset, "limit": limit, "next": following})


def _tags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",")}


async def get_row(request: web.Request, kind: str) -> web.StreamResponse:
    _query(request, ())
    row_id = _row_id(request)
    data = await in_transaction(request, lambda session: editing.to_dict(editing.get(session, kind, row_id)))
    seen = request.headers.get("If-None-Match")
    if seen is not None and ({etag(data["version"]), "*"} & _tags(seen)):
        return web.Response(status=304, headers={"ETag": etag(data["version"])})
    return _row_response(data)


async def create_row(request: web.Request, kind: str) -> web.StreamResponse:
    _query(request, ())
    values = _entry(kind, await _json_object(request))
    user = current_user(request).username

    def work(session: Session) -> dict[str, Any]:
        return editing.to_dict(editing.create(session, kind, values, user))

    data = await in_transaction(request, work)
    return _row_response(data, status=201, location=path_of(kind, f"/{data['id']}"))


async def _change(request: web.Request, kind: str, *, partial: bool) -> web.StreamResponse:
    _query(request, ())
    row_id = _row_id(request)
    body = await _json_object(request)
    values = _entry(kind, body)
    expected = _expected_version(request, body.get("version"), "a 'version' field", required=True)
    user = current_user(request).username

    def work(session: Session) -> dict[str, Any]:
        return editing.to_dict(editing.update(session, kind, row_id, values, user, expected, partial=partial))

    return _row_response(await in_transaction(request, work))


async def replace_row(request: web.Request, kind: str) -> web.StreamResponse:
    return await _change(request, kind, partial=False)


async def update_row(request: web.Request, kind: str) -> web.StreamResponse:
    return await _change(request, kind, partial=True)


async def delete_row(request: web.Request, kind: str) -> web.StreamResponse:
    query = _query(request, ("version",))
    row_id = _row_id(request)
    expected = _expected_version(request, query.get("version"), "?version=<version>", required=True)
    user = current_user(request).username

    def work(session: Session) -> dict[str, Any]:
        return editing.to_dict(editing.delete(session, kind, row_id, user, expected))

    return _row_response(await in_transaction(request, work))


async def verify_row(request: web.Request, kind: str) -> web.StreamResponse:
    _query(request, ())
    row_id = _row_id(request)
    body = await _json_object(request, optional=True)
    _only_fields(body, {"version"})
    expected = _expected_version(request, body.get("version"), "a 'version' field", required=False)
    user = current_user(request).username

    def work(session: Session) -> dict[str, Any]:
        return editing.to_dict(editing.verify(session, kind, row_id, user, expected))

    return _row_response(await in_transaction(request, work))


async def row_history(request: web.Request, kind: str) -> web.StreamResponse:
    _query(request, ())
    row_id = _row_id(request)

    def work(session: Session) -> list[dict[str, Any]]:
        editing.get(session, kind, row_id)  # 404 for a row that never existed
        return [_revision(revision) for revision in editing.history(session, kind, row_id)]

    return _json({"items": await in_transaction(request, work)})


async def restore_row(request: web.Request, kind: str) -> web.StreamResponse:
    _query(request, ())
    row_id = _row_id(request)
    body = await _json_object(request)
    _only_fields(body, {"revision_id", "version"})
    if "revision_id" not in body:
        raise InvalidEntry([FieldError("revision_id", "Bắt buộc phải điền.")])
    revision = body["revision_id"]
    if isinstance(revision, bool) or not isinstance(revision, int) or not 1 <= revision <= MAX_INT:
        raise InvalidEntry([FieldError("revision_id", "Phải là số (nguyên) của một bản lưu trong lịch sử.")])
    expected = _expected_version(request, body.get("version"), "a 'version' field", required=True)
    user = current_user(request).username

    def work(session: Session) -> dict[str, Any]:
        return editing.to_dict(editing.restore(session, kind, row_id, revision, user, expected))

    return _row_response(await in_transaction(request, work))


HANDLERS: dict[str, Work] = {
    "list": list_rows,
    "create": create_row,
    "get": get_row,
    "replace": replace_row,
    "update": update_row,
    "delete": delete_row,
    "verify": verify_row,
    "history": row_history,
    "restore": restore_row,
}


def _endpoint(kind: str, action: str) -> Handler:
    """``HANDLERS[action]`` for one kind, with the knowledge layer's failures said as JSON."""
    work = HANDLERS[action]

    async def handle(request: web.Request) -> web.StreamResponse:
        try:
            return await work(request, kind)
        except Refusal as refusal:
            return refusal.response()
        except editing.NotFound:
            return Refusal(404, "not_found", f"Nothing at {request.path}.").response()
        except InvalidEntry as exc:
            return Refusal(422, "validation", "The entry is not valid: see 'fields' (in Vietnamese).",
                           fields=exc.errors).response()
        except editing.VersionConflict as exc:
            return Refusal(
                409, "conflict",
                f"Version {exc.expected} is out of date: the row is now at version {exc.current['version']}. "
                "Look at 'current', apply your change to it and send it again with its version.",
                current=exc.current,
            ).response()
        except IntegrityError:
            # Two requests creating the same name at the same moment: one wins, the other
            # is told to look again rather than given a server error.
            return Refusal(409, "conflict", "Another change to the same entry was saved at the same time; "
                                            "reload and try again.").response()

    handle.__name__ = handle.__qualname__ = f"{action}_{kind}"
    return handle


for _kind in KINDS:
    for _action, _method, _suffix in OPERATIONS:
        routes.route(_method, path_of(_kind, _suffix.replace("{id}", r"{id:\d+}")),
                     name=f"api-{_kind}-{_action}")(_endpoint(_kind, _action))


@routes.get(f"{API}/me", name="api-me")
async def me(request: web.Request) -> web.StreamResponse:
    user = current_user(request)
    return _json({"username": user.username, "role": user.role, "display_name": user.display_name})
