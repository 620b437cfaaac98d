"""Telegram in polling mode, for a server without a public HTTPS address.

    python -m bot.channels.telegram_poll

Fetches updates with getUpdates (long polling) and posts each one, as Telegram would, to
the Rasa server's Telegram webhook (``$RASA_URL/webhooks/telegram/webhook``, default
http://127.0.0.1:5005) with the webhook secret: one code path for both modes. Removes any
webhook first (Telegram refuses getUpdates while one is set). An update is confirmed to
Telegram only once Rasa accepted it, so nothing is lost while Rasa starts or restarts;
errors back off up to a minute. SIGTERM or Ctrl-C stops it cleanly.

Environment: TELEGRAM_BOT_TOKEN, and optionally TELEGRAM_WEBHOOK_SECRET and
TELEGRAM_API_URL (see telegram_config); the Rasa server must be started with the same
values. TELEGRAM_WEBHOOK_URL must not be set: that is webhook mode.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import signal
import sys
import warnings
from collections.abc import Mapping
from typing import Any

import httpx
from telegram import Bot
from telegram.error import Conflict, Forbidden, InvalidToken, RetryAfter, TelegramError
from telegram.warnings import PTBUserWarning

from bot.channels.redact import protect
from bot.channels.telegram_config import (
    ALLOWED_UPDATES,
    DEFAULT_API_URL,
    SECRET_HEADER,
    WEBHOOK_PATH,
    webhook_secret,
)

logger = logging.getLogger("telegram_poll")
POLL_SECONDS = 25  # how long Telegram holds a getUpdates request open when there is nothing
MAX_BACKOFF = 60.0


class Poller:
    def __init__(self, bot: Bot, rasa_url: str, secret: str, http: httpx.AsyncClient) -> None:
        self.bot = bot
        self.webhook = rasa_url.rstrip("/") + WEBHOOK_PATH
        self.secret = secret
        self.http = http
        self.offset: int | None = None
        self._failures = 0

    async def run(self) -> None:
        await self._retrying(self.bot.initialize)
        await self._retrying(self.bot.delete_webhook)
        logger.info("polling Telegram for @%s; forwarding to %s", self.bot.username, self.webhook)
        while True:
            try:
                updates = await self._fetch(POLL_SECONDS)
            except Conflict:
                # A webhook was set again, or a second poller runs with the same token.
                logger.warning("Telegram reports a conflict (webhook set, or another poller?)")
                await self._retrying(self.bot.delete_webhook)
                await self._back_off()
                continue
            except (InvalidToken, Forbidden):
                raise
            except RetryAfter as exc:
                await asyncio.sleep(_seconds(exc.retry_after))
                continue
            except TelegramError as exc:
                logger.warning("getUpdates failed: %s", exc)
                await self._back_off()
                continue
            self._failures = 0
            for update in updates:
                while not await self._forward(update):
                    await self._back_off()
                self.offset = update["update_id"] + 1

    async def _fetch(self, timeout: int, limit: int = 100) -> list[dict[str, Any]]:
        """The next updates as Telegram sent them. Raw JSON, not Bot.get_updates: that parses
        every update and raises on one this library version cannot read (a newer Bot API's),
        which would stall polling on it for ever; the webhook decides what to ignore."""
        params = {"timeout": timeout, "limit": limit, "allowed_updates": list(ALLOWED_UPDATES)}
        if self.offset is not None:
            params["offset"] = self.offset
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PTBUserWarning)  # "use Bot.get_updates": see above
            result = await self.bot.do_api_request("getUpdates", api_kwargs=params, read_timeout=timeout + 10)
        return [u for u in result or [] if isinstance(u, dict) and type(u.get("update_id")) is int]

    async def confirm(self) -> None:
        """Tell Telegram the forwarded updates are done with (a getUpdates with the next
        offset confirms the earlier ones), so a restart does not fetch them again."""
        if self.offset is not None:
            with contextlib.suppress(TelegramError):
                await self._fetch(timeout=0, limit=1)

    async def _forward(self, update: dict[str, Any]) -> bool:
        """Post one update to Rasa; False if it should be tried again later."""
        try:
            answer = await self.http.post(self.webhook, json=update, headers={SECRET_HEADER: self.secret})
        except httpx.HTTPError as exc:
            logger.warning("Rasa not reachable at %s (%s); retrying", self.webhook, exc.__class__.__name__)
            return False
        if answer.status_code == 200:
            self._failures = 0
            return True
        if answer.status_code == 400:
            logger.warning("Rasa refused update %s as malformed; skipped", update.get("update_id"))
            return True
        # 403: the secrets differ; 404: the Rasa server runs without the Telegram channel.
        logger.error(
            "Rasa answered %s for the Telegram webhook: start it with the same TELEGRAM_* settings",
            answer.status_code,
        )
        return False

    async def _retrying(self, call: Any) -> None:
        while True:
            try:
                await call()
                self._failures = 0
                return
            except (InvalidToken, Forbidden):
                raise
            except TelegramError as exc:
                logger.warning("Telegram not reachable (%s); retrying", exc)
                await self._back_off()

    async def _back_off(self) -> None:
        self._failures += 1
        await asyncio.sleep(min(2.0 ** (self._failures - 1), MAX_BACKOFF))


def _seconds(value: int | float | dt.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


async def main(env: Mapping[str, str]) -> int:
    token = env.get("TELEGRAM_BOT_TOKEN", "").strip()
    if not token:
        logger.error("TELEGRAM_BOT_TOKEN is not set: nothing to poll")
        return 2
    if env.get("TELEGRAM_WEBHOOK_URL", "").strip():
        logger.error("TELEGRAM_WEBHOOK_URL is set: Telegram delivers to the webhook, polling is not used")
        return 2
    try:
        secret = webhook_secret(token, env.get("TELEGRAM_WEBHOOK_SECRET", "").strip() or None)
    except ValueError as exc:
        logger.error("%s", exc)
        return 2
    protect(token)
    protect(secret)
    bot = Bot(token, base_url=env.get("TELEGRAM_API_URL", "").strip() or DEFAULT_API_URL)
    rasa_url = env.get("RASA_URL", "").strip() or "http://127.0.0.1:5005"
    async with httpx.AsyncClient(timeout=15) as http:
        poller = Poller(bot, rasa_url, secret, http)
        task = asyncio.create_task(poller.run())
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, task.cancel)
        try:
            await task
        except asyncio.CancelledError:
            logger.info("stopping")
            await poller.confirm()
        except (InvalidToken, Forbidden) as exc:
            logger.error("Telegram refused the bot token (%s): check TELEGRAM_BOT_TOKEN", exc)
            return 2
        finally:
            with contextlib.suppress(TelegramError, RuntimeError):
                await bot.shutdown()
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    # httpx logs every request URL at INFO, and a Bot API URL contains the bot's token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    sys.exit(asyncio.run(main(os.environ)))
