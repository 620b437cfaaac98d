"""The measurements of the side-by-side benchmark that need running servers: Locust runs,
NLU and action time alone, and latency against conversation length."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

from benchmarks.servers import get_json, post_json
from benchmarks.stats import summarise

HERE = Path(__file__).resolve().parent
LOAD_VENV = HERE / ".venv"
LOAD_REQUIREMENTS = HERE / "requirements-load.txt"

# The moodbot's own kind of conversation (rasa init's training stories).
REFERENCE_MESSAGES = [
    "hello",
    "hi",
    "hey there",
    "good morning",
    "I am sad",
    "I am feeling very unhappy",
    "great",
    "I am happy",
    "yes",
    "no",
    "very good",
    "not really",
    "bye",
    "goodbye",
    "are you a bot?",
]


def our_messages() -> list[str]:
    """Every visitor turn of the end-to-end question set: Vietnamese with and without
    diacritics, teencode and some English, as visitors really ask."""
    from tests.e2e.scoring import load_questions

    return [t["say"] for c in load_questions().conversations for t in c]


def ensure_load_venv() -> Path:
    """Locust lives in its own venv (see load.py for why); made on first use."""
    python = LOAD_VENV / "bin" / "python"
    stamp = LOAD_VENV / ".installed"
    if not stamp.exists() or stamp.stat().st_mtime < LOAD_REQUIREMENTS.stat().st_mtime:
        if not python.exists():
            # The interpreter behind the project venv (its python is a symlink to it).
            base = os.path.realpath(sys.executable)
            subprocess.run([base, "-m", "venv", str(LOAD_VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "-r", str(LOAD_REQUIREMENTS)], check=True
        )
        stamp.touch()
    return python


def locust_run(
    url: str, messages: list[str], users: int, seconds: float, open_rate: float | None = None
) -> dict[str, Any]:
    """One Locust run (a subprocess in the benchmark venv); its summary plus the raw
    latencies under ``latencies_ms``."""
    with tempfile.TemporaryDirectory() as tmp:
        msgs, out = Path(tmp) / "messages.json", Path(tmp) / "out.json"
        msgs.write_text(json.dumps(messages, ensure_ascii=False), encoding="utf-8")
        cmd = [
            str(ensure_load_venv()),
            str(HERE / "load.py"),
            "--host",
            url,
            "--messages",
            str(msgs),
            "--users",
            str(users),
            "--seconds",
            str(seconds),
            "--out",
            str(out),
        ]
        if open_rate:
            cmd += ["--open-rate", str(open_rate)]
        subprocess.run(
            cmd, check=True, timeout=seconds + 120, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        raw = json.loads(out.read_text(encoding="utf-8"))
    summary = summarise(raw["latencies_ms"], raw["errors"], raw["seconds"])
    summary |= {
        "users": users,
        "error_samples": raw["error_samples"],
        "empty_replies": raw.get("empty_replies", 0),
        "latencies_ms": raw["latencies_ms"],
    }
    if open_rate:
        summary["offered_turns_per_s"] = open_rate
    return summary


def timed(fn: Any, repeat: int) -> list[float]:
    out = []
    for i in range(repeat):
        started = time.perf_counter()
        fn(i)
        out.append((time.perf_counter() - started) * 1000)
    return out


def sequential_turns(url: str, sender_of: Any, messages: list[str], turns: int) -> list[float]:
    """One sender at a time, without pause: latencies in ms."""

    def turn(i: int) -> None:
        post_json(
            f"{url}/webhooks/rest/webhook", {"sender": sender_of(i), "message": messages[i % len(messages)]}
        )

    return timed(turn, turns)


def nlu_parse(url: str, messages: list[str], repeat: int) -> dict[str, Any]:
    """POST /model/parse: the NLU pipeline alone (plus one loopback HTTP round trip)."""
    for text in messages[:5]:
        post_json(f"{url}/model/parse", {"text": text})
    ms = timed(lambda i: post_json(f"{url}/model/parse", {"text": messages[i % len(messages)]}), repeat)
    return summarise(ms)


def _recorded_call(url: str, sender: str, domain: dict, custom: set[str]) -> dict | None:
    """The request Rasa sent to the action server in ``sender``'s last turn: the tracker as
    it was when the action was called (the events before the call), the domain, the version."""
    tracker = get_json(f"{url}/conversations/{sender}/tracker")
    events = tracker["events"]
    called = [k for k, e in enumerate(events) if e.get("event") == "action" and e.get("name") in custom]
    if not called:
        return None
    return {
        "next_action": events[called[-1]]["name"],
        "sender_id": sender,
        "tracker": tracker | {"events": events[: called[-1]]},
        "domain": domain,
        "version": version("rasa"),
    }


def _custom_actions(url: str) -> tuple[dict, set[str]]:
    domain = get_json(f"{url}/domain")
    return domain, {a for a in domain.get("actions", []) if a.startswith("action_")}


def _replay(action_url: str, payloads: list[dict], repeat: int) -> dict[str, Any]:
    for payload in payloads:
        post_json(action_url, payload)
    ms = timed(lambda i: post_json(action_url, payloads[i % len(payloads)]), repeat)
    return summarise(ms) | {"actions": sorted({p["next_action"] for p in payloads})}


def action_time(url: str, action_url: str, messages: list[str], repeat: int) -> dict[str, Any]:
    """The action server alone: trackers recorded from real turns are replayed to its
    /webhook exactly as Rasa sends them, one per question of the set."""
    domain, custom = _custom_actions(url)
    payloads = []
    for i, text in enumerate(messages):
        sender = f"action-time-{i}"
        post_json(f"{url}/webhooks/rest/webhook", {"sender": sender, "message": text})
        call = _recorded_call(url, sender, domain, custom)
        if call:
            payloads.append(call)
    if not payloads:
        return {"turns": 0, "errors": 0}
    return _replay(action_url, payloads, repeat)


def conversation_length(
    url: str, action_url: str, messages: list[str], events_target: int, turns: int
) -> dict[str, Any]:
    """Turn latency on a tracker of ``events_target`` events against fresh conversations,
    and the action server's share: its time on the long tracker against a fresh one."""
    sender = f"long-{int(time.time())}"
    sent = 0
    count = 0
    while True:
        post_json(
            f"{url}/webhooks/rest/webhook", {"sender": sender, "message": messages[sent % len(messages)]}
        )
        sent += 1
        if sent % 10 == 0:
            count = len(get_json(f"{url}/conversations/{sender}/tracker")["events"])
            if count >= events_target:
                break
    long_ms = sequential_turns(url, lambda i: sender, messages, turns)
    fresh_ms = sequential_turns(url, lambda i: f"fresh-{sender}-{i // 5}", messages, turns)
    long, fresh = summarise(long_ms), summarise(fresh_ms)
    domain, custom = _custom_actions(url)
    long_call = _recorded_call(url, sender, domain, custom)
    fresh_call = _recorded_call(url, f"fresh-{sender}-0", domain, custom)
    actions = {}
    if long_call and fresh_call:
        actions = {
            "action_long": _replay(action_url, [long_call], 30),
            "action_fresh": _replay(action_url, [fresh_call], 30),
            "events_in_long_call": len(long_call["tracker"]["events"]),
        }
    return actions | {
        "events_before": count,
        "turns_to_build": sent,
        "long": long,
        "fresh": fresh,
        "p50_ratio": round(long["p50_ms"] / fresh["p50_ms"], 2),
        "p95_ratio": round(long["p95_ms"] / fresh["p95_ms"], 2),
    }
