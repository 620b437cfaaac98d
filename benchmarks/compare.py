"""Side-by-side benchmark (issue #5): a plain `rasa init` assistant of the same Rasa version
against ours on its embedded defaults, on the same machine, one after the other.

    make bench-compare            # or: .venv/bin/python benchmarks/compare.py [--quick]

For both: training time (empty Rasa cache), cold start to first answer, turn latency
p50/p95/p99 over the REST channel at 1, 10 and 50 closed-loop senders (Locust), throughput,
an open-loop run of Poisson arrivals, NLU parse time, resident memory of every process.
For ours also: action time alone, latency against knowledge-base size (generated places)
and against conversation length. Writes benchmarks/results/compare.json (summary),
compare_raw.json (every latency), compare.md and compare_*.png. About 8 minutes on the
2-core machine; --quick is a smoke run of about 5 minutes (6 s levels, no timing of our
training, 1k and 5k places). Locust runs in its own venv, benchmarks/.venv, made on first
use from benchmarks/requirements-load.txt.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import charts  # noqa: E402
from benchmarks.kb_scale import add_places  # noqa: E402
from benchmarks.measure import (  # noqa: E402
    REFERENCE_MESSAGES,
    action_time,
    conversation_length,
    ensure_load_venv,
    locust_run,
    nlu_parse,
    our_messages,
    sequential_turns,
)
from benchmarks.report import markdown  # noqa: E402
from benchmarks.servers import Ours, Reference  # noqa: E402
from benchmarks.stats import summarise  # noqa: E402
from bot.launcher import ensure_model, model_fingerprint, runtime_env, train  # noqa: E402
from bot.text_normalise import fold  # noqa: E402
from knowledge.db import new_session  # noqa: E402
from knowledge.migrate import upgrade  # noqa: E402
from knowledge.seed import read_seed, seed  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"


def settings(quick: bool) -> dict[str, Any]:
    if quick:
        return {
            "levels": [1, 10, 50],
            "seconds": 6,
            "open_seconds": 8,
            "kb_sizes": [1000, 5000],
            "kb_turns": 30,
            "events": 100,
            "conv_turns": 20,
            "repeat": 40,
            "train": False,
        }
    return {
        "levels": [1, 10, 50],
        "seconds": 30,
        "open_seconds": 45,
        "kb_sizes": [1000, 10_000, 100_000],
        "kb_turns": 120,
        "events": 500,
        "conv_turns": 60,
        "repeat": 200,
        "train": True,
    }


OPEN_RATE = 20.0  # turns per second, the open-loop target
OPEN_USERS = 60  # 3 s mean gap per user: enough idle users for arrivals to stay Poisson


def load_levels(url: str, messages: list[str], cfg: dict, raw: dict) -> tuple[dict, dict]:
    # Every message once before measuring (not counted): the first parse of a new input
    # shape and the first query of each kind are start-up costs, not turn latency.
    sequential_turns(url, lambda i: f"warmup-{i // 20}", messages, len(messages))
    closed = {}
    for users in cfg["levels"]:
        run = locust_run(url, messages, users, cfg["seconds"])
        raw[str(users)] = run.pop("latencies_ms")
        closed[str(users)] = run
        print(
            f"  {users:>3} senders: {run.get('p50_ms')} / {run.get('p95_ms')} / {run.get('p99_ms')} ms, "
            f"{run.get('turns_per_s')} turns/s, {run['errors']} errors",
            flush=True,
        )
    run = locust_run(url, messages, OPEN_USERS, cfg["open_seconds"], open_rate=OPEN_RATE)
    raw["open"] = run.pop("latencies_ms")
    print(
        f"  open loop {OPEN_RATE:g}/s: p95 {run.get('p95_ms')} ms, {run.get('turns_per_s')} turns/s, "
        f"{run['errors']} errors",
        flush=True,
    )
    return closed, run


def saturation(closed: dict) -> float | None:
    rates = [r["turns_per_s"] for r in closed.values() if r.get("turns_per_s")]
    return max(rates) if rates else None


def bench_reference(work: Path, cfg: dict, raw: dict) -> dict:
    print("reference: rasa init (trains the moodbot)…", flush=True)
    ref = Reference(work / "reference")
    out: dict[str, Any] = {"training_seconds": round(ref.init_and_train(), 1)}
    out["cold_start_seconds"] = round(ref.start(), 1)
    try:
        out["closed"], out["open"] = load_levels(ref.url, REFERENCE_MESSAGES, cfg, raw)
        out["saturation_turns_per_s"] = saturation(out["closed"])
        out["nlu_parse"] = nlu_parse(ref.url, REFERENCE_MESSAGES, cfg["repeat"])
        out["memory"] = ref.memory()
    finally:
        ref.stop()
    return out


def seeded_base(path: Path, generated: int = 0) -> str:
    url = f"sqlite:///{path}"
    upgrade(url)
    with new_session(url) as session, session.begin():
        seed(session, read_seed())
    if generated:
        add_places(url, generated)
    return url


def measure_training(work: Path) -> tuple[float, Path]:
    """A full training of our model from scratch (empty Rasa cache), as foundation.py does;
    the seconds and the model, which then serves (it is the model of the current inputs)."""
    env = runtime_env() | {"RASA_CACHE_DIRECTORY": str(work / "ours-cache")}
    started = time.monotonic()
    model = train(work / "ours-models", f"bench-{model_fingerprint()}", env=env)
    return time.monotonic() - started, model


def kb_scale(ours: Ours, work: Path, cfg: dict) -> dict:
    """One sender, turns about real seed places and about generated ones, on bases of each
    size; the action server restarts on each base (the Rasa server keeps running)."""
    seed_questions = [
        "Cầu Rồng ở đâu?",
        "chua linh ung bai but o dau",
        "vé bà nà hills bao nhiêu tiền",
        "Chợ Hàn mấy giờ đóng cửa?",
        "bao tang dieu khac cham may gio mo cua",
    ]
    runs = {}
    for size in cfg["kb_sizes"]:
        started = time.monotonic()
        url = seeded_base(work / f"kb-{size}.db")
        rows = add_places(url, size)
        built = time.monotonic() - started
        ours.restart_actions(url)
        picked = random.Random(size).sample(rows, 20)
        generated = [f"{r['name_vi']} ở đâu" for r in picked[:10]] + [
            f"{fold(r['name_vi'])} may gio mo cua" for r in picked[10:]
        ]
        messages = [q for pair in zip(seed_questions * 4, generated, strict=True) for q in pair]
        first = sequential_turns(ours.url, lambda i, s=size: f"kb-{s}-first", messages, 1)[0]
        sequential_turns(ours.url, lambda i, s=size: f"kb-{s}-warm", messages, 10)
        ms = sequential_turns(ours.url, lambda i, s=size: f"kb-{s}-{i // 10}", messages, cfg["kb_turns"])
        runs[str(size)] = summarise(ms) | {
            "first_turn_ms": round(first, 1),
            "base_build_s": round(built, 1),
            "action_rss": ours.memory()["actions"],
        }
        print(
            f"  {size:>7} places: p50 {runs[str(size)]['p50_ms']} ms, p95 {runs[str(size)]['p95_ms']} ms, "
            f"first turn {first:.0f} ms",
            flush=True,
        )
    lo, hi = runs[str(cfg["kb_sizes"][0])], runs[str(cfg["kb_sizes"][-1])]
    return {
        "sizes": cfg["kb_sizes"],
        "runs": runs,
        "p95_ratio_100k_1k": round(hi["p95_ms"] / lo["p95_ms"], 2),
        "p50_ratio": round(hi["p50_ms"] / lo["p50_ms"], 2),
    }


def bench_ours(work: Path, cfg: dict, raw: dict) -> dict:
    out: dict[str, Any] = {}
    if cfg["train"]:
        print("ours: full training with an empty cache…", flush=True)
        seconds, model = measure_training(work)
        out["training_seconds"] = round(seconds, 1)
    else:
        model = ensure_model()
    from tests.e2e.scoring import load_questions

    env = {
        "DATABASE_URL": seeded_base(work / "knowledge.db"),
        "ASSISTANT_TODAY": load_questions().today.isoformat(),
    }
    ours = Ours(model, work / "ours", env)
    print("ours: starting action server, Rasa server and admin…", flush=True)
    out["cold_start_seconds"] = round(ours.start(), 1)
    messages = our_messages()
    try:
        out["closed"], out["open"] = load_levels(ours.url, messages, cfg, raw)
        out["saturation_turns_per_s"] = saturation(out["closed"])
        out["memory"] = ours.memory()
        out["nlu_parse"] = nlu_parse(ours.url, messages, cfg["repeat"])
        out["action_time"] = action_time(ours.url, ours.action_url, messages, cfg["repeat"])
        print(
            f"  NLU parse p50 {out['nlu_parse']['p50_ms']} ms; "
            f"action p50 {out['action_time'].get('p50_ms')} ms",
            flush=True,
        )
        out["conversation_length"] = conversation_length(
            ours.url, ours.action_url, messages, cfg["events"], cfg["conv_turns"]
        )
        print(f"  long conversation p95 ratio {out['conversation_length']['p95_ratio']}", flush=True)
        out["kb_scale"] = kb_scale(ours, work, cfg)
    finally:
        ours.stop()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="short smoke run (about 5 minutes)")
    parser.add_argument("--skip-training", action="store_true", help="do not time our full training")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    cfg = settings(args.quick)
    if args.skip_training:
        cfg["train"] = False
    started = time.monotonic()
    ensure_load_venv()
    result: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "rasa": version("rasa")},
        "quick": args.quick,
        "levels": cfg["levels"],
        "settings": cfg,
        "notes": [
            "Closed loop: N Locust users each send the next turn as soon as the reply arrives; "
            f"{cfg['seconds']} s per level after a 1 s ramp.",
            f"Open loop: {OPEN_USERS} users, each a Poisson process of {OPEN_RATE:g}/{OPEN_USERS} turns/s "
            "on an absolute schedule (a slow reply does not delay later arrivals), together Poisson arrivals "
            f"of {OPEN_RATE:g} turns/s. Locust's constant_throughput paces evenly, which is not Poisson.",
            "The reference keeps rasa init's own endpoints.yml (in-memory tracker store); ours writes every "
            "turn to the SQL tracker store on SQLite, as `make run` does.",
            "NLU parse time is POST /model/parse on the running server (one loopback HTTP round trip "
            "included); both servers run with --enable-api for it.",
        ],
    }
    raw: dict[str, dict] = {"reference": {}, "ours": {}}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        result["reference"] = bench_reference(work, cfg, raw["reference"])
        result["ours"] = bench_ours(work, cfg, raw["ours"])
    result["total_seconds"] = round(time.monotonic() - started, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "compare.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    (args.out / "compare_raw.json").write_text(json.dumps(raw) + "\n")
    charts.draw_all(result, raw, args.out)
    text = markdown(result)
    (args.out / "compare.md").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
