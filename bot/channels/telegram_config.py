"""Telegram settings from the environment, shared by the Rasa channel and the polling
process. Kept free of Rasa imports so the poller starts in a fraction of a second.

    TELEGRAM_BOT_TOKEN       the bot's token from @BotFather; the channel is on only when set
    TELEGRAM_WEBHOOK_SECRET  the secret Telegram sends back in X-Telegram-Bot-Api-Secret-Token
                             (1-256 of A-Z a-z 0-9 _ -); default: derived from the token
    TELEGRAM_WEBHOOK_URL     the public HTTPS URL of /webhooks/telegram/webhook: webhook mode,
                             the channel registers it at start-up; unset: polling mode
    TELEGRAM_API_URL         the Bot API base URL (default https://api.telegram.org/bot)
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from typing import Any

DEFAULT_API_URL = "https://api.telegram.org/bot"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
WEBHOOK_PATH = "/webhooks/telegram/webhook"
# Credential key -> environment variable. Rasa substitutes "${NAME}" when it reads the
# credentials file, and fails on a name that is not set: only set ones are written.
ENV_NAMES = {
    "access_token": "TELEGRAM_BOT_TOKEN",
    "secret_token": "TELEGRAM_WEBHOOK_SECRET",
    "webhook_url": "TELEGRAM_WEBHOOK_URL",
    "api_url": "TELEGRAM_API_URL",
}
# The update kinds the bot acts on; Telegram then does not send the others (edits, channel
# posts, membership changes...), though the channel ignores them safely if they come.
ALLOWED_UPDATES = ("message", "callback_query")
_SECRET_CHARS = re.compile(r"[A-Za-z0-9_-]{1,256}")


def credentials_from_env(env: Mapping[str, str]) -> dict[str, Any] | None:
    """The credentials.yml section of the Telegram channel, or None without a bot token."""
    if not env.get("TELEGRAM_BOT_TOKEN", "").strip():
        return None
    return {key: f"${{{name}}}" for key, name in ENV_NAMES.items() if env.get(name, "").strip()}


def webhook_secret(token: str, configured: str | None) -> str:
    """The secret for the webhook header. Without a configured one it is derived from the
    token, so the polling process and the Rasa server agree on it with nothing more to set,
    and it stays the same across restarts and replicas; it reveals nothing about the token."""
    if configured:
        if not _SECRET_CHARS.fullmatch(configured):
            raise ValueError(
                "TELEGRAM_WEBHOOK_SECRET must be 1-256 characters of A-Z, a-z, 0-9, _ and - "
                "(Telegram's rule for secret_token)"
            )
        return configured
    return hmac.new(token.encode(), b"telegram-webhook-secret", hashlib.sha256).hexdigest()


def polling_wanted(env: Mapping[str, str]) -> bool:
    """Whether the launcher should run the polling process: a bot token and no public URL."""
    return bool(env.get("TELEGRAM_BOT_TOKEN", "").strip()) and not env.get("TELEGRAM_WEBHOOK_URL", "").strip()
