"""Check an assistant reply against a turn of tests/e2e/questions.yml, reading the expected
facts from the knowledge base. Shared by the end-to-end test and the benchmark."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.replies import map_link
from knowledge.models import Event, Faq, Place
from knowledge.queries import find_places, next_occurrences

QUESTIONS = Path(__file__).with_name("questions.yml")
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass
class QuestionSet:
    today: date
    conversations: list[list[dict[str, Any]]]

    @property
    def turns(self) -> int:
        return sum(len(c) for c in self.conversations)


def load_questions(path: Path = QUESTIONS) -> QuestionSet:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return QuestionSet(date.fromisoformat(str(data["today"])), data["conversations"])


def reply_text(replies: list[dict[str, Any]]) -> str:
    return "\n".join(r.get("text") or "" for r in replies)


def _value(row: Any, field: str, en: bool) -> str | None:
    english = getattr(row, f"{field}_en", None) if en else None
    return english or getattr(row, f"{field}_vi", None) or getattr(row, field, None)


def _by_slug(session: Session, model: type, slug: str) -> Any:
    row = session.execute(select(model).where(model.slug == slug)).scalar_one_or_none()
    if row is None:
        raise LookupError(f"questions.yml names {model.__tablename__} {slug!r}, which is not in the base")
    return row


def _day(day: date, en: bool) -> str:
    return f"{day.day} {_MONTHS_EN[day.month - 1]} {day.year}" if en else f"{day.day}/{day.month}/{day.year}"


def check(turn: dict[str, Any], replies: list[dict[str, Any]], session: Session, today: date) -> list[str]:
    """What is wrong with the reply; an empty list means it is right."""
    en = turn.get("lang") == "en"
    text = reply_text(replies)
    lower = text.lower()
    problems: list[str] = []

    def need(fragment: str | None, what: str) -> None:
        if fragment and fragment.lower() not in lower:
            problems.append(f"missing {what}: {fragment!r}")

    if not replies:
        return ["no reply"]
    if "place" in turn:
        place = _by_slug(session, Place, turn["place"])
        need(_value(place, "name", en), "place name")
        for field in turn.get("fields", []):
            if field == "map":
                need(map_link(place), "map link")
            elif field == "price" and not _value(place, "price", en) and place.free:
                need("miễn phí" if not en else "free", "free entry")
            else:
                value = _value(place, field, en)
                if value is None:
                    raise LookupError(f"{turn['place']} has no {field}: fix questions.yml")
                need(value, field)
    if "event" in turn:
        event = _by_slug(session, Event, turn["event"])
        for field in turn.get("fields", ["name"]):
            if field == "next":
                upcoming = next_occurrences(event, today, count=1)
                if not upcoming:
                    raise LookupError(f"{turn['event']} has no next date: fix questions.yml")
                need(_day(upcoming[0].start, en), "next date")
            else:
                need(_value(event, field, en), f"event {field}")
    if "faq" in turn:
        need(_value(_by_slug(session, Faq, turn["faq"]), "answer", en), "practical answer")
    if "any_of_category" in turn:
        rows = find_places(session, categories=[turn["any_of_category"]], limit=10_000)
        if not any(_value(p, "name", en).lower() in lower for p in rows):
            problems.append(f"names no {turn['any_of_category']}")
    if "any_of_tag" in turn:
        rows = find_places(session, kind="attraction", tags=[turn["any_of_tag"]], limit=10_000)
        if not any(_value(p, "name", en).lower() in lower for p in rows):
            problems.append(f"names no place tagged {turn['any_of_tag']}")
    for fragment in turn.get("contains", []):
        need(fragment, "text")
    for fragment in turn.get("not_contains", []):
        if fragment.lower() in lower:
            problems.append(f"should not say {fragment!r}")
    buttons = sum(len(r.get("buttons") or []) for r in replies)
    if buttons < turn.get("buttons", 0):
        problems.append(f"{buttons} buttons, expected at least {turn['buttons']}")
    return problems
