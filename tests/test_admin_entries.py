"""The admin pages for places, events and practical information: list, search, filters,
paging, the add/edit forms (mistakes shown next to their field, nothing half-saved), two
officers saving the same entry, verification, retiring, history and restore.

Everything goes over HTTP to the real server, signed in through the real login form, and
the forms are submitted the way a browser would (every field of the page's form, with what
the officer changed); the database is read only to check what was really saved."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
import requests
from playwright.sync_api import Page, expect

from knowledge import editing
from knowledge.db import new_session
from knowledge.models import utcnow
from knowledge.schemas import field_names
from tests.admin_support import AdminServer, csrf_of, signed_in
from tests.conftest import sign_in


class _FormReader(HTMLParser):
    """The values a browser would submit for the form with ``form_id``."""

    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id, self.inside, self.values = form_id, False, {}
        self._textarea: str | None = None
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside or "name" not in a and tag != "option":
            return
        if tag == "input" and a.get("type") not in ("submit", "button"):
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a:
                    self.values[a["name"]] = a.get("value", "on")
            else:
                self.values[a["name"]] = a.get("value", "")
        elif tag == "textarea":
            self._textarea = a["name"]
            self.values[a["name"]] = ""
        elif tag == "select":
            self._select, self._options = a["name"], []
        elif tag == "option" and self._select:
            self._options.append((a.get("value", ""), "selected" in a))

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.values[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        elif tag == "select" and self._select:
            chosen = [v for v, selected in self._options if selected] or [v for v, _ in self._options[:1]]
            self.values[self._select] = chosen[0] if chosen else ""
            self._select = None
        elif tag == "form":
            self.inside = False


def form_values(page_html: str, form_id: str = "entry-form") -> dict[str, str]:
    reader = _FormReader(form_id)
    reader.feed(page_html)
    assert reader.values, f"page has no form #{form_id}"
    return reader.values


def names(page_html: str) -> list[str]:
    return [html.unescape(n) for n in re.findall(r'class="entry-name" href="[^"]+">([^<]*)</a>', page_html)]


def field_error(page_html: str, name: str) -> str:
    match = re.search(rf'<p class="field-error" id="error-{name}">([^<]*)</p>', page_html)
    return html.unescape(match.group(1)) if match else ""


def text_of(page_html: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page_html)))


def saved(server: AdminServer, kind: str, slug: str) -> dict[str, Any]:
    with new_session(server.database_url) as session:
        row = editing.get_by_slug(session, kind, slug)
        return editing.to_dict(row) if row is not None else {}


def entry_url(server: AdminServer, kind: str, slug: str) -> str:
    return server.url(f"/admin/{kind}/{saved(server, kind, slug)['id']}")


def listed(client: requests.Session, server: AdminServer, query: str) -> str:
    response = client.get(server.url(f"/admin/places?{query}"))
    assert response.status_code == 200
    return response.text


def submit(client: requests.Session, url: str, changes: dict[str, str] | None = None,
           drop: tuple[str, ...] = ()) -> tuple[requests.Response, dict[str, str]]:
    """Load the form at ``url``, change some fields, post it; returns the answer (not
    followed) and the values that were sent."""
    page = client.get(url)
    assert page.status_code == 200
    values = {**form_values(page.text), **(changes or {})}
    for name in drop:
        values.pop(name, None)
    return client.post(url, data=values, allow_redirects=False), values


# ---------------------------------------------------------------- list


def test_search_ignores_diacritics_and_case(admin_server: AdminServer) -> None:
    client = signed_in(admin_server)
    assert names(listed(client, admin_server, "q=cau+rong")) == ["Cầu Rồng"]
    page = listed(client, admin_server, "q=BAO+TANG")
    assert sorted(names(page)) == ["Bảo tàng Điêu khắc Chăm", "Bảo tàng Đà Nẵng"]
    assert "1–2 trên tổng 2" in page
    assert names(listed(client, admin_server, "q=dragon")) == ["Cầu Rồng"]  # English name too
    assert "Không có mục nào khớp" in listed(client, admin_server, "q=khong+co+dau")
    events = client.get(admin_server.url("/admin/events?q=phao+hoa")).text
    assert names(events) == ["Lễ hội Pháo hoa Quốc tế Đà Nẵng"]
    faqs = client.get(admin_server.url("/admin/faqs?q=cap+cuu")).text
    assert names(faqs) == ["Số điện thoại khẩn cấp"]


def test_filters_by_kind_category_district_verified_and_stale(admin_server: AdminServer) -> None:
    client = signed_in(admin_server)
    everything = listed(client, admin_server, "")
    assert len(names(everything)) == 6
    # The choices are the values in use.
    assert '<option value="museum">' in everything and '<option value="Liên Chiểu">' in everything
    assert sorted(names(listed(client, admin_server, "kind=service"))) == ["Bệnh viện Xa Tâm",
                                                                           "Bệnh viện Đà Nẵng"]
    assert sorted(names(listed(client, admin_server, "category=museum&district=H%E1%BA%A3i+Ch%C3%A2u"))) == [
        "Bảo tàng Điêu khắc Chăm", "Bảo tàng Đà Nẵng"]
    assert sorted(names(listed(client, admin_server, "verified=yes"))) == [
        "Biển Mỹ Khê", "Bệnh viện Đà Nẵng", "Cầu Rồng"]
    assert "Cầu Rồng" not in names(listed(client, admin_server, "verified=no"))

    # Checked today, checked two years ago, never checked.
    with new_session(admin_server.database_url) as session, session.begin():
        editing.get_by_slug(session, "places", "bien-my-khe").verified_at = utcnow()
        editing.get_by_slug(session, "places", "cau-rong").verified_at = utcnow() - timedelta(days=800)
    stale = names(listed(client, admin_server, "stale=yes"))
    assert "Cầu Rồng" in stale and "Bảo tàng Đà Nẵng" in stale
    assert "Biển Mỹ Khê" not in stale
    assert "chưa kiểm chứng" in listed(client, admin_server, "q=bao+tang+da+nang")


def test_long_lists_are_paged(admin_server: AdminServer) -> None:
    with new_session(admin_server.database_url) as session, session.begin():
        for n in range(1, 56):
            editing.create(session, "places", {"kind": "service", "category": "atm",
                                               "name_vi": f"Cây ATM thử {n:02d}"}, "seed")
    client = signed_in(admin_server)
    first = listed(client, admin_server, "q=cay+atm+thu")
    assert len(names(first)) == 50
    assert "1–50 trên tổng 55" in first
    next_link = html.unescape(re.search(r'href="([^"]+)" rel="next"', first).group(1))
    assert "q=cay+atm+thu" in next_link and "page=2" in next_link
    second = client.get(admin_server.url(next_link)).text
    assert len(names(second)) == 5
    assert "51–55 trên tổng 55" in second
    assert 'rel="prev"' in second and 'rel="next"' not in second
    assert not set(names(first)) & set(names(second))


def test_forms_offer_every_field_and_unknown_pages_are_404(admin_server: AdminServer) -> None:
    client = signed_in(admin_server)
    for kind in ("places", "events", "faqs"):
        page = client.get(admin_server.url(f"/admin/{kind}/new")).text
        offered = set(re.findall(r'\bname="([a-z_]+)"', page))
        assert set(field_names(kind)) <= offered, set(field_names(kind)) - offered
    service = client.get(admin_server.url("/admin/places/new?kind=service")).text
    assert form_values(service)["kind"] == "service"
    assert '<option value="hospital">' in service  # categories in use, as suggestions

    edit = client.get(entry_url(admin_server, "places", "cau-rong")).text
    assert "Tên tiếng Việt" in edit and "Vĩ độ (lat)" in edit
    assert "marker=16.0612,108.2272" in edit and "Xem trên bản đồ" in edit
    event = client.get(entry_url(admin_server, "events", "dragon-bridge-show")).text
    assert form_values(event)["venue_slug"] == "cau-rong"
    assert form_values(event)["recurrence"] == "FREQ=WEEKLY;BYDAY=SA,SU"

    for path in ("/admin/hotels", "/admin/places/99999", "/admin/events/99999/history"):
        response = client.get(admin_server.url(path))
        assert response.status_code == 404 and "Không tìm thấy" in response.text


# ---------------------------------------------------------------- create and edit


def test_mistakes_are_shown_next_to_their_field_and_nothing_is_saved(admin_server: AdminServer) -> None:
    client = signed_in(admin_server)
    response, _ = submit(client, admin_server.url("/admin/places/new"), {
        "name_vi": "", "category": "Chợ Truyền Thống", "lat": "mười sáu", "lon": "108.22",
        "website": "ftp://cho.example", "aliases": "Han market\nchợ Hàn cũ",
    })
    assert response.status_code == 400
    page = response.text
    assert field_error(page, "name_vi") == "Bắt buộc phải điền."
    assert field_error(page, "category").startswith("Loại là mã viết thường không dấu")
    assert field_error(page, "lat").startswith("Phải là một số")
    assert field_error(page, "website") == "Địa chỉ web phải bắt đầu bằng http:// hoặc https://."
    assert field_error(page, "lon") == ""
    assert 'class="field invalid" id="field-category"' in page
    assert "Chưa lưu được: còn 4 chỗ cần sửa" in page
    # What the officer typed is all still there.
    kept = form_values(page)
    assert kept["category"] == "Chợ Truyền Thống" and kept["lat"] == "mười sáu"
    assert kept["aliases"] == "Han market\nchợ Hàn cũ" and kept["website"] == "ftp://cho.example"
    assert "Han market" not in listed(client, admin_server, "q=han+market")
    assert len(names(listed(client, admin_server, ""))) == 6


def test_create_then_edit(admin_server: AdminServer) -> None:
    client = signed_in(admin_server)
    response, _ = submit(client, admin_server.url("/admin/places/new"), {
        "name_vi": "Chợ Hàn", "name_en": "Han Market", "kind": "attraction", "category": "market",
        "district": "Hải Châu", "lat": "16,0681", "lon": "108.2243", "free": "false",
        "aliases": "Han market\nchợ Hàn Đà Nẵng", "verified": "1", "phone": "0236 3821 363",
    })
    assert response.status_code == 302
    row = saved(admin_server, "places", "cho-han")
    assert response.headers["Location"] == f"/admin/places/{row['id']}"
    assert row["lat"] == pytest.approx(16.0681) and row["free"] is False
    assert row["aliases"] == ["Han market", "chợ Hàn Đà Nẵng"]
    assert row["verified"] is True and row["verified_by"] == "editor-1"
    page = client.get(admin_server.url(response.headers["Location"])).text
    assert "Đã lưu “Chợ Hàn”." in page
    assert "Đã kiểm chứng bởi editor-1 lúc" in page
    assert names(listed(client, admin_server, "q=cho+han")) == ["Chợ Hàn"]

    url = admin_server.url(response.headers["Location"])
    response, _ = submit(client, url, {"hours_vi": "6:00–19:00", "free": ""})
    assert response.status_code == 302
    row = saved(admin_server, "places", "cho-han")
    assert (row["hours_vi"], row["free"], row["version"]) == ("6:00–19:00", None, 2)
    assert "Đã lưu “Chợ Hàn” (phiên bản 2)." in client.get(url).text
    response, _ = submit(client, url)
    assert saved(admin_server, "places", "cho-han")["version"] == 2
    assert "Không có gì thay đổi" in client.get(url).text

    # A second live entry may not take the same name.
    response, _ = submit(client, admin_server.url("/admin/places/new"), {
        "name_vi": "chợ hàn", "kind": "service", "category": "market"})
    assert response.status_code == 400
    assert field_error(response.text, "name_vi").startswith("Đã có mục khác tên “Chợ Hàn”")


def test_event_and_practical_information_forms(admin_server: AdminServer) -> None:
    client = signed_in(admin_server)
    new_event = admin_server.url("/admin/events/new")
    response, _ = submit(client, new_event, {
        "name_vi": "Lễ hội Biển", "category": "festival", "venue_slug": "bien-my-khe",
        "dates": "2027-06-03..2027-06-01", "start_time": "19h30"})
    assert response.status_code == 400
    assert field_error(response.text, "dates") == "Dòng 1: Ngày kết thúc phải sau hoặc bằng ngày bắt đầu."
    assert form_values(response.text)["venue_slug"] == "bien-my-khe"

    response, _ = submit(client, new_event, {
        "name_vi": "Lễ hội Biển", "category": "festival", "venue_slug": "bien-my-khe",
        "dates": "2027-06-01..2027-06-03\n2027-07-01", "start_time": "19h30"})
    assert response.status_code == 302
    event = saved(admin_server, "events", "le-hoi-bien")
    assert event["venue_slug"] == "bien-my-khe" and event["start_time"] == "19:30"
    assert event["dates"] == [{"start": "2027-06-01", "end": "2027-06-03"},
                              {"start": "2027-07-01", "end": "2027-07-01"}]
    shown = form_values(client.get(admin_server.url(response.headers["Location"])).text)
    assert shown["dates"] == "2027-06-01..2027-06-03\n2027-07-01"

    response, _ = submit(client, entry_url(admin_server, "faqs", "visa"),
                         {"answer_vi": "Xin e-visa tại evisa.gov.vn.", "keywords": "visa\nthị thực"})
    assert response.status_code == 302
    faq = saved(admin_server, "faqs", "visa")
    assert faq["answer_vi"] == "Xin e-visa tại evisa.gov.vn." and faq["keywords"] == ["visa", "thị thực"]


def test_two_officers_saving_the_same_entry(admin_server: AdminServer) -> None:
    first = signed_in(admin_server, "editor", "editor-1")
    second = signed_in(admin_server, "editor", "editor-2")
    url = entry_url(admin_server, "places", "cau-rong")
    first_form = form_values(first.get(url).text)
    second_form = form_values(second.get(url).text)
    assert first_form["version"] == second_form["version"] == "1"

    response = first.post(url, data={**first_form, "hours_vi": "6:00–23:00"}, allow_redirects=False)
    assert response.status_code == 302
    response = second.post(url, data={**second_form, "price_vi": "Miễn phí"}, allow_redirects=False)
    assert response.status_code == 409
    page = response.text
    assert "mục này đã được lưu bởi editor-1 lúc" in text_of(page)
    assert "chưa được lưu" in page
    # The other officer's value beside this officer's, for the fields that differ.
    differences = re.findall(r'<td class="saved">([^<]*)</td><td class="typed">([^<]*)</td>', page)
    assert ("6:00–23:00", "Cả ngày") in differences and ("(trống)", "Miễn phí") in differences
    assert len(differences) == 2
    kept = form_values(page)
    assert kept["price_vi"] == "Miễn phí" and kept["hours_vi"] == "Cả ngày"
    assert kept["version"] == "2"
    row = saved(admin_server, "places", "cau-rong")
    assert (row["hours_vi"], row["price_vi"], row["version"]) == ("6:00–23:00", None, 2)

    # Having seen the difference, the second officer saves deliberately.
    response = second.post(url, data=kept, allow_redirects=False)
    assert response.status_code == 302
    row = saved(admin_server, "places", "cau-rong")
    assert (row["hours_vi"], row["price_vi"], row["version"]) == ("Cả ngày", "Miễn phí", 3)


def test_a_form_without_its_version_does_not_overwrite(admin_server: AdminServer) -> None:
    client = signed_in(admin_server)
    response, _ = submit(client, entry_url(admin_server, "places", "cau-rong"), {"hours_vi": "x"},
                         drop=("version",))
    assert response.status_code == 409
    assert saved(admin_server, "places", "cau-rong")["hours_vi"] == "Cả ngày"


# ---------------------------------------------------------------- buttons


def _press(client: requests.Session, url: str, action: str, extra: dict[str, str] | None = None) -> str:
    page = client.get(url).text
    version = re.search(rf'action="[^"]*/{action}">\s*<input type="hidden" name="_csrf" value="[^"]+">\s*'
                        r'<input type="hidden" name="version" value="(\d+)">', page)
    assert version, f"no {action} button"
    response = client.post(f"{url}/{action}", data={"_csrf": csrf_of(page), "version": version.group(1),
                                                   **(extra or {})})
    assert response.status_code == 200
    return response.text


def test_verify_records_who_and_when(admin_server: AdminServer) -> None:
    client = signed_in(admin_server, "editor", "editor-2")
    url = entry_url(admin_server, "places", "bao-tang-cham")
    assert "Chưa kiểm chứng" in client.get(url).text
    page = _press(client, url, "verify")
    assert "Đã đánh dấu đã kiểm chứng." in page
    assert "Đã kiểm chứng bởi editor-2 lúc" in page
    row = saved(admin_server, "places", "bao-tang-cham")
    assert row["verified"] and row["verified_by"] == "editor-2"
    assert "Bảo tàng Điêu khắc Chăm" not in names(listed(client, admin_server, "stale=yes"))

    # A button pressed on a page that is out of date changes nothing.
    page = client.get(url).text
    response = client.post(f"{url}/verify", data={"_csrf": csrf_of(page), "version": "1"})
    assert "Chưa làm được: mục này vừa được lưu bởi editor-2" in response.text
    assert saved(admin_server, "places", "bao-tang-cham")["version"] == row["version"]


def test_retire_hides_and_unretire_brings_back(admin_server: AdminServer) -> None:
    client = signed_in(admin_server)
    url = entry_url(admin_server, "places", "bien-my-khe")
    page = _press(client, url, "retire")
    assert "Mục này đang ngừng sử dụng" in page and ">Dùng lại</button>" in page
    assert "Biển Mỹ Khê" not in names(listed(client, admin_server, ""))
    assert names(listed(client, admin_server, "retired=yes")) == ["Biển Mỹ Khê"]
    page = _press(client, url, "unretire")
    assert "Đã dùng lại mục này." in page
    assert "Biển Mỹ Khê" in names(listed(client, admin_server, ""))
    assert saved(admin_server, "places", "bien-my-khe")["retired"] is False


def test_history_shows_changes_and_restore_brings_an_old_version_back(admin_server: AdminServer) -> None:
    client = signed_in(admin_server)
    url = entry_url(admin_server, "places", "bao-tang-cham")
    submit(client, url, {"hours_vi": "8:00–17:00", "aliases": "bảo tàng Chăm\nCham museum\nCham"})
    submit(client, url, {"hours_vi": "9:00–17:00"})

    page = client.get(f"{url}/history").text
    assert page.index('id="revision-3"') < page.index('id="revision-2"') < page.index('id="revision-1"')
    second = page[page.index('id="revision-2"'):page.index('id="revision-1"')]
    assert "Sửa" in second and "editor-1" in second and "Giờ mở cửa (tiếng Việt)" in second
    assert '<td class="diff-old">7:00–17:00</td><td class="diff-new">8:00–17:00</td>' in second
    assert "bảo tàng Chăm, Cham museum, Cham" in second  # lists shown joined
    assert re.search(r'id="revision-1">\s*<h2>Phiên bản 1 · Dữ liệu ban đầu', page)  # as seeded

    revision = re.search(r'name="revision_id" value="(\d+)"', second).group(1)
    response = client.post(f"{url}/restore", data={"_csrf": csrf_of(page), "version": "3",
                                                   "revision_id": revision})
    assert "Đã khôi phục phiên bản đã chọn" in response.text
    row = saved(admin_server, "places", "bao-tang-cham")
    assert (row["hours_vi"], row["version"]) == ("8:00–17:00", 4)
    page = client.get(f"{url}/history").text
    assert re.search(r'id="revision-4">\s*<h2>Phiên bản 4 · Khôi phục', page)

    first = page[page.index('id="revision-1"'):]
    revision = re.search(r'name="revision_id" value="(\d+)"', first).group(1)
    client.post(f"{url}/restore", data={"_csrf": csrf_of(page), "version": "4", "revision_id": revision})
    row = saved(admin_server, "places", "bao-tang-cham")
    assert (row["hours_vi"], row["version"]) == ("7:00–17:00", 5)
    assert row["aliases"] == ["bảo tàng Chăm", "Cham museum"]

    # Restoring what is already there makes no new version, and says so.
    page = client.get(f"{url}/history").text
    response = client.post(f"{url}/restore", data={"_csrf": csrf_of(page), "version": "5",
                                                   "revision_id": revision})
    assert "Không có gì thay đổi" in response.text
    assert saved(admin_server, "places", "bao-tang-cham")["version"] == 5


# ---------------------------------------------------------------- in a browser


def test_browser_adds_a_place_with_its_map_and_finds_it_without_diacritics(
        admin_server: AdminServer, page: Page) -> None:
    # The map tiles are OpenStreetMap's; the test machine is offline, so answer for them.
    page.route("https://www.openstreetmap.org/**",
               lambda route: route.fulfill(status=200, content_type="text/html", body="<p>bản đồ</p>"))
    sign_in(page, admin_server)
    page.goto(admin_server.url("/admin/places"))
    page.get_by_role("link", name="Thêm mới").click()
    page.fill("#f-name_vi", "Chợ Cồn")
    page.select_option("#f-kind", "service")
    page.fill("#f-category", "Chợ truyền thống")
    page.fill("#f-lat", "16.0678")
    page.fill("#f-lon", "108.2140")
    frame = page.locator("#map-frame")
    expect(frame).to_have_attribute("src", re.compile(r"marker=16\.0678,108\.214$"))
    expect(page.locator("#map-link")).to_be_visible()

    page.get_by_role("button", name="Lưu", exact=True).click()
    expect(page.locator("#error-category")).to_contain_text("Loại là mã viết thường không dấu")
    expect(page.locator("#error-summary")).to_contain_text("Chưa lưu được")
    expect(page.locator("#f-name_vi")).to_have_value("Chợ Cồn")
    expect(page.locator("#f-kind")).to_have_value("service")
    expect(frame).to_have_attribute("src", re.compile(r"marker=16\.0678,108\.214$"))

    page.fill("#f-category", "market")
    page.get_by_role("button", name="Lưu", exact=True).click()
    expect(page.locator(".flash")).to_have_text("Đã lưu “Chợ Cồn”.")
    expect(page).to_have_url(re.compile(r"/admin/places/\d+$"))

    page.goto(admin_server.url("/admin/places"))
    page.fill("input[name=q]", "cho con")
    page.press("input[name=q]", "Enter")
    expect(page.locator("a.entry-name")).to_have_text(["Chợ Cồn"])


HUGE = "99999999999999999999"


@pytest.mark.parametrize("path", [f"/admin/places/{HUGE}", f"/admin/places/{HUGE}/history", "/admin/places/٣",
                                  "/admin/unanswered?page=²", "/admin/unanswered?page=1e9",
                                  f"/admin/places/new?from_questions=²,{HUGE}"])
def test_odd_numbers_in_addresses_are_never_a_server_error(admin_server: AdminServer, path: str) -> None:
    client = signed_in(admin_server)
    response = client.get(admin_server.url(path))
    assert response.status_code in (200, 404), response.text[-500:]


def test_odd_version_in_a_form_is_a_conflict_not_an_error(admin_server: AdminServer) -> None:
    client = signed_in(admin_server)
    row = saved(admin_server, "places", "cau-rong")
    url = admin_server.url(f"/admin/places/{row['id']}")
    for version in ("²", HUGE):
        token = csrf_of(client.get(url).text)
        response = client.post(f"{url}/verify", data={"_csrf": token, "version": version})
        assert response.status_code == 200 and "flash" in response.text
    assert saved(admin_server, "places", "cau-rong")["version"] == row["version"]
