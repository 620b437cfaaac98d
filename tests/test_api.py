"""The JSON API under /api/v1/, spoken to over HTTP like a department script would, and its
OpenAPI document: every answer checked against the schema the document promises."""

from __future__ import annotations

import json
import threading
from typing import Any

import jsonschema
import requests

from admin import api, openapi
from admin.app import create_app
from admin.config import AdminConfig
from knowledge.db import new_session
from knowledge.models import User
from knowledge.schemas import SCHEMAS
from tests.admin_support import AdminServer

DOCUMENT = openapi.document()
JSON_HEADERS = {"Content-Type": "application/json"}


# --- helpers --------------------------------------------------------------------------------

def _json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schemas as JSON Schema: ``nullable: true`` becomes a "null" type."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _json_schema(value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable"):
        if "type" in converted:
            converted["type"] = [converted["type"], "null"]
        if "enum" in converted:
            converted["enum"] = [*converted["enum"], None]
    return converted


JSON_SCHEMA_DOCUMENT = _json_schema(DOCUMENT)


def conforms(data: Any, schema: str) -> Any:
    """``data`` if it matches the document's component schema ``schema`` (else the test fails)."""
    resolver = jsonschema.RefResolver.from_schema(JSON_SCHEMA_DOCUMENT)
    validator = jsonschema.Draft7Validator({"$ref": f"#/components/schemas/{schema}"}, resolver=resolver)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(data)]
    assert not errors, f"not a {schema}: {errors}"
    return data


def editor(server: AdminServer) -> requests.Session:
    return server.api(server.account("editor"))


def find(client: requests.Session, server: AdminServer, kind: str, slug: str, **params: str) -> dict:
    items = client.get(server.url(f"/api/v1/{kind}"), params={"limit": "500", **params}).json()["items"]
    return next(item for item in items if item["slug"] == slug)


def refused(response: requests.Response, status: int, error: str) -> dict:
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["error"] == error, body
    conforms(body, "ValidationError" if status == 422 else "Error")
    return body


def fields_of(response: requests.Response) -> set[str]:
    return {problem["field"] for problem in refused(response, 422, "validation")["fields"]}


NEW_PLACE = {"kind": "attraction", "category": "pagoda", "district": "Sơn Trà", "name_vi": "Chùa Linh Ứng",
             "name_en": "Linh Ung Pagoda", "aliases": "chùa Bãi Bụt; Lady Buddha", "lat": 16.1004,
             "lon": 108.2778, "source": "https://example.org/linh-ung"}


# --- the document ---------------------------------------------------------------------------

def _app_routes() -> set[tuple[str, str]]:
    app = create_app(AdminConfig(database_url="sqlite://", secret_key=b"k" * 32), migrate=False)
    found = set()
    for route in app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if path.startswith("/api/v1/") and route.method != "HEAD":  # HEAD comes free with GET
            found.add((route.method.lower(), path))
    return found


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for item in node for r in _refs(item)]
    return []


