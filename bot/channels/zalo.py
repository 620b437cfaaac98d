"""The Zalo Official Account channel: Zalo posts OA events to
``/webhooks/zalo/webhook``; replies go out through the OA message API (``zalo_api``).

Each request is checked before anything else happens (``zalo_signature``): no
``X-ZEvent-Signature`` header → 401, a body that is not a JSON event → 400, a wrong MAC →
403, an event older than ``ZALO_MAX_EVENT_AGE_SECONDS`` (or from the future) → 403. A good
event is answered 200 at once and handled in the background, because Zalo wants its 200
within about two seconds and sends the event again otherwise; an event seen before (same
``msg_id``) is answered 200 and not handled twice.

Events, as Zalo sends them (``{"app_id", "event_name", "timestamp", "sender": {"id"},
"recipient": {"id"}, "message": {...}}``; a follow has ``"follower": {"id"}``):

* ``user_send_text``: the text goes to the assistant; its replies come back through
  ``ZaloOutput`` (buttons become a Zalo button template);
* ``follow``: a welcome with example questions as buttons;
* ``user_send_location`` (``message.attachments[0].payload.coordinates`` with ``latitude``
  and ``longitude``): the nearest places, from the knowledge base (``zalo_replies``);
* images, stickers, files and the like: a short note that only text is read;
* anything else (the OA's own messages, delivery and seen receipts, unfollows, events
  added later): acknowledged and ignored.

Configuration (all from the environment; ``credentials_from_env`` writes the credentials
section as ``${VAR}`` references): ZALO_APP_ID and ZALO_OA_SECRET_KEY (webhook MAC) turn the
channel on; ZALO_APP_SECRET, ZALO_ACCESS_TOKEN and ZALO_REFRESH_TOKEN are for sending;
ZALO_API_URL, ZALO_OAUTH_URL, ZALO_TOKEN_FILE (default var/zalo-tokens.json),
ZALO_FAILED_FILE (default var/zalo-failed.jsonl), ZALO_MAX_EVENT_AGE_SECONDS (300) and
ZALO_RETRY_DELAY_SECONDS (1) have defaults.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from pathlib import Path
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.shared.exceptions import RasaException
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.rest import MAX_MESSAGE_LENGTH
from bot.channels.zalo_api import ZaloClient, ZaloSettings
from bot.channels.zalo_replies import LOOKUP_FAILED, NO_LOCATION, ONLY_TEXT, Reply, nearby, welcome
from bot.channels.zalo_signature import HEADER, MAX_FUTURE_SKEW_MS, SeenEvents, is_fresh, verify
from knowledge.config import VAR_DIR

logger = logging.getLogger(__name__)

CHANNEL = "bot.channels.zalo.ZaloInput"
# credentials.yml key -> the environment variable it comes from
SETTINGS = {
    "app_id": "ZALO_APP_ID",
    "oa_secret_key": "ZALO_OA_SECRET_KEY",
    "app_secret": "ZALO_APP_SECRET",
    "access_token": "ZALO_ACCESS_TOKEN",
    "refresh_token": "ZALO_REFRESH_TOKEN",
    "api_url": "ZALO_API_URL",
    "oauth_url": "ZALO_OAUTH_URL",
    "token_file": "ZALO_TOKEN_FILE",
    "failed_file": "ZALO_FAILED_FILE",
    "max_event_age_seconds": "ZALO_MAX_EVENT_AGE_SECONDS",
    "retry_delay_seconds": "ZALO_RETRY_DELAY_SECONDS",
}
DEFAULT_API_URL = "https://openapi.zalo.me"
DEFAULT_OAUTH_URL = "https://oauth.zaloapp.com"
DEFAULT_MAX_EVENT_AGE_SECONDS = 300.0
SHUTDOWN_GRACE_SECONDS = 20.0  # events already acknowledged get this long to be answered
MEDIA_EVENTS = frozenset({
    "user_send_image", "user_send_gif", "user_send_sticker", "user_send_file",
    "user_send_audio", "user_send_video", "user_send_link", "user_send_business_card",
})
OnNewMessage = Callable[[UserMessage], Awaitable[Any]]
SORRY = "Xin lỗi, mình đang gặp trục trặc nên chưa trả lời được. Bạn thử hỏi lại sau ít phút nhé."


def credentials_from_env(env: Mapping[str, str]) -> dict[str, str] | None:
    """The credentials section for this channel, or None when Zalo is not configured.
    Only variables that are set are referred to: Rasa refuses a ``${VAR}`` it cannot fill."""
    if not (env.get("ZALO_APP_ID") and env.get("ZALO_OA_SECRET_KEY")):
        return None
    return {key: f"${{{name}}}" for key, name in SETTINGS.items() if env.get(name)}


def _number(credentials: Mapping[str, Any], key: str, default: float) -> float:
    value = credentials.get(key)
    try:
        number = float(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        number = -1.0
    if number < 0:
        raise RasaException(f"{SETTINGS[key]} must be a number of seconds, not {value!r}")
    return number


def _id(event: Mapping[str, Any], field: str) -> str | None:
    """``event[field]["id"]`` as a string, if it looks like a Zalo id."""
    holder = event.get(field)
    value = holder.get("id") if isinstance(holder, dict) else None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    value = str(value).strip()
    return value if 0 < len(value) <= 64 else None


def _message(event: Mapping[str, Any]) -> dict[str, Any]:
    message = event.get("message")
    return message if isinstance(message, dict) else {}


def event_key(event: Mapping[str, Any]) -> str:
    """What makes an event the same event when Zalo sends it again."""
    msg_id = _message(event).get("msg_id")
    if isinstance(msg_id, (str, int)) and not isinstance(msg_id, bool) and str(msg_id):
        return f"msg:{msg_id}"
    who = _id(event, "sender") or _id(event, "follower") or ""
    return f"{event.get('event_name')}:{event.get('timestamp')}:{who}"


def coordinates(event: Mapping[str, Any]) -> tuple[float, float] | None:
    """(latitude, longitude) of a shared location; Zalo may send them as strings."""
    attachments = _message(event).get("attachments")
    for attachment in attachments if isinstance(attachments, list) else []:
        payload = attachment.get("payload") if isinstance(attachment, dict) else None
        coords = payload.get("coordinates") if isinstance(payload, dict) else None
        if not isinstance(coords, dict):
            continue
        try:
            lat = float(coords.get("latitude", coords.get("lat")))
            lon = float(coords.get("longitude", coords.get("long")))
        except (TypeError, ValueError):
            continue
        if -90 <= lat <= 90 and -180 <= lon <= 180:
            return lat, lon
    return None


class ZaloOutput(OutputChannel):
    """The assistant's replies to one Zalo user, through the OA message API."""

    @classmethod
    def name(cls) -> str:
        return "zalo"

    def __init__(self, client: ZaloClient) -> None:
        self.client = client

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.client.send_text(recipient_id, text)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        await self.client.send_buttons(recipient_id, text, buttons)


class ZaloInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "zalo"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> ZaloInput:
        if not credentials or not credentials.get("app_id") or not credentials.get("oa_secret_key"):
            cls.raise_missing_credentials_exception()
        settings = ZaloSettings(
            app_id=str(credentials["app_id"]),
            app_secret=credentials.get("app_secret") or None,
            access_token=credentials.get("access_token") or None,
            refresh_token=credentials.get("refresh_token") or None,
            api_url=credentials.get("api_url") or DEFAULT_API_URL,
            oauth_url=credentials.get("oauth_url") or DEFAULT_OAUTH_URL,
            token_file=Path(credentials.get("token_file") or VAR_DIR / "zalo-tokens.json"),
            failed_file=Path(credentials.get("failed_file") or VAR_DIR / "zalo-failed.jsonl"),
            retry_delay_seconds=_number(credentials, "retry_delay_seconds", 1.0),
        )
        max_age = _number(credentials, "max_event_age_seconds", DEFAULT_MAX_EVENT_AGE_SECONDS)
        return cls(settings, str(credentials["oa_secret_key"]), max_age)

    def __init__(self, settings: ZaloSettings, oa_secret_key: str, max_event_age_seconds: float) -> None:
        self.app_id = settings.app_id
        self.oa_secret_key = oa_secret_key
        self.max_event_age_seconds = max_event_age_seconds
        self.client = ZaloClient(settings)
        if self.client.tokens is None:
            logger.warning("The Zalo channel can receive but not reply: set ZALO_ACCESS_TOKEN and "
                           "ZALO_REFRESH_TOKEN (Zalo for Developers > your app > access token)")
        # Refused as stale past the window, so an event needs remembering only that long.
        self._seen = SeenEvents(ttl_seconds=max_event_age_seconds + MAX_FUTURE_SKEW_MS / 1000 + 60)
        # The event loop keeps only weak references to tasks: hold them until they finish.
        self._tasks: set[asyncio.Task] = set()

    def get_output_channel(self) -> OutputChannel:
        return ZaloOutput(self.client)

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        zalo = Blueprint("zalo_webhook", __name__)

        @zalo.route("/", methods=["GET"])
        async def health(_request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @zalo.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            return self._receive(request, on_new_message)

        @zalo.listener("before_server_stop")
        async def finish(_app: Any, _loop: Any) -> None:
            # Zalo got its 200 for these events and will not send them again: let them
            # finish, and say loudly which ones could not.
            pending = list(self._tasks)
            if pending:
                _done, unfinished = await asyncio.wait(pending, timeout=SHUTDOWN_GRACE_SECONDS)
                for task in unfinished:
                    logger.error("Zalo event still being answered at shutdown was dropped: %s",
                                 task.get_name())
                    task.cancel()

        @zalo.listener("after_server_stop")
        async def close(_app: Any, _loop: Any) -> None:
            await self.client.close()

        return zalo

    def _receive(self, request: Request, on_new_message: OnNewMessage) -> HTTPResponse:
        header = request.headers.get(HEADER)
        if not header:
            return response.json({"error": f"the {HEADER} header is missing"}, status=401)
        raw = request.body or b""
        try:
            event = json.loads(raw)
        except (ValueError, RecursionError):  # not JSON, or "[[[[…" nested too deep
            return response.json({"error": "the body must be a JSON Zalo event"}, status=400)
        if not isinstance(event, dict):
            return response.json({"error": "the body must be a JSON object"}, status=400)
        stamp = event.get("timestamp")
        stamp = str(stamp) if isinstance(stamp, (str, int)) and not isinstance(stamp, bool) else ""
        if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 16):
            return response.json({"error": '"timestamp" must be milliseconds since 1970'}, status=400)
        if not verify(header, self.app_id, raw, stamp, self.oa_secret_key):
            logger.warning("Zalo webhook: wrong signature (request from %s)", request.ip)
            return response.json({"error": "wrong signature"}, status=403)
        if not is_fresh(int(stamp), self.max_event_age_seconds):
            logger.warning("Zalo webhook: stale or future event refused (timestamp %s)", stamp)
            return response.json({"error": "the event is too old, or from the future"}, status=403)
        if not self._seen.first_time(event_key(event)):
            return response.json({"status": "duplicate"})
        sender = (event.get("sender") or {}).get("id") if isinstance(event.get("sender"), dict) else None
        self._spawn(self._handle(event, on_new_message), name=f"{event.get('event_name')} from {sender}")
        return response.json({"status": "ok"})

    def _spawn(self, work: Coroutine[Any, Any, None], name: str | None = None) -> None:
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _handle(self, event: dict[str, Any], on_new_message: OnNewMessage) -> None:
        name = event.get("event_name")
        try:
            if name == "user_send_text":
                await self._on_text(event, on_new_message)
            elif name == "follow":
                await self._reply(_id(event, "follower"), welcome())
            elif name == "user_send_location":
                await self._on_location(event)
            elif name in MEDIA_EVENTS:
                await self._reply(_id(event, "sender"), Reply(ONLY_TEXT))
            else:
                logger.debug("Zalo event %r ignored", name)
        except Exception:  # noqa: BLE001 - a background task has no caller to tell
            logger.exception("Handling the Zalo event %r failed", name)

    async def _on_text(self, event: dict[str, Any], on_new_message: OnNewMessage) -> None:
        sender, text = _id(event, "sender"), _message(event).get("text")
        if sender is None or not isinstance(text, str) or not text.strip():
            logger.info("Zalo text event without a sender or text ignored")
            return
        message = UserMessage(
            text[:MAX_MESSAGE_LENGTH], ZaloOutput(self.client), sender, input_channel=self.name()
        )
        try:
            await on_new_message(message)
        except Exception:  # noqa: BLE001 - the visitor gets an apology, the log the details
            logger.exception("The assistant failed on a Zalo message from %s", sender)
            await self.client.send_text(sender, SORRY)

    async def _on_location(self, event: dict[str, Any]) -> None:
        where = coordinates(event)
        if where is None:
            await self._reply(_id(event, "sender"), Reply(NO_LOCATION))
            return
        try:
            reply = await asyncio.to_thread(nearby, *where)
        except Exception:  # noqa: BLE001 - e.g. the knowledge base is unreachable
            logger.exception("Looking up places near %s failed", where)
            reply = Reply(LOOKUP_FAILED)
        await self._reply(_id(event, "sender"), reply)

    async def _reply(self, user_id: str | None, reply: Reply) -> None:
        if user_id is None:
            logger.info("Zalo event without a user id ignored")
        elif reply.buttons:
            await self.client.send_buttons(user_id, reply.text, reply.buttons)
        else:
            await self.client.send_text(user_id, reply.text)
