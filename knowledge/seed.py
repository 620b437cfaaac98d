"""Load the seed knowledge (``knowledge/seed/*.yml``) into the database.

Seeding only inserts rows whose slug is not in the base yet: once staff have edited or
retired a seeded row, a restart must never bring the old text back.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.text_normalise import normalise
from knowledge.models import Event, EventDate, Faq, Place

logger = logging.getLogger(__name__)

SEED_DIR = Path(__file__).resolve().parent / "seed"

_PLACE_FIELDS = {c.name for c in Place.__table__.columns} - {"id"}
_EVENT_FIELDS = {c.name for c in Event.__table__.columns} - {"id", "venue_place_id"}
_FAQ_FIELDS = {c.name for c in Faq.__table__.columns} - {"id"}


def _clean(value: Any) -> Any:
    """NFC + canonical tone placement for every string, so seeded text compares equal to
    what visitors and staff type."""
    if isinstance(value, str):
        return normalise(value.strip())
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _pick(row: dict[str, Any], fields: set[str]) -> dict[str, Any]:
    unknown = set(row) - fields - {"dates", "venue_slug"}
    if unknown:
        raise ValueError(f"seed row {row.get('slug')!r} has unknown fields: {sorted(unknown)}")
    picked = {k: _clean(v) for k, v in row.items() if k in fields}
    for key in ("aliases", "keywords", "tags"):
        if key in picked:  # YAML reads an alias such as 115 as a number
            picked[key] = [str(v) for v in picked[key] or []]
    return picked


def read_seed(seed_dir: Path = SEED_DIR) -> dict[str, list[dict[str, Any]]]:
    """All seed rows by section (``places``, ``events``, ``faqs``) from every YAML file."""
    sections: dict[str, list[dict[str, Any]]] = {"places": [], "events": [], "faqs": []}
    for path in sorted(seed_dir.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for section, rows in data.items():
            if section not in sections:
                raise ValueError(f"{path.name}: unknown section {section!r}")
            sections[section].extend(rows or [])
    return sections


def _existing_slugs(session: Session, model: type) -> set[str]:
    return set(session.execute(select(model.slug)).scalars())


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def seed(session: Session, sections: dict[str, list[dict[str, Any]]] | None = None) -> dict[str, int]:
    """Insert seed rows that are not in the base yet. Returns how many of each were added."""
    sections = sections if sections is not None else read_seed()
    added = {"places": 0, "events": 0, "faqs": 0}

    known = _existing_slugs(session, Place)
    for row in sections["places"]:
        if row["slug"] not in known:
            session.add(Place(**_pick(row, _PLACE_FIELDS)))
            known.add(row["slug"])
            added["places"] += 1
    session.flush()

    place_ids = dict(session.execute(select(Place.slug, Place.id)).all())
    known = _existing_slugs(session, Event)
    for row in sections["events"]:
        if row["slug"] in known:
            continue
        event = Event(**_pick(row, _EVENT_FIELDS))
        venue = row.get("venue_slug")
        if venue and venue in place_ids:
            event.venue_place_id = place_ids[venue]
        elif venue:
            logger.warning("event %s: venue %s is not a known place", row["slug"], venue)
        event.dates = [
            EventDate(start=_as_date(d["start"]), end=_as_date(d.get("end") or d["start"]))
            for d in _iter(row.get("dates"))
        ]
        session.add(event)
        known.add(row["slug"])
        added["events"] += 1

    known = _existing_slugs(session, Faq)
    for row in sections["faqs"]:
        if row["slug"] not in known:
            session.add(Faq(**_pick(row, _FAQ_FIELDS)))
            known.add(row["slug"])
            added["faqs"] += 1
    session.flush()
    return added


def _iter(value: Iterable[Any] | None) -> Iterable[Any]:
    return value or ()
