"""Foundation benchmark: training time and memory, end-to-end answer correctness, and turn
latency with one sender.

    make bench        # or: .venv/bin/python benchmarks/foundation.py [--skip-training]

Writes benchmarks/results/foundation.json and prints a Markdown summary. Targets (issue
#2): full training under 3 minutes, correctness at least 95 %, one-sender turn p95 under
150 ms (REST request to reply, including the action server and the database).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.launcher import ensure_model, model_fingerprint, runtime_env, train  # noqa: E402
from knowledge.db import new_session  # noqa: E402
from knowledge.migrate import upgrade  # noqa: E402
from knowledge.seed import read_seed, seed  # noqa: E402
from tests.e2e.scoring import check, load_questions  # noqa: E402
from tests.e2e.servers import Assistant  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
LATENCY_TURNS = 300
WARMUP_TURNS = 20
TURNS_PER_CONVERSATION = 20


def measure_training(work: Path) -> dict:
    """A full training from scratch (no cached model), wall time and peak memory."""
    # An empty training cache: Rasa would otherwise restore unchanged components from
    # .rasa/cache and the number would not be a full training.
    env = runtime_env() | {"RASA_CACHE_DIRECTORY": str(work / "rasa-cache")}
    started = time.monotonic()
    train(work / "models", f"bench-{model_fingerprint()}", env=env)
    seconds = time.monotonic() - started
    # ru_maxrss of finished children is in KiB on Linux: the largest `rasa train` process.
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"seconds": round(seconds, 1), "peak_rss_mib": round(peak_mib)}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def measure_answers(assistant: Assistant, url: str) -> dict:
    questions = load_questions()
    wrong = []
    correct = 0
    with new_session(url) as session:
        for conversation in questions.conversations:
            sender = f"bench-{uuid.uuid4().hex[:8]}"
            for turn in conversation:
                problems = check(turn, assistant.ask(sender, turn["say"]), session, questions.today)
                if problems:
                    wrong.append({"say": turn["say"], "problems": problems})
                else:
                    correct += 1
    return {
        "questions": questions.turns,
        "correct": correct,
        "correctness": round(correct / questions.turns, 4),
        "wrong": wrong,
    }


def measure_latency(assistant: Assistant) -> dict:
    """One sender at a time, a new turn as soon as the previous reply arrives; the turns
    cycle through the question set so every action and query is exercised. A visitor's
    conversation is a few dozen turns, so a new conversation starts every
    ``TURNS_PER_CONVERSATION`` turns (how latency grows with a long tracker is issue #5's
    benchmark)."""
    questions = [t["say"] for c in load_questions().conversations for t in c]
    for text in questions[:WARMUP_TURNS]:
        assistant.ask("latency-warmup", text)
    timings = []
    for i in range(LATENCY_TURNS):
        sender = f"latency-{i // TURNS_PER_CONVERSATION}"
        started = time.perf_counter()
        assistant.ask(sender, questions[i % len(questions)])
        timings.append((time.perf_counter() - started) * 1000)
    return {
        "turns": LATENCY_TURNS,
        "p50_ms": round(percentile(timings, 50), 1),
        "p95_ms": round(percentile(timings, 95), 1),
        "p99_ms": round(percentile(timings, 99), 1),
        "mean_ms": round(statistics.fmean(timings), 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--skip-training", action="store_true", help="do not time a full training")
    args = parser.parse_args()
    result: dict = {"machine": {"cpus": __import__("os").cpu_count(), "python": platform.python_version()}}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if not args.skip_training:
            result["training"] = measure_training(work)
        model = ensure_model()
        url = f"sqlite:///{work / 'knowledge.db'}"
        upgrade(url)
        with new_session(url) as session:
            seed(session, read_seed())
            session.commit()
        env = {"DATABASE_URL": url, "ASSISTANT_TODAY": load_questions().today.isoformat()}
        assistant = Assistant(model, work, env)
        started = time.monotonic()
        assistant.start()
        result["cold_start_seconds"] = round(time.monotonic() - started, 1)
        try:
            result["answers"] = measure_answers(assistant, url)
            result["latency_one_sender"] = measure_latency(assistant)
        finally:
            assistant.stop()
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "foundation.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(summary(result))
    return 0


def summary(result: dict) -> str:
    rows = []
    if "training" in result:
        t = result["training"]
        rows.append(f"| full training | {t['seconds']} s, peak {t['peak_rss_mib']} MiB | < 180 s |")
    a = result["answers"]
    rows.append(f"| answer correctness | {a['correct']}/{a['questions']} = {a['correctness']:.1%} | ≥ 95 % |")
    lat = result["latency_one_sender"]
    rows.append(
        f"| turn latency, one sender | p50 {lat['p50_ms']} ms, p95 {lat['p95_ms']} ms, "
        f"p99 {lat['p99_ms']} ms | p95 < 150 ms |"
    )
    rows.append(f"| cold start to ready | {result['cold_start_seconds']} s | |")
    return "| what | measured | target |\n| --- | --- | --- |\n" + "\n".join(rows)


if __name__ == "__main__":
    sys.exit(main())
