"""What is on (by date range) and when a named event takes place."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.context import Turn, kb_session, names, subject_ref, today
from actions.places import answer_subject
from actions.replies import event_buttons, event_name, lines, occurrence_label, pick, tr
from actions.subjects import Subject
from actions.time_expressions import DateRange, parse_time_expression
from knowledge.queries import Occurrence, clock_time, events_between, get_event, get_place, next_occurrences
from knowledge.vocabulary import asks_where

_DEFAULT_DAYS = 30  # "what's on?" with no date: the coming month
_MAX_LISTED = 6


def _requested_range(turn: Turn) -> DateRange | None:
    """The date range from the time entity (classifier span or button), else the text."""
    now = today()
    for value in turn.entities.get("time", []):
        found = parse_time_expression(value, now)
        if found:
            return found
    return parse_time_expression(turn.text, now)


# When each part of the day begins and ends, for "sáng mai", "chiều nay", "tonight".
_PARTS_OF_DAY = {
    "morning": (time(0, 0), time(12, 0)),
    "afternoon": (time(12, 0), time(18, 0)),
    "evening": (time(16, 0), time(23, 59, 59)),
}


def _fits_part_of_day(occ: Occurrence, part: str | None) -> bool:
    # An all-day festival fits any part of the day; a timed show only its own.
    starts = clock_time(occ.event.start_time)
    if part not in _PARTS_OF_DAY or starts is None:
        return True
    begin, end = _PARTS_OF_DAY[part]
    return begin <= starts < end


class ActionEventList(Action):
    def name(self) -> str:
        return "action_event_list"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        turn = Turn.from_tracker(tracker)
        en = turn.en
        span = _requested_range(turn)
        if span is None:
            start = today()
            span = DateRange(start, start + timedelta(days=_DEFAULT_DAYS), "30 ngày tới", "the next 30 days")
        label = span.label_en if en else span.label_vi
        with kb_session() as session:
            found = [
                o
                for o in events_between(session, span.start, span.end)
                if _fits_part_of_day(o, span.part_of_day)
            ]
            if not found:
                later = events_between(session, span.end + timedelta(days=1), span.end + timedelta(days=120))
                turn.record_unanswered(session, "no_such_event")
                text = tr(
                    en,
                    f"Dữ liệu du lịch chưa có sự kiện nào vào {label}.",
                    f"The tourism database has no events for {label}.",
                )
                if later:
                    text += (
                        "\n"
                        + tr(en, "Sắp tới có:", "Coming up later:")
                        + "\n"
                        + "\n".join(
                            f"• {occurrence_label(o, en)}: {event_name(o.event, en)}" for o in later[:3]
                        )
                    )
                dispatcher.utter_message(text=text, buttons=event_buttons([o.event for o in later[:3]], en))
                return []
            items = [
                f"• {occurrence_label(o, en)}: {event_name(o.event, en)}"
                + (f" ({pick(en, o.event, 'venue')})" if pick(en, o.event, "venue") else "")
                for o in found[:_MAX_LISTED]
            ]
            more = len(found) - _MAX_LISTED
            dispatcher.utter_message(
                text=lines(
                    tr(en, f"Sự kiện {label}:", f"Events {label}:"),
                    "\n".join(items),
                    more > 0 and tr(en, f"… và {more} sự kiện khác.", f"… and {more} more."),
                ),
                buttons=event_buttons([o.event for o in found[:3]], en),
            )
        return []


class ActionEventWhen(Action):
    def name(self) -> str:
        return "action_event_when"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        turn = Turn.from_tracker(tracker)
        en = turn.en
        with kb_session() as session:
            matches = turn.find_names(session, ("event",))
            event_ids = [matches[0].target.id] if matches and matches[0].target else []
            place_matches = [] if matches else turn.find_names(session, ("place",))
            if place_matches and place_matches[0].exact and place_matches[0].target:
                # A place, not an event, was named ("Cầu Rồng mấy giờ?", "where is the
                # Dragon Bridge?"): answer about the place.
                place = get_place(session, place_matches[0].target.id)
                aspect = "location" if asks_where(turn.text) else "hours"
                return answer_subject(dispatcher, turn, session, Subject(row=place), aspect)
            if not matches:
                # Event names are long ("Lễ hội Pháo hoa Quốc tế Đà Nẵng") and visitors
                # shorten them ("lễ hội pháo hoa"): accept a clear partial match.
                partial = names(session).find_partial(turn.text, ("event",), min_cover=0.6)
                event_ids = [t.id for t in partial[:1]]
            if not event_ids:
                upcoming = events_between(session, today(), today() + timedelta(days=90))
                unknown = turn.entity("event")
                if unknown:
                    turn.record_unanswered(session, "no_such_event")
                dispatcher.utter_message(
                    text=tr(
                        en,
                        f"Mình chưa có thông tin về sự kiện “{unknown}”. Các sự kiện sắp tới:"
                        if unknown
                        else "Bạn hỏi sự kiện nào? Các sự kiện sắp tới:",
                        f"I have no information about the event “{unknown}”. Coming up:"
                        if unknown
                        else "Which event do you mean? Coming up:",
                    ),
                    buttons=event_buttons([o.event for o in upcoming[:4]], en),
                )
                return []
            event = get_event(session, event_ids[0])
            if event is None:  # retired a moment ago
                dispatcher.utter_message(
                    text=tr(
                        en,
                        "Sự kiện này không còn trong dữ liệu du lịch.",
                        "This event is no longer in the tourism database.",
                    )
                )
                return []
            name = event_name(event, en)
            upcoming = next_occurrences(event, today(), count=3)
            typical = pick(en, event, "typical")
            if upcoming:
                when = "\n".join(f"• {occurrence_label(o, en)}" for o in upcoming)
                text = lines(tr(en, f"🗓 {name} – lần tới:", f"🗓 {name} – next:"), when, typical)
            elif typical:
                text = lines(
                    f"🗓 {name}: {typical}",
                    tr(
                        en,
                        "Ngày cụ thể của đợt tới chưa có trong dữ liệu.",
                        "The exact dates of the next edition are not in the database yet.",
                    ),
                )
                turn.record_unanswered(session, "no_such_fact")
            else:
                text = tr(
                    en,
                    f"Dữ liệu du lịch chưa có ngày diễn ra của {name}.",
                    f"The tourism database has no dates for {name} yet.",
                )
                turn.record_unanswered(session, "no_such_fact")
            venue = pick(en, event, "venue")
            if venue:
                text += f"\n📍 {venue}"
            dispatcher.utter_message(text=text)
            return [SlotSet("subject", subject_ref("event", event.id))]
