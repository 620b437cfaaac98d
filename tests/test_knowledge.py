"""Schema, seeding and every knowledge query, against a real SQLite database."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import inspect, select

from knowledge import unanswered
from knowledge.db import get_engine
from knowledge.models import Event, Place, UnansweredQuestion
from knowledge.queries import (
    distance_km,
    events_between,
    faqs_by_topic,
    find_places,
    get_event,
    get_place,
    next_occurrences,
    places_near,
)
from knowledge.seed import seed
from tests.conftest import MINI


def _place(session, slug: str) -> Place:
    return session.execute(select(Place).where(Place.slug == slug)).scalar_one()


def test_migration_creates_every_table(kb_url):
    tables = set(inspect(get_engine(kb_url)).get_table_names())
    assert {"places", "events", "event_dates", "faqs", "unanswered_questions", "alembic_version"} <= tables


def test_seed_adds_rows_once_and_never_overwrites_staff_edits(mini_kb):
    place = _place(mini_kb, "cau-rong")
    place.hours_vi = "Sửa bởi cán bộ"
    mini_kb.commit()
    added = seed(mini_kb, MINI)
    mini_kb.commit()
    assert added == {"places": 0, "events": 0, "faqs": 0}
    assert _place(mini_kb, "cau-rong").hours_vi == "Sửa bởi cán bộ"


def test_seed_normalises_text_to_nfc_and_canonical_tones(kb_url):
    from knowledge.db import new_session

    row = dict(MINI["places"][0], slug="hoa-vang", name_vi="Hoa\u0300 Vang")  # NFD, new-style tone
    with new_session(kb_url) as session:
        seed(session, {"places": [row], "events": [], "faqs": []})
        session.commit()
        assert _place(session, "hoa-vang").name_vi == "Hòa Vang"


def test_seed_rejects_unknown_fields(kb_url):
    from knowledge.db import new_session

    row = dict(MINI["places"][0], slug="x", opening="typo")
    with new_session(kb_url) as session, pytest.raises(ValueError, match="opening"):
        seed(session, {"places": [row], "events": [], "faqs": []})


def test_event_venue_is_linked_by_slug(mini_kb):
    show = mini_kb.execute(select(Event).where(Event.slug == "dragon-bridge-show")).scalar_one()
    assert show.venue.slug == "cau-rong"


def test_find_places_filters_and_puts_famous_first(mini_kb):
    museums = find_places(mini_kb, categories=["museum"])
    assert [p.slug for p in museums] == ["bao-tang-cham", "bao-tang-da-nang"]
    rainy = find_places(mini_kb, tags=["rain"], district="Hải Châu")
    assert {p.slug for p in rainy} == {"bao-tang-cham", "bao-tang-da-nang"}
    assert [p.slug for p in find_places(mini_kb, kind="service")] == ["benh-vien-da-nang", "benh-vien-xa"]
    assert find_places(mini_kb, tags=["children"], categories=["museum"]) == []


def test_retired_rows_are_invisible(mini_kb):
    place = _place(mini_kb, "bao-tang-cham")
    place.retired = True
    mini_kb.commit()
    assert get_place(mini_kb, place.id) is None
    assert "bao-tang-cham" not in {p.slug for p in find_places(mini_kb, categories=["museum"])}


def test_distance_is_haversine():
    # Dragon Bridge to My Khe beach: about 2.1 km east.
    assert distance_km(16.0612, 108.2272, 16.0620, 108.2470) == pytest.approx(2.11, abs=0.05)


def test_places_near_orders_by_distance_and_widens_when_nothing_is_close(mini_kb):
    near = places_near(mini_kb, 16.0612, 108.2272, categories=["hospital"])
    assert [p.slug for p, _ in near] == ["benh-vien-da-nang", "benh-vien-xa"]
    assert near[0][1] < near[1][1]
    tiny = places_near(mini_kb, 16.0612, 108.2272, categories=["hospital"], radius_km=0.1)
    assert [p.slug for p, _ in tiny] == ["benh-vien-da-nang", "benh-vien-xa"]


def test_recurring_show_appears_on_weekends_only(mini_kb):
    # 2026-11-25 is a Wednesday; 28-29 Nov are Saturday and Sunday.
    midweek = events_between(mini_kb, date(2026, 11, 25), date(2026, 11, 27))
    assert all(o.event.slug != "dragon-bridge-show" for o in midweek)
    weekend = events_between(mini_kb, date(2026, 11, 28), date(2026, 11, 29))
    assert [(o.event.slug, o.start, o.also) for o in weekend] == [
        ("dragon-bridge-show", date(2026, 11, 28), (date(2026, 11, 29),))
    ]


def test_dated_events_overlap_the_range(mini_kb):
    found = events_between(mini_kb, date(2027, 2, 1), date(2027, 2, 6))
    assert ("tet-2027", date(2027, 2, 5)) in [(o.event.slug, o.start) for o in found]
    assert events_between(mini_kb, date(2027, 2, 10), date(2027, 2, 10)) == [] or all(
        o.event.slug != "tet-2027" for o in events_between(mini_kb, date(2027, 2, 10), date(2027, 2, 10))
    )


def test_next_occurrences(mini_kb):
    show = mini_kb.execute(select(Event).where(Event.slug == "dragon-bridge-show")).scalar_one()
    upcoming = next_occurrences(show, date(2026, 11, 25), count=3)
    assert [o.start for o in upcoming] == [date(2026, 11, 28), date(2026, 11, 29), date(2026, 12, 5)]
    assert upcoming[0].start_at.hour == 21
    tet = get_event(mini_kb, mini_kb.execute(select(Event.id).where(Event.slug == "tet-2027")).scalar_one())
    assert [o.start for o in next_occurrences(tet, date(2027, 2, 7))] == [date(2027, 2, 5)]  # ongoing
    assert next_occurrences(tet, date(2027, 2, 10)) == []


def test_faqs_by_topic(mini_kb):
    assert [f.slug for f in faqs_by_topic(mini_kb, "emergency")] == ["emergency-numbers"]


def test_unanswered_questions_are_recorded(mini_kb):
    unanswered.record(mini_kb, "Hồ Gươm ở đâu", "no_such_place", intent="place_location", language="vi")
    unanswered.record(mini_kb, "   ", "fallback")
    rows = mini_kb.execute(select(UnansweredQuestion)).scalars().all()
    assert [(r.text, r.reason) for r in rows] == [("Hồ Gươm ở đâu", "no_such_place")]
    with pytest.raises(ValueError):
        unanswered.record(mini_kb, "x", "bogus")


def test_clock_times_are_read_leniently():
    from datetime import time

    from knowledge.queries import clock_time

    assert clock_time("21:00") == time(21, 0)
    assert clock_time("9:00") == time(9, 0)
    assert clock_time("21h30") == time(21, 30)
    assert clock_time("21h") == time(21, 0)
    assert clock_time("tối") is None and clock_time(None) is None and clock_time("25:00") is None


def test_a_malformed_recurrence_does_not_break_the_listing(mini_kb):
    show = mini_kb.execute(select(Event).where(Event.slug == "dragon-bridge-show")).scalar_one()
    show.recurrence = "every saturday"
    mini_kb.commit()
    found = events_between(mini_kb, date(2027, 2, 1), date(2027, 2, 6))
    assert [o.event.slug for o in found] == ["tet-2027"]


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=WEEKLY;BYDAY=SA,SU",
        "FREQ=DAILY",
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR",
        "FREQ=MONTHLY;BYMONTHDAY=14",
    ],
)
def test_recurring_dates_do_not_depend_on_the_shortcut(rule):
    from datetime import timedelta

    from knowledge import queries

    event = Event(slug="x", recurrence=rule, recurrence_start=date(2024, 1, 5))
    for offset in (0, 3, 40, 400):
        start = date(2026, 11, 25) + timedelta(days=offset)
        end = start + timedelta(days=45)
        shortcut = queries._recurring_dates(event, start, end)
        rule_obj = queries.rrulestr(rule, dtstart=queries.datetime(2024, 1, 5))
        full = [
            d.date()
            for d in rule_obj.between(
                queries.datetime.combine(start, queries.time()),
                queries.datetime.combine(end, queries.time()),
                inc=True,
            )
        ]
        assert shortcut == full, (rule, start)
