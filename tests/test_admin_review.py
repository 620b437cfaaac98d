"""The review page of unanswered questions, over HTTP and in a browser."""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlparse

from sqlalchemy import select

from knowledge.db import new_session
from knowledge.models import Place, Revision, UnansweredQuestion
from tests.admin_support import AdminServer, csrf_of, signed_in
from tests.conftest import sign_in

T0 = datetime(2027, 3, 1, 1, 0)
MUSEUM_QUESTIONS = ("Bảo tàng điêu khắc ở đâu vậy?", "bao tang dieu khac o dau", "bảo tàng điêu khắc ở đâu ạ")


def _ask(server: AdminServer, *texts: str, reason: str = "no_such_place", start: int = 0) -> list[int]:
    with new_session(server.database_url) as session, session.begin():
        rows = [UnansweredQuestion(text=t, reason=reason, language="vi",
                                   created_at=T0 + timedelta(minutes=start + i)) for i, t in enumerate(texts)]
        session.add_all(rows)
        session.flush()
        return [r.id for r in rows]


def _questions(server: AdminServer, ids: list[int]) -> list[UnansweredQuestion]:
    with new_session(server.database_url) as session:
        query = select(UnansweredQuestion).where(UnansweredQuestion.id.in_(ids))
        return list(session.execute(query).scalars())


def _place(server: AdminServer, slug: str) -> Place:
    with new_session(server.database_url) as session:
        return session.execute(select(Place).where(Place.slug == slug)).scalar_one()


def _sections(page: str) -> list[str]:
    return re.findall(r'<section class="card question-group".*?</section>', page, re.S)


def _group_of(page: str, first_id: int) -> str:
    match = re.search(rf'<section class="card question-group" id="nhom-{first_id}".*?</section>', page, re.S)
    assert match, f"no group starting with question {first_id}"
    return match.group(0)


def test_groups_are_listed_biggest_first_with_what_to_do(admin_server: AdminServer) -> None:
    museum = _ask(admin_server, *MUSEUM_QUESTIONS)
    visa = _ask(admin_server, "xin <b>visa</b> o dau", reason="fallback", start=10)
    client = signed_in(admin_server)

    response = client.get(admin_server.url("/admin/unanswered"))
    assert response.status_code == 200
    page = response.text
    sections = _sections(page)
    assert len(sections) == 2
    first = sections[0]
    assert f'id="nhom-{max(museum)}"' in first  # ids are listed newest first
    assert "3 lần" in first
    assert "không có địa điểm này" in first and "tiếng Việt" in first
    for text in MUSEUM_QUESTIONS:
        assert text in first
    # The entry the visitors mean is suggested and preselected, the alias prefilled.
    museum_id = _place(admin_server, "bao-tang-cham").id
    assert "Bảo tàng Điêu khắc Chăm" in first
    assert re.search(rf'<option value="places:{museum_id}" selected>', first)
    assert 'name="alias" value="bảo tàng điêu khắc"' in first  # the newest wording, question words off
    # A new entry can be started from the question.
    link = re.search(r'href="(/admin/places/new\?[^"]+)"', first)
    assert link
    query = parse_qs(urlparse(html.unescape(link.group(1))).query)
    assert query["name_vi"] == ["bảo tàng điêu khắc"]
    assert sorted(map(int, query["from_questions"][0].split(","))) == sorted(museum)
    # What visitors typed is shown as text, never as markup.
    second = sections[1]
    assert "1 lần" in second and "trợ lý không hiểu câu hỏi" in second
    assert "&lt;b&gt;visa&lt;/b&gt;" in second and "<b>visa</b>" not in second
    assert "Đang chờ xem xét (4)" in page
    assert visa


