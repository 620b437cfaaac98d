"""Every change staff make to the base goes through here: validation, unique names,
optimistic locking, verification stamps and a revision for the history.

The admin's forms, the JSON API and the spreadsheet import all call these functions
inside one transaction each, so a change is either wholly saved (with its revision) or not
at all. The assistant reads the same tables and sees a change at its next name-index check.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy import update as sa_update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.text_normalise import strip_diacritics
from knowledge.models import Event, EventDate, Faq, Place, Revision, search_words, title_key, utcnow
from knowledge.schemas import FieldError, InvalidEntry, parse_bool, validate

MODELS: dict[str, type] = {"places": Place, "events": Event, "faqs": Faq}
TITLE_FIELD = {"places": "name_vi", "events": "name_vi", "faqs": "title_vi"}
# Written by the system, never taken from input.
SYSTEM_FIELDS = (
    "id", "verified_by", "verified_at", "created_at", "updated_at", "version", "search_text", "title_key",
)
# Kept by the models for searching and the unique-name index; never shown or stored in history.
DERIVED_COLUMNS = {"search_text", "title_key"}
# How long after its last check a verified fact counts as stale (the admin flags it).
STALE_AFTER_DAYS = 365


class NotFound(LookupError):
    pass


class VersionConflict(RuntimeError):
    """Someone saved the row after the editor loaded it: their change must not be lost."""

    def __init__(self, current: dict[str, Any], expected: int) -> None:
        super().__init__(f"version {expected} is out of date; the row is now at version {current['version']}")
        self.current = current
        self.expected = expected


def model_of(kind: str) -> type:
    try:
        return MODELS[kind]
    except KeyError:
        raise NotFound(kind) from None


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(microsecond=0).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def to_dict(row: Any) -> dict[str, Any]:
    """A row as plain JSON-able values, the shape the API returns and the history stores."""
    kind = row.__tablename__
    data = {c.name: _jsonable(getattr(row, c.name)) for c in row.__table__.columns
            if c.name not in DERIVED_COLUMNS}
    if kind == "events":
        data.pop("venue_place_id", None)
        data["venue_slug"] = row.venue.slug if row.venue is not None else None
        data["dates"] = [{"start": d.start.isoformat(), "end": d.end.isoformat()} for d in row.dates]
    return data


def editable(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in SYSTEM_FIELDS}


def slugify(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", strip_diacritics(text).lower()).strip("-")
    return slug[:100] or "muc"


def _unique_slug(session: Session, model: type, base: str, own_id: int | None) -> str:
    slug, n = base, 1
    while True:
        other = session.execute(select(model.id).where(model.slug == slug)).scalar()
        if other is None or other == own_id:
            return slug
        n += 1
        slug = f"{base}-{n}"


def get(session: Session, kind: str, row_id: int) -> Any:
    row = session.get(model_of(kind), row_id)
    if row is None:
        raise NotFound(f"{kind}/{row_id}")
    return row


def get_by_slug(session: Session, kind: str, slug: str) -> Any | None:
    model = model_of(kind)
    return session.execute(select(model).where(model.slug == slug)).scalar_one_or_none()


def _title_clash(session: Session, kind: str, wanted: str | None, own_id: int | None) -> InvalidEntry | None:
    if wanted is None:
        return None
    model, title = model_of(kind), TITLE_FIELD[kind]
    other = session.execute(
        select(model.id, getattr(model, title)).where(
            ~model.retired, model.id != (own_id or -1), model.title_key == wanted
        )
    ).first()
    if other is None:
        return None
    return InvalidEntry([FieldError(title, f"Đã có mục khác tên “{other[1]}” (số {other[0]}).")])


def _check_unique_title(session: Session, kind: str, values: dict[str, Any], own_id: int | None) -> None:
    # Buttons and names identify rows by their Vietnamese name: two live rows with the
    # same one would make the assistant pick arbitrarily. This check gives the message;
    # the unique index on title_key (live rows) is what holds when two saves race.
    if values.get("retired"):
        return
    clash = _title_clash(session, kind, title_key(values[TITLE_FIELD[kind]]), own_id)
    if clash is not None:
        raise clash


def _unique_title_violation(session: Session, kind: str, exc: IntegrityError, title: str | None,
                            own_id: int | None) -> InvalidEntry | None:
    """The form error for a write the title_key index refused (another save took the name
    between our check and our write), or None if the error is about something else."""
    if "title_key" not in str(exc.orig):
        return None
    wanted = title_key(title)
    clash = _title_clash(session, kind, wanted, own_id)
    if clash is not None:
        return clash
    field_name = TITLE_FIELD[kind]
    return InvalidEntry([FieldError(field_name, f"Đã có mục khác tên “{title}”.")])


def _resolve_venue(session: Session, values: dict[str, Any]) -> Place | None:
    slug = values.pop("venue_slug", None)
    if not slug:
        return None
    place = get_by_slug(session, "places", slug)
    if place is None:
        raise InvalidEntry([FieldError("venue_slug", f"Không có địa điểm nào có mã “{slug}”.")])
    return place


def _apply(session: Session, kind: str, row: Any, values: dict[str, Any]) -> None:
    values = dict(values)
    if kind == "events":
        row.venue = _resolve_venue(session, values)
        dates = values.pop("dates", [])
        row.dates = [EventDate(start=d["start"], end=d["end"]) for d in dates]
    for name, value in values.items():
        setattr(row, name, value)


def _changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    skip = {"updated_at", "version"}
    return {k: [before.get(k), v] for k, v in after.items() if k not in skip and before.get(k) != v}


def _record(session: Session, kind: str, row: Any, action: str, user: str | None,
            before: dict[str, Any]) -> Revision:
    session.flush()
    after = to_dict(row)
    revision = Revision(
        table_name=kind,
        row_id=row.id,
        version=row.version,
        action=action,
        username=user,
        at=row.updated_at or utcnow(),
        changes=_changes(before, after),
        snapshot=after,
    )
    session.add(revision)
    session.flush()
    return revision


def _stamp_verification(row: Any, values: dict[str, Any], user: str | None) -> None:
    if values.get("verified") and not row.verified:
        row.verified_by, row.verified_at = user, utcnow()
    elif "verified" in values and not values["verified"]:
        row.verified_by, row.verified_at = None, None


# Changing these does not change what the assistant tells visitors.
NOT_FACTS = {"verified", "retired", "slug"}


def _reverify_after_edit(
    row: Any, before: dict[str, Any], incoming: dict[str, Any], user: str | None
) -> None:
    """A verification vouches for the facts as they were checked. When facts change, the
    row stays verified only if the change itself says so (the form's checkbox, or
    ``verified: true`` sent with it), and then the stamp is the editor's, today; otherwise
    it goes back to unverified, so the "needs checking" list stays true."""
    after = editable(to_dict(row))
    if not any(before.get(k) != v for k, v in after.items() if k not in NOT_FACTS):
        return
    try:
        vouched = "verified" in incoming and parse_bool(incoming["verified"]) is True
    except ValueError:
        vouched = False
    if vouched:
        row.verified, row.verified_by, row.verified_at = True, user, utcnow()
    elif row.verified:
        row.verified, row.verified_by, row.verified_at = False, None, None


def create(session: Session, kind: str, data: dict[str, Any], user: str | None) -> Any:
    values = validate(kind, editable(data))
    model = model_of(kind)
    _check_unique_title(session, kind, values, None)
    values["slug"] = _unique_slug(session, model, values["slug"] or slugify(values[TITLE_FIELD[kind]]), None)
    try:
        # In a SAVEPOINT: if the unique-name index refuses the row (someone created the same
        # name meanwhile), only this is undone and the caller's transaction stays usable.
        with session.begin_nested():
            row = model(version=1)
            _stamp_verification(row, values, user)
            _apply(session, kind, row, values)
            row.updated_at = utcnow()
            session.add(row)
            _record(session, kind, row, "create", user, {})
    except IntegrityError as exc:
        refused = _unique_title_violation(session, kind, exc, values[TITLE_FIELD[kind]], None)
        if refused is None:
            raise
        raise refused from None
    return row


def _claim(session: Session, kind: str, row_id: int, expected: int | None) -> Any:
    """Lock the row for this transaction and check the editor's version in one statement.

    Comparing versions after reading the row would let two saves that arrive together both
    pass and the later one silently overwrite the earlier. A no-op ``UPDATE ... WHERE
    version = expected`` takes the row's write lock (SQLite: the database's) and checks at
    once: the later save waits, then finds the row moved on and gets a conflict."""
    table = model_of(kind).__table__
    claim = sa_update(table).where(table.c.id == row_id).values(
        version=table.c.version, updated_at=table.c.updated_at  # explicit: no onupdate stamp
    )
    if expected is not None:
        claim = claim.where(table.c.version == int(expected))
    if session.execute(claim).rowcount == 0:
        row = get(session, kind, row_id)  # NotFound if there is no such row
        raise VersionConflict(to_dict(row), int(expected or 0))
    # Read the row again now that it is ours: a copy loaded earlier in this session (to
    # build a name index, say) may predate a save that committed meanwhile.
    row = session.get(model_of(kind), row_id, populate_existing=True)
    if row is None:
        raise NotFound(f"{kind}/{row_id}")
    return row


def _ensure_baseline(session: Session, kind: str, row: Any, before: dict[str, Any]) -> None:
    """Rows loaded from the seed files have no revision yet: record how they stood before
    their first edit, so staff can always go back to the original text."""
    known = session.execute(
        select(func.count(Revision.id)).where(Revision.table_name == kind, Revision.row_id == row.id)
    ).scalar_one()
    if not known:
        session.add(Revision(table_name=kind, row_id=row.id, version=row.version, action="seed",
                             username=None, at=row.updated_at or utcnow(), changes={}, snapshot=before))


def update(session: Session, kind: str, row_id: int, data: dict[str, Any], user: str | None,
           expected_version: int | None, *, partial: bool = False, action: str = "update") -> Any:
    """Replace the row's editable fields (``partial``: only those given). ``expected_version``
    is the version the editor started from; if the row moved on since, nothing is saved."""
    row = _claim(session, kind, row_id, expected_version)
    before = to_dict(row)
    _ensure_baseline(session, kind, row, before)
    incoming = editable(data)
    if not partial:
        # A full replacement that does not mention retirement keeps it as it is: a PUT of
        # an old copy must not bring a retired row back to visitors.
        incoming.setdefault("retired", row.retired)
    merged = {**editable(before), **incoming} if partial else incoming
    values = validate(kind, merged)
    _check_unique_title(session, kind, values, row.id)
    if values["slug"] is None:
        values["slug"] = row.slug
    values["slug"] = _unique_slug(session, model_of(kind), values["slug"], row.id)
    try:
        with session.begin_nested():  # as in create: a refused name leaves the transaction usable
            _stamp_verification(row, values, user)
            _apply(session, kind, row, values)
            _reverify_after_edit(row, before, incoming, user)
            if not _changes(before, to_dict(row)):
                return row  # nothing changed: no new version, no empty revision
            row.version += 1
            row.updated_at = utcnow()
            _record(session, kind, row, action, user, before)
    except IntegrityError as exc:
        refused = _unique_title_violation(session, kind, exc, values[TITLE_FIELD[kind]], row_id)
        if refused is None:
            raise
        raise refused from None
    return row


def set_retired(session: Session, kind: str, row_id: int, retired: bool, user: str | None,
                expected_version: int | None = None) -> Any:
    action = "retire" if retired else "unretire"
    return update(session, kind, row_id, {"retired": retired}, user, expected_version, partial=True,
                  action=action)


def verify(session: Session, kind: str, row_id: int, user: str | None,
           expected_version: int | None = None) -> Any:
    """Mark the facts checked today by ``user`` (done again, it renews the date)."""
    row = _claim(session, kind, row_id, expected_version)
    before = to_dict(row)
    _ensure_baseline(session, kind, row, before)
    row.verified, row.verified_by, row.verified_at = True, user, utcnow()
    row.version += 1
    row.updated_at = utcnow()
    _record(session, kind, row, "verify", user, before)
    return row


def history(session: Session, kind: str, row_id: int) -> list[Revision]:
    model_of(kind)
    return list(
        session.execute(
            select(Revision)
            .where(Revision.table_name == kind, Revision.row_id == row_id)
            .order_by(Revision.version.desc(), Revision.id.desc())
        ).scalars()
    )


def restore(session: Session, kind: str, row_id: int, revision_id: int, user: str | None,
            expected_version: int | None = None) -> Any:
    """Bring back the row as it was after ``revision_id``, as a new version (history keeps
    the version being replaced)."""
    revision = session.get(Revision, revision_id)
    if revision is None or revision.table_name != kind or revision.row_id != row_id:
        raise NotFound(f"revision {revision_id} of {kind}/{row_id}")
    snapshot = editable(revision.snapshot)
    # Verification is a fresh act, and retiring or bringing back a row is done on purpose
    # with its own button: restoring old text does neither.
    snapshot.pop("verified", None)
    snapshot.pop("retired", None)
    return update(session, kind, row_id, snapshot, user, expected_version, partial=True, action="restore")


def delete(session: Session, kind: str, row_id: int, user: str | None,
           expected_version: int | None = None) -> Any:
    """The API's DELETE: the row is retired (never mentioned again) but kept with its
    history, so a mistaken delete can be undone by restoring."""
    return set_retired(session, kind, row_id, True, user, expected_version)


@dataclass
class Page:
    rows: list[Any]
    total: int
    offset: int
    limit: int
    filters: dict[str, Any] = field(default_factory=dict)


FILTERS = {
    "places": ("kind", "category", "district", "verified", "retired", "stale"),
    "events": ("category", "verified", "retired", "stale"),
    "faqs": ("topic", "verified", "retired", "stale"),
}


def listing(session: Session, kind: str, *, q: str | None = None, offset: int = 0, limit: int = 50,
            filters: dict[str, Any] | None = None) -> Page:
    """Rows matching a diacritic-insensitive search and exact filters, newest edits first.
    ``retired`` defaults to live rows only; ``stale`` means unverified or verified longer
    ago than ``STALE_AFTER_DAYS``."""
    model = model_of(kind)
    filters = filters or {}
    query = select(model)
    applied: dict[str, Any] = {}
    for name in FILTERS[kind]:
        value = filters.get(name)
        if value is None or value == "":
            continue
        applied[name] = value
        if name == "stale":
            cutoff = utcnow().replace(microsecond=0) - timedelta(days=STALE_AFTER_DAYS)
            stale = or_(~model.verified, model.verified_at.is_(None), model.verified_at < cutoff)
            query = query.where(stale if value else ~stale)
        else:
            query = query.where(getattr(model, name) == value)
    if "retired" not in applied:
        query = query.where(~model.retired)
    if q and q.strip():
        for word in search_words(q):
            # Word starts only: "ca" finds "Cá", "Cầu"... but not the middle of "Ngọc".
            query = query.where(model.search_text.like(f"% {_escape_like(word)}%", escape="\\"))
        applied["q"] = q
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = session.execute(
        query.order_by(model.updated_at.desc(), model.id.desc()).offset(offset).limit(limit)
    ).scalars().all()
    return Page(rows=list(rows), total=total, offset=offset, limit=limit, filters=applied)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def is_stale(row: Any) -> bool:
    if not row.verified or row.verified_at is None:
        return True
    return row.verified_at < utcnow() - timedelta(days=STALE_AFTER_DAYS)


def distinct_values(session: Session, kind: str, column: str) -> list[str]:
    """Values in use (categories, districts, topics), for the admin's filters and choices."""
    model = model_of(kind)
    col = getattr(model, column)
    return [v for v in session.execute(select(col).distinct().order_by(col)).scalars() if v]