def _resolve(document: dict, pointer: str) -> Any:
    assert pointer.startswith("#/"), pointer
    node: Any = document
    for part in pointer[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def test_document_describes_exactly_the_registered_routes() -> None:
    documented = {(method, path) for path, item in DOCUMENT["paths"].items() for method in item}
    registered = _app_routes()
    assert registered == documented
    assert len(registered) == 3 * len(api.OPERATIONS) + 2  # three kinds, /me and the document itself


def test_document_is_a_valid_openapi_303_document() -> None:
    document = json.loads(json.dumps(DOCUMENT))  # plain JSON, as served
    assert document["openapi"] == "3.0.3"
    assert {"title", "version", "description"} <= set(document["info"])
    assert "including the one for this document, needs a staff member's API token" in " ".join(
        document["info"]["description"].split())
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        **document["components"]["securitySchemes"]["bearerAuth"], "type": "http", "scheme": "bearer"}
    assert document["security"] == [{"bearerAuth": []}]
    # Every $ref points at something, and every component is used.
    refs = set(_refs(document))
    for pointer in refs:
        assert isinstance(_resolve(document, pointer), dict), pointer
    for section in ("schemas", "parameters"):
        unused = {f"#/components/{section}/{name}" for name in document["components"][section]} - refs
        assert not unused, unused
    assert not [key for key in _json_walk_keys(document) if key == "definitions"], "pydantic refs left in"
    operation_ids = []
    for path, item in document["paths"].items():
        templated = {part[1:-1] for part in path.split("/") if part.startswith("{")}
        for method, operation in item.items():
            assert method in {"get", "put", "post", "delete", "patch"}
            operation_ids.append(operation["operationId"])
            assert operation["responses"], (method, path)
            for status, response in operation["responses"].items():
                assert status.isdigit() and "description" in response, (method, path, status)
            parameters = [_resolve(document, p["$ref"]) if "$ref" in p else p
                          for p in operation.get("parameters", [])]
            assert {p["name"] for p in parameters if p["in"] == "path"} == templated, (method, path)
            assert all(p["required"] for p in parameters if p["in"] == "path")
            assert len({(p["name"], p["in"]) for p in parameters}) == len(parameters)
    assert len(operation_ids) == len(set(operation_ids)), "operationIds must be unique"
    # The schemas come from the validation models: every field, required ones required.
    schemas = document["components"]["schemas"]
    for kind, model in SCHEMAS.items():
        generated = schemas[model.__name__]
        assert set(generated["properties"]) == set(model.__fields__)
        assert set(generated["required"]) == {n for n, f in model.__fields__.items() if f.required}
        output = schemas[openapi.model_name(kind)]
        assert set(output["properties"]) == set(model.__fields__) | set(openapi.SYSTEM_PROPERTIES)
    assert schemas["EventIn"]["properties"]["dates"]["items"] == {"$ref": "#/components/schemas/EventDateIn"}
    assert schemas["PlaceIn"]["properties"]["lat"]["nullable"] is True
    assert schemas["PlaceIn"]["properties"]["kind"]["enum"] == ["attraction", "service"]
    try:  # the reference validator, where it is installed; the checks above stand on their own
        from openapi_spec_validator import validate
    except ImportError:
        return
    validate(document)


def _json_walk_keys(node: Any) -> list[str]:
    if isinstance(node, dict):
        return list(node) + [k for value in node.values() for k in _json_walk_keys(value)]
    if isinstance(node, list):
        return [k for item in node for k in _json_walk_keys(item)]
    return []


# --- authentication -------------------------------------------------------------------------

def test_who_am_i_and_the_document_need_a_valid_active_token(admin_server: AdminServer) -> None:
    client = editor(admin_server)
    me = conforms(client.get(admin_server.url("/api/v1/me")).json(), "Me")
    assert (me["username"], me["role"]) == ("editor-1", "editor")
    served = client.get(admin_server.url("/api/v1/openapi.json"))
    assert served.status_code == 200 and served.headers["Content-Type"].startswith("application/json")
    assert served.json() == json.loads(json.dumps(DOCUMENT))

    off = admin_server.account("editor", "editor-off")
    retiring = admin_server.api(off)
    assert retiring.get(admin_server.url("/api/v1/me")).status_code == 200
    with new_session(admin_server.database_url) as session, session.begin():
        session.query(User).filter_by(username="editor-off").one().active = False

    anonymous = admin_server.api()
    wrong = requests.Session()
    wrong.headers["Authorization"] = "Bearer dn_not-a-real-token"
    for who in (anonymous, wrong, retiring):
        for path in ("/api/v1/me", "/api/v1/openapi.json", "/api/v1/places", "/api/v1/places/1"):
            refused(who.get(admin_server.url(path)), 401, "unauthorized")
        refused(who.post(admin_server.url("/api/v1/places"), json=NEW_PLACE), 401, "unauthorized")
    assert find(client, admin_server, "places", "cau-rong")  # nothing was created by the refused posts
    assert client.get(admin_server.url("/api/v1/places"), params={"q": "linh ung"}).json()["total"] == 0


# --- reading --------------------------------------------------------------------------------

