"""What the Zalo channel says by itself, without a turn of the assistant: the welcome to a
new follower, the answer to a shared location, and the note that only text is read.

A shared location has no words for Rasa's intents to classify, so the channel answers it
from the knowledge base directly (``knowledge.queries.places_near``, the query behind
"bệnh viện gần cầu rồng"): the nearest sights and the nearest hospital and pharmacy, each
with a button that asks the assistant about it. Zalo's visitors write Vietnamese first, and
a location or a follow carries no language, so these replies are in Vietnamese.
Synchronous (SQLAlchemy): the channel runs ``nearby`` in a worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from actions.context import payload
from actions.replies import category_name, map_link
from knowledge.db import new_session
from knowledge.models import Place
from knowledge.queries import OUTSIDE_AREA_KM, places_near

SIGHTS = 3
SERVICE_CATEGORIES = ("hospital", "pharmacy")  # what a visitor in trouble needs nearest

ONLY_TEXT = (
    "Xin lỗi, mình chỉ đọc được tin nhắn chữ. Bạn hãy gõ câu hỏi, ví dụ: "
    "“Cầu Rồng ở đâu?”, hoặc gửi vị trí để xem các điểm gần bạn."
)
NO_LOCATION = "Xin lỗi, mình không đọc được vị trí bạn gửi. Bạn thử gửi lại vị trí nhé."
LOOKUP_FAILED = "Xin lỗi, mình chưa tra được các điểm gần bạn lúc này. Bạn thử lại sau ít phút nhé."


@dataclass
class Reply:
    text: str
    buttons: list[dict[str, str]] = field(default_factory=list)


def welcome() -> Reply:
    return Reply(
        "Xin chào! Mình là trợ lý du lịch Đà Nẵng 🐉\n"
        "Bạn có thể hỏi mình về điểm tham quan, sự kiện, dịch vụ và thông tin hữu ích, "
        "bằng tiếng Việt (có dấu hay không dấu đều được) hoặc tiếng Anh. "
        "Gửi vị trí của bạn để xem những điểm ở gần.",
        # Plain questions: the button sends them as if typed, and they show in the chat.
        [
            {"title": "Cầu Rồng ở đâu?", "payload": "Cầu Rồng ở đâu?"},
            {"title": "Nên đi đâu ở Đà Nẵng?", "payload": "Nên đi đâu ở Đà Nẵng?"},
            {"title": "Cuối tuần này có gì chơi?", "payload": "Cuối tuần này có gì chơi?"},
        ],
    )


def _line(place: Place, km: float) -> str:
    text = f"• {place.name_vi} (~{km:.1f} km)"
    if place.address_vi:
        text += f" – {place.address_vi}"
    link = map_link(place)
    return text + (f"\n  🗺 {link}" if link else "")


def nearby(lat: float, lon: float, database_url: str | None = None) -> Reply:
    """The nearest sights and services to (lat, lon), from the knowledge base."""
    with new_session(database_url) as session:
        sights = places_near(session, lat, lon, kind="attraction", limit=SIGHTS)
        services = [
            (category, found[0])
            for category in SERVICE_CATEGORIES
            if (found := places_near(session, lat, lon, categories=[category], limit=1))
        ]
    if not sights:
        return Reply("Dữ liệu du lịch chưa có địa điểm nào có tọa độ.")
    lines = []
    if sights[0][1] > OUTSIDE_AREA_KM:
        # Nothing here is near: the nearest hospital hundreds of km away would not help.
        lines.append(f"Vị trí của bạn cách Đà Nẵng khá xa (điểm gần nhất ~{sights[0][1]:.0f} km).")
        services = []
    lines.append("Các điểm tham quan gần bạn:")
    lines += [_line(place, km) for place, km in sights]
    for category, (place, km) in services:
        lines.append(f"{category_name(category, False).capitalize()} gần nhất:")
        lines.append(_line(place, km))
    buttons = [{"title": p.name_vi, "payload": payload("place_info", place=p.name_vi)} for p, _ in sights]
    buttons += [
        {"title": p.name_vi, "payload": payload("place_contact", place=p.name_vi)} for _, (p, _) in services
    ]
    return Reply("\n".join(lines), buttons)
