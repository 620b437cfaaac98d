"""Suggestions: famous sights, beaches, museums, pagodas, evenings, children, rainy days."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.context import Turn, kb_session
from actions.places import answer_exact_name
from actions.replies import category_name, choice_buttons, summary_line, tr
from knowledge.queries import find_places
from knowledge.vocabulary import find_categories, find_district, find_tags

# The heading of a list of suggestions for each theme a visitor can name.
_THEME_HEADINGS: dict[str, tuple[str, str]] = {
    "famous": ("Những điểm nổi tiếng nên đến", "Famous sights worth seeing"),
    "evening": ("Gợi ý đi chơi buổi tối", "Ideas for the evening"),
    "children": ("Gợi ý khi đi cùng trẻ em", "Ideas with children"),
    "rain": ("Gợi ý cho ngày mưa", "Ideas for a rainy day"),
    "free": ("Điểm tham quan miễn phí", "Free sights"),
    "nature": ("Gợi ý cho người yêu thiên nhiên", "Ideas for nature lovers"),
    "photo": ("Điểm chụp ảnh đẹp", "Great photo spots"),
    "history": ("Gợi ý về lịch sử, văn hóa", "History and culture"),
    "shopping": ("Gợi ý mua sắm", "Shopping ideas"),
    "spiritual": ("Điểm tham quan tâm linh", "Spiritual sights"),
    "adventure": ("Gợi ý cho người thích mạo hiểm", "Ideas for adventure"),
    "relax": ("Gợi ý để thư giãn", "Ideas to relax"),
    "day_trip": ("Gợi ý đi trong ngày", "Day trips"),
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
        themes = [t for t in find_tags(text) if t in _THEME_HEADINGS][:1]
        if not categories and not themes:
            themes = ["famous"]  # "what should I see?": the sights everyone is told about
        district = find_district(text)
        with kb_session() as session:
            # "<a name staff just added> ở đâu?" may come here for want of training examples.
            answered = answer_exact_name(dispatcher, turn, session, specific_only=True)
            if answered is not None:
                return answered
            places = find_places(
                session, kind="attraction", categories=categories, tags=themes, district=district, limit=5
            )
            if not places and district:
                places = find_places(session, kind="attraction", categories=categories, tags=themes, limit=5)
                district = None
            if categories:
                topic = category_name(categories[0], en)
                head = tr(en, f"Một số {topic} nên ghé", f"Some {topic} worth visiting")
            else:
                head = tr(en, *_THEME_HEADINGS[themes[0]])
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
            items = [summary_line(p, en) for p in places]
            dispatcher.utter_message(
                text=head + ":\n" + "\n".join(items),
                buttons=choice_buttons(places[:4], "place_info", en),
            )
        return []
