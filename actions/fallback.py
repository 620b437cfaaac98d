"""When the assistant did not understand: say so politely, offer what it can do, and keep
the question for staff to review."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.context import Turn, kb_session, payload
from actions.places import answer_exact_name
from actions.replies import tr
from knowledge import unanswered


class ActionFallback(Action):
    def name(self) -> str:
        return "action_fallback"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        turn = Turn.from_tracker(tracker)
        en = turn.en
        ranking = (tracker.latest_message or {}).get("intent_ranking") or []
        top = next((r for r in ranking if r.get("name") != "nlu_fallback"), {})
        with kb_session() as session:
            # The classifier was unsure, but a name or topic typed word for word is clear
            # enough: answer about it rather than give up.
            answered = answer_exact_name(dispatcher, turn, session)
            if answered is not None:
                return answered
            unanswered.record(
                session,
                turn.text,
                "fallback",
                intent=top.get("name"),
                confidence=top.get("confidence"),
                language=turn.language,
            )
        dispatcher.utter_message(
            text=tr(
                en,
                "Xin lỗi, mình chưa hiểu câu hỏi. Mình có thể giúp về điểm tham quan, sự kiện, "
                "dịch vụ và thông tin hữu ích ở Đà Nẵng.",
                "Sorry, I didn't understand that. I can help with sights, events, services and "
                "practical information in Da Nang.",
            ),
            buttons=menu_buttons(en),
        )
        return []


def menu_buttons(en: bool) -> list[dict[str, str]]:
    """What the assistant can do, offered when a question is not something it can answer."""
    return [
        {"title": tr(en, "Điểm nên đến", "Top sights"), "payload": "/recommend"},
        {
            "title": tr(en, "Sự kiện tuần này", "Events this week"),
            "payload": payload("event_list", time=tr(en, "tuần này", "this week")),
        },
        {"title": tr(en, "Thông tin hữu ích", "Practical tips"), "payload": "/practical_info"},
    ]


class ActionOutOfScope(Action):
    """"Not something I can help with", unless the question names, word for word, a place,
    event or topic in the base: a new name staff just added is not in the training data,
    so the classifier may well take the question for small talk."""

    def name(self) -> str:
        return "action_out_of_scope"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        turn = Turn.from_tracker(tracker)
        with kb_session() as session:
            answered = answer_exact_name(dispatcher, turn, session)
        if answered is not None:
            return answered
        dispatcher.utter_message(
            text=tr(
                turn.en,
                "Xin lỗi, mình chỉ hỗ trợ thông tin du lịch và dịch vụ ở Đà Nẵng. Bạn có thể hỏi về "
                "điểm tham quan, sự kiện, bệnh viện hay số điện thoại khẩn cấp.",
                "Sorry, I can only help with Da Nang travel and city information. You could ask, for "
                "example, about sights, events, hospitals or emergency numbers.",
            ),
            buttons=menu_buttons(turn.en),
        )
        return []