def test_adding_an_alias_changes_the_entry_and_closes_the_group(admin_server: AdminServer) -> None:
    museum = _ask(admin_server, *MUSEUM_QUESTIONS)
    other = _ask(admin_server, "giá vé Bà Nà Hills", start=10)
    place = _place(admin_server, "bao-tang-cham")
    client = signed_in(admin_server)
    page = client.get(admin_server.url("/admin/unanswered")).text

    response = client.post(admin_server.url("/admin/unanswered/alias"), data={
        "_csrf": csrf_of(page), "ids": ",".join(map(str, museum)), "back": "/admin/unanswered",
        "target": f"places:{place.id}", "alias": "Bảo tàng Điêu khắc"})

    assert response.status_code == 200 and response.url == admin_server.url("/admin/unanswered")
    assert ("Đã thêm “Bảo tàng Điêu khắc” làm tên gọi khác của “Bảo tàng Điêu khắc Chăm” "
            "và đánh dấu 3 câu hỏi là đã xử lý.") in response.text
    assert len(_sections(response.text)) == 1 and f'id="nhom-{other[0]}"' in response.text
    updated = _place(admin_server, "bao-tang-cham")
    assert updated.aliases[-1] == "Bảo tàng Điêu khắc" and updated.version == place.version + 1
    with new_session(admin_server.database_url) as session:
        revision = session.execute(select(Revision).where(
            Revision.table_name == "places", Revision.row_id == place.id,
            Revision.version == updated.version)).scalar_one()
    assert revision.username == "editor-1"
    assert {(q.status, q.resolved_by, q.resolution) for q in _questions(admin_server, museum)} == {
        ("resolved", "editor-1", f"alias:places/{place.id}")}
    # The resolved list says what was done.
    resolved = client.get(admin_server.url("/admin/unanswered?status=resolved")).text
    assert "thêm tên gọi khác cho địa điểm “Bảo tàng Điêu khắc Chăm”" in resolved


def test_a_refused_alias_is_explained_next_to_the_form_and_kept(admin_server: AdminServer) -> None:
    museum = _ask(admin_server, *MUSEUM_QUESTIONS)
    place = _place(admin_server, "bao-tang-cham")
    client = signed_in(admin_server)
    page = client.get(admin_server.url("/admin/unanswered")).text

    response = client.post(admin_server.url("/admin/unanswered/alias"), data={
        "_csrf": csrf_of(page), "ids": ",".join(map(str, museum)), "back": "/admin/unanswered",
        "target": f"places:{place.id}", "alias": "Bảo tàng Đà Nẵng"})

    assert response.status_code == 400
    group = _group_of(response.text, max(museum))
    assert "đã là tên (hoặc tên gọi khác) của mục “Bảo tàng Đà Nẵng”" in group
    assert 'name="alias" value="Bảo tàng Đà Nẵng"' in group  # what the officer typed
    assert '<details class="alias-form" open>' in group
    assert _place(admin_server, "bao-tang-cham").aliases == place.aliases
    assert {q.status for q in _questions(admin_server, museum)} == {"open"}

    response = client.post(admin_server.url("/admin/unanswered/alias"), data={
        "_csrf": csrf_of(page), "ids": ",".join(map(str, museum)), "back": "/admin/unanswered",
        "target": "", "alias": "Bảo tàng điêu khắc"})
    assert response.status_code == 400
    assert "Hãy chọn mục sẽ nhận tên gọi khác này." in _group_of(response.text, max(museum))


def test_dismiss_resolve_and_reopen(admin_server: AdminServer) -> None:
    spam = _ask(admin_server, "alo alo", "alo alo alo", reason="fallback")
    created = _ask(admin_server, "chợ đêm Sơn Trà ở đâu", start=10)
    client = signed_in(admin_server)
    token = csrf_of(client.get(admin_server.url("/admin/unanswered")).text)

    response = client.post(admin_server.url("/admin/unanswered/dismiss"), data={
        "_csrf": token, "ids": ",".join(map(str, spam)), "back": "/admin/unanswered"})
    assert "Đã bỏ qua 2 câu hỏi." in response.text
    assert {(q.status, q.resolved_by) for q in _questions(admin_server, spam)} == {("dismissed", "editor-1")}

    response = client.post(admin_server.url("/admin/unanswered/resolve"), data={
        "_csrf": token, "ids": str(created[0]), "back": "/admin/unanswered", "note": "tạo mục mới"})
    assert "Đã đánh dấu 1 câu hỏi là đã xử lý." in response.text
    assert "Không còn câu hỏi nào đang chờ xem xét." in response.text
    assert [(q.status, q.resolution) for q in _questions(admin_server, created)] == [
        ("resolved", "tạo mục mới")]

    dismissed = client.get(admin_server.url("/admin/unanswered?status=dismissed"))
    assert "Đã bỏ qua (2)" in dismissed.text and "alo alo" in dismissed.text
    response = client.post(admin_server.url("/admin/unanswered/reopen"), data={
        "_csrf": token, "ids": ",".join(map(str, spam)), "back": "/admin/unanswered?status=dismissed"})
    assert response.url == admin_server.url("/admin/unanswered?status=dismissed")
    assert "Đã đưa 2 câu hỏi trở lại danh sách chờ xem xét." in response.text
    assert {q.status for q in _questions(admin_server, spam)} == {"open"}


