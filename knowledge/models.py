"""SQLAlchemy models of the knowledge base: places, events, practical information.

Every fact-bearing row records where it came from (``source``) and whether staff have
checked it (``verified``), so the admin can show what still needs checking. Rows are
retired rather than deleted so the assistant stops mentioning them while history stays.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import declarative_base, relationship

Base = declarative_base()


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


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
