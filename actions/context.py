"""What every action needs from a turn: the visitor's words and language, today's date in
Đà Nẵng, the subject of the conversation, and a knowledge-base session."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from rasa_sdk import Tracker
from sqlalchemy.orm import Session

from bot.language import detect_language
from bot.text_normalise import normalise, search_key
from knowledge import unanswered
from knowledge.db import new_session
from knowledge.names import NameIndex, NameIndexCache, NameMatch

CITY_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
_REFRESH_SECONDS = float(os.environ.get("KB_REFRESH_SECONDS", "1.0"))
_names: dict[str, NameIndexCache] = {}  # one per database, should a process use several


def today() -> date:
    """Today in Đà Nẵng (UTC+7), whatever the server's clock zone. ``ASSISTANT_TODAY``
    (YYYY-MM-DD) pins it for demos and reproducible tests."""
    pinned = os.environ.get("ASSISTANT_TODAY")
    if pinned:
        return date.fromisoformat(pinned)
    return datetime.now(CITY_TZ).date()


def kb_session() -> Session:
    """A session on the knowledge base (use as ``with kb_session() as session``)."""
    return new_session()


def names(session: Session) -> NameIndex:
    url = str(session.get_bind().url)
    if url not in _names:
        _names[url] = NameIndexCache(check_every=_REFRESH_SECONDS)
    return _names[url].get(session)


@dataclass
class Turn:
    """The parts of the tracker the actions read."""

    text: str
    intent: str
    language: str
    entities: dict[str, list[str]]
    subject: str | None
    typed: bool = True  # False for a button press: the words are the button's, not the visitor's

    @classmethod
    def from_tracker(cls, tracker: Tracker) -> Turn:
        message = tracker.latest_message or {}
        # NFD input reaches us as typed, and entity values are slices of it.
        text = normalise(message.get("text") or "")
        typed = not text.startswith("/")
        entities: dict[str, list[str]] = {}
        for ent in message.get("entities") or []:
            if ent.get("value") is not None:
                entities.setdefault(ent["entity"], []).append(normalise(str(ent["value"])))
        if not typed:
            # A button payload (/intent{"place": "..."}): no words of the visitor's own,
            # so the language stays what the conversation was in.
            language = tracker.get_slot("language") or "vi"
            text = " ".join(v for vs in entities.values() for v in vs)
        else:
            language = (entities.get("language") or [None])[-1] or detect_language(text)
        intent = (message.get("intent") or {}).get("name") or ""
        return cls(text, intent, language, entities, tracker.get_slot("subject"), typed)

    @property
    def en(self) -> bool:
        return self.language == "en"

    def entity(self, name: str) -> str | None:
        values = self.entities.get(name)
        return values[0] if values else None

    def record_unanswered(self, session: Session, reason: str) -> None:
        """Keep the question for staff: the base could not answer it."""
        unanswered.record(session, self.text, reason, intent=self.intent, language=self.language)

    def named(self) -> list[str]:
        """The place and event names the classifier marked (or a button carried)."""
        return self.entities.get("place", []) + self.entities.get("event", [])

    def find_names(self, session: Session, kinds: tuple[str, ...]) -> list[NameMatch]:
        """Names in the entity values first (the classifier's spans, or a button's
        payload), then anywhere in the text: the base is the judge of what is a name."""
        index = names(session)
        for value in self.named():
            found = [m for m in index.find(value, kinds) if _covers(m, value)]
            if found:
                return found
        found = index.find(self.text, kinds)
        unknown = [f" {search_key(v)} " for v in self.named()]
        # A known name inside a name the base does not know ("Hội An" in "VinWonders Nam
        # Hội An") is not what the visitor asked about.
        return [m for m in found if not any(f" {m.key} " in u for u in unknown)]


def _covers(match: NameMatch, value: str) -> bool:
    """Whether a match accounts for most of an entity value's words."""
    return (match.end - match.start) >= 0.6 * max(len(search_key(value).split()), 1)


def subject_ref(kind: str, row_id: int) -> str:
    return f"{kind}:{row_id}"


def parse_subject(subject: str | None) -> tuple[str, int] | None:
    if not subject or ":" not in subject:
        return None
    kind, _, raw = subject.partition(":")
    return (kind, int(raw)) if raw.isdigit() else None


def payload(intent: str, **entities: Any) -> str:
    """A button payload that asks ``intent`` with the given entities, as Rasa parses it."""
    if not entities:
        return f"/{intent}"
    return f"/{intent}{json.dumps(entities, ensure_ascii=False)}"
