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
