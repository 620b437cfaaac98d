"""bot.server's cached action-response check accepts and rejects exactly what Rasa's does."""

from __future__ import annotations

import pytest
from jsonschema import ValidationError, validate
from rasa.core.actions.action import RemoteAction

from bot.server import _validate_action_result

GOOD = [
    {
        "events": [{"event": "slot", "name": "subject", "value": "place:1", "timestamp": None}],
        "responses": [{"text": "Cầu Rồng", "buttons": [{"title": "x", "payload": "/y"}]}],
    },
    {"events": [], "responses": []},
    {},
]
BAD = [
    {"events": [{"event": "no_such_event"}]},
    {"events": "not a list"},
    {"responses": [1, 2]},
]


@pytest.mark.parametrize("result", GOOD)
def test_valid_responses_pass(result):
    validate(result, RemoteAction.action_response_format_spec())  # Rasa's own check agrees
    assert _validate_action_result(None, result) is True


@pytest.mark.parametrize("result", BAD)
def test_invalid_responses_are_rejected_like_rasa_does(result):
    with pytest.raises(ValidationError):
        validate(result, RemoteAction.action_response_format_spec())
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        _validate_action_result(None, result)


def test_event_classes_are_looked_up_once_and_unknown_names_still_fail(monkeypatch):
    import rasa.shared.utils.common
    from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered

    from bot.server import _cache_event_classes

    walks = []
    every_subclass = rasa.shared.utils.common.all_subclasses
    monkeypatch.setattr(rasa.shared.utils.common, "all_subclasses", lambda cls: walks.append(cls) or
                        every_subclass(cls))
    original = Event.__dict__["resolve_by_type"]
    try:
        _cache_event_classes()
        assert Event.resolve_by_type("user") is UserUttered
        assert [Event.resolve_by_type("user") for _ in range(100)] == [UserUttered] * 100
        assert walks.count(Event) == 1  # the subclasses were walked for the first lookup only
        assert Event.resolve_by_type("slot") is SlotSet
        assert Event.resolve_by_type("nonsense", ActionExecuted) is ActionExecuted
        with pytest.raises(ValueError):
            Event.resolve_by_type("nonsense")
        # An event stored by Rasa reads back as the same event through the cache.
        assert Event.from_parameters({"event": "slot", "name": "language", "value": "vi"}) == SlotSet(
            "language", "vi")
    finally:
        Event.resolve_by_type = original
