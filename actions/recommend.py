"""Suggestions: famous sights, beaches, museums, pagodas, evenings, children, rainy days."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.context import Turn, kb_session
from actions.replies import category_name, choice_buttons, pick, place_name, tr
from knowledge.queries import find_places
from knowledge.vocabulary import find_categories, find_district, find_tags

# Themes a visitor names, in the order they take precedence when several are named.
_THEMES_VI = {
    "evening": "buổi tối",
    "children": "đi cùng trẻ em",
    "rain": "ngày mưa",
    "free": "miễn phí",
    "nature": "thiên nhiên",
    "photo": "chụp ảnh đẹp",
    "history": "lịch sử, văn hóa",
    "shopping": "mua sắm",
    "spiritual": "tâm linh",
    "adventure": "mạo hiểm",
    "relax": "thư giãn",
    "day_trip": "đi trong ngày",
}
_THEMES_EN = {
    "evening": "the evening",
    "children": "children",
    "rain": "a rainy day",
    "free": "free",
    "nature": "nature",
    "photo": "photos",
    "history": "history and culture",
    "shopping": "shopping",
    "spiritual": "spiritual visits",
    "adventure": "adventure",
    "relax": "relaxing",
    "day_trip": "day trips",
}
_ATTRACTION_CATEGORIES = {
    "beach",
    "museum",
    "pagoda",
    "church",
    "market",
    "bridge",
    "mountain",
    "peninsula",
    "pass",
    "theme_park",
    "landmark",
    "craft_village",
    "hot_spring",
    "nature",
    "island",
    "day_trip",
    "nightlife",
    "park",
}


class ActionRecommend(Action):
    def name(self) -> str:
        return "action_recommend"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        turn = Turn.from_tracker(tracker)
        en = turn.en
        text = " ".join([turn.text, *turn.entities.get("category", [])])
        categories = [c for c in find_categories(text) if c in _ATTRACTION_CATEGORIES][:1]
        themes = [t for t in find_tags(text) if t in _THEMES_VI][:1]
        district = find_district(text)
        with kb_session() as session:
            places = find_places(
                session, kind="attraction", categories=categories, tags=themes, district=district, limit=5
            )
            if not places and district:
                places = find_places(session, kind="attraction", categories=categories, tags=themes, limit=5)
                district = None
            if categories:
                topic = category_name(categories[0], en)
                head = tr(en, f"Một số {topic} nên ghé", f"Some {topic} worth visiting")
            elif themes:
                head = tr(en, f"Gợi ý cho {_THEMES_VI[themes[0]]}", f"Ideas for {_THEMES_EN[themes[0]]}")
            else:
                places = places if places else find_places(session, kind="attraction", limit=5)
                head = tr(en, "Những điểm nổi tiếng nên đến", "Famous sights worth seeing")
            if district:
                head += tr(en, f" ở {district}", f" in {district}")
            if not places:
                dispatcher.utter_message(
                    text=tr(
                        en,
                        "Dữ liệu du lịch chưa có gợi ý phù hợp. Đây là những điểm nổi tiếng:",
                        "The tourism database has no match for that yet. Here are famous sights:",
                    ),
                    buttons=choice_buttons(find_places(session, tags=["famous"], limit=4), "place_info", en),
                )
                return []
            items = [f"• {place_name(p, en)}: {pick(en, p, 'summary') or ''}".rstrip(": ") for p in places]
            dispatcher.utter_message(
                text=head + ":\n" + "\n".join(items),
                buttons=choice_buttons(places[:4], "place_info", en),
            )
        return []
