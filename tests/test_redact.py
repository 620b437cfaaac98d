"""Secrets registered with bot.channels.redact never reach a log, tracebacks included."""

from __future__ import annotations

import logging

import pytest

from bot.channels.redact import MASK, protect, redact

TOKEN = "123456:SECRET-VALID-TOKEN-abcdef"


def test_a_registered_secret_is_masked_in_messages_arguments_and_tracebacks(
    caplog: pytest.LogCaptureFixture,
) -> None:
    protect(TOKEN)
    logger = logging.getLogger("tests.redact")
    handler = logging.StreamHandler()
    logging.getLogger().addHandler(handler)
    try:
        protect(TOKEN)  # registers the filter on the handler added above too
        assert any(type(f).__name__ == "SecretFilter" for f in handler.filters)
        with caplog.at_level(logging.INFO):
            logger.warning("The token `%s` was rejected by the server.", TOKEN)
            try:
                raise RuntimeError(f"https://api.telegram.org/bot{TOKEN}/getMe failed")
            except RuntimeError:
                logger.exception("call failed")
        formatted = [handler.format(record) for record in caplog.records]
    finally:
        logging.getLogger().removeHandler(handler)
    assert formatted and all(TOKEN not in text for text in formatted)
    assert MASK in formatted[0] and "RuntimeError" in formatted[1] and MASK in formatted[1]


def test_short_values_are_not_treated_as_secrets() -> None:
    protect("abc")
    assert redact("abc abc") == "abc abc"