def test_list_pages_filters_and_searches(admin_server: AdminServer) -> None:
    client = editor(admin_server)
    url = admin_server.url("/api/v1/places")
    first = conforms(client.get(url, params={"limit": "2"}).json(), "PlaceList")
    assert (first["total"], first["offset"], first["limit"], len(first["items"])) == (6, 0, 2, 2)
    slugs, page = [], first
    while True:
        slugs += [item["slug"] for item in page["items"]]
        if page["next"] is None:
            break
        assert page["next"].startswith("/api/v1/places?")
        page = conforms(client.get(admin_server.url(page["next"])).json(), "PlaceList")
    assert len(slugs) == len(set(slugs)) == 6
    assert page["offset"] == 4
    beyond = client.get(url, params={"offset": "10"}).json()
    assert (beyond["items"], beyond["total"], beyond["next"]) == ([], 6, None)
    default = client.get(url).json()
    assert (default["limit"], default["offset"], default["next"]) == (50, 0, None)

    def slugs_of(table: str, /, **params: str) -> set[str]:
        body = conforms(client.get(admin_server.url(f"/api/v1/{table}"), params=params).json(),
                        f"{openapi.model_name(table)}List")
        assert body["total"] == len(body["items"])
        return {item["slug"] for item in body["items"]}

    assert slugs_of("places", kind="service") == {"benh-vien-da-nang", "benh-vien-xa"}
    assert slugs_of("places", category="museum", district="Hải Châu") == {"bao-tang-cham", "bao-tang-da-nang"}
    verified = {"cau-rong", "bien-my-khe", "benh-vien-da-nang"}
    assert slugs_of("places", verified="true") == slugs_of("places", verified="1") == verified
    assert slugs_of("places", verified="false") == slugs_of("places", verified="0") == (
        {"bao-tang-cham", "bao-tang-da-nang", "benh-vien-xa"})
    # Unchecked rows are stale (the seeded checked ones have no check date: stale too).
    assert {"bao-tang-cham", "bao-tang-da-nang", "benh-vien-xa"} <= slugs_of("places", stale="true")
    # Search ignores accents and case and matches word starts.
    assert slugs_of("places", q="cau rong") == {"cau-rong"}
    assert slugs_of("places", q="BẢO TÀNG") == slugs_of("places", q="bao tang") == {"bao-tang-cham",
                                                                                     "bao-tang-da-nang"}
    assert slugs_of("places", q="dragon") == {"cau-rong"}
    assert slugs_of("places", q="hospital", kind="service", district="Liên Chiểu") == {"benh-vien-xa"}
    assert slugs_of("events", category="show") == {"dragon-bridge-show"}
    assert slugs_of("events", q="tet") == {"tet-2027"}
    assert slugs_of("faqs", topic="visa") == {"visa"}
    assert slugs_of("faqs", q="cap cuu", verified="true") == {"emergency-numbers"}

    for params, parameter in (({"limit": "501"}, "limit"), ({"limit": "-1"}, "limit"),
                              ({"limit": "ten"}, "limit"),
                              ({"offset": "-5"}, "offset"), ({"offset": "1.5"}, "offset"),
                              ({"offset": str(2**40)}, "offset"), ({"verified": "maybe"}, "verified"),
                              ({"retired": "yes please"}, "retired"), ({"stale": "2"}, "stale"),
                              ({"verifed": "true"}, "verifed"), ({"topic": "visa"}, "topic"),
                              ({"q": "x" * 201}, "q"), ({"category": "a\x00b"}, "category"),
                              ({"q": "cầu\x00"}, "q"), ({"x\x00": "1"}, "x\\u0000")):
        assert refused(client.get(url, params=params), 400, "invalid_parameter")["parameter"] == parameter
    assert refused(client.get(url + "?limit=1&limit=2"), 400, "invalid_parameter")["parameter"] == "limit"
    for raw_query in ("q=%ED%A0%80", "%ED%A0%80=1", "q=%FF%FE", "category=%C0%80"):  # not UTF-8
        assert client.get(f"{url}?{raw_query}").status_code in (200, 400), raw_query


