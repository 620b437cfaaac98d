"""Spreadsheet import (preview, then confirm) and export of the whole base.

The uploaded file waits between preview and confirm under var/imports/, not in the
session cookie (too small for a spreadsheet). What is written on confirm is recomputed
from that file and checked against the preview's fingerprint, so an officer never imports
something other than what they were shown.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from datetime import date
from pathlib import Path
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy.orm import Session

from admin.database import in_transaction
from admin.labels import FIELDS, TABLES, field_label
from admin.pages import flash
from admin.security import current_user
from knowledge import config as knowledge_config
from knowledge import spreadsheets
from knowledge.spreadsheets import ImportPlan, ImportRejected, SpreadsheetError, StaleImport

routes = web.RouteTableDef()

KIND_RE = "places|events|faqs"
IMPORT_ID_RE = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
KEEP_SECONDS = 24 * 3600


# --- the stored upload ---------------------------------------------------------------


def _imports_dir() -> Path:
    # Read at call time: tests (and deployments) may point VAR_DIR elsewhere.
    folder = knowledge_config.VAR_DIR / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _forget_old(folder: Path) -> None:
    """Uploads previewed but never confirmed are dropped after a day."""
    cutoff = time.time() - KEEP_SECONDS
    for path in folder.iterdir():
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:
            pass  # another worker removed it first


def _store(data: bytes, meta: dict[str, Any]) -> str:
    folder = _imports_dir()
    _forget_old(folder)
    import_id = secrets.token_urlsafe(24)
    (folder / f"{import_id}.data").write_bytes(data)
    (folder / f"{import_id}.json").write_text(json.dumps(meta), encoding="utf-8")
    return import_id


def _load(import_id: str) -> tuple[bytes, dict[str, Any]] | None:
    if not IMPORT_ID_RE.match(import_id):
        return None
    folder = _imports_dir()
    try:
        meta = json.loads((folder / f"{import_id}.json").read_text(encoding="utf-8"))
        return (folder / f"{import_id}.data").read_bytes(), meta
    except (OSError, ValueError):
        return None


def _save_meta(import_id: str, meta: dict[str, Any]) -> None:
    (_imports_dir() / f"{import_id}.json").write_text(json.dumps(meta), encoding="utf-8")


def _discard(import_id: str) -> None:
    if IMPORT_ID_RE.match(import_id):
        for suffix in (".data", ".json"):
            (_imports_dir() / f"{import_id}{suffix}").unlink(missing_ok=True)


# --- pages ---------------------------------------------------------------------------


def _columns_help() -> list[dict[str, Any]]:
    return [{"kind": kind, "label": TABLES[kind],
             "columns": [(name, field_label(name)) for name in spreadsheets.columns(kind)]}
            for kind in spreadsheets.KINDS]


def _form_page(request: web.Request, *, kind: str = "places", error: str | None = None,
               status: int = 200) -> web.Response:
    context = {"tables": TABLES, "kind": kind, "error": error, "help": _columns_help(),
               "max_mb": spreadsheets.MAX_BYTES // 1024 // 1024,
               "max_rows": f"{spreadsheets.MAX_ROWS:,}".replace(",", ".")}
    return aiohttp_jinja2.render_template("import.html", request, context, status=status)


def _preview_page(request: web.Request, plan: ImportPlan, *, filename: str, import_id: str | None,
                  warning: str | None = None, status: int = 200) -> web.Response:
    context = {"plan": plan, "table": TABLES[plan.kind], "filename": filename, "import_id": import_id,
               "warning": warning, "label": _error_label}
    return aiohttp_jinja2.render_template("import_preview.html", request, context, status=status)


def _error_label(name: str) -> str:
    """"dates.0.end" -> the label of "dates"; "*" (the whole row) -> ""."""
    if name == "*":
        return ""
    return field_label(name.split(".", 1)[0])


@routes.get("/admin/import", name="import_page")
async def import_page(request: web.Request) -> web.Response:
    kind = request.query.get("kind", "places")
    return _form_page(request, kind=kind if kind in TABLES else "places")


@routes.post("/admin/import")
async def import_preview(request: web.Request) -> web.Response:
    user = current_user(request)
    form = await request.post()  # already parsed (and cached) by the CSRF check
    kind = str(form.get("kind", ""))
    upload = form.get("file")
    if kind not in spreadsheets.KINDS:
        return _form_page(request, error="Hãy chọn bảng cần nhập.", status=400)
    if not isinstance(upload, web.FileField) or not upload.filename:
        return _form_page(request, kind=kind, error="Hãy chọn tệp .csv hoặc .xlsx để tải lên.", status=400)
    upload.file.seek(0)
    data = upload.file.read(spreadsheets.MAX_BYTES + 1)
    filename = Path(upload.filename).name

    def work(session: Session) -> ImportPlan:
        sheet = spreadsheets.read_sheet(data, filename, kind, FIELDS)
        return spreadsheets.preview(session, kind, sheet, user.username)

    try:
        plan = await in_transaction(request, work)
    except SpreadsheetError as exc:
        return _form_page(request, kind=kind, error=str(exc), status=400)
    import_id = None
    if plan.ok and plan.has_work:
        meta = {"kind": kind, "filename": filename, "fingerprint": plan.fingerprint, "user": user.username}
        import_id = _store(data, meta)
    return _preview_page(request, plan, filename=filename, import_id=import_id)


@routes.post("/admin/import/confirm")
async def import_confirm(request: web.Request) -> web.StreamResponse:
    user = current_user(request)
    form = await request.post()
    import_id = str(form.get("import_id", ""))
    stored = _load(import_id)
    if stored is None or stored[1].get("user") != user.username:
        await flash(request, "Không tìm thấy tệp đã xem trước (có thể đã quá một ngày). Hãy tải tệp lên lại.",
                    "error")
        raise web.HTTPFound("/admin/import")
    data, meta = stored
    kind, filename = meta["kind"], meta["filename"]

    def work(session: Session) -> ImportPlan:
        sheet = spreadsheets.read_sheet(data, filename, kind, FIELDS)
        return spreadsheets.apply(session, kind, sheet, user.username, meta["fingerprint"])

    try:
        plan = await in_transaction(request, work)
    except (StaleImport, ImportRejected) as exc:
        # Someone changed the base since the preview: show what the import would do now.
        fresh = exc.plan
        if fresh.ok and fresh.has_work:
            _save_meta(import_id, {**meta, "fingerprint": fresh.fingerprint})
        else:
            _discard(import_id)
            import_id = ""
        warning = ("Dữ liệu đã thay đổi từ lúc xem trước (có người vừa sửa), nên chưa nhập gì. "
                   "Đây là bản xem trước mới: hãy kiểm tra lại rồi xác nhận.")
        return _preview_page(request, fresh, filename=filename, import_id=import_id or None,
                             warning=warning, status=409)
    except SpreadsheetError as exc:
        _discard(import_id)
        return _form_page(request, kind=kind, error=str(exc), status=400)
    _discard(import_id)
    message = f"Đã nhập: {len(plan.added)} thêm, {len(plan.changed)} sửa"
    if plan.unchanged:
        message += f" ({len(plan.unchanged)} dòng không đổi)"
    await flash(request, message + ".")
    raise web.HTTPFound(f"/admin/{kind}")


# --- export --------------------------------------------------------------------------


def _attachment(body: bytes, filename: str, content_type: str) -> web.Response:
    return web.Response(body=body, headers={
        "Content-Type": content_type,
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "no-store",
    })


@routes.get("/admin/export/{kind:" + KIND_RE + "}.csv")
async def export_csv(request: web.Request) -> web.Response:
    kind = request.match_info["kind"]
    body = await in_transaction(request, lambda session: spreadsheets.export_csv(session, kind))
    return _attachment(body, f"{kind}-{date.today().isoformat()}.csv", spreadsheets.CSV_MIME)


@routes.get("/admin/export/all.xlsx")
async def export_xlsx(request: web.Request) -> web.Response:
    body = await in_transaction(request, spreadsheets.export_xlsx)
    return _attachment(body, f"knowledge-base-{date.today().isoformat()}.xlsx", spreadsheets.XLSX_MIME)
