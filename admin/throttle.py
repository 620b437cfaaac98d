"""A limit on failed sign-ins, so a password cannot be guessed by trying many.

Failures are counted per key (the client's address, the username typed) over a sliding
window, in memory: one admin process is the deployment, and a restart forgetting the
counts only gives a guesser a few more tries."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable

MAX_FAILURES = 10
WINDOW_SECONDS = 15 * 60
# Keys remembered at most; beyond that the oldest are dropped (memory stays bounded even
# if someone tries thousands of usernames).
MAX_KEYS = 50_000


class Throttle:
    def __init__(self, limit: int = MAX_FAILURES, window: float = WINDOW_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> deque[float] | None:
        times = self._failures.get(key)
        if times is None:
            return None
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[key]
            return None
        return times

    def wait_seconds(self, *keys: str) -> float:
        """How long until any of ``keys`` may try again (0: now)."""
        now, wait = self.clock(), 0.0
        for key in keys:
            times = self._recent(key, now)
            if times is not None and len(times) >= self.limit:
                wait = max(wait, times[-self.limit] + self.window - now)
        return wait

    def wait_minutes(self, *keys: str) -> int:
        return math.ceil(self.wait_seconds(*keys) / 60)

    def failed(self, *keys: str) -> None:
        now = self.clock()
        for key in keys:
            times = self._recent(key, now)
            if times is None:
                if len(self._failures) >= MAX_KEYS:
                    del self._failures[next(iter(self._failures))]
                times = self._failures[key] = deque(maxlen=self.limit)
            times.append(now)

    def forget(self, *keys: str) -> None:
        for key in keys:
            self._failures.pop(key, None)