def test_read_one_row_with_its_version(admin_server: AdminServer) -> None:
    client = editor(admin_server)
    listed = find(client, admin_server, "events", "dragon-bridge-show")
    response = client.get(admin_server.url(f"/api/v1/events/{listed['id']}"))
    assert response.status_code == 200
    row = conforms(response.json(), "Event")
    assert row == listed
    assert set(row) == set(DOCUMENT["components"]["schemas"]["Event"]["properties"])
    assert response.headers["ETag"] == f'"{row["version"]}"'
    assert (row["venue_slug"], row["recurrence"], row["dates"]) == ("cau-rong", "FREQ=WEEKLY;BYDAY=SA,SU", [])
    tet_id = find(client, admin_server, "events", "tet-2027")["id"]
    tet = client.get(admin_server.url(f"/api/v1/events/{tet_id}"))
    assert tet.json()["dates"] == [{"start": "2027-02-05", "end": "2027-02-09"}]
    unchanged = client.get(admin_server.url(f"/api/v1/events/{row['id']}"),
                           headers={"If-None-Match": response.headers["ETag"]})
    assert unchanged.status_code == 304 and unchanged.content == b""

    for path in ("/api/v1/places/999999", f"/api/v1/places/{2**70}", "/api/v1/faqs/0",
                 "/api/v1/places/999999/history", "/api/v1/unicorns", "/api/v1/unicorns/1",
                 "/api/v1/places/abc"):
        refused(client.get(admin_server.url(path)), 404, "not_found")
    refused(client.delete(admin_server.url("/api/v1/places")), 405, "method_not_allowed")
    refused(client.get(admin_server.url(f"/api/v1/events/{row['id']}"), params={"x": "1"}), 400,
            "invalid_parameter")


# --- creating and validation ----------------------------------------------------------------

def test_created_place_is_found_without_diacritics(admin_server: AdminServer) -> None:
    client = editor(admin_server)
    response = client.post(admin_server.url("/api/v1/places"),
                           json={**NEW_PLACE, "id": 999, "version": 7, "created_at": "2000-01-01T00:00:00",
                                 "verified_by": "someone-else"})
    assert response.status_code == 201, response.text
    row = conforms(response.json(), "Place")
    assert row["id"] != 999 and row["version"] == 1 and row["created_at"] != "2000-01-01T00:00:00"
    assert row["verified_by"] is None and row["verified"] is False
    assert (row["slug"], row["aliases"], row["name_vi"]) == ("chua-linh-ung", ["chùa Bãi Bụt", "Lady Buddha"],
                                                            "Chùa Linh Ứng")
    assert response.headers["Location"] == f"/api/v1/places/{row['id']}"
    assert response.headers["ETag"] == '"1"'
    assert client.get(admin_server.url(response.headers["Location"])).json() == row
    for q in ("chua linh ung", "CHUA LINH", "bai but", "lady buddha", "son tra linh ung"):
        found = client.get(admin_server.url("/api/v1/places"), params={"q": q}).json()
        assert [item["slug"] for item in found["items"]] == ["chua-linh-ung"], q
    history = conforms(client.get(admin_server.url(f"/api/v1/places/{row['id']}/history")).json(),
                       "RevisionList")["items"]
    assert [(r["action"], r["version"], r["username"]) for r in history] == [("create", 1, "editor-1")]
    # The same name again is refused on the name field; a faq is created as well.
    assert fields_of(client.post(admin_server.url("/api/v1/places"), json=NEW_PLACE)) == {"name_vi"}
    faq = client.post(admin_server.url("/api/v1/faqs"), json={
        "topic": "money", "title_vi": "Đổi tiền", "answer_vi": "Đổi tại ngân hàng.",
        "keywords": "ATM\nđổi tiền"})
    assert faq.status_code == 201 and conforms(faq.json(), "Faq")["keywords"] == ["ATM", "đổi tiền"]