def test_review_forms_need_the_csrf_token_and_question_ids(admin_server: AdminServer) -> None:
    ids = _ask(admin_server, "alo")
    client = signed_in(admin_server)
    token = csrf_of(client.get(admin_server.url("/admin/unanswered")).text)
    unprotected = client.post(admin_server.url("/admin/unanswered/dismiss"), data={"ids": str(ids[0])})
    assert unprotected.status_code == 403
    response = client.post(admin_server.url("/admin/unanswered/dismiss"), data={"_csrf": token, "ids": "x"})
    assert response.status_code == 400
    # A "back" address off this page is not followed.
    response = client.post(admin_server.url("/admin/unanswered/dismiss"), allow_redirects=False,
                           data={"_csrf": token, "ids": str(ids[0]), "back": "https://evil.example/"})
    assert response.headers["Location"] == "/admin/unanswered"
    assert {q.status for q in _questions(admin_server, ids)} == {"dismissed"}


def test_browser_adds_an_alias_from_the_review_page(admin_server: AdminServer, page) -> None:  # noqa: ANN001
    museum = _ask(admin_server, *MUSEUM_QUESTIONS)
    _ask(admin_server, "giá vé Bà Nà Hills", reason="fallback", start=10)
    sign_in(page, admin_server)

    page.click("nav a[href='/admin/unanswered']")
    group = page.locator(f"#nhom-{max(museum)}")
    assert group.locator(".count-badge").inner_text() == "3 lần"
    assert page.locator("section.question-group").count() == 2
    group.locator("summary", has_text="Thêm làm tên gọi khác của “Bảo tàng Điêu khắc Chăm”").click()
    assert group.locator("input[name=alias]").input_value() == "bảo tàng điêu khắc"
    group.locator("input[name=alias]").fill("Bảo tàng Điêu khắc")
    group.get_by_role("button", name="Thêm tên gọi khác").click()

    page.wait_for_url(admin_server.url("/admin/unanswered"))
    assert "Đã thêm “Bảo tàng Điêu khắc” làm tên gọi khác" in page.locator(".flash").inner_text()
    assert page.locator(f"#nhom-{max(museum)}").count() == 0
    assert page.locator("section.question-group").count() == 1
    assert "Bảo tàng Điêu khắc" in _place(admin_server, "bao-tang-cham").aliases


def test_new_entry_made_from_questions_resolves_them(admin_server: AdminServer) -> None:
    ids = _ask(admin_server, "chùa Tam Bảo ở đâu", "chua tam bao o dau")
    client = signed_in(admin_server)
    query = f"name_vi=Chùa Tam Bảo&from_questions={ids[0]},{ids[1]}"
    form = client.get(admin_server.url(f"/admin/places/new?{query}"))
    assert 'value="Chùa Tam Bảo"' in form.text and f'value="{ids[0]},{ids[1]}"' in form.text
    response = client.post(admin_server.url("/admin/places/new"), data={
        "_csrf": csrf_of(form.text), "from_questions": f"{ids[0]},{ids[1]}", "kind": "attraction",
        "category": "pagoda", "name_vi": "Chùa Tam Bảo", "free": ""})
    assert response.status_code == 200, response.text[-2000:]
    place = _place(admin_server, "chua-tam-bao")
    assert {(q.status, q.resolution) for q in _questions(admin_server, ids)} == {
        ("resolved", f"created:places/{place.id}")}
