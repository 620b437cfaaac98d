"""Work out which place or event a question is about: a name in the question, a kind of
place that needs choosing ("bảo tàng" -> which museum?), or the conversation's subject."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from actions.context import Turn, parse_subject
from knowledge.models import Event, Place
from knowledge.queries import find_places, get_event, get_place
from knowledge.vocabulary import find_categories, is_kind_of_place


@dataclass
class Subject:
    row: Place | Event | None = None
    choices: list[Place] = field(default_factory=list)
    category: str | None = None  # the kind of place the choices share, if any
    unknown_name: str | None = None  # the classifier saw a name the base does not have


def load_row(session: Session, kind: str, row_id: int) -> Place | Event | None:
    return get_place(session, row_id) if kind == "place" else get_event(session, row_id)


def resolve(turn: Turn, session: Session, kinds: tuple[str, ...] = ("place", "event")) -> Subject:
    matches = turn.find_names(session, kinds)
    if matches:
        targets = matches[0].targets
        places = [t for t in targets if t.kind == "place"]
        # One place and one event of the same name ("cầu quay"): a question about a
        # place is about the place; with no place among them, the first event.
        if len(targets) == 1 or not places:
            return Subject(row=load_row(session, targets[0].kind, targets[0].id))
        if len(places) == 1:
            return Subject(row=get_place(session, places[0].id))
        rows = [get_place(session, t.id) for t in places]
        return Subject(choices=[p for p in rows if p is not None][:6])

    # A name the classifier marked but the base does not have: say so, rather than
    # answering about the previous subject or a kind of place.
    unknown = [v for v in turn.named() if not is_kind_of_place(v)]
    if unknown:
        return Subject(unknown_name=unknown[0])

    current = parse_subject(turn.subject)
    current_row = load_row(session, *current) if current and current[0] in kinds else None
    categories = find_categories(turn.text) if "place" in kinds else []
    if categories:
        if isinstance(current_row, Place) and current_row.category in categories:
            return Subject(row=current_row)
        choices = find_places(session, categories=categories[:1], limit=6)
        if len(choices) == 1:
            return Subject(row=choices[0])
        if choices:
            return Subject(choices=choices, category=categories[0])
    return Subject(row=current_row)
