"""Spreadsheet import and export through the running admin: upload, preview, confirm,
a base edited in between, files that cannot be read, downloads; and one officer doing it
in a real browser."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import requests

from knowledge import config as knowledge_config
from knowledge import editing
from knowledge.db import new_session
from tests.admin_support import AdminServer, csrf_of, signed_in
from tests.conftest import MINI, sign_in

HEADER = ["slug", "kind", "category", "name_vi", "lat", "lon", "phone"]
NEW = ["", "attraction", "market", "Chợ Hàn", "16.068", "108.224", "0236 3821 363"]
CHANGE = ["cau-rong", "attraction", "bridge", "Cầu Rồng", "16.0612", "108.2272", "0236 111 222"]
BAD = ["", "attraction", "beach", "Bãi biển Sai", "99", "108.2", ""]


@pytest.fixture(autouse=True)
def imports_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Uploads waiting for confirmation go under this test's own var/ directory."""
    monkeypatch.setattr(knowledge_config, "VAR_DIR", tmp_path / "var")
    return tmp_path / "var" / "imports"


def csv_bytes(rows: list[list[str]]) -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out).writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def _upload(client: requests.Session, server: AdminServer, data: bytes, filename: str = "tep.csv",
            kind: str = "places") -> requests.Response:
    token = csrf_of(client.get(server.url("/admin/import")).text)
    return client.post(server.url("/admin/import"), data={"_csrf": token, "kind": kind},
                       files={"file": (filename, data, "application/octet-stream")})


def _import_id(html: str) -> str:
    match = re.search(r'name="import_id" value="([^"]+)"', html)
    assert match, "preview has no confirm form"
    return match.group(1)


def _place(url: str, slug: str) -> dict[str, Any] | None:
    with new_session(url) as session:
        row = editing.get_by_slug(session, "places", slug)
        return editing.to_dict(row) if row is not None else None


def test_upload_preview_and_confirm(admin_server: AdminServer, kb_url: str, imports_dir: Path) -> None:
    client = signed_in(admin_server)
    preview = _upload(client, admin_server, csv_bytes([HEADER, NEW, CHANGE]))

    assert preview.status_code == 200
    assert re.search(r'id="count-added">1<', preview.text)
    assert re.search(r'id="count-changed">1<', preview.text)
    assert "Chợ Hàn" in preview.text and "0236 111 222" in preview.text and "Xác nhận nhập" in preview.text
    assert _place(kb_url, "cho-han") is None  # a preview writes nothing
    assert len(list(imports_dir.iterdir())) == 2  # the file and what the preview saw, kept server-side

    confirm = client.post(admin_server.url("/admin/import/confirm"), allow_redirects=False,
                          data={"_csrf": csrf_of(preview.text), "import_id": _import_id(preview.text)})
    assert confirm.status_code == 302 and confirm.headers["Location"] == "/admin/places"
    assert "Đã nhập: 1 thêm, 1 sửa." in client.get(admin_server.url("/admin/import")).text
    new = _place(kb_url, "cho-han")
    assert new is not None and new["phone"] == "0236 3821 363"
    assert _place(kb_url, "cau-rong")["phone"] == "0236 111 222"  # type: ignore[index]
    assert list(imports_dir.iterdir()) == []  # cleaned up after the import


def test_a_file_with_a_bad_row_cannot_be_confirmed(admin_server: AdminServer, kb_url: str,
                                                   imports_dir: Path) -> None:
    client = signed_in(admin_server)
    preview = _upload(client, admin_server, csv_bytes([HEADER, NEW, BAD]))

    assert preview.status_code == 200
    rejected = preview.text[preview.text.index('id="rejected"'):]
    assert re.search(r"<td>3</td>", rejected) and "Phải nhỏ hơn hoặc bằng 90." in rejected
    assert "chưa có gì được lưu" in preview.text
    assert 'name="import_id"' not in preview.text
    assert not imports_dir.exists() or not any(imports_dir.iterdir())  # nothing kept to confirm
    assert _place(kb_url, "cho-han") is None


def test_an_edit_between_preview_and_confirm_asks_to_check_again(admin_server: AdminServer,
                                                                 kb_url: str) -> None:
    client = signed_in(admin_server)
    preview = _upload(client, admin_server, csv_bytes([HEADER, NEW, CHANGE]))
    with new_session(kb_url) as session, session.begin():
        row = editing.get_by_slug(session, "places", "cau-rong")
        editing.update(session, "places", row.id, {"hours_vi": "Mở cả đêm"}, "nguoi-khac", row.version,
                       partial=True)

    stale = client.post(admin_server.url("/admin/import/confirm"),
                        data={"_csrf": csrf_of(preview.text), "import_id": _import_id(preview.text)})
    assert stale.status_code == 409
    assert "Dữ liệu đã thay đổi từ lúc xem trước" in stale.text
    assert _place(kb_url, "cho-han") is None

    again = client.post(admin_server.url("/admin/import/confirm"),
                        data={"_csrf": csrf_of(stale.text), "import_id": _import_id(stale.text)})
    assert again.status_code == 200 and "Đã nhập: 1 thêm, 1 sửa." in again.text
    cau_rong = _place(kb_url, "cau-rong")
    assert cau_rong is not None and (cau_rong["hours_vi"], cau_rong["phone"]) == ("Mở cả đêm", "0236 111 222")


