"""Load generator of the side-by-side benchmark, built on Locust used as a library.

Runs in the benchmark's own venv (benchmarks/.venv, see compare.py): Locust brings gevent,
which monkey-patches the standard library, and a pytest plugin that would load into every
test run of the project venv. It only speaks HTTP to the REST channel, so it needs nothing
of the project but benchmarks/stats.py.

    benchmarks/.venv/bin/python benchmarks/load.py --host http://127.0.0.1:5005 \\
        --messages msgs.json --users 10 --seconds 30 --out run.json           # closed loop
    ... --open-rate 20 --users 60 ...                                          # open loop

Closed loop: every user sends its next turn as soon as the reply arrives (no think time).
Open loop: each user is a Poisson process of rate/users (benchmarks.stats.PoissonPacer),
which together make Poisson arrivals of ``rate`` turns per second whatever the replies
take, as long as enough users are idle (users = 3 × rate leaves each a 3 s mean gap).
Writes every turn's latency (ms) and the error count as JSON.
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
from locust import FastHttpUser, task  # noqa: E402
from locust.env import Environment  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stats import PoissonPacer  # noqa: E402

_ids = itertools.count()
# Turns answered with an empty reply list, in the measured window.
empty = [0]
TURNS_PER_CONVERSATION = 20


def make_user(host: str, messages: list[str], open_rate: float | None, users: int) -> type[FastHttpUser]:
    class Visitor(FastHttpUser):
        network_timeout = 60.0
        connection_timeout = 10.0

        def on_start(self) -> None:
            # Each simulated visitor walks the message list in its own order (visitors do not
            # ask in lockstep) and starts a new conversation, under a new sender id, every
            # TURNS_PER_CONVERSATION turns: a visitor's chat is a few dozen turns, and one
            # sender kept for a whole level would measure a tracker of thousands of events
            # instead (conversation length is measured on its own by compare.py).
            n = next(_ids)
            self.user_id = f"load-{int(time.time())}-{n}"
            self.turns = 0
            self.order = itertools.cycle(random.Random(n).sample(messages, len(messages)))
            self.pacer = PoissonPacer(open_rate / users) if open_rate else None
            if self.pacer:
                gevent.sleep(self.pacer.wait())

        def wait_time(self) -> float:  # type: ignore[override]
            return self.pacer.wait() if self.pacer else 0.0

        @task
        def turn(self) -> None:
            sender = f"{self.user_id}-{self.turns // TURNS_PER_CONVERSATION}"
            self.turns += 1
            body = {"sender": sender, "message": next(self.order)}
            with self.client.post(
                "/webhooks/rest/webhook", json=body, name="turn", catch_response=True
            ) as response:
                if response.status_code != 200:
                    response.failure(f"HTTP {response.status_code}")
                else:
                    try:
                        replies = response.json()
                    except ValueError:
                        response.failure("not JSON")
                        return
                    if not isinstance(replies, list):
                        response.failure("not a list of replies")
                    elif not replies:
                        # A turn the bot answers with silence (the moodbot to a stray "no")
                        # is a valid answer, counted apart so the summary can show it.
                        empty[0] += 1

    Visitor.host = host
    return Visitor


def run(host: str, messages: list[str], users: int, seconds: float, open_rate: float | None) -> dict:
    env = Environment(user_classes=[make_user(host, messages, open_rate, users)])
    latencies: list[float] = []
    errors: list[str] = []
    started: list[float] = []

    def on_request(response_time: float, exception: BaseException | None, **_kw: object) -> None:
        if exception is None:
            latencies.append(response_time)
        else:
            errors.append(str(exception)[:200])

    env.events.request.add_listener(on_request)
    runner = env.create_local_runner()
    # Every user at once (spawn rate = users): the levels are short and the ramp-up would
    # otherwise eat into them; the first second is left out of the numbers below.
    runner.start(users, spawn_rate=users)
    gevent.sleep(1.0)
    latencies.clear()
    errors.clear()
    empty[0] = 0
    started.append(time.monotonic())
    gevent.sleep(seconds)
    measured = time.monotonic() - started[0]
    done = list(latencies), list(errors)
    silent = empty[0]
    runner.quit()
    return {
        "users": users,
        "open_rate": open_rate,
        "seconds": round(measured, 2),
        "latencies_ms": [round(v, 2) for v in done[0]],
        "errors": len(done[1]),
        "empty_replies": silent,
        "error_samples": sorted(set(done[1]))[:5],
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--host", required=True)
    parser.add_argument("--messages", required=True, type=Path, help="JSON list of texts")
    parser.add_argument("--users", type=int, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--open-rate", type=float, default=None, help="turns/s, Poisson arrivals")
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args()
    messages = json.loads(args.messages.read_text(encoding="utf-8"))
    result = run(args.host, messages, args.users, args.seconds, args.open_rate)
    args.out.write_text(json.dumps(result), encoding="utf-8")
    sys.stdout.flush()
    # Skip interpreter teardown: gevent's patched locks raise noisy errors while greenlets
    # are finalised, and everything has been written.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
