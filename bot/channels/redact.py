"""Keep secrets out of the logs.

Libraries put a bot token into messages we do not write: python-telegram-bot's
``InvalidToken`` says "The token `<token>` was rejected", httpx logs request URLs that
contain it. A filter on every handler of the root logger rewrites any record that carries
a registered secret, its traceback included, before it is written anywhere."""

from __future__ import annotations

import logging
import threading

MASK = "***"
_secrets: set[str] = set()
_lock = threading.Lock()


def redact(text: str) -> str:
    for secret in _secrets:
        text = text.replace(secret, MASK)
    return text


class SecretFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not _secrets:
            return True
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


_filter = SecretFilter()


def protect(secret: str) -> None:
    """Mask ``secret`` in everything logged from now on (the handlers present now and the
    root logger's last-resort handler)."""
    if len(secret) < 8:  # too short to be a real token, and masking it would garble text
        return
    with _lock:
        _secrets.add(secret)
        handlers = list(logging.getLogger().handlers)
        if logging.lastResort is not None:
            handlers.append(logging.lastResort)
        for handler in handlers:
            if _filter not in handler.filters:
                handler.addFilter(_filter)
