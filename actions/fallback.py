"""When the assistant did not understand: say so politely, offer what it can do, and keep
the question for staff to review."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.context import Turn, kb_session
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
            buttons=[
                {"title": tr(en, "Điểm nên đến", "Top sights"), "payload": "/recommend"},
                {
                    "title": tr(en, "Sự kiện tuần này", "Events this week"),
                    "payload": '/event_list{"time": "tuần này"}'
                    if not en
                    else '/event_list{"time": "this week"}',
                },
                {"title": tr(en, "Thông tin hữu ích", "Practical tips"), "payload": "/practical_info"},
            ],
        )
        return []