def test_validation_errors_name_the_field(admin_server: AdminServer) -> None:
    client = editor(admin_server)
    places, events = admin_server.url("/api/v1/places"), admin_server.url("/api/v1/events")
    assert fields_of(client.post(places, json={})) == {"kind", "category", "name_vi"}
    body = refused(client.post(places, json={**NEW_PLACE, "lon": None}), 422, "validation")
    assert body["fields"] == [
        {"field": "lon", "message": "Cần cả vĩ độ (lat) và kinh độ (lon), hoặc bỏ trống cả hai."}]
    assert fields_of(client.post(places, json={**NEW_PLACE, "website": "example.org", "lat": 91,
                                               "kind": "castle"})) == {"website", "lat", "kind"}
    assert fields_of(client.post(places, json={**NEW_PLACE, "opening_day": "Monday"})) == {"opening_day"}
    assert fields_of(client.post(places, json={**NEW_PLACE, "venue_slug": "cau-rong"})) == {"venue_slug"}
    assert fields_of(client.post(places, json={**NEW_PLACE, "name_vi": "x" * 201})) == {"name_vi"}
    show = {"category": "show", "name_vi": "Múa rối nước", "venue_slug": "khong-co-dau"}
    body = refused(client.post(events, json=show), 422, "validation")
    assert [f["field"] for f in body["fields"]] == ["venue_slug"]
    assert "khong-co-dau" in body["fields"][0]["message"]
    assert fields_of(client.post(events, json={**show, "venue_slug": None, "recurrence": "EVERY FRIDAY",
                                               "recurrence_start": "2027-01-01"})) == {"recurrence"}
    assert fields_of(client.post(events, json={**show, "venue_slug": None, "recurrence": "FREQ=WEEKLY"})) == {
        "recurrence_start"}
    assert fields_of(client.post(events, json={**show, "venue_slug": None,
                                               "dates": "2027-06-03..2027-06-01"})) == {"dates.0.end"}
    assert fields_of(client.post(events, json={**show, "venue_slug": None,
                                               "dates": [{"start": "2027-02-30"}]})) == {"dates.0.start"}
    assert fields_of(client.post(events, json={**show, "venue_slug": None, "start_time": "25:00"})) == {
        "start_time"}
    # Nothing of the refused entries was saved.
    assert client.get(events, params={"q": "mua roi"}).json()["total"] == 0


BAD_BODIES: list[tuple[bytes, int, str]] = [
    (b"", 400, "invalid_json"),
    (b"{not json", 400, "invalid_json"),
    (b"\xff\xfe\x00garbage", 400, "invalid_json"),
    (b'{"name_vi": NaN}', 400, "invalid_json"),
    (b"[" * 100_000 + b"]" * 100_000, 400, "invalid_json"),
    (b'[{"name_vi": "x"}]', 400, "invalid_body"),
    (b'"a string"', 400, "invalid_body"),
    (b"12", 400, "invalid_body"),
    (b"null", 400, "invalid_body"),
    (b'{"lat": 1e400, "lon": 1}', 422, "lat"),
    (b'{"lat": ' + b"9" * 400 + b', "lon": 1}', 422, "lat"),
    (b'{"name_vi": "C\\u0000u"}', 422, "name_vi"),
    (b'{"name_\\u0000vi": "x"}', 422, "name_\\u0000vi"),
    (b'{"name_vi": "\\ud800"}', 422, "name_vi"),
    (b'{"\\udc00name": 1}', 422, "\\udc00name"),
    (b'{"aliases": ["ok", "\\u0000"]}', 422, "aliases.1"),
    (b'{"aliases": 5}', 422, "aliases"),
    (b'{"name_vi": {"vi": "x"}}', 422, "name_vi"),
    (b'{"name_vi": ["x"]}', 422, "name_vi"),
    (b'{"verified": "maybe"}', 422, "verified"),
    (b'{"free": [], "lat": "north"}', 422, "lat"),
    (b'{"__pydantic_self__": 1}', 422, "__pydantic_self__"),
    (b'{"search_text": "x", "venue_place_id": 1}', 422, "venue_place_id"),
    (b'{"a": ' + b'{"a": ' * 500 + b"1" + b"}" * 501, 422, "a"),
]


