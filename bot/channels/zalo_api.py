"""The Zalo Official Account API as the assistant uses it: customer-service messages (text,
text with buttons) and an OA access token that is refreshed before it runs out.

Zalo's formats, and where they are documented:

* Send: ``POST {api}/v3.0/oa/message/cs`` with the header ``access_token: <OA token>`` and
  ``{"recipient": {"user_id": ...}, "message": {"text": ...}}``. Buttons ride on the same
  message as ``"attachment": {"type": "template", "payload": {"buttons": [{"title", "type",
  "payload"}]}}``; ``oa.query.show`` / ``oa.query.hide`` send their payload back to the
  webhook as the user's text (shown in the chat, or not), ``oa.open.url`` opens
  ``{"url": ...}``. The answer is ``{"error": 0, "message": "Success", "data": {...}}`` or a
  negative ``error``; ``-216`` means the access token is invalid or expired. Limits: 2000
  characters of text, 5 buttons, 100-character titles, 1000-character payloads.
  (Chatwoot lib/integrations/zalo/message.rb and client.rb, app/services/zalo/
  send_on_zalo_service.rb; eSMS "Send Zalo message Consulting button",
  developers.esms.vn; public OA clients that list the same limits.)
* Refresh: ``POST {oauth}/v4/oa/access_token`` with the header ``secret_key: <app secret>``
  and the form ``refresh_token``, ``app_id``, ``grant_type=refresh_token``; the answer is
  ``{"access_token", "refresh_token", "expires_in"}`` (seconds, sent as a string), or
  ``{"error": <negative>, "error_description": ...}``. An access token lives 25 hours; a
  refresh token lasts 3 months and works ONCE, so every new pair is written to disk at once
  (hexasync.vn "Zalo OA API: Hướng dẫn cách lấy Access Token từ Refresh token"; Chatwoot
  lib/integrations/zalo/auth.rb).

Nothing is lost silently: a message that cannot be delivered after the retries is logged
as an ERROR with its recipient and text and appended to a JSON-lines file of failures.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import aiohttp

logger = logging.getLogger(__name__)

SEND_PATH = "/v3.0/oa/message/cs"
REFRESH_PATH = "/v4/oa/access_token"
TOKEN_ERRORS = frozenset({-216})  # "Access token is invalid": refresh, then resend once
MAX_TEXT = 2000
MAX_BUTTONS = 5
MAX_TITLE = 100
MAX_PAYLOAD = 1000
REFRESH_PAUSE_SECONDS = 60.0
BUTTONS_ONLY_TEXT = "👇"  # Zalo shows buttons under a text; Rasa may send buttons without one


@dataclass(frozen=True)
class ZaloSettings:
    app_id: str
    app_secret: str | None
    access_token: str | None
    refresh_token: str | None
    api_url: str
    oauth_url: str
    token_file: Path
    failed_file: Path
    attempts: int = 3  # per message, for connection errors and 5xx answers
    retry_delay_seconds: float = 1.0  # doubled after each failed attempt
    refresh_margin_seconds: float = 300.0  # refresh this long before the token expires
    timeout_seconds: float = 10.0


# --- tokens ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    expires_at: float | None = None  # epoch seconds; None: unknown (a pair from the environment)

    def expires_within(self, seconds: float) -> bool:
        return self.expires_at is not None and self.expires_at - time.time() < seconds


def fingerprint(refresh_token: str | None) -> str:
    """Names a refresh token without storing or logging it."""
    return hashlib.sha256((refresh_token or "").encode()).hexdigest()[:16]


class TokenFile:
    """The newest token pair, on disk (mode 600). ``origin`` is the fingerprint of the
    refresh token from the environment that the stored chain of refreshes started from:
    when an operator puts a new pair into the environment, the origin no longer matches
    and the environment's pair wins."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> tuple[Tokens, str] | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            tokens = Tokens(
                str(data["access_token"]),
                str(data["refresh_token"]),
                float(data["expires_at"]) if data.get("expires_at") is not None else None,
            )
            return tokens, str(data.get("origin", ""))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            logger.error(
                "Zalo token file %s is unreadable (%s); using the environment's tokens",
                self.path,
                exc.__class__.__name__,
            )
            return None

    def save(self, tokens: Tokens, origin: str) -> None:
        data = {
            "access_token": tokens.access_token,
            "refresh_token": tokens.refresh_token,
            "expires_at": tokens.expires_at,
            "origin": origin,
            "saved_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Written beside the target and renamed over it: a crash mid-write never leaves a
        # half-written file, which would lose the only working refresh token.
        fd, tmp = tempfile.mkstemp(prefix=".zalo-tokens-", dir=self.path.parent)  # mode 600
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise


def initial_tokens(
    env_access: str | None, env_refresh: str | None, stored: tuple[Tokens, str] | None
) -> tuple[Tokens | None, str]:
    """The pair to start with, and its origin. The stored pair descends from the
    environment's (same origin) and is newer, since refresh tokens are single-use; an
    environment pair the file does not descend from was put there since, so it wins."""
    origin = fingerprint(env_refresh)
    if stored is not None:
        tokens, stored_origin = stored
        if not env_refresh or stored_origin == origin or tokens.refresh_token == env_refresh:
            return tokens, stored_origin
    if env_access or env_refresh:
        return Tokens(env_access or "", env_refresh or ""), origin
    return None, origin


# --- messages ----------------------------------------------------------------------------


def _units(text: str) -> int:
    # Zalo counts UTF-16 code units, as Java and JavaScript do: an emoji counts twice.
    return len(text.encode("utf-16-le")) // 2


def _cut(line: str, limit: int) -> tuple[str, str]:
    """The longest head of ``line`` within ``limit`` units, ending at a space if it can."""
    used = 0
    for index, char in enumerate(line):
        used += _units(char)
        if used > limit:
            space = line.rfind(" ", 0, index)
            cut = space if space > 0 else max(index, 1)
            return line[:cut], line[cut:].lstrip(" ")
    return line, ""


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """``text`` as messages of at most ``limit`` units, cut at line ends where possible
    (a reply's lines are its list items), else at a space."""
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        while _units(line) > limit:
            head, line = _cut(line, limit)
            if current.strip():
                parts.append(current)
            parts.append(head)
            current = ""
        candidate = f"{current}\n{line}" if current else line
        if _units(candidate) <= limit:
            current = candidate
        else:
            if current.strip():
                parts.append(current)
            current = line
    if current.strip():
        parts.append(current)
    # A run of spaces cut at the limit leaves nothing to send: Zalo refuses empty texts.
    return [kept for part in parts if (kept := part.strip("\n").rstrip())]


def zalo_button(button: Mapping[str, Any]) -> dict[str, Any] | None:
    """A Rasa button as a Zalo template button, or None if it cannot be one."""
    title = str(button.get("title") or "").strip()[:MAX_TITLE]
    target = button.get("url") or button.get("payload")
    if not title or not isinstance(target, str) or not target.strip():
        return None
    if target.startswith(("https://", "http://")):
        return {"title": title, "type": "oa.open.url", "payload": {"url": target}}
    if len(target) > MAX_PAYLOAD:
        return None
    # A Rasa intent payload ("/place_hours{...}") is machine talk: send it without showing
    # it in the chat. A plain question is shown, as if the visitor had typed it.
    kind = "oa.query.hide" if target.startswith("/") else "oa.query.show"
    return {"title": title, "type": kind, "payload": target}


def button_message(text: str, buttons: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    converted = [b for b in map(zalo_button, buttons) if b is not None]
    if len(converted) < len(buttons):
        logger.warning("%d button(s) could not be sent to Zalo", len(buttons) - len(converted))
    if len(converted) > MAX_BUTTONS:
        logger.warning("Zalo shows at most %d buttons: %d dropped", MAX_BUTTONS, len(converted) - MAX_BUTTONS)
        converted = converted[:MAX_BUTTONS]
    if not converted:
        return {"text": text}
    return {"text": text, "attachment": {"type": "template", "payload": {"buttons": converted}}}


# --- the client --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Answer:
    data: dict[str, Any] | None  # the JSON object Zalo answered, or None
    problem: str | None = None
    transient: bool = False  # worth trying again


class ZaloClient:
    def __init__(self, settings: ZaloSettings) -> None:
        self.settings = settings
        self._store = TokenFile(settings.token_file)
        self._tokens, self._origin = initial_tokens(
            settings.access_token, settings.refresh_token, self._store.load()
        )
        self._refresh_lock = asyncio.Lock()
        self._refresh_failed_at = -REFRESH_PAUSE_SECONDS
        self._session: aiohttp.ClientSession | None = None

    @property
    def tokens(self) -> Tokens | None:
        return self._tokens

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        # Made on first use, inside the server's event loop.
        if self._session is None or self._session.closed:
            timeout = aiohttp.ClientTimeout(total=self.settings.timeout_seconds)
            self._session = aiohttp.ClientSession(timeout=timeout)
        return self._session

    async def send_text(self, user_id: str, text: str) -> bool:
        results = [await self.send(user_id, {"text": part}) for part in split_text(text)]
        return all(results)

    async def send_buttons(self, user_id: str, text: str, buttons: Sequence[Mapping[str, Any]]) -> bool:
        """The text (split if long) with the buttons under its last part."""
        parts = split_text(text) or [BUTTONS_ONLY_TEXT]
        results = [await self.send(user_id, {"text": part}) for part in parts[:-1]]
        results.append(await self.send(user_id, button_message(parts[-1], buttons)))
        return all(results)

    async def send(self, user_id: str, message: dict[str, Any]) -> bool:
        """Send one message: retry connection errors and 5xx answers with backoff, refresh
        the token and resend once when Zalo says it is invalid. False (after logging it
        and recording the message) if it could not be delivered."""
        body = {"recipient": {"user_id": user_id}, "message": message}
        attempts, requests, refreshed = 0, 0, False
        problem = "no Zalo access token (set ZALO_ACCESS_TOKEN and ZALO_REFRESH_TOKEN)"
        while attempts < self.settings.attempts:
            token = await self._access_token()
            if not token:
                break
            attempts, requests = attempts + 1, requests + 1
            answer = await self._call(SEND_PATH, json_body=body, headers={"access_token": token})
            if answer.data is not None and answer.data.get("error") == 0:
                return True
            if answer.data is not None and answer.data.get("error") in TOKEN_ERRORS and not refreshed:
                refreshed = True
                attempts -= 1  # a token problem is not a delivery attempt
                if await self.refresh(stale=token):
                    continue
                problem = "the access token is invalid and could not be refreshed"
                break
            problem = answer.problem or _zalo_error(answer.data)
            if not answer.transient:
                break
            if attempts < self.settings.attempts:
                await asyncio.sleep(self.settings.retry_delay_seconds * 2 ** (attempts - 1))
        self._give_up(user_id, message, problem, requests)
        return False

    async def _access_token(self) -> str | None:
        tokens = self._tokens
        if tokens is None:
            return None
        due = not tokens.access_token or tokens.expires_within(self.settings.refresh_margin_seconds)
        # After a failed refresh, wait a while before the next early one: each message
        # would otherwise ask Zalo again, and log the same error again.
        if due and time.monotonic() - self._refresh_failed_at > REFRESH_PAUSE_SECONDS:
            # On failure the current token is still tried: it may not have expired yet.
            await self.refresh(stale=tokens.access_token)
        return self._tokens.access_token if self._tokens else None

    async def refresh(self, stale: str) -> bool:
        """Replace the access token ``stale`` with a new pair, store the pair, and say
        whether a token other than ``stale`` is now in use."""
        async with self._refresh_lock:
            current = self._tokens
            if current is None:
                return False
            if current.access_token != stale:
                return True  # refreshed by another send while this one waited
            stored = self._store.load()
            if stored is not None and _newer(stored[0], current) and stored[1] == self._origin:
                # Another process using the same file refreshed already: our refresh token
                # is spent, theirs is the live one.
                self._tokens = stored[0]
                return True
            if await self._refresh(current):
                return True
            self._refresh_failed_at = time.monotonic()
            return False

    async def _refresh(self, current: Tokens) -> bool:
        if not (self.settings.app_secret and current.refresh_token):
            logger.error(
                "The Zalo access token needs refreshing, but ZALO_APP_SECRET or "
                "ZALO_REFRESH_TOKEN is not set: set them (Zalo for Developers > your app)"
            )
            return False
        form = {
            "refresh_token": current.refresh_token,
            "app_id": self.settings.app_id,
            "grant_type": "refresh_token",
        }
        for attempt in range(1, self.settings.attempts + 1):
            answer = await self._call(
                REFRESH_PATH, form=form, headers={"secret_key": self.settings.app_secret}, oauth=True
            )
            if not answer.transient or attempt == self.settings.attempts:
                break
            await asyncio.sleep(self.settings.retry_delay_seconds * 2 ** (attempt - 1))
        data = answer.data or {}
        access, refresh = data.get("access_token"), data.get("refresh_token")
        if not (isinstance(access, str) and access and isinstance(refresh, str) and refresh):
            logger.error(
                "Refreshing the Zalo access token failed (%s). If the refresh token expired or "
                "was already used, get a new pair in Zalo for Developers and set "
                "ZALO_ACCESS_TOKEN and ZALO_REFRESH_TOKEN.",
                answer.problem or _zalo_error(data, "error_description"),
            )
            return False
        try:
            expires_at: float | None = time.time() + float(data.get("expires_in"))
        except (TypeError, ValueError):
            expires_at = None
        self._tokens = Tokens(access, refresh, expires_at)
        try:
            self._store.save(self._tokens, self._origin)
        except OSError as exc:
            # Still usable now, but after a restart the spent refresh token would be used.
            logger.error(
                "The new Zalo token pair could not be stored in %s (%s): make that "
                "folder writable, or the channel stops working after a restart",
                self.settings.token_file,
                exc,
            )
        logger.info("Zalo access token refreshed (valid for %s s)", data.get("expires_in"))
        return True

    async def _call(
        self,
        path: str,
        *,
        headers: dict[str, str],
        json_body: Any = None,
        form: Any = None,
        oauth: bool = False,
    ) -> _Answer:
        url = (self.settings.oauth_url if oauth else self.settings.api_url).rstrip("/") + path
        try:
            async with self._http().post(url, json=json_body, data=form, headers=headers) as response:
                if response.status >= 500 or response.status == 429:
                    return _Answer(None, f"HTTP {response.status}", transient=True)
                if response.status != 200:
                    return _Answer(None, f"HTTP {response.status}")
                answer = await response.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            return _Answer(None, f"connection failed: {exc.__class__.__name__}", transient=True)
        except ValueError:
            return _Answer(None, "the answer was not JSON")
        if not isinstance(answer, dict):
            return _Answer(None, "the answer was not a JSON object")
        return _Answer(answer)

    def _give_up(self, user_id: str, message: dict[str, Any], problem: str, requests: int) -> None:
        logger.error(
            "Zalo message to user %s NOT delivered after %d request(s): %s. Text: %r",
            user_id,
            requests,
            problem,
            message.get("text"),
        )
        record = {
            "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "user_id": user_id,
            "message": message,
            "problem": problem,
        }
        path = self.settings.failed_file
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Mode 600: these are visitors' conversations.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        except OSError as exc:
            logger.error("Could not record the undelivered Zalo message in %s: %s", path, exc)


def _newer(stored: Tokens, current: Tokens) -> bool:
    if stored.access_token == current.access_token:
        return False
    return current.expires_at is None or (stored.expires_at or 0) > current.expires_at


def _zalo_error(data: Mapping[str, Any] | None, text_field: str = "message") -> str:
    data = data or {}
    return f"Zalo error {data.get('error')}: {data.get(text_field) or data.get('message') or 'no message'}"
