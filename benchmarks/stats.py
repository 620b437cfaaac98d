"""Pure helpers of the side-by-side benchmark: percentiles of latency samples and the
Poisson arrival schedule of the open-loop load. No third-party imports, so both the
orchestrator (project venv) and the load generator (benchmark venv) can use them."""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable, Sequence


def percentile(values: Sequence[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), p in 0..100."""
    if not values:
        raise ValueError("no samples")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def summarise(latencies_ms: Sequence[float], errors: int = 0, seconds: float | None = None) -> dict:
    """p50/p95/p99/mean/max of one run, and turns per second when its length is given."""
    out: dict = {"turns": len(latencies_ms), "errors": errors}
    if latencies_ms:
        out |= {
            "p50_ms": round(percentile(latencies_ms, 50), 1),
            "p95_ms": round(percentile(latencies_ms, 95), 1),
            "p99_ms": round(percentile(latencies_ms, 99), 1),
            "mean_ms": round(statistics.fmean(latencies_ms), 1),
            "max_ms": round(max(latencies_ms), 1),
        }
    if seconds:
        out["seconds"] = round(seconds, 1)
        out["turns_per_s"] = round(len(latencies_ms) / seconds, 2)
    return out


class PoissonPacer:
    """Arrival times of one simulated visitor as a Poisson process of ``rate`` turns per
    second: exponential gaps laid on an absolute timeline, so a slow reply does not push
    every later arrival back (the gap is measured from the previous *arrival*, not from
    the previous reply). ``users`` pacers of rate λ/users together make one Poisson stream
    of rate λ, since a sum of independent Poisson processes is a Poisson process."""

    def __init__(
        self,
        rate: float,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.rng = rng or random.Random()
        self.clock = clock
        # The first arrival is one gap from now too, so the users do not all start together.
        self.next_at = clock() + self.rng.expovariate(rate)

    def wait(self) -> float:
        """Seconds to sleep until the next arrival (0 when it is already late), and move the
        schedule one gap on."""
        delay = max(0.0, self.next_at - self.clock())
        self.next_at += self.rng.expovariate(self.rate)
        return delay