def test_bad_bodies_get_clear_errors_never_server_errors(admin_server: AdminServer) -> None:
    client = editor(admin_server)
    row = find(client, admin_server, "places", "bao-tang-cham")
    headers = {**JSON_HEADERS, "If-Match": f'"{row["version"]}"'}
    targets = [("POST", "/api/v1/places"), ("PUT", f"/api/v1/places/{row['id']}"),
               ("PATCH", f"/api/v1/places/{row['id']}")]
    for raw, status, what in BAD_BODIES:
        for method, path in targets:
            response = client.request(method, admin_server.url(path), data=raw, headers=headers)
            context = (method, raw[:60], response.text[:300])
            if status == 400:
                assert refused(response, 400, what), context
            else:
                assert what in fields_of(response), context
    for method, path, raw in (
        ("POST", f"/api/v1/places/{row['id']}/verify", b"[]"),
        ("POST", f"/api/v1/places/{row['id']}/verify", b'{"version": "three"}'),
        ("POST", f"/api/v1/places/{row['id']}/restore", b'{"revision_id": "1", "version": 1}'),
        ("POST", f"/api/v1/places/{row['id']}/restore", b'{"revision_id": 1e999, "version": 1}'),
        ("POST", f"/api/v1/places/{row['id']}/restore", b'{"revision_id": ' + b"9" * 30 + b', "version": 1}'),
        ("POST", f"/api/v1/places/{row['id']}/restore", b'{"revision_id": true, "version": 1}'),
        ("POST", f"/api/v1/places/{row['id']}/restore", b'{"version": 1, "why": "x"}'),
        ("PUT", f"/api/v1/places/{2**70}", json.dumps(NEW_PLACE).encode()),
        ("DELETE", f"/api/v1/places/{row['id']}?version=" + "9" * 40, b""),
        ("DELETE", f"/api/v1/places/{row['id']}?version=%00", b""),
    ):
        response = client.request(method, admin_server.url(path), data=raw, headers=JSON_HEADERS)
        assert response.status_code in (400, 404, 422), (method, path, raw, response.text)
        assert response.json()["error"], response.text
    # All refused: nothing was saved.
    assert client.get(admin_server.url(f"/api/v1/places/{row['id']}")).json() == row


# --- changing -------------------------------------------------------------------------------

def test_replace_and_patch_need_the_current_version(admin_server: AdminServer) -> None:
    client = editor(admin_server)
    row = find(client, admin_server, "places", "bao-tang-cham")
    url = admin_server.url(f"/api/v1/places/{row['id']}")
    assert "If-Match" in refused(client.put(url, json=row | {"version": None}), 428,
                                 "precondition_required")["message"]
    refused(client.patch(url, json={"hours_vi": "8:00–17:00"}), 428, "precondition_required")
    refused(client.patch(url, json={"hours_vi": "8:00–17:00"}, headers={"If-Match": "latest"}), 400,
            "invalid_parameter")
    # The row fetched with GET, edited and sent back whole (its version in the body).
    response = client.put(url, json={**row, "price_vi": "70.000 đồng"})
    assert response.status_code == 200, response.text
    saved = conforms(response.json(), "Place")
    assert (saved["price_vi"], saved["version"], saved["name_en"]) == ("70.000 đồng", row["version"] + 1,
                                                                      row["name_en"])
    assert response.headers["ETag"] == f'"{saved["version"]}"'
    # PATCH changes only what it names; If-Match (weak or not) says the version.
    patched = client.patch(url, json={"hours_vi": "8:00–17:00"},
                           headers={"If-Match": f'W/"{saved["version"]}"'})
    assert patched.status_code == 200, patched.text
    assert (patched.json()["hours_vi"], patched.json()["price_vi"]) == ("8:00–17:00", "70.000 đồng")
    # PUT replaces: fields left out are emptied.
    version = patched.json()["version"]
    whole = {"kind": "attraction", "category": "museum", "name_vi": "Bảo tàng Điêu khắc Chăm"}
    replaced = client.put(url, json=whole, headers={"If-Match": f'"{version}"'}).json()
    assert (replaced["name_en"], replaced["price_vi"], replaced["aliases"], replaced["version"]) == (
        None, None, [], version + 1)
    # Saving again from the old version is a conflict showing the row as it is now.
    stale = refused(client.patch(url, json={"hours_vi": "9:00"}, headers={"If-Match": f'"{version}"'}), 409,
                    "conflict")
    assert conforms(stale, "PlaceConflict")["current"] == client.get(url).json() == replaced
    # Nothing changed: no new version.
    same = client.patch(url, json={"name_vi": whole["name_vi"], "version": replaced["version"]}).json()
    assert same["version"] == replaced["version"]
    refused(client.patch(admin_server.url("/api/v1/places/999999"), json={"version": 1}), 404, "not_found")
    refused(client.patch(url, json={"version": 1, "name_vi": ""}), 409, "conflict")  # version checked first
    assert fields_of(client.patch(url, json={"version": replaced["version"], "name_vi": ""})) == {"name_vi"}


