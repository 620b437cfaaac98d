"""SQLAlchemy models of the knowledge base: places, events, practical information.

Every fact-bearing row records where it came from (``source``) and whether staff have
checked it (``verified``), so the admin can show what still needs checking. Rows are
retired rather than deleted so the assistant stops mentioning them while history stays.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timezone

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy import event as orm_event
from sqlalchemy.orm import declarative_base, relationship

from bot.text_normalise import fold

Base = declarative_base()


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


_WORD = re.compile(r"\w+")


def search_words(text: str) -> list[str]:
    """The words the admin's search compares: folded, split at anything that is not a
    letter or digit ("Cầu Rồng," and "cau-rong" are both ["cau", "rong"]). Rows keep
    theirs in ``search_text`` and a query is cut the same way, so the two always agree."""
    return _WORD.findall(fold(text))


def title_key(title: str | None) -> str | None:
    """The form of a Vietnamese name two live rows of a table may not share."""
    return fold(title) if title is not None else None


class _Provenance:
    """Columns every fact-bearing table shares."""

    source = Column(Text, nullable=True)
    verified = Column(Boolean, nullable=False, default=False)
    verified_by = Column(String(120), nullable=True)
    verified_at = Column(DateTime, nullable=True)
    retired = Column(Boolean, nullable=False, default=False, index=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    updated_at = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow, index=True)
    # Bumped on every edit: two officers saving the same row can be told apart.
    version = Column(Integer, nullable=False, default=1)
    # Folded names, aliases and address ("cau rong dragon bridge ..."), kept by a mapper
    # event, so the admin's diacritic-insensitive search is one LIKE on any database.
    search_text = Column(Text, nullable=True)
    # The folded Vietnamese name (``title_key``), kept by the same event: a unique index on
    # it among live rows makes "no two live entries with the same name" hold even for two
    # saves that arrive at the same moment.
    title_key = Column(Text, nullable=True)

    SEARCHED: tuple[str, ...] = ()
    TITLE: str = "name_vi"

    def refresh_search_text(self) -> None:
        parts: list[str] = [self.slug or ""]
        for field in self.SEARCHED:
            value = getattr(self, field, None)
            parts.extend(value if isinstance(value, list) else [value or ""])
        words = [w for p in parts if p for w in search_words(str(p))]
        # Leading space: every word start is " word", which is what the search matches.
        self.search_text = " " + " ".join(words)

    def refresh_title_key(self) -> None:
        self.title_key = title_key(getattr(self, self.TITLE, None))


class Place(_Provenance, Base):
    """An attraction (kind='attraction') or a service such as a hospital (kind='service')."""

    __tablename__ = "places"

    id = Column(Integer, primary_key=True)
    slug = Column(String(120), nullable=False, unique=True)
    kind = Column(String(20), nullable=False, index=True)
    category = Column(String(40), nullable=False, index=True)
    district = Column(String(60), nullable=True, index=True)
    name_vi = Column(String(200), nullable=False)
    name_en = Column(String(200), nullable=True)
    aliases = Column(JSON, nullable=False, default=list)
    address_vi = Column(Text, nullable=True)
    address_en = Column(Text, nullable=True)
    lat = Column(Float, nullable=True)
    lon = Column(Float, nullable=True)
    hours_vi = Column(Text, nullable=True)
    hours_en = Column(Text, nullable=True)
    price_vi = Column(Text, nullable=True)
    price_en = Column(Text, nullable=True)
    free = Column(Boolean, nullable=True)
    phone = Column(String(60), nullable=True)
    website = Column(String(300), nullable=True)
    summary_vi = Column(Text, nullable=True)
    summary_en = Column(Text, nullable=True)
    description_vi = Column(Text, nullable=True)
    description_en = Column(Text, nullable=True)
    how_to_get_vi = Column(Text, nullable=True)
    how_to_get_en = Column(Text, nullable=True)
    tags = Column(JSON, nullable=False, default=list)

    SEARCHED = ("name_vi", "name_en", "aliases", "address_vi", "address_en", "district", "category", "phone")

    events = relationship("Event", back_populates="venue")

    def __repr__(self) -> str:
        return f"<Place {self.slug}>"


class Event(_Provenance, Base):
    """A dated or recurring happening. Solar-calendar repeats are an RFC 5545 RRULE
    (``FREQ=WEEKLY;BYDAY=SA,SU``); anything else (lunar dates, announced festival nights)
    is listed as concrete rows in ``event_dates``."""

    __tablename__ = "events"

    id = Column(Integer, primary_key=True)
    slug = Column(String(120), nullable=False, unique=True)
    category = Column(String(40), nullable=False, index=True)
    name_vi = Column(String(200), nullable=False)
    name_en = Column(String(200), nullable=True)
    aliases = Column(JSON, nullable=False, default=list)
    venue_place_id = Column(Integer, ForeignKey("places.id", ondelete="SET NULL"), nullable=True)
    venue_vi = Column(Text, nullable=True)
    venue_en = Column(Text, nullable=True)
    recurrence = Column(String(200), nullable=True)
    recurrence_start = Column(Date, nullable=True)
    recurrence_end = Column(Date, nullable=True)
    start_time = Column(String(5), nullable=True)
    end_time = Column(String(5), nullable=True)
    typical_vi = Column(Text, nullable=True)
    typical_en = Column(Text, nullable=True)
    price_vi = Column(Text, nullable=True)
    price_en = Column(Text, nullable=True)
    summary_vi = Column(Text, nullable=True)
    summary_en = Column(Text, nullable=True)
    description_vi = Column(Text, nullable=True)
    description_en = Column(Text, nullable=True)

    SEARCHED = ("name_vi", "name_en", "aliases", "venue_vi", "venue_en", "category")

    venue = relationship("Place", back_populates="events")
    dates = relationship(
        "EventDate", back_populates="event", cascade="all, delete-orphan", order_by="EventDate.start"
    )

    def __repr__(self) -> str:
        return f"<Event {self.slug}>"


class EventDate(Base):
    """One concrete occurrence of an event (inclusive dates)."""

    __tablename__ = "event_dates"

    id = Column(Integer, primary_key=True)
    event_id = Column(Integer, ForeignKey("events.id", ondelete="CASCADE"), nullable=False, index=True)
    start = Column(Date, nullable=False, index=True)
    end = Column(Date, nullable=False, index=True)

    event = relationship("Event", back_populates="dates")

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end


class Faq(_Provenance, Base):
    """A practical-information entry: emergency numbers, visas, SIM cards, seasons..."""

    __tablename__ = "faqs"

    id = Column(Integer, primary_key=True)
    slug = Column(String(120), nullable=False, unique=True)
    topic = Column(String(40), nullable=False, index=True)
    title_vi = Column(String(200), nullable=False)
    title_en = Column(String(200), nullable=True)
    keywords = Column(JSON, nullable=False, default=list)
    answer_vi = Column(Text, nullable=False)
    answer_en = Column(Text, nullable=True)

    SEARCHED = ("title_vi", "title_en", "keywords", "topic")
    TITLE = "title_vi"


class UnansweredQuestion(Base):
    """A visitor question the assistant could not answer (fallback or no such fact), kept
    so staff can see what is missing from the base."""

    __tablename__ = "unanswered_questions"

    id = Column(Integer, primary_key=True)
    text = Column(Text, nullable=False)
    intent = Column(String(60), nullable=True)
    confidence = Column(Float, nullable=True)
    language = Column(String(5), nullable=True)
    reason = Column(String(40), nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow, index=True)
    # Staff review: 'open' until someone turns it into an entry or alias ('resolved') or
    # decides there is nothing to add ('dismissed').
    status = Column(String(20), nullable=False, default="open", server_default="open", index=True)
    resolved_by = Column(String(120), nullable=True)
    resolved_at = Column(DateTime, nullable=True)
    resolution = Column(Text, nullable=True)


class User(Base):
    """A tourism-department staff account. Editors change content; administrators also
    manage accounts. Passwords are stored as Argon2 hashes and API tokens as SHA-256
    digests, so a copy of the database gives neither away."""

    __tablename__ = "users"

    id = Column(Integer, primary_key=True)
    username = Column(String(60), nullable=False, unique=True)
    display_name = Column(String(120), nullable=True)
    role = Column(String(20), nullable=False, default="editor")
    password_hash = Column(String(255), nullable=True)
    token_digest = Column(String(64), nullable=True, unique=True)
    token_created_at = Column(DateTime, nullable=True)
    active = Column(Boolean, nullable=False, default=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    last_login_at = Column(DateTime, nullable=True)
    # Stored in every session at sign-in; bumping it (sign-out, new password, account
    # locked) ends every session opened before, including copies of the cookie.
    session_epoch = Column(Integer, nullable=False, default=0, server_default="0")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class Revision(Base):
    """One change to a fact row: who, when, what (old and new value of every changed
    field) and the whole row as it stood afterwards, so any version can be restored."""

    __tablename__ = "revisions"

    id = Column(Integer, primary_key=True)
    table_name = Column(String(40), nullable=False)
    row_id = Column(Integer, nullable=False)
    version = Column(Integer, nullable=False)
    action = Column(String(20), nullable=False)
    username = Column(String(60), nullable=True)
    at = Column(DateTime, nullable=False, default=utcnow, index=True)
    changes = Column(JSON, nullable=False, default=dict)
    snapshot = Column(JSON, nullable=False, default=dict)


Index("ix_revisions_row", Revision.table_name, Revision.row_id, Revision.version)

LIVE_ONLY = text("NOT retired")
for _model in (Place, Event, Faq):
    Index(f"uq_{_model.__tablename__}_title_key_live", _model.title_key, unique=True,
          sqlite_where=LIVE_ONLY, postgresql_where=LIVE_ONLY)


@orm_event.listens_for(_Provenance, "before_insert", propagate=True)
@orm_event.listens_for(_Provenance, "before_update", propagate=True)
def _keep_search_text(_mapper: object, _connection: object, target: _Provenance) -> None:
    target.refresh_search_text()
    target.refresh_title_key()
