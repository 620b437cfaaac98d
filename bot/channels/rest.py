"""Rasa's REST channel with its input checked first.

The stock channel assumes a JSON object with string fields: a body such as ``[]`` or
``{"sender": 5}`` ends in a 500 deep inside Rasa. Here a malformed request gets a 400
that says what is wrong, and nothing reaches the conversation. Same URL as the stock
channel (``/webhooks/rest/webhook``), so clients do not change.
"""

from __future__ import annotations

from typing import Any

from rasa.core.channels.rest import RestInput
from sanic.exceptions import InvalidUsage
from sanic.request import Request

MAX_SENDER_LENGTH = 256
MAX_MESSAGE_LENGTH = 5000  # longer texts are cut: no visitor question is that long


def _body(request: Request) -> dict[str, Any]:
    body = request.json  # Sanic answers 400 itself when the body is not JSON
    if not isinstance(body, dict):
        raise InvalidUsage('The body must be a JSON object: {"sender": "...", "message": "..."}')
    return body


class CheckedRestInput(RestInput):
    @classmethod
    def name(cls) -> str:
        return "rest"

    async def _extract_sender(self, req: Request) -> str:
        sender = _body(req).get("sender")
        if not isinstance(sender, str) or not sender.strip() or len(sender) > MAX_SENDER_LENGTH:
            raise InvalidUsage(
                f'"sender" must be a non-empty string of at most {MAX_SENDER_LENGTH} characters'
            )
        return sender

    def _extract_message(self, req: Request) -> str:
        message = _body(req).get("message")
        if not isinstance(message, str):
            raise InvalidUsage('"message" must be a string')
        return message[:MAX_MESSAGE_LENGTH]

    def _extract_input_channel(self, req: Request) -> str:
        channel = _body(req).get("input_channel")
        return channel if isinstance(channel, str) and channel else self.name()

    def get_metadata(self, request: Request) -> dict[str, Any] | None:
        metadata = _body(request).get("metadata")
        if metadata is not None and not isinstance(metadata, dict):
            raise InvalidUsage('"metadata" must be a JSON object')
        return metadata
