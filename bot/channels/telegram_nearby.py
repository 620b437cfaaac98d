"""What is near a location a visitor shared on Telegram, straight from the knowledge base.

Rasa's intents take words, not coordinates, so the channel answers a shared location
itself: the nearest sights (each a button that asks the assistant about it) and buttons for
the nearest hospital, pharmacy, ATM or restaurant, which come back to the channel as
``#near:<category>:<lat>,<lon>`` callback data. Synchronous (SQLAlchemy): the channel runs
these in a worker thread."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from actions.context import payload
from actions.replies import category_name, pick, place_name, tr
from knowledge.db import new_session
from knowledge.models import Place
from knowledge.queries import OUTSIDE_AREA_KM, places_near

CATEGORIES = ("hospital", "pharmacy", "bank", "restaurant")
_LIMIT = 3
_SAME_PLACE_KM = 0.05
_NEAR_DATA = re.compile(r"#near:([a-z_]{1,20}):(-?\d{1,2}\.\d{1,5}),(-?\d{1,3}\.\d{1,5})")


@dataclass
class Venue:
    lat: float
    lon: float
    title: str
    address: str


@dataclass
class Reply:
    text: str
    buttons: list[dict[str, str]] = field(default_factory=list)
    venue: Venue | None = None


def near_data(category: str, lat: float, lon: float) -> str:
    """Callback data for "the nearest <category>" (at most 40 bytes: fits Telegram's 64)."""
    return f"#near:{category}:{lat:.5f},{lon:.5f}"


def parse_near_data(data: str) -> tuple[str, float, float] | None:
    match = _NEAR_DATA.fullmatch(data)
    if not match or match.group(1) not in CATEGORIES:
        return None
    lat, lon = float(match.group(2)), float(match.group(3))
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return match.group(1), lat, lon


def _venue(place: Place, en: bool) -> Venue:
    address = pick(en, place, "address") or place.district or "Đà Nẵng"
    return Venue(place.lat, place.lon, place_name(place, en), address)


def _line(place: Place, distance: float, en: bool) -> str:
    summary = pick(en, place, "summary")
    text = f"• {place_name(place, en)} (~{distance:.1f} km)"
    return text + (f": {summary}" if summary else "")


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]  # str.capitalize() would turn "ATMs" into "atms"


def _category_buttons(lat: float, lon: float, en: bool) -> list[dict[str, str]]:
    title = "{} nearby" if en else "{} gần đây"
    return [
        {"title": title.format(_capitalised(category_name(c, en))), "payload": near_data(c, lat, lon)}
        for c in CATEGORIES
    ]


def around(lat: float, lon: float, en: bool) -> Reply:
    """The reply to a shared location: the nearest sights, and what else to look for."""
    with new_session() as session:
        near = places_near(session, lat, lon, kind="attraction", limit=_LIMIT)
    if not near:
        return Reply(
            tr(en, "Dữ liệu du lịch chưa có địa điểm nào.", "The tourism database has no places yet.")
        )
    if near[0][1] > OUTSIDE_AREA_KM:
        first, distance = near[0]
        text = tr(
            en,
            f"Vị trí này cách xa Đà Nẵng: địa điểm gần nhất mình biết là {place_name(first, en)} "
            f"(~{distance:.0f} km). Mình chỉ có thông tin về Đà Nẵng.",
            f"This location is far from Da Nang: the nearest place I know is {place_name(first, en)} "
            f"(~{distance:.0f} km). I only know about Da Nang.",
        )
        return Reply(text)
    head = tr(en, "Gần vị trí của bạn:", "Near your location:")
    text = "\n".join([head, *(_line(p, d, en) for p, d in near)])
    buttons = [
        {"title": place_name(p, en), "payload": payload("place_info", place=p.name_vi)} for p, _ in near
    ]
    return Reply(text, buttons + _category_buttons(lat, lon, en))


def nearest(category: str, lat: float, lon: float, en: bool) -> Reply:
    """The nearest places of a category, with the nearest as a venue to navigate to."""
    with new_session() as session:
        near = places_near(session, lat, lon, categories=[category], limit=_LIMIT)
    what = category_name(category, en)
    if not near:
        return Reply(tr(en, f"Dữ liệu du lịch chưa có {what}.", f"The tourism database has no {what} yet."))
    lines = [tr(en, f"{_capitalised(what)} gần bạn nhất:", f"Nearest {what}:")]
    for place, distance in near:
        line = f"• {place_name(place, en)} (~{distance:.1f} km)"
        address = pick(en, place, "address")
        line += f" – {address}" if address else ""
        lines.append(line + (f" – ☎ {place.phone}" if place.phone else ""))
    buttons = [
        {"title": place_name(p, en), "payload": payload("place_contact", place=p.name_vi)} for p, _ in near
    ]
    return Reply("\n".join(lines), buttons, _venue(near[0][0], en))


def venue_at(lat: float, lon: float, en: bool) -> Venue | None:
    """The place of the base at a map link's coordinates (links carry 5 decimals)."""
    with new_session() as session:
        near = places_near(session, lat, lon, limit=1, radius_km=_SAME_PLACE_KM)
    if not near or near[0][1] > _SAME_PLACE_KM:
        return None
    return _venue(near[0][0], en)
