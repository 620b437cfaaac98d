"""Read-only questions the assistant asks the knowledge base. Retired rows never appear."""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import islice

from dateutil.rrule import rrulestr
from sqlalchemy import String, and_, cast, or_, select
from sqlalchemy.orm import Session, selectinload

from knowledge.models import Event, EventDate, Faq, Place

logger = logging.getLogger(__name__)

# Where the weekly rules start if staff gave no start date: far enough back that every
# weekday pattern is established, recent enough that rrule iteration stays cheap.
_RRULE_EPOCH = date(2020, 1, 6)


def get_place(session: Session, place_id: int) -> Place | None:
    place = session.get(Place, place_id)
    return place if place is not None and not place.retired else None


def get_event(session: Session, event_id: int) -> Event | None:
    event = session.get(Event, event_id, options=[selectinload(Event.dates)])
    return event if event is not None and not event.retired else None


def get_faq(session: Session, faq_id: int) -> Faq | None:
    faq = session.get(Faq, faq_id)
    return faq if faq is not None and not faq.retired else None


def _has_tag(tag: str):
    # Tags are a JSON list; its text form contains the quoted tag on SQLite and PostgreSQL.
    return cast(Place.tags, String).like(f'%"{tag}"%')


def find_places(
    session: Session,
    *,
    kind: str | None = None,
    categories: Sequence[str] = (),
    tags: Sequence[str] = (),
    district: str | None = None,
    limit: int = 5,
) -> list[Place]:
    """Places matching every given filter. Famous and verified places come first, so a
    short list shows what a visitor would most want to see."""
    query = select(Place).where(~Place.retired)
    if kind:
        query = query.where(Place.kind == kind)
    if categories:
        query = query.where(Place.category.in_(list(categories)))
    for tag in tags:
        query = query.where(_has_tag(tag))
    if district:
        query = query.where(Place.district == district)
    query = query.order_by(_has_tag("famous").desc(), Place.verified.desc(), Place.id).limit(limit)
    return list(session.execute(query).scalars())


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    r = 6371.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


# A shared location farther than this from every place in the base is outside the area
# the base covers: channels say so rather than list "nearby" places hundreds of km away.
OUTSIDE_AREA_KM = 50.0


def places_near(
    session: Session,
    lat: float,
    lon: float,
    *,
    categories: Sequence[str] = (),
    kind: str | None = None,
    tags: Sequence[str] = (),
    exclude_id: int | None = None,
    limit: int = 3,
    radius_km: float = 5.0,
) -> list[tuple[Place, float]]:
    """The nearest places (with their distance in km): first within ``radius_km`` using a
    bounding box the database can index, then four times as far, then anywhere, until
    ``limit`` are found."""
    base = select(Place).where(~Place.retired, Place.lat.isnot(None), Place.lon.isnot(None))
    if categories:
        base = base.where(Place.category.in_(list(categories)))
    if kind:
        base = base.where(Place.kind == kind)
    for tag in tags:
        base = base.where(_has_tag(tag))
    if exclude_id is not None:
        base = base.where(Place.id != exclude_id)
    rows: list[Place] = []
    for radius in (radius_km, radius_km * 4):
        dlat = radius / 111.0
        dlon = radius / (111.0 * max(math.cos(math.radians(lat)), 0.1))
        boxed = base.where(
            and_(Place.lat.between(lat - dlat, lat + dlat), Place.lon.between(lon - dlon, lon + dlon))
        )
        rows = list(session.execute(boxed).scalars())
        if len(rows) >= limit:
            break
    else:
        rows = list(session.execute(base).scalars())
    ranked = sorted(((p, distance_km(lat, lon, p.lat, p.lon)) for p in rows), key=lambda x: x[1])
    return ranked[:limit]


@dataclass(frozen=True)
class Occurrence:
    event: Event
    start: date
    end: date
    # Later starts of the same event in the asked range ("also Sunday"), see events_between.
    also: tuple[date, ...] = ()

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, clock_time(self.event.start_time) or time())


_CLOCK = re.compile(r"^\s*(\d{1,2})\s*[:hH.]\s*(\d{2})?\s*$")


