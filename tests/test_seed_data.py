"""The seed knowledge base: enough real content, in both languages, every row sourced and
flagged, and it loads into a real database."""

from __future__ import annotations

import unicodedata
from collections import Counter
from datetime import date

import pytest
from dateutil.rrule import rrulestr
from sqlalchemy import func, select

from bot.text_normalise import search_key
from knowledge.models import Event, Faq, Place
from knowledge.seed import read_seed

SEED = read_seed()
PLACES = SEED["places"]
ATTRACTIONS = [p for p in PLACES if p["kind"] == "attraction"]
SERVICES = [p for p in PLACES if p["kind"] == "service"]

REQUIRED_ATTRACTIONS = [
    "Cầu Rồng",
    "Cầu sông Hàn",
    "Cầu Thuận Phước",
    "Bà Nà Hills",
    "Cầu Vàng",
    "Ngũ Hành Sơn",
    "bán đảo Sơn Trà",
    "chùa Linh Ứng Bãi Bụt",
    "Bảo tàng Điêu khắc Chăm",
    "Bảo tàng Đà Nẵng",
    "Bảo tàng Mỹ thuật",
    "biển Mỹ Khê",
    "biển Non Nước",
    "đèo Hải Vân",
    "chợ Hàn",
    "chợ Cồn",
    "chợ đêm Sơn Trà",
    "chợ đêm Helio",
    "Sun World",
    "nhà thờ Con Gà",
    "Cá chép hóa Rồng",
    "làng đá Non Nước",
    "Núi Thần Tài",
    "rạn Nam Ô",
    "Hội An",
    "Mỹ Sơn",
]


def _all_names(row: dict) -> set[str]:
    return {search_key(n) for n in (row.get("name_vi"), row.get("name_en"), *(row.get("aliases") or [])) if n}


def test_counts_meet_the_brief():
    assert len(ATTRACTIONS) >= 40
    assert len(SEED["events"]) >= 15
    assert len(SERVICES) >= 40
    assert len({p["category"] for p in SERVICES}) >= 8
    assert len(SEED["faqs"]) >= 20


@pytest.mark.parametrize("name", REQUIRED_ATTRACTIONS)
def test_required_attraction_is_present(name):
    key = search_key(name)
    assert any(key in " ".join(_all_names(p)) for p in ATTRACTIONS), name


@pytest.mark.parametrize("section", ["places", "events", "faqs"])
def test_every_row_has_source_flag_and_both_languages(section):
    title = "title" if section == "faqs" else "name"
    body = "answer" if section == "faqs" else "summary"
    for row in SEED[section]:
        assert str(row.get("source", "")).startswith("http"), row["slug"]
        assert isinstance(row.get("verified"), bool), row["slug"]
        for lang in ("vi", "en"):
            assert row.get(f"{title}_{lang}"), (row["slug"], lang)
            assert row.get(f"{body}_{lang}"), (row["slug"], lang)


def test_slugs_are_unique():
    for section, rows in SEED.items():
        counts = Counter(r["slug"] for r in rows)
        assert [s for s, n in counts.items() if n > 1] == [], section


def test_text_is_nfc():
    def strings(value):
        if isinstance(value, str):
            yield value
        elif isinstance(value, list):
            for v in value:
                yield from strings(v)
        elif isinstance(value, dict):
            for v in value.values():
                yield from strings(v)

    for text in strings(SEED):
        assert unicodedata.is_normalized("NFC", text), text


def test_coordinates_are_in_the_region():
    for p in PLACES:
        if p.get("lat") is not None:
            assert 15.0 <= p["lat"] <= 16.8 and 107.4 <= p["lon"] <= 108.8, p["slug"]


def test_events_have_a_time_rule_or_dates_or_a_typical_period():
    for e in SEED["events"]:
        assert e.get("recurrence") or e.get("dates") or e.get("typical_vi"), e["slug"]
        if e.get("recurrence"):
            rrulestr(e["recurrence"])  # raises on a malformed rule
        for d in e.get("dates") or []:
            assert isinstance(d["start"], date)


def test_dragon_bridge_show_is_weekly_at_nine_pm():
    show = next(e for e in SEED["events"] if "cau rong" in " ".join(_all_names(e)))
    assert "BYDAY=SA,SU" in show["recurrence"] and show["start_time"] == "21:00"


def test_emergency_numbers_are_in_the_practical_information():
    text = " ".join(f["answer_vi"] + f["answer_en"] for f in SEED["faqs"])
    for number in ("113", "114", "115"):
        assert number in text


def test_seed_loads_into_a_real_database(seeded_kb):
    count = lambda m: seeded_kb.execute(select(func.count()).select_from(m)).scalar_one()  # noqa: E731
    assert count(Place) == len(PLACES)
    assert count(Event) == len(SEED["events"])
    assert count(Faq) == len(SEED["faqs"])
    venues = seeded_kb.execute(select(func.count()).where(Event.venue_place_id.isnot(None))).scalar_one()
    assert venues >= 3


def test_every_seed_row_passes_the_admin_validation() -> None:
    """Staff must be able to edit any seeded row without first fixing it: each one passes
    the same checks as a form, an API call or an import."""
    from knowledge.schemas import InvalidEntry, validate

    problems = []
    for kind, rows in read_seed().items():
        for row in rows:
            try:
                validate(kind, row)
            except InvalidEntry as exc:
                problems.append(f"{kind}/{row['slug']}: {exc}")
    assert not problems, "\n".join(problems)
