"""Record questions the assistant could not answer, for staff to review."""

from __future__ import annotations

from sqlalchemy.orm import Session

from knowledge.models import UnansweredQuestion

REASONS = ("fallback", "no_such_place", "no_such_fact", "no_such_event", "no_such_topic")


def record(
    session: Session,
    text: str,
    reason: str,
    *,
    intent: str | None = None,
    confidence: float | None = None,
    language: str | None = None,
) -> None:
    if reason not in REASONS:
        raise ValueError(f"unknown reason {reason!r}; expected one of {REASONS}")
    if not text.strip():
        return
    session.add(
        UnansweredQuestion(
            text=text[:2000], reason=reason, intent=intent, confidence=confidence, language=language
        )
    )
    session.commit()
