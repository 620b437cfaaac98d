"""How facts from the base are worded for a phone screen, in Vietnamese and English.

Every factual reply starts with the name of what it is about, so a visitor reading a
notification knows which place or event the answer concerns."""

from __future__ import annotations

from datetime import date
from typing import Any

from actions.context import payload
from knowledge.models import Event, Faq, Place
from knowledge.queries import Occurrence

_WEEKDAYS_VI = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")
_WEEKDAYS_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

CATEGORY_NAMES: dict[str, tuple[str, str]] = {
    "beach": ("bãi biển", "beaches"),
    "museum": ("bảo tàng", "museums"),
    "pagoda": ("chùa", "pagodas"),
    "church": ("nhà thờ", "churches"),
    "market": ("chợ", "markets"),
    "bridge": ("cây cầu", "bridges"),
    "mountain": ("núi", "mountains"),
    "peninsula": ("bán đảo", "peninsulas"),
    "pass": ("đèo", "mountain passes"),
    "theme_park": ("khu vui chơi", "theme parks"),
    "landmark": ("công trình nổi bật", "landmarks"),
    "craft_village": ("làng nghề", "craft villages"),
    "hot_spring": ("suối khoáng nóng", "hot springs"),
    "nature": ("điểm thiên nhiên", "nature spots"),
    "island": ("đảo", "islands"),
    "day_trip": ("điểm đi trong ngày", "day trips"),
    "nightlife": ("điểm vui chơi về đêm", "nightlife spots"),
    "park": ("công viên", "parks"),
    "hospital": ("bệnh viện", "hospitals"),
    "pharmacy": ("nhà thuốc", "pharmacies"),
    "police": ("công an", "police stations"),
    "tourist_info": ("điểm thông tin du lịch", "tourist information points"),
    "airport": ("sân bay", "airports"),
    "train_station": ("ga tàu", "train stations"),
    "bus_station": ("bến xe", "bus stations"),
    "taxi": ("hãng taxi", "taxi companies"),
    "bank": ("ngân hàng / ATM", "banks and ATMs"),
    "currency_exchange": ("điểm đổi tiền", "currency exchange points"),
    "hotel": ("khách sạn", "hotels"),
    "restaurant": ("quán ăn", "restaurants"),
}


def tr(en: bool, vi: str, english: str) -> str:
    return english if en else vi


def pick(en: bool, row: Any, field: str) -> str | None:
    """The English column when asked in English and it is filled, else the Vietnamese one."""
    value = getattr(row, f"{field}_en") if en else None
    return value or getattr(row, f"{field}_vi")


def category_name(code: str, en: bool) -> str:
    vi, english = CATEGORY_NAMES.get(code, (code, code))
    return english if en else vi


def map_link(place: Place) -> str | None:
    if place.lat is None or place.lon is None:
        return None
    return f"https://www.google.com/maps/search/?api=1&query={place.lat:.5f},{place.lon:.5f}"


def day_label(day: date, en: bool) -> str:
    if en:
        return f"{_WEEKDAYS_EN[day.weekday()]} {day.day} {_MONTHS_EN[day.month - 1]} {day.year}"
    return f"{_WEEKDAYS_VI[day.weekday()]} {day.day}/{day.month}/{day.year}"


def occurrence_label(occ: Occurrence, en: bool) -> str:
    label = day_label(occ.start, en)
    if occ.end != occ.start:
        label += f" – {day_label(occ.end, en)}"
    if len(occ.also) == 1:
        label += tr(en, f" (cả {day_label(occ.also[0], en)})", f" (also {day_label(occ.also[0], en)})")
    elif occ.also:  # a weekly show over a month: say how often, not every date
        label += tr(en, f" (và {len(occ.also)} lần nữa)", f" (and {len(occ.also)} more times)")
    if occ.event.start_time:
        label += f", {occ.event.start_time}"
        if occ.event.end_time:
            label += f"–{occ.event.end_time}"
    return label


def place_name(place: Place, en: bool) -> str:
    return pick(en, place, "name") or place.name_vi


def summary_line(place: Place, en: bool) -> str:
    """A list item: the place's name and, if the base has one, its one-line summary."""
    summary = pick(en, place, "summary")
    return f"• {place_name(place, en)}: {summary}" if summary else f"• {place_name(place, en)}"


def event_name(event: Event, en: bool) -> str:
    return pick(en, event, "name") or event.name_vi


def unverified_note(row: Any, en: bool) -> str | None:
    if row.verified:
        return None
    return tr(
        en,
        "(Thông tin chưa được cán bộ du lịch xác minh, nên kiểm tra lại trước khi đi.)",
        "(Not yet verified by tourism staff; please double-check before you go.)",
    )


def lines(*parts: str | None) -> str:
    return "\n".join(p for p in parts if p)


def place_buttons(place: Place, en: bool, skip: str = "") -> list[dict[str, str]]:
    """Follow-up questions about the same place, as buttons."""
    name = place.name_vi
    options = [
        ("place_location", tr(en, "Đường đi", "How to get there")),
        ("place_hours", tr(en, "Giờ mở cửa", "Opening hours")),
        ("place_price", tr(en, "Giá vé", "Tickets")),
        ("place_contact", tr(en, "Liên hệ", "Contact")),
    ]
    return [
        {"title": title, "payload": payload(intent, place=name)}
        for intent, title in options
        if intent != skip
    ][:3]


def choice_buttons(places: list[Place], intent: str, en: bool) -> list[dict[str, str]]:
    return [{"title": place_name(p, en), "payload": payload(intent, place=p.name_vi)} for p in places]


def event_buttons(events: list[Event], en: bool) -> list[dict[str, str]]:
    return [{"title": event_name(e, en), "payload": payload("event_when", event=e.name_vi)} for e in events]


def faq_text(faq: Faq, en: bool) -> str:
    return lines(f"{pick(en, faq, 'title')}:", pick(en, faq, "answer"), unverified_note(faq, en))
