"""Importing and exporting the knowledge base as spreadsheets (CSV and XLSX).

Officers keep lists in Excel; the admin lets them upload one table at a time, shows what
would be added, changed or refused, and writes it only when they confirm, all or nothing.
The export writes the same columns back, so export -> edit -> import is the round trip.

Every row goes through ``knowledge.editing`` exactly as a form would (validation, unique
names, revisions). The preview runs the real create/update inside a SAVEPOINT that is
rolled back: it sees what the import would do, including rows of the same file that clash
with each other, and writes nothing.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bot.text_normalise import fold
from knowledge import editing
from knowledge.schemas import FieldError, InvalidEntry, field_names

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
KINDS = ("places", "events", "faqs")
# Knowledge must not import the admin, so the few words messages need are kept here.
TABLE_NAMES = {"places": "Địa điểm", "events": "Sự kiện", "faqs": "Thông tin thiết thực"}
PROVENANCE = ("source", "verified", "retired")
# Exported so officers can see them; never read back (the system writes them).
REFERENCE = ("id", "version", "verified_by", "verified_at", "updated_at")
IGNORED_ON_IMPORT = (*REFERENCE, "created_at")
NUMBER_FIELDS = {"lat", "lon", "id", "version"}
YES, NO = "có", "không"
# Characters that make Excel treat a CSV cell as a formula (CSV injection): such cells are
# written with a leading apostrophe, which the import takes off again.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIME = "text/csv; charset=utf-8"


class SpreadsheetError(ValueError):
    """The file as a whole cannot be used (unreadable, too big, unknown columns...). The
    message is Vietnamese and says what to do."""


class ImportRejected(RuntimeError):
    """Some rows are refused: nothing was written."""

    def __init__(self, plan: ImportPlan) -> None:
        super().__init__(f"{len(plan.rejected)} rows rejected")
        self.plan = plan


class StaleImport(RuntimeError):
    """The base changed since the preview: ``plan`` is what the import would do now."""

    def __init__(self, plan: ImportPlan) -> None:
        super().__init__("the knowledge base changed since the preview")
        self.plan = plan


# --- columns -------------------------------------------------------------------------


def columns(kind: str) -> list[str]:
    """Editable fields in spreadsheet order: slug first, provenance last."""
    if kind not in KINDS:
        raise SpreadsheetError(f"Không có bảng “{kind}”.")
    own = [f for f in field_names(kind) if f != "slug" and f not in PROVENANCE]
    return ["slug", *own, *PROVENANCE]


def export_columns(kind: str) -> list[str]:
    return [*columns(kind), *REFERENCE]


def _header_key(text: str) -> str:
    return re.sub(r"\s+", " ", fold(text)).strip()


def _header_map(kind: str, labels: Mapping[str, str] | None) -> dict[str, str]:
    """Folded header text -> field. Field names always work; ``labels`` (field -> the
    Vietnamese label the admin shows) lets an officer's own headers work too."""
    known = [*columns(kind), *IGNORED_ON_IMPORT]
    mapping = {_header_key(name): name for name in known}
    for name, label in (labels or {}).items():
        if name in known:
            mapping.setdefault(_header_key(label), name)
    return mapping


# --- cells ---------------------------------------------------------------------------


def _number_text(value: float | int) -> str:
    # 2363822022 typed in Excel arrives as 2363822022.0: that is a phone, not a decimal.
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value) if isinstance(value, float) else str(value)


def cell_from_sheet(value: Any) -> str | None:
    """One XLSX cell as the text the validation reads; blank -> None."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _number_text(value)
    if isinstance(value, datetime):
        if value.time() == time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, timedelta):  # a duration-formatted cell, e.g. [h]:mm
        minutes = int(value.total_seconds() // 60)
        return f"{minutes // 60:02d}:{minutes % 60:02d}"
    text = str(value).strip()
    return text or None


def _cell_from_csv(value: str) -> str | None:
    text = value.strip()
    if len(text) > 1 and text[0] == "'" and text[1] in _FORMULA_START:
        text = text[1:]
    return text or None


def _dates_text(spans: list[dict[str, Any]]) -> str:
    parts = []
    for span in spans:
        start, end = str(span["start"]), str(span.get("end") or span["start"])
        parts.append(start if start == end else f"{start}..{end}")
    return "; ".join(parts)


def cell_text(name: str, value: Any) -> str:
    """A stored value as it is written in a spreadsheet cell (and shown in the preview)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return YES if value else NO
    if name == "dates":
        return _dates_text(value)
    if isinstance(value, list | tuple):
        return "; ".join(str(v) for v in value)
    if isinstance(value, float):
        return _number_text(value)
    return str(value)


