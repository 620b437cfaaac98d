"""The Telegram channel, built on python-telegram-bot (Rasa's own uses aiogram).

Telegram posts each update to ``/webhooks/telegram/webhook`` (webhook mode) or the polling
process (``python -m bot.channels.telegram_poll``) forwards the updates it fetches there,
so both modes take one code path. A request without the right
``X-Telegram-Bot-Api-Secret-Token`` gets a 403, a body that is not an update a 400; an
update is answered 200 at once and handled in the background (Telegram re-sends updates it
did not see acknowledged quickly; re-sent ones are dropped by ``update_id``).

What each update becomes:
- text: the visitor's words for the assistant; ``/start`` and ``/help`` (and any other
  command) ask for the greeting or the help in the language the visitor last wrote in, or
  before any words, the language of their Telegram app;
- a button press (callback query): answered at once so the button stops spinning, then its
  payload goes to the assistant;
- a shared location (private chats): the nearest sights, and buttons for the nearest
  hospital, pharmacy, ATM or restaurant, from the knowledge base (telegram_nearby: no
  intent takes coordinates);
- a sticker, photo, voice note... (private chats): a short note that only text is read;
- edits, channel posts, members joining or leaving, anything else: ignored.

Replies: long texts are split within Telegram's limit, sent as escaped HTML; buttons become
an inline keyboard; a reply with one map link also gets a native venue message.
Configuration: environment variables, see telegram_config.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import json
import logging
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.exc import SQLAlchemyError
from telegram import Bot, CallbackQuery, InlineKeyboardMarkup, LinkPreviewOptions, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from actions.context import payload
from bot.channels import telegram_nearby as nearby
from bot.channels.redact import protect
from bot.channels.telegram_config import (
    ALLOWED_UPDATES,
    DEFAULT_API_URL,
    SECRET_HEADER,
    credentials_from_env,
    webhook_secret,
)
from bot.channels.telegram_format import (
    PayloadStore,
    fallback_title,
    inline_keyboard,
    single_map_link,
    split_text,
    to_html,
    user_language,
)
from bot.language import detect_language

__all__ = ["CHANNEL", "TelegramInput", "TelegramOutput", "credentials_from_env"]

CHANNEL = "bot.channels.telegram.TelegramInput"

logger = logging.getLogger(__name__)
# httpx logs every request URL at INFO, and a Bot API URL contains the bot's token.
logging.getLogger("httpx").setLevel(logging.WARNING)

T = TypeVar("T")
_COMMAND = re.compile(r"/([A-Za-z0-9_]{1,32})(?:@([A-Za-z0-9_]{1,64}))?(?:\s|$)")
_COMMAND_INTENTS = {"start": "greet", "help": "help"}  # any other command: help
# Messages that carry something other than text; service messages (members joining, a new
# title, a pinned message...) are not in the list and are ignored.
_CONTENT = (
    "sticker",
    "photo",
    "animation",
    "audio",
    "document",
    "video",
    "video_note",
    "voice",
    "contact",
    "dice",
    "poll",
    "game",
    "story",
)
_NOT_TEXT = {
    "vi": 'Mình chỉ đọc được tin nhắn chữ. Bạn hãy gõ câu hỏi, ví dụ "Cầu Rồng ở đâu?", '
    "hoặc gửi vị trí để xem có gì ở gần.",
    "en": 'I can only read text messages. Type your question, for example "Where is the Dragon '
    'Bridge?", or share your location to see what is nearby.',
}
_RETRY_AFTER_CAP = 30.0  # seconds; a longer flood wait drops the message rather than stall the turn
_SEEN_UPDATES = 1000
_REMEMBERED_CHATS = 10_000


class TelegramOutput(OutputChannel):
    """Sends the assistant's replies through the Bot API."""

    def __init__(self, token: str, api_url: str = DEFAULT_API_URL) -> None:
        self._token = token
        self._api_url = api_url
        self._bot: Bot | None = None
        self._lock = asyncio.Lock()
        self.payloads = PayloadStore()

    @classmethod
    def name(cls) -> str:
        return "telegram"

    async def bot(self) -> Bot:
        """The initialised Bot, created in the server's event loop on first use (its HTTP
        client belongs to the loop it was made in, and getMe needs the network)."""
        async with self._lock:
            if self._bot is None:
                bot = Bot(self._token, base_url=self._api_url)
                await bot.initialize()
                self._bot = bot
        return self._bot

    async def close(self) -> None:
        if self._bot is not None:
            await self._bot.shutdown()
            self._bot = None

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self._send(recipient_id, text, [])

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        await self._send(recipient_id, text, buttons)

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        # The default would show the visitor raw JSON meant for another client.
        logger.debug("custom JSON reply not shown on Telegram")

    async def _send(self, recipient_id: str, text: str | None, buttons: list[dict[str, Any]]) -> None:
        try:
            chat_id = int(recipient_id)
        except (TypeError, ValueError):
            logger.warning("not a Telegram chat id: %r", recipient_id)
            return
        text = text or ""
        venue: nearby.Venue | None = None
        link = single_map_link(text)
        if link is not None:
            try:
                venue = await asyncio.to_thread(
                    nearby.venue_at, link.lat, link.lon, detect_language(text) == "en"
                )
            except SQLAlchemyError as exc:  # the reply still goes out, with the title from its text
                logger.warning("knowledge base not readable for a venue: %s", exc)
            if venue is None:
                venue = nearby.Venue(
                    link.lat, link.lon, fallback_title(link.text), f"{link.lat:.5f}, {link.lon:.5f}"
                )
            text = link.text
        await self.send_reply(chat_id, nearby.Reply(text, buttons, venue))

    async def send_reply(self, chat_id: int, reply: nearby.Reply) -> None:
        bot = await self._bot_or_none()
        if bot is None:
            return
        keyboard = inline_keyboard(reply.buttons, self.payloads)
        chunks = split_text(reply.text)
        if keyboard is not None and not chunks:
            chunks = ["👇"]  # a keyboard needs a message to hang on
        for index, chunk in enumerate(chunks):
            await self._send_chunk(
                bot, chat_id, chunk, index == 0, keyboard if index == len(chunks) - 1 else None
            )
        if reply.venue is not None:
            venue = reply.venue
            await self._call(
                lambda: bot.send_venue(
                    chat_id, latitude=venue.lat, longitude=venue.lon, title=venue.title, address=venue.address
                )
            )

    async def _send_chunk(
        self, bot: Bot, chat_id: int, chunk: str, heading: bool, markup: InlineKeyboardMarkup | None
    ) -> None:
        def send(text: str, mode: str | None) -> Awaitable[Message]:
            return bot.send_message(
                chat_id,
                text,
                parse_mode=mode,
                reply_markup=markup,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )

        # Escaping makes the HTML valid; should Telegram still refuse it, the text goes plain.
        await self._call(
            lambda: send(to_html(chunk, heading), ParseMode.HTML), fallback=lambda: send(chunk, None)
        )

    async def answer_button(self, query_id: str) -> None:
        bot = await self._bot_or_none()
        if bot is not None:
            await self._call(lambda: bot.answer_callback_query(query_id))

    async def _bot_or_none(self) -> Bot | None:
        # Sending must not raise into Rasa: the turn would not be saved.
        try:
            return await self.bot()
        except TelegramError as exc:
            logger.warning("Telegram not reachable, reply dropped: %s", exc)
            return None

    async def _call(
        self, make: Callable[[], Awaitable[T]], fallback: Callable[[], Awaitable[T]] | None = None
    ) -> T | None:
        """One Bot API call; a failure is logged, never raised into the conversation."""
        for attempt in (1, 2):
            try:
                return await make()
            except RetryAfter as exc:
                wait = _seconds(exc.retry_after)
                if attempt == 2 or wait > _RETRY_AFTER_CAP:
                    logger.warning("Telegram flood control: message dropped (retry after %.0f s)", wait)
                    return None
                await asyncio.sleep(wait)
            except Forbidden as exc:
                logger.info("Telegram refused to deliver (the visitor blocked the bot?): %s", exc)
                return None
            except BadRequest as exc:
                if fallback is not None:
                    logger.warning("Telegram rejected a message (%s); sending it as plain text", exc)
                    return await self._call(fallback)
                logger.warning("Telegram rejected a message: %s", exc)
                return None
            except TelegramError as exc:
                logger.warning("Telegram API call failed: %s", exc)
                return None
        return None