def _simultaneous_puts(server: AdminServer, url: str, row: dict,
                       round_number: int) -> list[requests.Response]:
    """Two editors saving ``row`` (each their own change) at the same instant."""
    barrier, results = threading.Barrier(2), []

    def save(account: str) -> None:
        client = server.api(server.account("editor", account))
        barrier.wait()
        results.append(client.put(url, json={**row, "answer_en": f"{account} {round_number}"},
                                  headers={"If-Match": f'"{row["version"]}"'}))

    threads = [threading.Thread(target=save, args=(account,)) for account in ("editor-1", "editor-2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def test_two_clients_saving_the_same_version_one_wins_the_other_is_told(admin_server: AdminServer) -> None:
    first, second = editor(admin_server), admin_server.api(admin_server.account("editor", "editor-2"))
    row = find(first, admin_server, "faqs", "visa")
    url = admin_server.url(f"/api/v1/faqs/{row['id']}")
    tag = {"If-Match": f'"{row["version"]}"'}
    won = first.put(url, json={**row, "answer_vi": "Xin e-visa trên cổng chính thức."}, headers=tag)
    lost = second.put(url, json={**row, "answer_vi": "Xin visa tại sân bay."}, headers=tag)
    assert (won.status_code, lost.status_code) == (200, 409)
    assert conforms(lost.json(), "FaqConflict")["current"] == won.json()
    assert first.get(url).json()["answer_vi"] == "Xin e-visa trên cổng chính thức."

    # At the same instant too: the version check and the write are one step.
    for round_number in range(3):
        current = first.get(url).json()
        results = _simultaneous_puts(admin_server, url, current, round_number)
        statuses = sorted(response.status_code for response in results)
        assert statuses == [200, 409], [r.text for r in results]
        winner = next(r for r in results if r.status_code == 200).json()
        loser = next(r for r in results if r.status_code == 409).json()
        assert loser["current"] == winner == first.get(url).json()
        assert winner["version"] == current["version"] + 1
    history = first.get(url + "/history").json()["items"]
    assert [r["action"] for r in history] == ["update"] * 4 + ["seed"]


def test_delete_retires_and_history_restores(admin_server: AdminServer) -> None:
    client = editor(admin_server)
    row = find(client, admin_server, "places", "benh-vien-xa")
    url = admin_server.url(f"/api/v1/places/{row['id']}")
    refused(client.delete(url), 428, "precondition_required")
    refused(client.delete(url, params={"version": row["version"] + 5}), 409, "conflict")
    refused(client.delete(url, params={"version": "v1"}), 400, "invalid_parameter")
    refused(client.delete(url, params={"version": row["version"], "force": "1"}), 400, "invalid_parameter")
    response = client.delete(url, params={"version": row["version"]})
    assert response.status_code == 200, response.text
    retired = conforms(response.json(), "Place")
    assert retired["retired"] is True and retired["version"] == row["version"] + 1
    assert client.get(url).json() == retired  # still readable
    live = {item["slug"] for item in client.get(admin_server.url("/api/v1/places")).json()["items"]}
    assert "benh-vien-xa" not in live and len(live) == 5
    assert find(client, admin_server, "places", "benh-vien-xa", retired="true") == retired
    # Deleting again says nothing new; If-Match works for DELETE too.
    again = client.delete(url, headers={"If-Match": f'"{retired["version"]}"'})
    assert again.status_code == 200 and again.json()["version"] == retired["version"]

    history = conforms(client.get(url + "/history").json(), "RevisionList")["items"]
    assert [(r["action"], r["username"]) for r in history] == [("retire", "editor-1"), ("seed", None)]
    assert history[0]["changes"] == {"retired": [False, True]}
    seeded = history[-1]
    restore = url + "/restore"
    refused(client.post(restore, json={"revision_id": seeded["id"]}), 428, "precondition_required")
    assert fields_of(client.post(restore, json={"version": retired["version"]})) == {"revision_id"}
    version = retired["version"]
    refused(client.post(restore, json={"revision_id": 999999, "version": version}), 404, "not_found")
    other = find(client, admin_server, "places", "cau-rong")  # a revision of another row is not this one's
    refused(client.post(admin_server.url(f"/api/v1/places/{other['id']}/restore"),
                        json={"revision_id": seeded["id"], "version": other["version"]}), 404, "not_found")
    back = client.post(restore, json={"revision_id": seeded["id"]}, headers={"If-Match": f'"{version}"'})
    assert back.status_code == 200, back.text
    restored = conforms(back.json(), "Place")
    # Old text comes back, retirement does not: bringing a row back to visitors is done on
    # purpose. (The seed text equals the current text, so nothing changed at all.)
    assert restored["retired"] is True and restored["version"] == retired["version"]
    revived = client.patch(url, json={"retired": False}, headers={"If-Match": f'"{version}"'})
    assert revived.status_code == 200 and revived.json()["retired"] is False
    assert find(client, admin_server, "places", "benh-vien-xa") == revived.json()


def test_verify_stamps_who_and_when(admin_server: AdminServer) -> None:
    client = editor(admin_server)
    row = find(client, admin_server, "faqs", "visa")
    url = admin_server.url(f"/api/v1/faqs/{row['id']}/verify")
    assert row["verified"] is False
    response = client.post(url)  # no body, no version: verifying cannot lose anyone's edit
    assert response.status_code == 200, response.text
    checked = conforms(response.json(), "Faq")
    assert (checked["verified"], checked["verified_by"], checked["version"]) == (True, "editor-1",
                                                                                 row["version"] + 1)
    assert checked["verified_at"]
    refused(client.post(url, json={"version": row["version"]}), 409, "conflict")
    refused(client.post(url, json={"version": checked["version"], "note": "x"}), 422, "validation")
    again = client.post(url, headers={"If-Match": f'"{checked["version"]}"'})
    assert again.status_code == 200 and again.json()["version"] == checked["version"] + 1
    assert "visa" not in {i["slug"] for i in client.get(admin_server.url("/api/v1/faqs"),
                                                         params={"stale": "true"}).json()["items"]}
    refused(client.post(admin_server.url("/api/v1/faqs/999999/verify")), 404, "not_found")


def test_events_with_dates_recurrence_and_venue(admin_server: AdminServer) -> None:
    client = editor(admin_server)
    events = admin_server.url("/api/v1/events")
    market = {"category": "market", "name_vi": "Chợ đêm Sơn Trà", "name_en": "Son Tra night market",
              "venue_slug": "cau-rong", "recurrence": "rrule:freq=weekly;byday=fr,sa",
              "recurrence_start": "2027-01-01", "start_time": "18:00", "end_time": "23:00",
              "dates": "2027-06-01..2027-06-03; 2027-07-01"}
    response = client.post(events, json=market)
    assert response.status_code == 201, response.text
    row = conforms(response.json(), "Event")
    assert (row["venue_slug"], row["recurrence"], row["recurrence_start"]) == (
        "cau-rong", "FREQ=WEEKLY;BYDAY=FR,SA", "2027-01-01")
    assert row["dates"] == [{"start": "2027-06-01", "end": "2027-06-03"},
                            {"start": "2027-07-01", "end": "2027-07-01"}]
    assert [item["slug"] for item in client.get(events, params={"q": "cho dem son tra"}).json()["items"]] == [
        row["slug"]]
    url = admin_server.url(f"/api/v1/events/{row['id']}")
    unknown_venue = client.patch(url, json={"venue_slug": "khong-co", "version": row["version"]})
    assert fields_of(unknown_venue) == {"venue_slug"}
    moved = client.patch(url, json={"venue_slug": "bien-my-khe", "dates": [{"start": "2027-08-15"}]},
                         headers={"If-Match": f'"{row["version"]}"'})
    assert moved.status_code == 200, moved.text
    assert (moved.json()["venue_slug"], moved.json()["dates"]) == (
        "bien-my-khe", [{"start": "2027-08-15", "end": "2027-08-15"}])
    assert moved.json()["recurrence"] == "FREQ=WEEKLY;BYDAY=FR,SA"
    changes = client.get(url + "/history").json()["items"][0]["changes"]
    assert changes["venue_slug"] == ["cau-rong", "bien-my-khe"] and "dates" in changes
    cleared = client.patch(url, json={"venue_slug": None, "dates": [], "recurrence": None,
                                      "version": moved.json()["version"]}).json()
    assert (cleared["venue_slug"], cleared["dates"], cleared["recurrence"]) == (None, [], None)
