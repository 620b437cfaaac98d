"""Spreadsheet import and export (knowledge.spreadsheets) against a real base, SQLite and
PostgreSQL: what the preview reports, that it writes nothing, that an import is all or
nothing, that an exported file imports back as unchanged, and that a base edited between
preview and confirm is noticed."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from knowledge import editing
from knowledge import spreadsheets as sheets
from knowledge.db import new_session
from knowledge.models import Event, Faq, Place, Revision
from knowledge.spreadsheets import ImportRejected, SpreadsheetError, StaleImport


def csv_bytes(rows: list[list[Any]], *, bom: bool = False, delimiter: str = ",") -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=delimiter).writerows(rows)
    return out.getvalue().encode("utf-8-sig" if bom else "utf-8")


def xlsx_bytes(rows: list[list[Any]], title: str = "Sheet") -> bytes:
    workbook = openpyxl.Workbook()
    workbook.active.title = title
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def counts(url: str) -> dict[str, int]:
    """Row counts seen from a separate connection: what was really committed."""
    with new_session(url) as session:
        return {model.__tablename__: session.execute(select(func.count(model.id))).scalar_one()
                for model in (Place, Event, Faq, Revision)}


def place(url: str, slug: str) -> dict[str, Any] | None:
    with new_session(url) as session:
        row = editing.get_by_slug(session, "places", slug)
        return editing.to_dict(row) if row is not None else None


def plan_of(session: Session, kind: str, data: bytes, filename: str = "tep.csv") -> sheets.ImportPlan:
    plan = sheets.preview(session, kind, sheets.read_sheet(data, filename, kind))
    session.commit()
    return plan


HEADER = ["slug", "kind", "category", "name_vi", "lat", "lon", "phone", "aliases"]
NEW_PLACE = ["", "attraction", "market", "Chợ Hàn", "16.0680", "108.2240", "0236 3821 363",
             "Han market; chợ Hàn"]
CHANGE_CAU_RONG = ["cau-rong", "attraction", "bridge", "Cầu Rồng", "16.0612", "108.2272", "0236 111 222",
                   "cầu con rồng"]
SAME_MY_KHE = ["bien-my-khe", "attraction", "beach", "Biển Mỹ Khê", "16.062", "108.247", "", ""]


def test_preview_reports_added_changed_and_unchanged_rows(mini_kb: Session, kb_url: str) -> None:
    plan = plan_of(mini_kb, "places", csv_bytes([HEADER, CHANGE_CAU_RONG, NEW_PLACE, SAME_MY_KHE]))

    assert plan.ok and not plan.rejected
    [added] = plan.added
    assert (added.row, added.slug, added.name) == (3, "cho-han", "Chợ Hàn")
    assert ("aliases", "Han market; chợ Hàn") in added.values and ("lat", "16.068") in added.values
    [changed] = plan.changed
    assert (changed.row, changed.slug) == (2, "cau-rong")
    # Only what differs, old -> new as the officer would type it.
    # A verified row whose facts change without the file vouching for them needs checking again.
    assert [(c.field, c.old, c.new) for c in changed.changes] == [
        ("phone", "", "0236 111 222"), ("verified", "có", "không")]
    assert [(u.row, u.slug) for u in plan.unchanged] == [(4, "bien-my-khe")]


def test_apply_writes_every_row_with_a_revision(mini_kb: Session, kb_url: str) -> None:
    before = counts(kb_url)
    data = csv_bytes([HEADER, CHANGE_CAU_RONG, NEW_PLACE, SAME_MY_KHE])
    plan = sheets.apply(mini_kb, "places", sheets.read_sheet(data, "tep.csv", "places"), "can-bo")
    mini_kb.commit()

    assert (len(plan.added), len(plan.changed), len(plan.unchanged)) == (1, 1, 1)
    after = counts(kb_url)
    assert after["places"] == before["places"] + 1
    new = place(kb_url, "cho-han")
    assert new is not None and new["aliases"] == ["Han market", "chợ Hàn"] and new["lat"] == 16.068
    cau_rong = place(kb_url, "cau-rong")
    assert cau_rong is not None and cau_rong["phone"] == "0236 111 222" and cau_rong["version"] == 2
    # Columns absent from the file keep their value.
    assert cau_rong["summary_vi"] == "Cây cầu hình rồng."
    assert cau_rong["verified"] is False  # its facts changed and the file did not vouch for them
    assert place(kb_url, "bien-my-khe")["version"] == 1  # type: ignore[index]
    with new_session(kb_url) as session:
        actions = session.execute(
            select(Revision.row_id, Revision.action, Revision.username).where(Revision.action != "seed")
        ).all()
    assert sorted((a, u) for _, a, u in actions) == [("create", "can-bo"), ("import", "can-bo")]


def test_bad_rows_are_refused_with_row_number_and_reason(mini_kb: Session) -> None:
    rows = [
        HEADER,
        ["", "attraction", "beach", "Bãi biển Sai", "99", "108.2", "", ""],  # row 2: lat out of range
        ["", "attraction", "market", "", "", "", "", ""],  # row 3: no name
        NEW_PLACE,  # row 4: fine
        ["", "attraction", "market", "Chợ hàn", "", "", "", ""],  # row 5: same name as row 4
        ["", "service", "hospital", "Cầu Rồng", "", "", "", ""],  # row 6: name of a live row
        ["", "attraction", "beach", "Biển Bắc", "16.1", "", "", ""],  # row 7: lat without lon
        ["", "attraction", "beach", "Biển Nam", "", "", "abc", ""],  # row 8: not a phone number
    ]
    plan = plan_of(mini_kb, "places", csv_bytes(rows))

    assert not plan.ok
    reasons = {r.row: r.errors for r in plan.rejected}
    assert sorted(reasons) == [2, 3, 5, 6, 7, 8]
    assert reasons[2] == [{"field": "lat", "message": "Phải nhỏ hơn hoặc bằng 90."}]
    assert reasons[3] == [{"field": "name_vi", "message": "Bắt buộc phải điền."}]
    # A clash with a row of the same file is said in the file's terms.
    assert reasons[5][0]["field"] == "name_vi" and "dòng 4 của tệp này" in reasons[5][0]["message"]
    assert reasons[6][0]["field"] == "name_vi" and "Cầu Rồng" in reasons[6][0]["message"]
    assert reasons[7][0]["field"] == "lon"
    assert reasons[8][0]["field"] == "phone"
    assert [a.row for a in plan.added] == [4]


def test_event_rows_check_the_venue_and_dates(mini_kb: Session) -> None:
    rows = [
        ["slug", "category", "name_vi", "venue_slug", "dates"],
        ["", "festival", "Lễ hội Biển", "bien-my-khe", "2027-06-01..2027-06-03; 2027-07-01"],
        ["", "festival", "Lễ hội Ma", "khong-co-dau", ""],
        ["", "festival", "Lễ hội Ngược", "", "2027-06-03..2027-06-01"],
        ["tet-2027", "holiday", "Tết Nguyên Đán 2027", "", "2027-02-05..2027-02-10"],
    ]
    plan = plan_of(mini_kb, "events", csv_bytes(rows))

    [added] = plan.added
    assert dict(added.values)["dates"] == "2027-06-01..2027-06-03; 2027-07-01"
    assert dict(added.values)["venue_slug"] == "bien-my-khe"
    reasons = {r.row: r.errors for r in plan.rejected}
    assert reasons[3] == [{"field": "venue_slug", "message": "Không có địa điểm nào có mã “khong-co-dau”."}]
    assert reasons[4][0]["field"] == "dates.0.end"
    [changed] = plan.changed
    assert [(c.field, c.old, c.new) for c in changed.changes] == [
        ("dates", "2027-02-05..2027-02-09", "2027-02-05..2027-02-10")]


def test_one_bad_row_means_nothing_is_written(mini_kb: Session, kb_url: str) -> None:
    before = counts(kb_url)
    bad = ["", "attraction", "beach", "Bãi biển Sai", "99", "108.2", "", ""]
    sheet = sheets.read_sheet(csv_bytes([HEADER, NEW_PLACE, CHANGE_CAU_RONG, bad]), "tep.csv", "places")

    with pytest.raises(ImportRejected) as refused:
        sheets.apply(mini_kb, "places", sheet, "can-bo")
    mini_kb.rollback()

    assert [r.row for r in refused.value.plan.rejected] == [4]
    assert counts(kb_url) == before
    assert place(kb_url, "cho-han") is None
    assert place(kb_url, "cau-rong")["phone"] is None  # type: ignore[index]


def test_preview_writes_nothing(mini_kb: Session, kb_url: str) -> None:
    before = counts(kb_url)
    data = csv_bytes([HEADER, CHANGE_CAU_RONG, NEW_PLACE])
    first = plan_of(mini_kb, "places", data)
    again = plan_of(mini_kb, "places", data)

    assert counts(kb_url) == before
    assert place(kb_url, "cau-rong")["version"] == 1  # type: ignore[index]
    assert place(kb_url, "cho-han") is None
    # Same file, same base: same outcome and fingerprint (the new row gets the same slug).
    assert first.fingerprint == again.fingerprint and again.added[0].slug == "cho-han"


def test_a_touched_row_edited_after_the_preview_stops_the_import(mini_kb: Session, kb_url: str) -> None:
    sheet = sheets.read_sheet(csv_bytes([HEADER, CHANGE_CAU_RONG, NEW_PLACE]), "tep.csv", "places")
    plan = sheets.preview(mini_kb, "places", sheet)
    mini_kb.commit()
    # Another officer saves the bridge while the first one is reading the preview.
    with new_session(kb_url) as other, other.begin():
        row = editing.get_by_slug(other, "places", "cau-rong")
        editing.update(other, "places", row.id, {"hours_vi": "Mở cả đêm"}, "nguoi-khac", row.version,
                       partial=True)
    before = counts(kb_url)

    with pytest.raises(StaleImport) as stale:
        sheets.apply(mini_kb, "places", sheet, "can-bo", plan.fingerprint)
    mini_kb.rollback()

    assert counts(kb_url) == before and place(kb_url, "cho-han") is None
    assert place(kb_url, "cau-rong")["hours_vi"] == "Mở cả đêm"  # type: ignore[index]
    # Previewed again, the same file goes in (keeping the other officer's change).
    fresh = stale.value.plan
    assert fresh.fingerprint != plan.fingerprint
    sheets.apply(mini_kb, "places", sheet, "can-bo", fresh.fingerprint)
    mini_kb.commit()
    cau_rong = place(kb_url, "cau-rong")
    assert cau_rong is not None and (cau_rong["phone"], cau_rong["hours_vi"]) == ("0236 111 222", "Mở cả đêm")


def _tricky_rows(session: Session) -> None:
    """Values that break naive spreadsheets: commas, quotes, new lines, formulas, '+'."""
    editing.create(session, "places", {
        "kind": "service", "category": "pharmacy", "name_vi": "Nhà thuốc \"Số 1\", Hải Châu",
        "phone": "+84 236 3822 022", "aliases": ["nhà thuốc số một", "=1+1"], "lat": 16.06, "lon": 108.2,
        "description_vi": "=SUM(A1:A2)\nDòng hai; có dấu chấm phẩy", "free": False, "tags": ["24h"],
        "website": "https://example.org/?a=1,2",
    }, "tester")
    editing.create(session, "places", {
        "kind": "attraction", "category": "viewpoint", "name_vi": "Điểm phía nam",
        "lat": -12.5, "lon": -40.25,
    }, "tester")
    editing.create(session, "events", {
        "category": "festival", "name_vi": "Lễ hội Biển Mỹ Khê", "venue_slug": "bien-my-khe",
        "dates": "2027-06-01..2027-06-03; 2027-07-01", "start_time": "19:30",
        "recurrence": "FREQ=YEARLY", "recurrence_start": "2027-06-01", "retired": True,
    }, "tester")
    session.commit()


@pytest.mark.parametrize("kind", ["places", "events"])
def test_export_then_import_changes_nothing(mini_kb: Session, kb_url: str, kind: str) -> None:
    _tricky_rows(mini_kb)
    total = counts(kb_url)[kind]
    exported_csv = sheets.export_csv(mini_kb, kind)
    workbook = sheets.export_xlsx(mini_kb)

    assert exported_csv.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs for UTF-8
    for data, filename in ((exported_csv, f"{kind}.csv"), (workbook, "all.xlsx")):
        plan = plan_of(mini_kb, kind, data, filename)
        assert plan.rejected == [] and plan.added == [] and plan.changed == []
        assert len(plan.unchanged) == total  # retired rows included


def test_exported_csv_keeps_text_safe_for_excel(mini_kb: Session) -> None:
    _tricky_rows(mini_kb)
    text = sheets.export_csv(mini_kb, "places").decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    pharmacy = next(r for r in rows if r["name_vi"].startswith("Nhà thuốc"))
    # Cells Excel would run as formulas carry a leading apostrophe (taken off on import).
    assert pharmacy["phone"] == "'+84 236 3822 022"
    assert pharmacy["description_vi"].startswith("'=SUM")
    assert pharmacy["free"] == "không" and pharmacy["retired"] == "không"
    south = next(r for r in rows if r["slug"] == "diem-phia-nam")
    assert (south["lat"], south["lon"]) == ("-12.5", "-40.25")  # numbers are never formulas
    assert {"id", "version", "verified_by", "updated_at"} <= set(rows[0])


def test_exported_workbook_has_one_bold_frozen_sheet_per_table(mini_kb: Session) -> None:
    _tricky_rows(mini_kb)
    workbook = openpyxl.load_workbook(io.BytesIO(sheets.export_xlsx(mini_kb)))
    assert workbook.sheetnames == ["places", "events", "faqs"]
    places = workbook["places"]
    assert places.freeze_panes == "A2" and places["A1"].font.bold
    header = [c.value for c in places[1]]
    assert header[:2] == ["slug", "kind"] and "retired" in header and "source" in header
    [pharmacy] = [r for r in places.iter_rows(min_row=2) if r[0].value == "nha-thuoc-so-1-hai-chau"]
    cells = dict(zip(header, pharmacy, strict=False))
    assert cells["lat"].value == 16.06 and cells["phone"].value == "+84 236 3822 022"
    # Text that looks like a formula stays text.
    assert cells["description_vi"].value.startswith("=SUM") and cells["description_vi"].data_type == "s"


def test_xlsx_numbers_and_dates_are_read_as_typed(mini_kb: Session) -> None:
    places = xlsx_bytes([
        ["slug", "kind", "category", "name_vi", "lat", "lon", "phone", "verified"],
        [None, "service", "pharmacy", "Nhà thuốc Số 2", 16.06, 108.2, 2363822022, True],
    ])
    [added] = plan_of(mini_kb, "places", places, "a.xlsx").added
    values = dict(added.values)
    assert (values["lat"], values["lon"], values["phone"], values["verified"]) == (
        "16.06", "108.2", "2363822022", "có")

    events = xlsx_bytes([
        ["slug", "category", "name_vi", "dates", "recurrence", "recurrence_start", "start_time"],
        [None, "show", "Nhạc nước", datetime(2027, 6, 1), "FREQ=WEEKLY", date(2027, 6, 1), time(20, 30)],
    ])
    [added] = plan_of(mini_kb, "events", events, "b.xlsx").added
    values = dict(added.values)
    assert (values["dates"], values["recurrence_start"], values["start_time"]) == (
        "2027-06-01", "2027-06-01", "20:30")


def test_csv_with_bom_semicolons_or_vietnamese_headers(mini_kb: Session) -> None:
    bom = plan_of(mini_kb, "places", csv_bytes([HEADER, NEW_PLACE], bom=True))
    assert [a.slug for a in bom.added] == ["cho-han"]
    # Excel with Vietnamese regional settings separates with ';'.
    semicolons = plan_of(mini_kb, "places", csv_bytes([HEADER, NEW_PLACE], delimiter=";"))
    assert [a.slug for a in semicolons.added] == ["cho-han"]
    labels = {"name_vi": "Tên tiếng Việt", "kind": "Nhóm", "category": "Loại"}
    data = csv_bytes([["Tên tiếng Việt", "nhom", "LOẠI"], ["Chợ Cồn", "attraction", "market"]])
    sheet = sheets.read_sheet(data, "a.csv", "places", labels)
    assert sheet.columns == ["name_vi", "kind", "category"]


@pytest.mark.parametrize(("data", "filename", "expected"), [
    (csv_bytes([["slug", "name_vi", "gia_ve"], ["x", "y", "z"]]), "a.csv", "“gia_ve”"),
    (csv_bytes([["slug", "venue_slug"], ["x", "y"]]), "a.csv", "“venue_slug”"),  # an events file
    ("slug,name_vi\n,Cà phê Sông Hàn\n".encode("cp1252"), "a.csv", "UTF-8"),
    (b"PK\x03\x04 this is not a workbook", "a.xlsx", "không phải là bảng tính Excel"),
    (b"\x00\x01garbage", "a.xlsx", "không phải là bảng tính Excel"),
    (b"\xd0\xcf\x11\xe0old excel", "a.xls", ".xls"),
    (b"", "a.csv", "trống"),
    (b"\n\nslug\n", "a.csv", "Dòng 1"),
    (csv_bytes([["slug", "name_vi"], ["a", "b", "c"]]), "a.csv", "cột thứ 3"),
    (csv_bytes([["slug", "slug"], ["a", "b"]]), "a.csv", "hai lần"),
], ids=["unknown-column", "events-columns", "not-utf8", "broken-zip", "not-a-zip", "old-xls", "empty",
        "no-header", "unnamed-column", "same-column-twice"])
def test_files_that_cannot_be_used_are_refused_clearly(mini_kb: Session, data: bytes, filename: str,
                                                       expected: str) -> None:
    with pytest.raises(SpreadsheetError) as refused:
        sheets.read_sheet(data, filename, "places")
    assert expected in str(refused.value)


def test_size_and_row_limits(mini_kb: Session) -> None:
    with pytest.raises(SpreadsheetError, match="quá lớn"):
        sheets.read_sheet(b"slug\n" + b"a" * sheets.MAX_BYTES, "a.csv", "places")
    many = b"slug\n" + b"x\n" * (sheets.MAX_ROWS + 1)
    with pytest.raises(SpreadsheetError, match="20.000 dòng"):
        sheets.read_sheet(many, "a.csv", "places")
    most = sheets.read_sheet(b"slug\n" + b"x\n" * sheets.MAX_ROWS, "a.csv", "places")
    assert len(most.rows) == sheets.MAX_ROWS


def test_the_same_slug_twice_in_a_file_is_refused(mini_kb: Session) -> None:
    rows = [HEADER, CHANGE_CAU_RONG, [*CHANGE_CAU_RONG[:6], "0236 999 999", ""]]
    plan = plan_of(mini_kb, "places", csv_bytes(rows))
    [rejected] = plan.rejected
    assert rejected.row == 3 and "dòng 2" in rejected.errors[0]["message"]


@pytest.mark.parametrize(("value", "text"), [
    (2363822022.0, "2363822022"),  # how some writers store a phone typed as a number
    (2363822022, "2363822022"),
    (16.06, "16.06"),
    (108.2272, "108.2272"),
    (True, "true"),
    (datetime(2027, 6, 1), "2027-06-01"),
    (datetime(2027, 6, 1, 20, 30), "2027-06-01 20:30"),
    (time(9, 5), "09:05"),
    ("  ", None),
    (None, None),
])
def test_xlsx_cells_become_the_text_an_officer_typed(value: Any, text: str | None) -> None:
    assert sheets.cell_from_sheet(value) == text


def test_an_edit_saved_while_the_import_runs_is_not_overwritten(
    mini_kb: Session, kb_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    sheet = sheets.read_sheet(csv_bytes([HEADER, CHANGE_CAU_RONG, NEW_PLACE]), "tep.csv", "places")
    plan = sheets.preview(mini_kb, "places", sheet)
    mini_kb.commit()
    real_base_state = sheets._base_state
    edits: list[int] = []

    def base_state_then_someone_saves(session: Session, sheet_: sheets.Sheet) -> list[list[Any]]:
        base = real_base_state(session, sheet_)
        if not edits:  # once: after confirm read the base, before it writes
            with new_session(kb_url) as other, other.begin():
                row = editing.get_by_slug(other, "places", "cau-rong")
                edits.append(editing.update(other, "places", row.id, {"hours_vi": "Mở cả đêm"}, "nguoi-khac",
                                            row.version, partial=True).version)
        return base

    monkeypatch.setattr(sheets, "_base_state", base_state_then_someone_saves)
    before = counts(kb_url)
    with pytest.raises(StaleImport) as stale:
        sheets.apply(mini_kb, "places", sheet, "can-bo", plan.fingerprint)
    mini_kb.rollback()

    assert edits and counts(kb_url)["places"] == before["places"] and place(kb_url, "cho-han") is None
    cau_rong = place(kb_url, "cau-rong")
    assert cau_rong is not None and (cau_rong["hours_vi"], cau_rong["phone"]) == ("Mở cả đêm", None)
    assert stale.value.plan.fingerprint != plan.fingerprint