def clock_time(text: str | None) -> time | None:
    """ "21:00", "9:00", "21h", "21h30" -> a time; anything else -> None (never raises:
    staff type these by hand)."""
    match = _CLOCK.match(text or "")
    if not match:
        return None
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    return time(hour, minute) if hour < 24 and minute < 60 else None


# Rules whose days do not depend on where they start: daily, or weekly on named weekdays,
# with no COUNT or INTERVAL.
_SHIFTABLE = re.compile(
    r"^(?!.*(?:COUNT|INTERVAL)=)(?:(?=.*FREQ=DAILY)|(?=.*FREQ=WEEKLY)(?=.*BYDAY=))", re.IGNORECASE
)


# Events happen on days: a rule that repeats every hour, minute or second would expand to
# thousands of "occurrences" a week and stall every "what's on" question.
SUB_DAILY_RULE = re.compile(r"FREQ=(?:HOURLY|MINUTELY|SECONDLY)|BY(?:HOUR|MINUTE|SECOND)=", re.IGNORECASE)
MAX_OCCURRENCES = 400  # per event and question: more than a year of daily repeats


def _recurring_dates(event: Event, start: date, end: date) -> list[date]:
    if SUB_DAILY_RULE.search(event.recurrence):
        raise ValueError("repeats more often than daily")
    rule_start = max(event.recurrence_start or _RRULE_EPOCH, _RRULE_EPOCH)
    if _SHIFTABLE.match(event.recurrence) and start - timedelta(days=7) > rule_start:
        # "Every Saturday and Sunday" or "every day" give the same days whichever week
        # they start in: start a week before the range, not every week since 2020.
        rule_start = start - timedelta(days=7)
    rule = rrulestr(event.recurrence, dtstart=datetime.combine(rule_start, time()))
    days = list(islice(rule.xafter(datetime.combine(start, time()), inc=True), MAX_OCCURRENCES))
    days = [d for d in days if d <= datetime.combine(end, time())]
    last = event.recurrence_end
    return [d.date() for d in days if last is None or d.date() <= last]


def occurrences_of(event: Event, start: date, end: date) -> list[Occurrence]:
    """Every occurrence of one event that overlaps [start, end], in date order. A dated
    occurrence and a repeat on the same day are one occurrence."""
    found = {
        (d.start, d.end): Occurrence(event, d.start, d.end)
        for d in event.dates
        if d.start <= end and d.end >= start
    }
    if event.recurrence:
        try:
            days = _recurring_dates(event, start, end)
        except (ValueError, TypeError) as error:
            # One malformed rule must not break "what's on" for every visitor.
            logger.warning("event %s has an unusable recurrence %r: %s", event.slug, event.recurrence, error)
            days = []
        for day in days:
            found.setdefault((day, day), Occurrence(event, day, day))
    return sorted(found.values(), key=lambda o: (o.start, o.end))


def events_between(session: Session, start: date, end: date) -> list[Occurrence]:
    """What is on between two dates (inclusive), in date and time order. An event is
    listed once, at its first occurrence in the range, with its other start dates in
    ``also``, so a weekly show does not crowd out everything else in a month."""
    dated = select(Event.id).join(EventDate).where(EventDate.start <= end, EventDate.end >= start)
    query = (
        select(Event)
        .options(selectinload(Event.dates))
        .where(~Event.retired, or_(Event.id.in_(dated), Event.recurrence.isnot(None)))
    )
    result: list[Occurrence] = []
    for event in session.execute(query).scalars():
        occurrences = occurrences_of(event, start, end)
        if occurrences:
            first = occurrences[0]
            also = tuple(o.start for o in occurrences[1:])
            result.append(Occurrence(first.event, first.start, first.end, also))
    return sorted(result, key=lambda o: (o.start, o.start_at, o.event.id))


def next_occurrences(event: Event, today: date, count: int = 3, horizon_days: int = 400) -> list[Occurrence]:
    """The next occurrences of an event from today (an ongoing one counts)."""
    end = date.fromordinal(today.toordinal() + horizon_days)
    return occurrences_of(event, today, end)[:count]


def faqs_by_topic(session: Session, topic: str) -> list[Faq]:
    query = select(Faq).where(~Faq.retired, Faq.topic == topic).order_by(Faq.id)
    return list(session.execute(query).scalars())