# --- reading files -------------------------------------------------------------------


@dataclass
class SheetRow:
    number: int  # as the officer sees it: the header is row 1
    values: dict[str, str | None]

    @property
    def label(self) -> str:
        for name in ("name_vi", "title_vi", "slug", "name_en", "title_en"):
            if self.values.get(name):
                return str(self.values[name])
        return ""


@dataclass
class Sheet:
    kind: str
    columns: list[str]
    rows: list[SheetRow]
    digest: str


def read_sheet(data: bytes, filename: str, kind: str, labels: Mapping[str, str] | None = None) -> Sheet:
    """The rows of an uploaded CSV or XLSX file for table ``kind``, or ``SpreadsheetError``."""
    columns(kind)
    if not data:
        raise SpreadsheetError("Tệp tải lên trống.")
    if len(data) > MAX_BYTES:
        raise SpreadsheetError(
            f"Tệp quá lớn ({len(data) / 1024 / 1024:.1f} MB): tối đa {MAX_BYTES // 1024 // 1024} MB. "
            "Hãy chia thành nhiều tệp nhỏ hơn."
        )
    name = (filename or "").lower()
    if data[:4] == b"\xd0\xcf\x11\xe0" or name.endswith(".xls"):
        raise SpreadsheetError(
            "Đây là tệp Excel kiểu cũ (.xls). Hãy mở trong Excel và chọn Lưu thành → "
            "“Sổ làm việc Excel (.xlsx)” hoặc “CSV UTF-8”, rồi tải lên lại."
        )
    if data[:2] == b"PK" or name.endswith((".xlsx", ".xlsm")):
        records = _xlsx_records(data, kind)
    else:
        records = _csv_records(data)
    header_map = _header_map(kind, labels)
    try:
        return _sheet(kind, records, header_map, data)
    finally:
        close = getattr(records, "close", None)
        if close is not None:
            close()


def _csv_records(data: bytes) -> Iterator[list[str | None]]:
    try:
        text = data.decode("utf-8-sig")  # Excel's "CSV UTF-8" starts with a BOM
    except UnicodeDecodeError:
        raise SpreadsheetError(
            "Tệp CSV không ở mã UTF-8 nên chữ tiếng Việt sẽ bị lỗi. Trong Excel, hãy chọn "
            "Lưu thành → “CSV UTF-8 (phân cách bằng dấu phẩy)” rồi tải lên lại, hoặc dùng tệp .xlsx."
        ) from None
    first_line = text.split("\n", 1)[0]
    # Excel with Vietnamese regional settings separates with ';' (the comma is the decimal mark).
    delimiter = max((",", ";", "\t"), key=first_line.count)

    def rows() -> Iterator[list[str | None]]:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        try:
            for record in reader:
                yield [_cell_from_csv(cell) for cell in record]
        except csv.Error:  # NUL bytes, an unclosed quote, a cell over 128 KB
            raise SpreadsheetError(
                f"Tệp CSV bị hỏng ở khoảng dòng {reader.line_num} nên không đọc được. "
                "Hãy mở bằng Excel và lưu lại dạng “CSV UTF-8”, hoặc dùng tệp .xlsx."
            ) from None

    return rows()


def _pick_worksheet(workbook: Any, kind: str) -> Any:
    # A workbook exported by the admin has one sheet per table: take the one for this table.
    wanted = {kind, _header_key(TABLE_NAMES[kind])}
    for sheet in workbook.worksheets:
        if sheet.title == kind or _header_key(sheet.title) in wanted:
            return sheet
    return workbook.worksheets[0]


def _xlsx_records(data: bytes, kind: str) -> Iterator[list[str | None]]:
    import openpyxl  # only needed here; keeps the assistant's start-up light

    broken = SpreadsheetError(
        "Tệp không phải là bảng tính Excel (.xlsx) hợp lệ hoặc đã bị hỏng. "
        "Hãy mở lại trong Excel, lưu thành .xlsx (hoặc CSV UTF-8) rồi tải lên lại."
    )
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = _pick_worksheet(workbook, kind)
    except Exception:  # noqa: BLE001 - openpyxl raises many kinds (zip, XML, KeyError) for bad files
        raise broken from None

    def rows() -> Iterator[list[str | None]]:
        try:
            for values in sheet.iter_rows(min_row=1, values_only=True):
                yield [cell_from_sheet(v) for v in values]
        except SpreadsheetError:
            raise
        except Exception:  # noqa: BLE001 - a damaged sheet fails while it is read
            raise broken from None
        finally:
            workbook.close()

    return rows()


