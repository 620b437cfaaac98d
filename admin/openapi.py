"""The API's OpenAPI 3.0.3 document, built from the code it describes: entry schemas come
from the pydantic models that validate every change (``knowledge.schemas``), the paths from
the operation table ``admin.api`` registers its routes with. A field or route added there
appears here without anyone editing a static file. Served at ``/api/v1/openapi.json``.
"""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from admin import api
from knowledge import editing
from knowledge.schemas import SCHEMAS

routes = web.RouteTableDef()

DOCUMENT_PATH = f"{api.API}/openapi.json"
ME_PATH = f"{api.API}/me"
JSON = "application/json"

DESCRIPTION = """\
Places (attractions and services), events and practical information (FAQ) of the Đà Nẵng
tourism assistant's knowledge base: the same data the department's officers edit in the web
admin at /admin, through the same validation and history.

**Authentication.** Every request, including the one for this document, needs a staff
member's API token: `Authorization: Bearer <token>`. An administrator issues tokens in the
admin (Tài khoản). Without a valid token of an active account the answer is 401.

**Versions.** Every row has a `version`, returned in the body and as `ETag: "<version>"`.
Changing a row (PUT, PATCH, DELETE, restore) requires the version you started from, either
`If-Match: "<version>"` or the `version` field (`?version=` for DELETE). Without it: 428; if
someone saved the row since: 409 with the row as it is now in `current`.

**Deleting** retires the row: the assistant stops mentioning it, it stays readable with
`retired: true` and in lists with `retired=true`, and can be brought back with restore or
`PATCH {"retired": false}`.

**Errors** are JSON `{"error": code, "message": text}`; validation errors (422) list
`fields: [{"field", "message"}]`, with messages in Vietnamese for the department's officers.
Fields the server writes (id, version, verified_by, verified_at, created_at, updated_at) are
ignored on input, so a row read with GET can be edited and sent back as it is; any other
unknown field is a 422. List fields also accept text with one item per line or separated by
`;`, and event `dates` accepts text such as `2027-06-01..2027-06-03; 2027-07-01`.
"""

# Per kind: what the filters mean.
FILTER_DESCRIPTIONS = {
    "kind": "Only 'attraction' or only 'service' places.",
    "category": "Exact category code, e.g. museum, beach, hospital, festival.",
    "district": "Exact district name, e.g. Hải Châu.",
    "topic": "Exact topic code, e.g. visa, emergency.",
    "verified": "true: only rows staff have checked; false: only unchecked rows.",
    "retired": "true: only retired (deleted) rows; false or absent: only live rows.",
    "stale": "true: only rows never checked or checked more than "
             f"{editing.STALE_AFTER_DAYS} days ago; false or absent: no filter.",
}

SYSTEM_PROPERTIES: dict[str, dict[str, Any]] = {
    "id": {"type": "integer", "description": "Assigned by the server."},
    "version": {"type": "integer", "minimum": 1, "description": "Bumped by every change; also the ETag."},
    "verified_by": {"type": "string", "nullable": True, "description": "Who last checked the facts."},
    "verified_at": {"type": "string", "nullable": True,
                    "description": "When the facts were last checked: UTC, YYYY-MM-DDTHH:MM:SS."},
    "created_at": {"type": "string", "description": "UTC, YYYY-MM-DDTHH:MM:SS."},
    "updated_at": {"type": "string", "description": "UTC, YYYY-MM-DDTHH:MM:SS."},
}

VERSION_PROPERTY = {
    "type": "integer",
    "minimum": 1,
    "description": "The version being changed (instead of an If-Match header).",
}

SUMMARIES = {
    "list": "List {plural}: filters, search, paging",
    "create": "Create a {singular}",
    "get": "Read one {singular}",
    "replace": "Replace a {singular} (every field; missing ones are emptied)",
    "update": "Change some fields of a {singular}",
    "delete": "Retire a {singular} (kept, never mentioned again)",
    "verify": "Mark a {singular}'s facts as checked now, by you",
    "history": "Every saved version of a {singular}",
    "restore": "Bring back a {singular} as it was after a revision",
}
OPERATION_IDS = {
    "list": "list{name}s",
    "create": "create{name}",
    "get": "get{name}",
    "replace": "replace{name}",
    "update": "update{name}",
    "delete": "delete{name}",
    "verify": "verify{name}",
    "history": "get{name}History",
    "restore": "restore{name}",
}
SINGULAR = {"places": "place", "events": "event", "faqs": "practical-information entry"}
PLURAL = {"places": "places", "events": "events", "faqs": "practical-information entries"}


