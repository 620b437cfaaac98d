"""Checking that a webhook request really comes from Zalo, is recent, and is acted on once.

Zalo signs every OA webhook event with the header

    X-ZEvent-Signature: mac=<hex sha256(app_id + raw body + timestamp + OA secret key)>

where ``timestamp`` is the event's own ``timestamp`` field (milliseconds since the epoch,
sent as a string) and the key is the *OA secret key* of the Official Account linked to the
app, not the app secret. Sources: Zalo's webhook guide as summarised in
hainh.me/zalo-api-php-webhook-callback-official-account.html ("so sánh giá trị trong header
X-ZEvent-Signature với mã hash SHA256 của chuỗi kết hợp 4 thông tin": app id, body JSON,
timestamp from that JSON, OA secret key) and Chatwoot's Zalo channel
(app/jobs/webhooks/zalo_events_job.rb, which compares the header with ``"mac=" + sha256``).

It is a plain hash of a secret-suffixed string, not an HMAC: that is Zalo's format, so it
is what we check. The raw body bytes are hashed as received: re-serialising the parsed
JSON would change them.

Zalo sends an event again when it does not get a 200 within about two seconds (and keeps
trying for hours), so the same event can arrive twice: ``SeenEvents`` remembers what was
handled.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections import OrderedDict

HEADER = "X-ZEvent-Signature"
# Clocks drift a little; an event stamped further ahead than this is not a real one.
MAX_FUTURE_SKEW_MS = 60_000


def mac(app_id: str, body: bytes, timestamp: str, oa_secret_key: str) -> str:
    """The header value Zalo sends for this body: ``mac=<hex sha256>``."""
    digest = hashlib.sha256(app_id.encode() + body + timestamp.encode() + oa_secret_key.encode())
    return "mac=" + digest.hexdigest()


def verify(header: str, app_id: str, body: bytes, timestamp: str, oa_secret_key: str) -> bool:
    expected = mac(app_id, body, timestamp, oa_secret_key)
    # compare_digest: the time taken must not tell a forger how many characters matched.
    return hmac.compare_digest(header.strip().lower().encode(), expected.encode())


def is_fresh(timestamp_ms: int, max_age_seconds: float, now_ms: int | None = None) -> bool:
    """Whether an event stamped ``timestamp_ms`` is recent enough to act on: a signed event
    replayed later (or stamped in the future) is refused."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    return now_ms - max_age_seconds * 1000 <= timestamp_ms <= now_ms + MAX_FUTURE_SKEW_MS


class SeenEvents:
    """Keys of the events handled in the last ``ttl_seconds`` (at most ``size`` of them).
    Older events are refused as stale anyway, so they need not be remembered longer."""

    def __init__(self, ttl_seconds: float, size: int = 10_000) -> None:
        self.ttl_seconds = ttl_seconds
        self.size = size
        self._seen: OrderedDict[str, float] = OrderedDict()

    def first_time(self, key: str, now: float | None = None) -> bool:
        """True the first time ``key`` is offered within the window, False after."""
        now = time.monotonic() if now is None else now
        while self._seen and next(iter(self._seen.values())) < now - self.ttl_seconds:
            self._seen.popitem(last=False)
        if key in self._seen:
            return False
        self._seen[key] = now
        if len(self._seen) > self.size:
            self._seen.popitem(last=False)
        return True