def _sheet(kind: str, records: Iterable[list[str | None]], header_map: dict[str, str], data: bytes) -> Sheet:
    iterator = iter(records)
    header = next(iterator, None)
    if header is None or not any(header):
        raise SpreadsheetError("Dòng 1 phải là tên các cột (ví dụ slug, name_vi...), nhưng dòng này trống.")
    fields: list[str | None] = []  # per column: the field it fills, None if not read
    unknown: list[str] = []
    seen: set[str] = set()
    for text in header:
        name = header_map.get(_header_key(text)) if text else None
        if text and name is None:
            unknown.append(text)
        elif name in seen:
            raise SpreadsheetError(f"Cột “{text}” có hai lần trong dòng tiêu đề: hãy xoá bớt một cột.")
        elif name:
            seen.add(name)
        fields.append(None if name in IGNORED_ON_IMPORT else name)
    if unknown:
        listed = ", ".join(f"“{u}”" for u in unknown)
        raise SpreadsheetError(
            f"Bảng tính có cột không thuộc bảng {TABLE_NAMES[kind]}: {listed}. Tên cột phải đúng như "
            f"trong tệp xuất ra (ví dụ {', '.join(columns(kind)[:4])}); hãy sửa hoặc xoá các cột này, "
            "và kiểm tra đã chọn đúng bảng chưa. Chưa có gì được lưu."
        )
    unnamed = {i for i, text in enumerate(header) if not text}
    rows: list[SheetRow] = []
    for number, record in enumerate(iterator, start=2):
        if not any(record):
            continue
        for index, value in enumerate(record):
            if value and (index >= len(header) or index in unnamed):
                raise SpreadsheetError(
                    f"Dòng {number} có dữ liệu ở cột thứ {index + 1} nhưng cột này không có tên ở dòng 1. "
                    "Hãy thêm tên cột hoặc xoá dữ liệu thừa."
                )
        values = {name: (record[i] if i < len(record) else None) for i, name in enumerate(fields) if name}
        rows.append(SheetRow(number, values))
        if len(rows) > MAX_ROWS:
            raise SpreadsheetError(
                f"Tệp có hơn {MAX_ROWS // 1000}.000 dòng dữ liệu: hãy chia thành nhiều tệp nhỏ hơn."
            )
    digest = hashlib.sha256(kind.encode() + b"\0" + data).hexdigest()
    return Sheet(kind, [f for f in fields if f], rows, digest)


# --- preview and import --------------------------------------------------------------


@dataclass
class FieldChange:
    field: str
    old: str
    new: str


@dataclass
class Added:
    row: int
    slug: str
    name: str
    values: list[tuple[str, str]]  # (field, text) of every filled field


@dataclass
class Changed:
    row: int
    id: int
    slug: str
    name: str
    changes: list[FieldChange]


@dataclass
class Unchanged:
    row: int
    id: int
    slug: str


@dataclass
class Rejected:
    row: int
    label: str
    errors: list[FieldError]


