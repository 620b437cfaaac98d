"""The pure parts of the side-by-side benchmark (benchmarks/compare.py): percentiles, the
Poisson arrival schedule, the synthetic places and the Markdown summary. The benchmark
itself is not run here (it takes minutes)."""

from __future__ import annotations

import random
import statistics

import pytest

from benchmarks.kb_scale import LAT_RANGE, LON_RANGE, add_places, generate_places
from benchmarks.report import markdown, targets
from benchmarks.stats import PoissonPacer, percentile, summarise
from bot.text_normalise import fold
from knowledge.db import new_session
from knowledge.migrate import upgrade
from knowledge.names import NameIndex


def test_percentile_interpolates_like_numpy() -> None:
    values = [float(v) for v in range(1, 101)]  # 1..100
    assert percentile(values, 50) == pytest.approx(50.5)
    assert percentile(values, 95) == pytest.approx(95.05)
    assert percentile(values, 99) == pytest.approx(99.01)
    assert percentile([7.0], 95) == 7.0
    assert percentile([3.0, 1.0, 2.0], 0) == 1.0 and percentile([3.0, 1.0, 2.0], 100) == 3.0
    with pytest.raises(ValueError):
        percentile([], 50)


def test_summarise_counts_turns_errors_and_rate() -> None:
    out = summarise([10.0, 20.0, 30.0, 40.0], errors=2, seconds=2.0)
    assert out["turns"] == 4 and out["errors"] == 2
    assert out["turns_per_s"] == 2.0
    assert out["p50_ms"] == 25.0 and out["max_ms"] == 40.0
    assert "p95_ms" not in summarise([], errors=3)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_poisson_pacer_gaps_are_exponential_with_the_given_rate() -> None:
    clock = FakeClock()
    pacer = PoissonPacer(4.0, random.Random(1), clock)
    arrivals = []
    for _ in range(20_000):
        clock.now += pacer.wait()  # an instant reply: the sender sleeps until the next arrival
        arrivals.append(clock.now)
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:], strict=False)]
    assert statistics.fmean(gaps) == pytest.approx(0.25, rel=0.03)
    # Exponential: the standard deviation equals the mean (an even pacing would have ~0).
    assert statistics.pstdev(gaps) == pytest.approx(0.25, rel=0.05)


def test_poisson_pacer_keeps_an_absolute_schedule_after_a_slow_reply() -> None:
    clock = FakeClock()
    pacer = PoissonPacer(1.0, random.Random(2), clock)
    first = pacer.next_at
    clock.now = first + 1000.0  # a reply far slower than any gap
    assert pacer.wait() == 0.0  # late: send at once, no extra sleep
    # The schedule moved on by one gap from the previous arrival, not from "now".
    assert pacer.next_at < clock.now
    with pytest.raises(ValueError):
        PoissonPacer(0)


def test_generated_places_are_unique_vietnamese_and_around_da_nang() -> None:
    rows = list(generate_places(3000, seed=7))
    assert len({r["slug"] for r in rows}) == 3000
    assert len({r["name_vi"] for r in rows}) == 3000
    assert all(
        LAT_RANGE[0] <= r["lat"] <= LAT_RANGE[1] and LON_RANGE[0] <= r["lon"] <= LON_RANGE[1] for r in rows
    )
    assert any(r["name_vi"] != fold(r["name_vi"]) for r in rows)  # diacritics kept
    assert all(r["search_text"].startswith(" ") and fold(r["name_vi"]) in r["search_text"] for r in rows[:50])
    assert [r["slug"] for r in generate_places(5, seed=7)] == [r["slug"] for r in rows[:5]]  # deterministic


def test_generated_places_load_into_a_base_and_are_found_by_name(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'kb.db'}"
    upgrade(url)
    rows = add_places(url, 500)
    with new_session(url) as session:
        index = NameIndex.from_session(session)
        match = index.find(f"{fold(rows[123]['name_vi'])} o dau")
    assert match and match[0].exact and match[0].target is not None


def _result(**ours_over: object) -> dict:
    closed = {
        "1": {"p50_ms": 60.0, "p95_ms": 90.0, "p99_ms": 120.0, "turns_per_s": 15.0, "errors": 0},
        "50": {"p50_ms": 900.0, "p95_ms": 1500.0, "p99_ms": 1900.0, "turns_per_s": 40.0, "errors": 0},
    }
    ours = {
        "closed": closed,
        "open": {"p95_ms": 250.0, "errors": 0, "turns_per_s": 19.8},
        "training_seconds": 150.0,
        "cold_start_seconds": 20.0,
        "memory": {"rasa": {"rss_mib": 650.0}, "actions": {"rss_mib": 120.0}, "admin": {"rss_mib": 90.0}},
        "kb_scale": {
            "sizes": [1000, 100000],
            "p95_ratio_100k_1k": 1.1,
            "runs": {
                "1000": {"p50_ms": 50, "p95_ms": 80, "p99_ms": 90, "first_turn_ms": 300},
                "100000": {"p50_ms": 55, "p95_ms": 88, "p99_ms": 99, "first_turn_ms": 900},
            },
        },
    }
    ours |= ours_over
    ref = {"closed": {"50": {"turns_per_s": 30.0}}, "memory": {"rasa": {"rss_mib": 600.0}}}
    return {"levels": [1, 50], "machine": {"cpus": 2}, "reference": ref, "ours": ours, "total_seconds": 700}


def test_targets_are_judged_against_the_issue_bars() -> None:
    met = {t["what"]: t["met"] for t in targets(_result())}
    assert all(met.values()), met
    slow = {t["what"]: t["met"] for t in targets(_result(open={"p95_ms": 250.0, "errors": 1}))}
    assert slow["open loop 20 turns/s Poisson: p95, errors"] is False
    missing = {t["what"]: t["met"] for t in targets(_result(training_seconds=None))}
    assert missing["training"] is None


def test_markdown_has_the_side_by_side_table_and_kb_rows() -> None:
    text = markdown(_result())
    assert "| target | measured | bar | met |" in text
    assert "| 50 sender(s): turns/s | 30 | 40 |" in text
    assert "| 100,000 | 55 ms | 88 ms | 99 ms | 900 ms |" in text
    assert "❌" not in text and text.count("✅") == 8
    worse = markdown(
        _result(
            memory={"rasa": {"rss_mib": 900.0}, "actions": {"rss_mib": 250.0}, "admin": {"rss_mib": 90.0}}
        )
    )
    assert worse.count("❌") == 2


def test_the_fast_name_key_equals_search_key_on_every_name() -> None:
    """knowledge.names builds keys from memoised per-word keys so that an index of 100,000
    generated places builds in about half the time: it must give search_key's result."""
    from bot.text_normalise import search_key
    from knowledge.names import _name_key
    from knowledge.seed import read_seed
    from tests.e2e.scoring import load_questions

    seeded = read_seed()
    names = [
        str(v)
        for rows in seeded.values()
        for row in rows
        for field in ("name_vi", "name_en", "title_vi", "title_en", "aliases", "keywords")
        for v in (row.get(field) if isinstance(row.get(field), list) else [row.get(field)])
        if v
    ]
    names += [r["name_vi"] for r in generate_places(2000, seed=3)]
    names += [t["say"] for c in load_questions().conversations for t in c]
    names += ["Bảo tàng  Chăm!", "ko dc_ad", "  ", "-", "cau-rong  (Dragon)", "Hoà  Thuỷ", "ĐÀ NẴNG"]
    assert len(names) > 2500
    assert [_name_key(n) for n in names] == [search_key(n) for n in names]
