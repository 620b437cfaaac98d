"""Finding services: hospitals, pharmacies, police, ATMs, hotels, restaurants..., by
district or near a landmark."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.context import Turn, kb_session, payload, subject_ref
from actions.places import answer_subject
from actions.replies import category_name, choice_buttons, map_link, pick, place_name, tr
from actions.subjects import Subject
from knowledge.models import Place
from knowledge.queries import find_places, get_place, places_near
from knowledge.vocabulary import asks_near, find_categories, find_dishes, find_district

SERVICE_CATEGORIES = (
    "hospital",
    "pharmacy",
    "police",
    "tourist_info",
    "airport",
    "train_station",
    "bus_station",
    "taxi",
    "bank",
    "currency_exchange",
    "hotel",
    "restaurant",
)
_LIMIT = 3


def _line(place: Place, en: bool, distance: float | None = None) -> str:
    parts = [f"• {place_name(place, en)}"]
    if distance is not None:
        parts.append(f"(~{distance:.1f} km)")
    address = pick(en, place, "address")
    text = " ".join(parts) + (f" – {address}" if address else "")
    if place.phone:
        text += f" – ☎ {place.phone}"
    link = map_link(place)
    return text + (f"\n  🗺 {link}" if link else "")


class ActionServiceFind(Action):
    def name(self) -> str:
        return "action_service_find"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        turn = Turn.from_tracker(tracker)
        en = turn.en
        text = " ".join([turn.text, *turn.entities.get("category", [])])
        categories = [c for c in find_categories(text) if c in SERVICE_CATEGORIES]
        dishes = find_dishes(text)
        if dishes and "restaurant" not in categories:
            categories.insert(0, "restaurant")
        district = find_district(text)
        with kb_session() as session:
            landmarks = turn.find_names(session, ("place",))
            landmark = (
                get_place(session, landmarks[0].target.id) if landmarks and landmarks[0].target else None
            )
            if landmark is not None and categories and en and not asks_near(turn.text):
                # English names collide with everyday words ("my son" is also Mỹ Sơn):
                # an English speaker says "near" when a place is a landmark.
                landmark = None
            if landmark is not None and (not categories or landmark.category in categories):
                # A named service ("ga Đà Nẵng ở đâu"): answer about it directly.
                return answer_subject(dispatcher, turn, session, Subject(row=landmark), "location")
            if not categories:
                dispatcher.utter_message(
                    text=tr(
                        en,
                        "Bạn cần tìm dịch vụ gì? Ví dụ: bệnh viện, nhà thuốc, ATM, khách sạn, quán ăn.",
                        "What are you looking for? For example: hospital, pharmacy, ATM, hotel, restaurant.",
                    ),
                    buttons=[
                        {"title": category_name(c, en), "payload": payload("service_find", category=c)}
                        for c in ("hospital", "pharmacy", "bank", "restaurant")
                    ],
                )
                return []
            category = categories[0]
            tags = dishes[:1] if category == "restaurant" else []
            what = category_name(category, en)
            if landmark is not None and landmark.lat is not None and landmark.lon is not None:
                near = places_near(
                    session,
                    landmark.lat,
                    landmark.lon,
                    categories=[category],
                    tags=tags,
                    exclude_id=landmark.id,
                    limit=_LIMIT,
                )
                if not near and tags:
                    near = places_near(
                        session,
                        landmark.lat,
                        landmark.lon,
                        categories=[category],
                        exclude_id=landmark.id,
                        limit=_LIMIT,
                    )
                where = place_name(landmark, en)
                head = tr(en, f"Gần {where} có các {what} sau:", f"Near {where}, these {what}:")
                rows = near
                ref = [SlotSet("subject", subject_ref("place", landmark.id))]
            else:
                found = find_places(
                    session, categories=[category], tags=tags, district=district, limit=_LIMIT
                )
                if not found and (tags or district):
                    found = find_places(session, categories=[category], limit=_LIMIT)
                    district = None
                head = (
                    tr(en, f"Một số {what}", f"Some {what}")
                    + (tr(en, f" ở {district}", f" in {district}") if district else "")
                    + ":"
                )
                rows = [(p, None) for p in found]
                ref = []
            if not rows:
                turn.record_unanswered(session, "no_such_place")
                dispatcher.utter_message(
                    text=tr(
                        en,
                        f"Dữ liệu du lịch chưa có {what} phù hợp.",
                        f"The tourism database has no matching {what} yet.",
                    )
                )
                return []
            dispatcher.utter_message(
                text=head + "\n" + "\n".join(_line(p, en, d) for p, d in rows),
                buttons=choice_buttons([p for p, _ in rows], "place_contact", en),
            )
            return ref