@dataclass
class ImportPlan:
    kind: str
    added: list[Added] = field(default_factory=list)
    changed: list[Changed] = field(default_factory=list)
    unchanged: list[Unchanged] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    fingerprint: str = ""
    # (slug, id, version) of the existing rows the file names, as the preview read them.
    base: list[list[Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.rejected

    @property
    def has_work(self) -> bool:
        return bool(self.added or self.changed)

    @property
    def total(self) -> int:
        return len(self.added) + len(self.changed) + len(self.unchanged) + len(self.rejected)


def _title(kind: str, data: dict[str, Any]) -> str:
    return str(data.get(editing.TITLE_FIELD[kind]) or "")


def _diff(kind: str, before: dict[str, Any], after: dict[str, Any]) -> list[FieldChange]:
    return [FieldChange(name, cell_text(name, before.get(name)), cell_text(name, after.get(name)))
            for name in columns(kind) if before.get(name) != after.get(name)]


def _same_as_base(before: dict[str, Any], data: dict[str, Any]) -> bool:
    # Compared as the cells the export writes: a file exported and imported again changes
    # nothing and is not re-validated, so a row that was fine when saved under older rules
    # does not block an officer who did not touch it.
    return all(cell_text(name, before.get(name)) == (value or "") for name, value in data.items())


def _one_row(session: Session, kind: str, row: SheetRow, user: str | None, created: dict[int, int],
             versions: Mapping[int, int] | None = None) -> Added | Changed | Unchanged:
    """Do what the import does with one row (the caller decides whether it is kept).
    ``versions`` (row id -> version the preview saw): a row saved since is a conflict."""
    data: dict[str, Any] = dict(row.values)  # blank cells are None: "no value"
    slug = data.get("slug")
    existing = editing.get_by_slug(session, kind, slug) if slug else None
    if existing is not None and existing.id in created:
        raise InvalidEntry([FieldError("slug", f"Trùng mã với dòng {created[existing.id]} của tệp này.")])
    if existing is None:
        made = editing.create(session, kind, data, user)
        created[made.id] = row.number
        after = editing.to_dict(made)
        texts = [(name, cell_text(name, after.get(name))) for name in columns(kind)]
        # verified/retired "không" is the default, not something the officer filled in.
        filled = [(n, t) for n, t in texts if t and not (n in PROVENANCE and after.get(n) is False)]
        return Added(row.number, made.slug, _title(kind, after), filled)
    before = editing.to_dict(existing)
    if _same_as_base(before, data):
        return Unchanged(row.number, existing.id, existing.slug)
    expected = versions.get(existing.id) if versions is not None else None
    if versions is not None and expected is None:
        raise editing.VersionConflict(before, 0)  # not in the preview's base: it moved on
    updated = editing.update(session, kind, existing.id, data, user, expected, partial=True, action="import")
    if updated.version == before["version"]:
        return Unchanged(row.number, existing.id, existing.slug)
    after = editing.to_dict(updated)
    return Changed(row.number, existing.id, existing.slug, _title(kind, after), _diff(kind, before, after))


def _in_file_terms(errors: list[FieldError], created: dict[int, int]) -> list[FieldError]:
    """editing names a clashing row by its number; a row added earlier in the same file
    has no number yet for the officer, so say which line of the file it is."""
    def line(match: re.Match[str]) -> str:
        number = int(match.group(1))
        return f"(dòng {created[number]} của tệp này)" if number in created else match.group(0)

    return [FieldError(e["field"], re.sub(r"\(số (\d+)\)", line, e["message"])) for e in errors]


def _duplicate_slugs(sheet: Sheet) -> dict[int, Rejected]:
    first: dict[str, int] = {}
    refused: dict[int, Rejected] = {}
    for row in sheet.rows:
        slug = row.values.get("slug")
        if not slug:
            continue
        if slug in first:
            message = f"Mã “{slug}” đã có ở dòng {first[slug]}: mỗi mục chỉ được một dòng."
            refused[row.number] = Rejected(row.number, row.label, [FieldError("slug", message)])
        else:
            first[slug] = row.number
    return refused


def _base_state(session: Session, sheet: Sheet) -> list[list[Any]]:
    """(slug, id, version) of every existing row the file names by slug."""
    model = editing.model_of(sheet.kind)
    slugs = sorted({str(r.values["slug"]) for r in sheet.rows if r.values.get("slug")})
    if not slugs:
        return []
    found = session.execute(select(model.slug, model.id, model.version).where(model.slug.in_(slugs)))
    return sorted([list(row) for row in found])


def _fingerprint(sheet: Sheet, base: list[list[Any]], plan: ImportPlan) -> str:
    # What the officer approved: this file, the version of every existing row it touches,
    # and the outcome of every row. An edit to one of those rows, or a new row taking a
    # name or slug the file adds, changes it: the import is refused until previewed again.
    state = {
        "file": sheet.digest,
        "base": base,
        "added": [[a.row, a.slug] for a in plan.added],
        "changed": [[c.row, c.id] for c in plan.changed],
        "unchanged": [[u.row, u.id] for u in plan.unchanged],
        "rejected": [r.row for r in plan.rejected],
    }
    return hashlib.sha256(json.dumps(state, sort_keys=True, default=str).encode()).hexdigest()


def _run(session: Session, sheet: Sheet, user: str | None) -> ImportPlan:
    kind = sheet.kind
    plan = ImportPlan(kind)
    refused = _duplicate_slugs(sheet)
    created: dict[int, int] = {}
    for row in sheet.rows:
        if row.number in refused:
            plan.rejected.append(refused[row.number])
            continue
        try:
            with session.begin_nested():  # a refused row leaves nothing behind
                outcome = _one_row(session, kind, row, user, created)
        except InvalidEntry as exc:
            plan.rejected.append(Rejected(row.number, row.label, _in_file_terms(exc.errors, created)))
            continue
        except SQLAlchemyError as exc:
            reason = f"Cơ sở dữ liệu không nhận dòng này ({exc.__class__.__name__})."
            plan.rejected.append(Rejected(row.number, row.label, [FieldError("*", reason)]))
            continue
        if isinstance(outcome, Added):
            plan.added.append(outcome)
        elif isinstance(outcome, Changed):
            plan.changed.append(outcome)
        else:
            plan.unchanged.append(outcome)
    return plan


def preview(session: Session, kind: str, sheet: Sheet, user: str | None = None) -> ImportPlan:
    """What importing ``sheet`` would do, found by doing it and rolling it back."""
    if sheet.kind != kind:
        raise SpreadsheetError(
            f"Tệp được đọc cho bảng {TABLE_NAMES[sheet.kind]}, không phải bảng {TABLE_NAMES[kind]}."
        )
    # Rows this session loaded earlier may be out of date (another officer saved since):
    # write out anything pending, then read every row fresh.
    session.flush()
    session.expire_all()
    base = _base_state(session, sheet)
    trial = session.begin_nested()
    try:
        plan = _run(session, sheet, user)
    finally:
        trial.rollback()
    plan.fingerprint = _fingerprint(sheet, base, plan)
    plan.base = base
    return plan


def apply(session: Session, kind: str, sheet: Sheet, user: str | None,
          fingerprint: str | None = None) -> ImportPlan:
    """Import ``sheet`` in the caller's transaction, all or nothing.

    Raises ``ImportRejected`` if any row is refused and ``StaleImport`` if ``fingerprint``
    (from the preview the officer saw) no longer matches the base; nothing is written then.
    """
    plan = preview(session, kind, sheet, user)
    if fingerprint is not None and fingerprint != plan.fingerprint:
        raise StaleImport(plan)
    if plan.rejected:
        raise ImportRejected(plan)
    wanted = {item.row for item in (*plan.added, *plan.changed)}
    created: dict[int, int] = {}
    # The version of every existing row as the preview read it: an edit saved since (an
    # officer's form running while this import does) makes the write fail rather than be
    # overwritten with the file's older view of the row.
    versions = {row_id: version for _slug, row_id, version in plan.base}
    try:
        with session.begin_nested():  # all or nothing: a conflict leaves nothing written
            for row in sheet.rows:
                if row.number in wanted:
                    # Same rows, same order, same base as the preview just now: same outcome.
                    _one_row(session, kind, row, user, created, versions)
            session.flush()
    except (editing.VersionConflict, InvalidEntry):
        # The preview a moment ago passed, so the base changed since (an edit to a row the
        # file changes, or a new row taking a name it adds): show what the import does now.
        session.expire_all()
        raise StaleImport(preview(session, kind, sheet, user)) from None
    return plan


# --- export --------------------------------------------------------------------------


def _export_rows(session: Session, kind: str) -> list[dict[str, Any]]:
    model = editing.model_of(kind)
    rows = session.execute(select(model).order_by(model.id)).scalars()
    return [editing.to_dict(row) for row in rows]


def _csv_safe(text: str) -> str:
    if text.startswith(_FORMULA_START) and not _NUMBER.fullmatch(text):  # -12.5 is not a formula
        return "'" + text
    return text


def export_csv(session: Session, kind: str) -> bytes:
    """Every row of ``kind`` (retired ones too), UTF-8 with a BOM so Excel shows Vietnamese."""
    names = export_columns(kind)
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(names)
    for data in _export_rows(session, kind):
        writer.writerow([_csv_safe(cell_text(n, data.get(n))) for n in names])
    return out.getvalue().encode("utf-8-sig")


def export_xlsx(session: Session) -> bytes:
    """One workbook, one sheet per table, header bold and frozen."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    workbook.remove(workbook.active)
    bold = Font(bold=True)
    for kind in KINDS:
        sheet = workbook.create_sheet(kind)
        names = export_columns(kind)
        sheet.append(names)
        for cell in sheet[1]:
            cell.font = bold
        sheet.freeze_panes = "A2"
        for data in _export_rows(session, kind):
            sheet.append([_xlsx_value(n, data.get(n)) for n in names])
        for index, name in enumerate(names, start=1):
            wide = 40 if name.startswith(("summary", "description", "how_to_get", "answer")) else 18
            sheet.column_dimensions[get_column_letter(index)].width = wide
        # Text that starts with '=' must stay text, never become a formula.
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _xlsx_value(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name in NUMBER_FIELDS and isinstance(value, int | float) and not isinstance(value, bool):
        return value
    return cell_text(name, value)
