"""Practical information: emergency numbers, hotline, seasons, dishes, visas, SIM cards..."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.context import Turn, kb_session, names, payload
from actions.replies import faq_text, pick, tr
from knowledge.models import Faq
from knowledge.queries import get_faq

_MENU_TOPICS = ("emergency", "weather", "visa", "sim", "money", "food")


class ActionPracticalInfo(Action):
    def name(self) -> str:
        return "action_practical_info"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        turn = Turn.from_tracker(tracker)
        en = turn.en
        with kb_session() as session:
            query = " ".join([turn.text, *turn.entities.get("category", [])])
            index = names(session)
            targets = [m.targets[0] for m in index.find(query, ("faq",))]
            targets += [t for t in index.find_partial(query, ("faq",)) if t not in targets]
            if targets:
                faq = get_faq(session, targets[0].id)
                if faq is not None:
                    others = [get_faq(session, t.id) for t in targets[1:3]]
                    buttons = [
                        {
                            "title": pick(en, o, "title"),
                            "payload": payload("practical_info", category=o.title_vi),
                        }
                        for o in others
                        if o is not None and o.id != faq.id
                    ]
                    dispatcher.utter_message(text=faq_text(faq, en), buttons=buttons)
                    return []
            asked = turn.typed and bool(turn.text.strip())
            if asked:
                turn.record_unanswered(session, "no_such_topic")
            menu = list(
                session.execute(
                    select(Faq).where(~Faq.retired, Faq.topic.in_(_MENU_TOPICS)).order_by(Faq.id)
                ).scalars()
            )
            seen: set[str] = set()
            buttons = []
            for faq in menu:
                if faq.topic not in seen:
                    seen.add(faq.topic)
                    buttons.append(
                        {
                            "title": pick(en, faq, "title"),
                            "payload": payload("practical_info", category=faq.title_vi),
                        }
                    )
            dispatcher.utter_message(
                text=tr(
                    en,
                    "Mình chưa có thông tin về điều này. Mình chỉ hỗ trợ thông tin du lịch và dịch vụ ở "
                    "Đà Nẵng, ví dụ:"
                    if asked
                    else "Bạn cần thông tin gì? Mình có thể giúp về:",
                    "I have no information on that: I can only help with Da Nang travel and city "
                    "information, for example:"
                    if asked
                    else "What would you like to know? I can help with:",
                ),
                buttons=buttons,
            )
        return []
