"""The Markdown summary of the side-by-side benchmark: reference against ours against the
issue's targets, from the result dictionary that compare.py writes as JSON."""

from __future__ import annotations

from typing import Any


def _get(result: dict, *path: Any) -> Any:
    node: Any = result
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "—"
    return f"{value:g}{unit}" if isinstance(value, (int, float)) else str(value)


def _mark(ok: bool | None) -> str:
    return "" if ok is None else (" ✅" if ok else " ❌")


def targets(result: dict) -> list[dict[str, Any]]:
    """Each target: what, measured value, the bar, and whether it is met (None: not measured)."""
    ours, ref = result.get("ours", {}), result.get("reference", {})
    out = []

    def add(what: str, value: Any, bar: str, ok: bool | None) -> None:
        out.append({"what": what, "measured": value, "target": bar, "met": ok})

    p95 = _get(ours, "closed", "1", "p95_ms")
    add("one sender p95", _fmt(p95, " ms"), "< 150 ms", None if p95 is None else p95 < 150)
    t_ours, t_ref = _get(ours, "closed", "50", "turns_per_s"), _get(ref, "closed", "50", "turns_per_s")
    ratio = round(t_ours / t_ref, 2) if t_ours and t_ref else None
    add(
        "throughput at 50 senders vs reference",
        _fmt(ratio, "×"),
        "≥ 1× (aim 2×)",
        None if ratio is None else ratio >= 1,
    )
    op95, oerr = _get(ours, "open", "p95_ms"), _get(ours, "open", "errors")
    add(
        "open loop 20 turns/s Poisson: p95, errors",
        f"{_fmt(op95, ' ms')}, {_fmt(oerr)}",
        "< 300 ms, 0 errors",
        None if op95 is None else op95 < 300 and oerr == 0,
    )
    kb = _get(ours, "kb_scale", "p95_ratio_100k_1k")
    add("latency 100k places / 1k places (p95)", _fmt(kb, "×"), "≤ 1.2×", None if kb is None else kb <= 1.2)
    tr = _get(ours, "training_seconds")
    add("training", _fmt(tr, " s"), "< 180 s", None if tr is None else tr < 180)
    cs = _get(ours, "cold_start_seconds")
    add("cold start to first answer", _fmt(cs, " s"), "< 30 s", None if cs is None else cs < 30)
    r_ours, r_ref = _get(ours, "memory", "rasa", "rss_mib"), _get(ref, "memory", "rasa", "rss_mib")
    mr = round(r_ours / r_ref, 2) if r_ours and r_ref else None
    add("Rasa server RSS vs reference", _fmt(mr, "×"), "≤ 1.3×", None if mr is None else mr <= 1.3)
    a, d = _get(ours, "memory", "actions", "rss_mib"), _get(ours, "memory", "admin", "rss_mib")
    both = round(a + d, 1) if a is not None and d is not None else None
    add(
        "action server + admin RSS",
        _fmt(both, " MiB"),
        "< 300 MB",
        None if both is None else both * 1.048576 < 300,
    )
    return out


def markdown(result: dict) -> str:
    ours, ref = result.get("ours", {}), result.get("reference", {})
    lines = ["# Side-by-side benchmark: plain `rasa init` assistant vs ours", ""]
    m = result.get("machine", {})
    lines.append(
        f"Machine: {m.get('cpus')} CPUs, Python {m.get('python')}, Rasa {m.get('rasa')}; "
        f"run took {_fmt(result.get('total_seconds'), ' s')}"
        f"{' (quick smoke run)' if result.get('quick') else ''}. "
        "The load generator (Locust) runs on the same cores as the servers."
    )
    lines += ["", "## Targets", "", "| target | measured | bar | met |", "| --- | --- | --- | --- |"]
    for t in targets(result):
        lines.append(f"| {t['what']} | {t['measured']} | {t['target']} |{_mark(t['met'])} |")
    lines += ["", "## Reference vs ours", "", "| measure | reference | ours |", "| --- | --- | --- |"]

    def row(name: str, *path: Any, unit: str = "") -> None:
        lines.append(f"| {name} | {_fmt(_get(ref, *path), unit)} | {_fmt(_get(ours, *path), unit)} |")

    for users in result.get("levels", []):
        key = str(users)
        for stat in ("p50_ms", "p95_ms", "p99_ms"):
            row(f"{users} sender(s): {stat[:3]}", "closed", key, stat, unit=" ms")
        row(f"{users} sender(s): turns/s", "closed", key, "turns_per_s")
        row(f"{users} sender(s): errors", "closed", key, "errors")
        row(f"{users} sender(s): turns answered with no message", "closed", key, "empty_replies")
    row("throughput at saturation (best level), turns/s", "saturation_turns_per_s")
    row("open loop Poisson: p95", "open", "p95_ms", unit=" ms")
    row("open loop Poisson: achieved turns/s", "open", "turns_per_s")
    row("open loop Poisson: errors", "open", "errors")
    row("training", "training_seconds", unit=" s")
    row("cold start to first answer", "cold_start_seconds", unit=" s")
    row("NLU parse alone (HTTP /model/parse) p50", "nlu_parse", "p50_ms", unit=" ms")
    row("NLU parse alone p95", "nlu_parse", "p95_ms", unit=" ms")
    for proc in ("rasa", "actions", "admin"):
        row(f"RSS {proc} (after load)", "memory", proc, "rss_mib", unit=" MiB")
        row(f"peak RSS {proc}", "memory", proc, "peak_rss_mib", unit=" MiB")
    lines += ["", "## Ours only", ""]
    act = ours.get("action_time")
    if act:
        lines.append(
            f"- Action server alone (/webhook with recorded trackers): p50 {act.get('p50_ms')} ms, "
            f"p95 {act.get('p95_ms')} ms over {act.get('turns')} calls."
        )
    kb = ours.get("kb_scale")
    if kb:
        lines += [
            "",
            "| places in the base | p50 | p95 | p99 | first turn after restart |",
            "| --- | --- | --- | --- | --- |",
        ]
        for size in kb.get("sizes", []):
            s = kb["runs"][str(size)]
            lines.append(
                f"| {size:,} | {s['p50_ms']} ms | {s['p95_ms']} ms | {s['p99_ms']} ms | "
                f"{s.get('first_turn_ms')} ms |"
            )
        lines.append(f"\np95 ratio largest/smallest: {kb.get('p95_ratio_100k_1k')}×")
    conv = ours.get("conversation_length")
    if conv:
        lines.append(
            f"\n- Conversation length: tracker of {conv['events_before']} events: p50 "
            f"{conv['long']['p50_ms']} ms / p95 {conv['long']['p95_ms']} ms; fresh conversations: "
            f"p50 {conv['fresh']['p50_ms']} ms / p95 {conv['fresh']['p95_ms']} ms "
            f"(ratio p50 {conv['p50_ratio']}×, p95 {conv['p95_ratio']}×)."
        )
        if conv.get("action_long"):
            lines.append(
                f"- Of which the action server (same recorded calls replayed): "
                f"{conv['events_in_long_call']} events p50 {conv['action_long']['p50_ms']} ms, "
                f"fresh p50 {conv['action_fresh']['p50_ms']} ms."
            )
    if result.get("notes"):
        lines += ["", "## Notes", ""] + [f"- {n}" for n in result["notes"]]
    return "\n".join(lines) + "\n"