def _seconds(value: int | float | dt.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


class NotAnUpdate(ValueError):
    """A webhook body that is not a Telegram update at all."""


def parse_update(body: bytes) -> Update | None:
    """The update in a webhook body. None for an update this version of python-telegram-bot
    cannot read (Telegram adds fields and kinds): it is ignored with a 200, since Telegram
    would retry a refused one for hours. Raises NotAnUpdate for anything else."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # "[[[[…" nests too deep
        raise NotAnUpdate("the body is not JSON") from exc
    if not isinstance(data, dict) or type(data.get("update_id")) is not int:
        raise NotAnUpdate('the body is not a Telegram update (a JSON object with an integer "update_id")')
    try:
        return Update.de_json(data)
    except Exception as exc:  # noqa: BLE001 - PTB raises whatever a shape triggers (Type/Key/AttributeError)
        logger.warning("Telegram update %s could not be read (%s); ignored", data["update_id"], exc)
        return None


class TelegramInput(InputChannel):
    """Receives Telegram updates at /webhooks/telegram/webhook."""

    @classmethod
    def name(cls) -> str:
        return "telegram"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        credentials = credentials or {}
        if not credentials.get("access_token"):
            cls.raise_missing_credentials_exception()
        return cls(
            token=credentials["access_token"],
            secret=credentials.get("secret_token") or None,
            webhook_url=credentials.get("webhook_url") or None,
            api_url=credentials.get("api_url") or DEFAULT_API_URL,
        )

    def __init__(
        self,
        token: str,
        secret: str | None = None,
        webhook_url: str | None = None,
        api_url: str = DEFAULT_API_URL,
    ) -> None:
        self.secret = webhook_secret(token, secret)
        protect(token)
        protect(self.secret)
        self.webhook_url = webhook_url
        self.output = TelegramOutput(token, api_url)
        self._tasks: set[asyncio.Task] = set()
        self._seen: OrderedDict[int, None] = OrderedDict()
        self._languages: OrderedDict[int, str] = OrderedDict()  # chat id -> language last written in

    def get_output_channel(self) -> OutputChannel:
        return self.output

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        telegram_webhook = Blueprint("telegram_webhook", __name__)

        @telegram_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @telegram_webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            given = request.headers.get(SECRET_HEADER, "")
            if not hmac.compare_digest(given.encode(), self.secret.encode()):
                return response.json({"error": f"missing or wrong {SECRET_HEADER}"}, status=403)
            try:
                update = parse_update(request.body)
            except NotAnUpdate as exc:
                return response.json({"error": str(exc)}, status=400)
            if update is not None and self._first_time(update.update_id):
                self._spawn(self._handle(update, on_new_message))
            return response.json({"status": "ok"})

        @telegram_webhook.listener("after_server_start")
        async def register_webhook(_app: Any, _loop: Any) -> None:
            if self.webhook_url:
                self._spawn(self._set_webhook())

        @telegram_webhook.listener("before_server_stop")
        async def finish(_app: Any, _loop: Any) -> None:
            if self._tasks:
                await asyncio.wait(list(self._tasks), timeout=10)
            await self.output.close()

        return telegram_webhook

    def _first_time(self, update_id: int) -> bool:
        if update_id in self._seen:
            return False
        self._seen[update_id] = None
        if len(self._seen) > _SEEN_UPDATES:
            self._seen.popitem(last=False)
        return True

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)  # a task nobody refers to may be garbage-collected mid-way
        task.add_done_callback(self._tasks.discard)

    async def _set_webhook(self) -> None:
        try:
            bot = await self.output.bot()
            await bot.set_webhook(
                self.webhook_url, secret_token=self.secret, allowed_updates=list(ALLOWED_UPDATES)
            )
            logger.info("Telegram webhook registered")
        except TelegramError as exc:
            logger.error(
                "Telegram did not accept the webhook (%s): check TELEGRAM_WEBHOOK_URL (public HTTPS "
                "URL of /webhooks/telegram/webhook) and TELEGRAM_BOT_TOKEN",
                exc,
            )

    async def _handle(self, update: Update, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        try:
            if update.callback_query is not None:
                await self._on_button(update.callback_query, on_new_message)
            elif update.message is not None:
                await self._on_message(update.message, on_new_message)
            # Edited messages, channel posts, membership changes...: nothing to answer.
        except Exception:  # noqa: BLE001 - one bad update must not stop the others
            logger.exception("Telegram update %s could not be handled", update.update_id)

    async def _on_message(
        self, message: Message, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> None:
        chat_id = message.chat.id
        code = message.from_user.language_code if message.from_user else None
        language = self._language(chat_id, code)
        private = message.chat.type == "private"
        if isinstance(message.text, str):
            text = await self._words(message.text, language)
            if text and not text.startswith("/"):
                self._remember(chat_id, detect_language(text))
            if text:
                await on_new_message(self._user_message(text, chat_id, code, message.chat.type))
        elif message.location is not None and private:
            lat, lon = message.location.latitude, message.location.longitude
            reply = await asyncio.to_thread(nearby.around, lat, lon, language == "en")
            await self.output.send_reply(chat_id, reply)
        elif private and any(getattr(message, kind, None) for kind in _CONTENT):
            await self.output.send_reply(chat_id, nearby.Reply(_NOT_TEXT[language]))

    async def _words(self, text: str, language: str) -> str | None:
        """What the assistant is asked: the text, or the intent a command stands for. None
        for a command addressed to another bot in a group."""
        command = _COMMAND.match(text.strip())
        if command:
            name, target = command.group(1).lower(), command.group(2)
            if target and target.lower() != (await self.output.bot()).username.lower():
                return None
            return payload(_COMMAND_INTENTS.get(name, "help"), language=language)
        if "@" in text:  # "@danang_bot where is the Dragon Bridge" in a group
            username = (await self.output.bot()).username
            text = re.sub(rf"@{re.escape(username)}\b", " ", text, flags=re.IGNORECASE)
        # Words only: a leading "/" would make Rasa read the text as an intent payload.
        return text.strip().lstrip("/").strip() or None

    async def _on_button(
        self, query: CallbackQuery, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> None:
        await self.output.answer_button(query.id)
        data = query.data if isinstance(query.data, str) else ""
        chat = getattr(query.message, "chat", None)
        chat_id = chat.id if chat is not None else query.from_user.id
        code = query.from_user.language_code
        near = nearby.parse_near_data(data)
        if near is not None:
            category, lat, lon = near
            en = self._language(chat_id, code) == "en"
            reply = await asyncio.to_thread(nearby.nearest, category, lat, lon, en)
            await self.output.send_reply(chat_id, reply)
            return
        text = self.output.payloads.resolve(data) or _button_title(query.message, data)
        if text:
            await on_new_message(self._user_message(text, chat_id, code, chat.type if chat else "private"))

    def _language(self, chat_id: int, language_code: str | None) -> str:
        """The language for replies the channel words itself and for commands: the one the
        visitor last wrote in, else their Telegram app's."""
        return self._languages.get(chat_id) or user_language(language_code)

    def _remember(self, chat_id: int, language: str) -> None:
        self._languages[chat_id] = language
        self._languages.move_to_end(chat_id)
        if len(self._languages) > _REMEMBERED_CHATS:
            self._languages.popitem(last=False)

    def _user_message(
        self, text: str, chat_id: int, language_code: str | None, chat_type: str
    ) -> UserMessage:
        return UserMessage(
            text,
            self.output,
            str(chat_id),
            input_channel=self.name(),
            metadata={"language_code": language_code, "chat_type": chat_type},
        )


def _button_title(message: Any, data: str) -> str | None:
    """The title of the pressed button, for a payload key this server no longer knows (it
    restarted since): the title is a question in the visitor's language ("Giờ mở cửa"),
    and the conversation's subject says what it is about."""
    markup = getattr(message, "reply_markup", None)
    for row in getattr(markup, "inline_keyboard", ()) or ():
        for button in row:
            if button.callback_data == data:
                return button.text
    return None
