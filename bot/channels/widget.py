"""Rasa's socket.io channel (the website chat widget) with two defects of the stock one fixed.

1. With ``session_persistence`` the stock channel puts the visitor's socket into the room of
   its session id by calling ``sio.enter_room`` without ``await``. Since python-socketio
   5.10 that method is a coroutine, so the socket never joins the room and every reply,
   which Rasa sends to that room, is lost (RasaHQ/rasa#13027). Here it is awaited.
2. The stock handler trusts the event's data: a non-object, a non-string message or a
   missing session id ends in an exception inside Rasa. Here such events are dropped with
   a log line, and nothing reaches the conversation.

Same events and URL (``/socket.io``) as the stock channel, so the widget does not change.
A message also (re)joins its session's room, so a socket that reconnected and sent its
message before the new ``session_request`` was handled still gets the reply.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint

logger = logging.getLogger(__name__)

MAX_MESSAGE_LENGTH = 5000  # as the REST channel: no visitor question is that long
# Session ids are the widget's own (a uuid hex from this channel); anything else is refused
# so an odd id cannot become a tracker key.
# Only ids of the shape this channel hands out (uuid4 hex): a visitor must not be able to
# pick a Telegram chat id or a Zalo user id and write into that person's conversation.
SESSION_ID = re.compile(r"[0-9a-f]{32}")


def _session_id(data: Any) -> str | None:
    value = data.get("session_id") if isinstance(data, dict) else None
    return value if isinstance(value, str) and SESSION_ID.fullmatch(value) else None


class WidgetInput(SocketIOInput):
    @classmethod
    def name(cls) -> str:
        return "socketio"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)
        sio = self.sio
        assert sio is not None  # set by the stock blueprint()

        async def session_request(sid: str, data: Any = None) -> None:
            session_id = _session_id(data) or uuid.uuid4().hex
            if self.session_persistence:
                await sio.enter_room(sid, session_id, namespace=self.namespace)
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)

        async def user_message(sid: str, data: Any = None) -> None:
            message = data.get("message") if isinstance(data, dict) else None
            if not isinstance(message, str):
                logger.info("socket.io message without a text ignored")
                return
            if self.session_persistence:
                sender = _session_id(data)
                if sender is None:
                    logger.info("socket.io message without a valid session id ignored")
                    return
                await sio.enter_room(sid, sender, namespace=self.namespace)
            else:
                sender = sid
            # Nothing reads client metadata, and Rasa would store up to a megabyte of it per
            # message in the tracker: keep none.
            metadata = None
            await on_new_message(
                UserMessage(
                    message[:MAX_MESSAGE_LENGTH],
                    SocketIOOutput(sio, self.bot_message_evt),
                    sender,
                    input_channel=self.name(),
                    metadata=metadata,
                )
            )

        # Registering an event again replaces the stock handler (python-socketio keeps one
        # handler per event and namespace).
        sio.on("session_request", session_request, namespace=self.namespace)
        sio.on(self.user_message_evt, user_message, namespace=self.namespace)
        return blueprint