def model_name(kind: str) -> str:
    return editing.MODELS[kind].__name__  # Place, Event, Faq


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _rewrite_refs(node: Any) -> Any:
    """pydantic v1 points at ``#/definitions/X``; OpenAPI keeps them in components."""
    if isinstance(node, dict):
        return {
            key: (value.replace("#/definitions/", "#/components/schemas/", 1)
                  if key == "$ref" and isinstance(value, str) else _rewrite_refs(value))
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_rewrite_refs(item) for item in node]
    return node


def _pydantic_schemas(model: Any) -> dict[str, dict[str, Any]]:
    """The model's JSON schema and its nested definitions, as OpenAPI component schemas.
    Optional fields are marked ``nullable`` (OpenAPI 3.0 has no "null" type; pydantic v1
    leaves it out), since null is how a client empties them."""
    schema = _rewrite_refs(model.schema())
    found = dict(schema.pop("definitions", {}))
    found[model.__name__] = schema
    models = _models(model)
    for name, definition in found.items():
        fields = models[name].__fields__ if name in models else {}
        for field_name, prop in definition.get("properties", {}).items():
            field = fields.get(field_name)
            if field is not None and field.allow_none and "$ref" not in prop:
                prop["nullable"] = True
    return found


def _models(model: Any) -> dict[str, Any]:
    """The model and every model nested in its fields, by name (as in "definitions")."""
    found = {model.__name__: model}
    for field in model.__fields__.values():
        nested = field.type_
        if isinstance(nested, type) and issubclass(nested, BaseModel) and nested.__name__ not in found:
            found.update(_models(nested))
    return found