@pytest.mark.parametrize(("data", "filename", "message"), [
    (b"PK\x03\x04 not really", "tep.xlsx", "không phải là bảng tính Excel (.xlsx) hợp lệ"),
    ("slug,name_vi\n,Cà phê Sông Hàn\n".encode("cp1252"), "tep.csv", "không ở mã UTF-8"),
    (csv_bytes([["slug", "gia_ve"], ["cau-rong", "0"]]), "tep.csv", "“gia_ve”"),
], ids=["broken-xlsx", "not-utf8", "unknown-column"])
def test_unreadable_files_get_a_clear_message(admin_server: AdminServer, data: bytes, filename: str,
                                              message: str) -> None:
    client = signed_in(admin_server)
    response = _upload(client, admin_server, data, filename)
    assert response.status_code == 400
    assert message in response.text and 'id="file-error"' in response.text


def test_confirm_needs_the_same_officers_stored_upload(admin_server: AdminServer) -> None:
    owner = signed_in(admin_server)
    preview = _upload(owner, admin_server, csv_bytes([HEADER, NEW]))
    import_id = _import_id(preview.text)
    other = signed_in(admin_server, "editor", "editor-2")
    for forged in (import_id, "../../etc/passwd", "x" * 30):
        token = csrf_of(other.get(admin_server.url("/admin/import")).text)
        response = other.post(admin_server.url("/admin/import/confirm"),
                              data={"_csrf": token, "import_id": forged})
        assert response.url == admin_server.url("/admin/import")
        assert "Hãy tải tệp lên lại" in response.text


def test_exports_download_and_read_back(admin_server: AdminServer) -> None:
    client = signed_in(admin_server)
    today = date.today().isoformat()

    places = client.get(admin_server.url("/admin/export/places.csv"))
    assert places.status_code == 200 and places.headers["Content-Type"].startswith("text/csv")
    assert places.headers["Content-Disposition"] == f'attachment; filename="places-{today}.csv"'
    assert places.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(places.content.decode("utf-8-sig"), newline="")))
    assert {r["slug"] for r in rows} == {p["slug"] for p in MINI["places"]}
    assert next(r for r in rows if r["slug"] == "cau-rong")["name_vi"] == "Cầu Rồng"

    faqs = client.get(admin_server.url("/admin/export/faqs.csv"))
    assert {r["slug"] for r in csv.DictReader(io.StringIO(faqs.content.decode("utf-8-sig")))} == {
        "emergency-numbers", "visa"}

    workbook = client.get(admin_server.url("/admin/export/all.xlsx"))
    assert workbook.status_code == 200
    assert workbook.headers["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert workbook.headers["Content-Disposition"] == f'attachment; filename="knowledge-base-{today}.xlsx"'
    book = openpyxl.load_workbook(io.BytesIO(workbook.content))
    assert book.sheetnames == ["places", "events", "faqs"]
    assert [r[0] for r in book["events"].iter_rows(min_row=2, values_only=True)] == [
        e["slug"] for e in MINI["events"]]
    assert client.get(admin_server.url("/admin/export/users.csv")).status_code == 404

    # What was downloaded goes back in as "nothing to do".
    again = _upload(client, admin_server, workbook.content, "all.xlsx", kind="events")
    assert re.search(r'id="count-unchanged">3<', again.text) and "không có gì mới" in again.text


def test_officer_imports_a_spreadsheet_in_the_browser(admin_server: AdminServer, page: Any,
                                                      tmp_path: Path) -> None:
    sign_in(page, admin_server)
    first = tmp_path / "dia-diem.csv"
    first.write_bytes(csv_bytes([HEADER, NEW, CHANGE, BAD]))

    page.goto(admin_server.url("/admin/import"))
    page.select_option("select[name=kind]", "places")
    page.set_input_files("input[type=file]", str(first))
    page.click("button:has-text('Xem trước')")

    assert page.locator("#count-added").inner_text() == "1"
    assert page.locator("#count-changed").inner_text() == "1"
    bad_row = page.locator("#rejected tbody tr")
    assert bad_row.count() == 1
    assert bad_row.locator("td").first.inner_text() == "4"
    assert "Vĩ độ (lat)" in bad_row.inner_text() and "Phải nhỏ hơn hoặc bằng 90." in bad_row.inner_text()
    assert page.locator("#confirm").count() == 0

    fixed = tmp_path / "dia-diem-da-sua.csv"
    fixed.write_bytes(csv_bytes([HEADER, NEW, CHANGE]))
    page.click("text=Tải lên tệp đã sửa")
    page.set_input_files("input[type=file]", str(fixed))
    page.click("button:has-text('Xem trước')")
    assert page.locator("#changed").inner_text().count("0236 111 222") == 1
    page.click("#confirm")

    page.wait_for_url(admin_server.url("/admin/places"))
    assert "Đã nhập: 1 thêm, 1 sửa." in page.locator(".flash").inner_text()
    page.goto(admin_server.url("/admin/places?q=cho han"))
    assert page.locator("a", has_text="Chợ Hàn").count() == 1
