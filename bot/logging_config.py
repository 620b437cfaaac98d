"""Structured logs: one JSON object per line (time, level, logger, message, process, and the
request id nginx gave the request) when ``LOG_FORMAT=json``, the production default.

Rasa and rasa_sdk install coloredlogs on the root logger *after* reading
``--logging-config-file``, and Sanic configures its own loggers when an app is made, so a
config file alone leaves plain-text lines behind: our server wrappers call ``configure``
at those points instead (see bot/server.py and bot/action_server.py).
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import sys
from datetime import datetime, timezone
from typing import Any

# Set per request by the metrics middleware from nginx's X-Request-ID header.
request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

# Attributes every LogRecord has; anything else was passed with ``extra=`` and is kept.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
SANIC_LOGGERS = ("sanic.root", "sanic.error", "sanic.access", "sanic.server")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
        }
        rid = request_id.get()
        if rid:
            entry["request_id"] = rid
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value if isinstance(value, (str, int, float, bool, type(None))) else str(value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def json_wanted(env: dict[str, str] | None = None) -> bool:
    return (env if env is not None else os.environ).get("LOG_FORMAT", "").lower() == "json"


def configure(level: str | int | None = None) -> None:
    """Send every record (the root logger's and Sanic's own) to stderr as JSON lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level or os.environ.get("LOG_LEVEL", "INFO"))
    # Libraries' DeprecationWarnings would otherwise be printed as bare text lines.
    logging.captureWarnings(True)
    for name in SANIC_LOGGERS:
        logger = logging.getLogger(name)
        for old in list(logger.handlers):
            logger.removeHandler(old)
        logger.addHandler(handler)
        logger.propagate = False