def _write_schemas(kind: str, entry: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """PUT takes a whole entry, PATCH any subset; both may carry the version being changed."""
    name = model_name(kind)
    replace = copy.deepcopy(entry)
    replace["title"] = f"{name}Replace"
    replace["properties"]["version"] = dict(VERSION_PROPERTY)
    patch = copy.deepcopy(replace)
    patch["title"] = f"{name}Patch"
    patch.pop("required", None)
    for prop in patch["properties"].values():
        prop.pop("default", None)  # a field left out of a PATCH keeps its value
    return {f"{name}Replace": replace, f"{name}Patch": patch}


def _output_schema(kind: str, entry: dict[str, Any]) -> dict[str, Any]:
    """A row as the API returns it: the entry's fields, always present, plus the ones the
    server keeps."""
    properties = {}
    for field_name, prop in entry["properties"].items():
        prop = {k: v for k, v in prop.items() if k != "default"}
        if field_name == "slug":
            prop.pop("nullable", None)
            prop["description"] = "Stable identifier, unique among rows of this kind."
        properties[field_name] = prop
    if kind == "events":
        properties["dates"] = {"type": "array", "items": ref("EventDate"), "description": "Concrete dates."}
        properties["venue_slug"]["description"] = "Slug of the place where it happens, or null."
    properties.update(copy.deepcopy(SYSTEM_PROPERTIES))
    return {"title": model_name(kind), "type": "object", "properties": properties,
            "required": list(properties)}


def _error(*, extra: dict[str, Any] | None = None, required: tuple[str, ...] = ()) -> dict[str, Any]:
    properties = {
        "error": {"type": "string", "description": "Machine-readable code, e.g. not_found, invalid_json."},
        "message": {"type": "string", "description": "What went wrong and what to do, in English."},
        **(extra or {}),
    }
    return {"type": "object", "properties": properties, "required": ["error", "message", *required]}


def _shared_schemas() -> dict[str, dict[str, Any]]:
    return {
        "EventDate": {
            "type": "object",
            "properties": {"start": {"type": "string", "format": "date"},
                           "end": {"type": "string", "format": "date", "description": "Inclusive."}},
            "required": ["start", "end"],
        },
        "Error": _error(extra={"parameter": {
            "type": "string", "description": "The query parameter or header at fault (400 only)."}}),
        "FieldError": {
            "type": "object",
            "properties": {
                "field": {"type": "string", "description": "The field at fault; nested as dates.0.end."},
                "message": {"type": "string", "description": "What is wrong, in Vietnamese."},
            },
            "required": ["field", "message"],
        },
        "ValidationError": _error(
            extra={"fields": {"type": "array", "items": ref("FieldError")}}, required=("fields",)
        ),
        "Revision": {
            "type": "object",
            "properties": {
                "id": {"type": "integer", "description": "Give it to restore as revision_id."},
                "version": {"type": "integer", "description": "The row's version after this change."},
                "action": {"type": "string",
                           "description": "create, update, retire, unretire, verify, restore..."},
                "username": {"type": "string", "nullable": True},
                "at": {"type": "string", "description": "UTC, YYYY-MM-DDTHH:MM:SS."},
                "changes": {
                    "type": "object",
                    "description": "Each changed field: [value before, value after].",
                    "additionalProperties": {"type": "array", "items": {}, "minItems": 2, "maxItems": 2},
                },
            },
            "required": ["id", "version", "action", "username", "at", "changes"],
        },
        "RevisionList": {
            "type": "object",
            "properties": {"items": {"type": "array", "items": ref("Revision"),
                                     "description": "Newest first."}},
            "required": ["items"],
        },
        "VerifyRequest": {
            "type": "object",
            "properties": {"version": dict(VERSION_PROPERTY)},
            "additionalProperties": False,
        },
        "RestoreRequest": {
            "type": "object",
            "properties": {
                "revision_id": {"type": "integer", "minimum": 1, "description": "From the row's history."},
                "version": dict(VERSION_PROPERTY),
            },
            "required": ["revision_id"],
            "additionalProperties": False,
        },
        "Me": {
            "type": "object",
            "properties": {
                "username": {"type": "string"},
                "role": {"type": "string", "enum": ["editor", "admin"]},
                "display_name": {"type": "string", "nullable": True},
            },
            "required": ["username", "role", "display_name"],
        },
    }


def component_schemas() -> dict[str, dict[str, Any]]:
    schemas = _shared_schemas()
    for kind in api.KINDS:
        name = model_name(kind)
        generated = _pydantic_schemas(SCHEMAS[kind])
        entry = generated[SCHEMAS[kind].__name__]
        schemas.update(generated)
        schemas.update(_write_schemas(kind, entry))
        schemas[name] = _output_schema(kind, entry)
        schemas[f"{name}List"] = {
            "type": "object",
            "properties": {
                "items": {"type": "array", "items": ref(name)},
                "total": {"type": "integer", "description": "Rows matching, on every page."},
                "offset": {"type": "integer"},
                "limit": {"type": "integer"},
                "next": {"type": "string", "nullable": True,
                         "description": "Path and query of the next page, or null on the last one."},
            },
            "required": ["items", "total", "offset", "limit", "next"],
        }
        schemas[f"{name}Conflict"] = _error(extra={"current": ref(name)}, required=("current",))
    return schemas


# --- operations ----------------------------------------------------------------------------

def _response(description: str, schema: str | None = None,
              headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description}
    if schema:
        response["content"] = {JSON: {"schema": ref(schema)}}
    if headers:
        response["headers"] = headers
    return response


ETAG_HEADER = {"ETag": {"description": 'The row\'s version, quoted: "3".', "schema": {"type": "string"}}}
ERRORS = {
    "400": "A query parameter, header or the body's JSON is not valid (see 'parameter').",
    "401": "No valid API token of an active account.",
    "404": "No such row.",
    "428": "No If-Match header and no version given.",
}


def _errors(*codes: str) -> dict[str, Any]:
    return {code: _response(ERRORS[code], "Error") for code in codes}


def _parameters(kind: str, action: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if action != "list" and action != "create":
        found.append({"$ref": "#/components/parameters/id"})
    if action in ("replace", "update", "delete", "verify", "restore"):
        found.append({"$ref": "#/components/parameters/ifMatch"})
    if action == "get":
        found.append({"name": "If-None-Match", "in": "header", "required": False,
                      "schema": {"type": "string"},
                      "description": "The ETag you have: 304 with no body if the row has not changed."})
    if action == "delete":
        found.append({"name": "version", "in": "query", "required": False,
                      "schema": {"type": "integer", "minimum": 1},
                      "description": "The version being retired (instead of If-Match)."})
    if action == "list":
        for name in editing.FILTERS[kind]:
            boolean = name in api.BOOLEAN_FILTERS
            schema: dict[str, Any] = {"type": "boolean" if boolean else "string"}
            if kind == "places" and name == "kind":
                schema["enum"] = ["attraction", "service"]
            found.append({"name": name, "in": "query", "required": False, "schema": schema,
                          "description": FILTER_DESCRIPTIONS[name]
                          + (" Also 1 or 0." if boolean else "")})
        found.extend({"$ref": f"#/components/parameters/{name}"} for name in ("q", "offset", "limit"))
    return found


def _request_body(kind: str, action: str) -> dict[str, Any] | None:
    name = model_name(kind)
    schema = {"create": SCHEMAS[kind].__name__, "replace": f"{name}Replace", "update": f"{name}Patch",
              "verify": "VerifyRequest", "restore": "RestoreRequest"}.get(action)
    if schema is None:
        return None
    return {"required": action != "verify", "content": {JSON: {"schema": ref(schema)}}}


def _responses(kind: str, action: str) -> dict[str, Any]:
    name = model_name(kind)
    row = _response(f"The {SINGULAR[kind]} as saved.", name, ETAG_HEADER)
    invalid = _response("The body breaks a rule; every problem is listed in 'fields'.", "ValidationError")
    conflict = _response("Version out of date: 'current' is the row as it is now.", f"{name}Conflict")
    if action == "list":
        return {"200": _response("One page of rows, most recently changed first.", f"{name}List"),
                **_errors("400", "401")}
    if action == "create":
        headers = {**ETAG_HEADER, "Location": {"description": "Path of the new row.",
                                               "schema": {"type": "string"}}}
        return {"201": _response(f"The new {SINGULAR[kind]}.", name, headers), **_errors("400", "401"),
                "409": _response("Another request saved the same entry at the same moment.", "Error"),
                "422": invalid}
    if action == "get":
        return {"200": row, "304": {"description": "Not changed since the ETag in If-None-Match."},
                **_errors("400", "401", "404")}
    if action == "history":
        return {"200": _response("Every revision, newest first.", "RevisionList"),
                **_errors("400", "401", "404")}
    responses: dict[str, Any] = {"200": row, **_errors("400", "401", "404"), "409": conflict}
    if action != "delete":
        responses["422"] = invalid
    if action != "verify":
        responses.update(_errors("428"))
    return responses


def _operation(kind: str, action: str) -> dict[str, Any]:
    words = {"plural": PLURAL[kind], "singular": SINGULAR[kind]}
    operation: dict[str, Any] = {
        "operationId": OPERATION_IDS[action].format(name=model_name(kind)),
        "summary": SUMMARIES[action].format(**words),
        "tags": [kind],
        "parameters": _parameters(kind, action),
        "responses": _responses(kind, action),
    }
    body = _request_body(kind, action)
    if body is not None:
        operation["requestBody"] = body
    if not operation["parameters"]:
        del operation["parameters"]
    return operation


def _paths() -> dict[str, dict[str, Any]]:
    paths: dict[str, dict[str, Any]] = {}
    for kind in api.KINDS:
        for action, method, suffix in api.OPERATIONS:
            paths.setdefault(api.path_of(kind, suffix), {})[method.lower()] = _operation(kind, action)
    paths[ME_PATH] = {"get": {
        "operationId": "getMe",
        "summary": "The account the token belongs to",
        "tags": ["account"],
        "responses": {"200": _response("The token's account.", "Me"), **_errors("401")},
    }}
    paths[DOCUMENT_PATH] = {"get": {
        "operationId": "getOpenApiDocument",
        "summary": "This document (needs a token like every /api/ path)",
        "tags": ["documentation"],
        "responses": {"200": {"description": "OpenAPI 3.0.3 document.",
                              "content": {JSON: {"schema": {"type": "object"}}}},
                      **_errors("401")},
    }}
    return paths


PARAMETERS: dict[str, dict[str, Any]] = {
    "id": {"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}},
    "ifMatch": {
        "name": "If-Match", "in": "header", "required": False, "schema": {"type": "string"},
        "description": 'The ETag of the version being changed, e.g. "3" (or give the version in the body, '
                       "or ?version= for DELETE).",
    },
    "q": {
        "name": "q", "in": "query", "required": False,
        "schema": {"type": "string", "maxLength": api.MAX_QUERY_TEXT},
        "description": "Words that names, aliases, addresses... start with; accents and case do not matter "
                       "(cau rong finds Cầu Rồng).",
    },
    "offset": {"name": "offset", "in": "query", "required": False,
               "schema": {"type": "integer", "minimum": 0, "default": 0}},
    "limit": {"name": "limit", "in": "query", "required": False,
              "schema": {"type": "integer", "minimum": 0, "maximum": api.MAX_LIMIT,
                         "default": api.DEFAULT_LIMIT}},
}


def document() -> dict[str, Any]:
    """The whole OpenAPI document (a fresh copy: callers may change it)."""
    tags = [{"name": kind, "description": f"{PLURAL[kind].capitalize()} of the knowledge base."}
            for kind in api.KINDS]
    tags += [{"name": "account", "description": "Who you are."},
             {"name": "documentation", "description": "This document."}]
    return {
        "openapi": "3.0.3",
        "info": {"title": "Đà Nẵng tourism knowledge base API", "version": "1.0.0",
                 "description": DESCRIPTION},
        "security": [{"bearerAuth": []}],
        "tags": tags,
        "paths": _paths(),
        "components": {
            "securitySchemes": {"bearerAuth": {
                "type": "http", "scheme": "bearer",
                "description": "A staff member's API token, issued in the admin (Tài khoản).",
            }},
            "parameters": copy.deepcopy(PARAMETERS),
            "schemas": component_schemas(),
        },
    }


@lru_cache(maxsize=1)
def _document_text() -> str:
    # Built from code that does not change while the server runs: once is enough.
    return json.dumps(document(), ensure_ascii=False)


@routes.get(DOCUMENT_PATH, name="api-openapi")
async def openapi_document(_request: web.Request) -> web.Response:
    return web.Response(text=_document_text(), content_type=JSON)
