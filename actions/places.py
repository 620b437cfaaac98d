"""Answers about one place or event: what it is, where, when open, how much, whom to call."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.context import Turn, kb_session, names, subject_ref, today
from actions.replies import (
    category_name,
    choice_buttons,
    event_name,
    faq_text,
    lines,
    map_link,
    occurrence_label,
    pick,
    place_buttons,
    place_name,
    summary_line,
    tr,
    unverified_note,
)
from actions.subjects import Subject, load_row, resolve
from knowledge.models import Event, Faq, Place
from knowledge.queries import find_places, get_faq, get_place, next_occurrences
from knowledge.vocabulary import asked_aspect, asks_near

_ASPECT_QUESTION = {
    "info": ("Bạn muốn biết về địa điểm nào?", "Which place would you like to know about?"),
    "location": ("Bạn muốn đến địa điểm nào?", "Which place do you want to get to?"),
    "hours": ("Bạn hỏi giờ mở cửa của địa điểm nào?", "Opening hours of which place?"),
    "price": ("Bạn hỏi giá vé của địa điểm nào?", "Ticket prices of which place?"),
    "contact": ("Bạn cần liên hệ địa điểm nào?", "Contact details of which place?"),
}
_MISSING = {
    "info": ("mô tả", "a description"),
    "location": ("địa chỉ", "an address"),
    "hours": ("giờ mở cửa", "opening hours"),
    "price": ("giá vé", "ticket prices"),
    "contact": ("số điện thoại hay website", "a phone number or website"),
}

_EVENT_MISSING = {
    "location": ("địa điểm tổ chức", "a venue"),
    "hours": ("thời gian diễn ra", "dates or times"),
    "price": ("giá vé", "ticket prices"),
    "contact": ("thông tin liên hệ", "contact details"),
}


def _place_reply(place: Place, aspect: str, en: bool) -> tuple[str, bool]:
    """The reply text, and whether the base had the fact asked for."""
    name = place_name(place, en)
    address = pick(en, place, "address")
    link = map_link(place)
    where = lines(
        address and tr(en, f"📍 Địa chỉ: {address}", f"📍 Address: {address}"),
        link and tr(en, f"🗺 Bản đồ: {link}", f"🗺 Map: {link}"),
    )
    summary, description = pick(en, place, "summary"), pick(en, place, "description")
    if aspect == "info" and (summary or description or where):
        return lines(
            f"{name}: {summary}" if summary else name,
            description,
            where,
            unverified_note(place, en),
        ), True
    how = pick(en, place, "how_to_get")
    if aspect == "location" and (where or how):
        return lines(
            name,
            where,
            how and tr(en, f"🚗 Cách đi: {how}", f"🚗 Getting there: {how}"),
            unverified_note(place, en),
        ), True
    if aspect == "hours":
        hours = pick(en, place, "hours")
        if hours:
            return lines(
                tr(en, f"🕘 {name} – giờ mở cửa: {hours}", f"🕘 {name} – opening hours: {hours}"),
                unverified_note(place, en),
            ), True
    elif aspect == "price":
        price = pick(en, place, "price")
        if price:
            return lines(
                tr(en, f"🎟 {name} – giá vé: {price}", f"🎟 {name} – tickets: {price}"),
                unverified_note(place, en),
            ), True
        if place.free:
            return tr(en, f"🎟 {name}: vào cửa miễn phí.", f"🎟 {name}: free entry."), True
    elif aspect == "contact":
        contact = lines(
            place.phone and tr(en, f"📞 Điện thoại: {place.phone}", f"📞 Phone: {place.phone}"),
            place.website and f"🌐 Website: {place.website}",
        )
        if contact:
            return lines(name, contact, where, unverified_note(place, en)), True
    vi_missing, en_missing = _MISSING[aspect]
    return lines(
        tr(
            en,
            f"Dữ liệu du lịch chưa có {vi_missing} của {name}.",
            f"The tourism database has no {en_missing} for {name} yet.",
        ),
        where,
    ), False


def _event_reply(event: Event, aspect: str, en: bool, session: Session) -> tuple[str, bool]:
    name = event_name(event, en)
    upcoming = next_occurrences(event, today(), count=2)
    when = (
        tr(en, "🗓 Lần tới: ", "🗓 Next: ") + "; ".join(occurrence_label(o, en) for o in upcoming)
        if upcoming
        else None
    )
    typical = pick(en, event, "typical")
    venue_text = pick(en, event, "venue")
    venue = get_place(session, event.venue_place_id) if event.venue_place_id else None
    link = map_link(venue) if venue else None
    where = lines(venue_text and f"📍 {venue_text}", link and tr(en, f"🗺 Bản đồ: {link}", f"🗺 Map: {link}"))
    note = unverified_note(event, en)
    summary = pick(en, event, "summary")
    if aspect == "info":
        return lines(
            f"{name}: {summary}" if summary else name,
            pick(en, event, "description"),
            typical,
            when,
            where,
            note,
        ), True
    if aspect == "location" and where:
        return lines(name, where, note), True
    if aspect == "hours" and (typical or when):
        return lines(name, typical, when, note), True
    if aspect == "price":
        price = pick(en, event, "price")
        if price:
            return lines(tr(en, f"🎟 {name}: {price}", f"🎟 {name}: {price}"), note), True
    vi_missing, en_missing = _EVENT_MISSING[aspect]
    return tr(
        en,
        f"Dữ liệu du lịch chưa có {vi_missing} của {name}.",
        f"The tourism database has no {en_missing} for {name} yet.",
    ), False


def exact_faq(turn: Turn, session: Session) -> Faq | None:
    """The practical entry whose title or keyword the visitor wrote word for word."""
    for match in names(session).find(turn.text, ("faq",)):
        if match.exact and match.target:
            return get_faq(session, match.target.id)
    return None


def answer_exact_name(
    dispatcher: CollectingDispatcher, turn: Turn, session: Session, *, specific_only: bool = False
) -> list[dict[str, Any]] | None:
    """When the classifier's intent does not fit, a name or topic typed word for word (a
    new alias staff added a minute ago, say) is clear enough: answer about it. With
    ``specific_only``, only a question that asks where, when, how much or how to contact
    it counts (a "what is there to see at X" question stays a recommendation). Returns the
    events to hand back to Rasa, or None when nothing was answered."""
    aspect = asked_aspect(turn.text)
    if specific_only and (aspect == "info" or asks_near(turn.text)):
        return None
    for match in names(session).find(turn.text, ("place", "event", "faq")):
        target = match.target
        if not (match.exact and target):
            continue
        if target.kind == "faq":
            faq = get_faq(session, target.id)
            if faq is None:
                continue
            dispatcher.utter_message(text=faq_text(faq, turn.en))
            return []
        row = load_row(session, target.kind, target.id)
        if row is not None:
            return answer_subject(dispatcher, turn, session, Subject(row=row), aspect)
    return None


def answer_subject(
    dispatcher: CollectingDispatcher, turn: Turn, session: Session, subject: Subject, aspect: str
) -> list[dict[str, Any]]:
    """Say what the base knows about the subject, or ask which one, or say plainly that
    the base does not have it. Shared by the place and service actions."""
    en = turn.en
    if subject.choices:
        buttons = choice_buttons(subject.choices, f"place_{aspect}", en)
        if aspect == "info" and subject.category:
            # "any good beaches?": a list of them answers better than "which one?".
            kind = category_name(subject.category, en)
            items = [summary_line(p, en) for p in subject.choices]
            text = tr(en, f"Một số {kind} ở Đà Nẵng:", f"Some {kind} in Da Nang:") + "\n" + "\n".join(items)
        elif subject.category:
            kind = category_name(subject.category, en)
            text = tr(en, f"Bạn muốn hỏi {kind} nào?", f"Which of the {kind} do you mean?")
        else:
            text = tr(en, "Bạn muốn hỏi địa điểm nào?", "Which one do you mean?")
        dispatcher.utter_message(text=text, buttons=buttons)
        return []
    if subject.row is None and not subject.unknown_name:
        # No place at all, but maybe a practical topic ("what is the emergency number"
        # read as a contact question): the base knows better than the classifier.
        faq = exact_faq(turn, session)
        if faq is not None:
            dispatcher.utter_message(text=faq_text(faq, en))
            return []
    if subject.row is None:
        suggestions = find_places(session, tags=["famous"], limit=4)
        if subject.unknown_name:
            turn.record_unanswered(session, "no_such_place")
            text = tr(
                en,
                f"Mình chưa có thông tin về “{subject.unknown_name}” trong dữ liệu du lịch Đà Nẵng. "
                "Bạn có thể hỏi về các địa điểm sau:",
                f"I have no information about “{subject.unknown_name}” in the Da Nang tourism "
                "database. You could ask about these places:",
            )
        else:
            vi_q, en_q = _ASPECT_QUESTION[aspect]
            text = tr(en, vi_q, en_q)
        dispatcher.utter_message(text=text, buttons=choice_buttons(suggestions, f"place_{aspect}", en))
        return []
    if isinstance(subject.row, Place):
        text, found = _place_reply(subject.row, aspect, en)
        buttons = place_buttons(subject.row, en, skip=f"place_{aspect}")
        ref = subject_ref("place", subject.row.id)
    else:
        text, found = _event_reply(subject.row, aspect, en, session)
        buttons = []
        ref = subject_ref("event", subject.row.id)
    if not found:
        turn.record_unanswered(session, "no_such_fact")
    dispatcher.utter_message(text=text, buttons=buttons)
    return [SlotSet("subject", ref)]


class _PlaceAspect:
    """Shared run(): the subclasses differ only in which aspect they answer."""

    aspect: str

    def name(self) -> str:
        return f"action_place_{self.aspect}"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        turn = Turn.from_tracker(tracker)
        with kb_session() as session:
            return answer_subject(dispatcher, turn, session, resolve(turn, session), self.aspect)


class ActionPlaceInfo(_PlaceAspect, Action):
    aspect = "info"


class ActionPlaceLocation(_PlaceAspect, Action):
    aspect = "location"


class ActionPlaceHours(_PlaceAspect, Action):
    aspect = "hours"


class ActionPlacePrice(_PlaceAspect, Action):
    aspect = "price"


class ActionPlaceContact(_PlaceAspect, Action):
    aspect = "contact"
