"""PNG charts of the side-by-side benchmark (matplotlib, headless Agg backend)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def _cdf(ax, values: list[float], label: str, style: str) -> None:
    ordered = sorted(values)
    if not ordered:
        return
    n = len(ordered)
    ax.plot(ordered, [(i + 1) / n for i in range(n)], style, label=label)


def latency_distributions(result: dict, raw: dict, out: Path) -> Path:
    """CDF of turn latency at each concurrency level, reference dashed, ours solid."""
    fig, ax = plt.subplots(figsize=(8, 5))
    colours = ["tab:blue", "tab:orange", "tab:green", "tab:red"]
    for i, users in enumerate(result.get("levels", [])):
        for who, style in (("reference", "--"), ("ours", "-")):
            values = raw.get(who, {}).get(str(users), [])
            _cdf(ax, values, f"{who}, {users} sender(s)", style)
            ax.lines[-1].set_color(colours[i % len(colours)]) if values else None
    ax.set_xscale("log")
    ax.set_xlabel("turn latency (ms, log scale)")
    ax.set_ylabel("fraction of turns")
    ax.set_title("Turn latency over REST, closed loop")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    path = out / "compare_latency_cdf.png"
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def concurrency(result: dict, out: Path) -> Path:
    """p50/p95 latency and throughput against the number of concurrent senders."""
    levels = result.get("levels", [])
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    for who, style in (("reference", "--o"), ("ours", "-s")):
        closed = result.get(who, {}).get("closed", {})
        xs = [u for u in levels if str(u) in closed]
        for stat in ("p50_ms", "p95_ms"):
            left.plot(xs, [closed[str(u)][stat] for u in xs], style, label=f"{who} {stat[:3]}")
        right.plot(xs, [closed[str(u)]["turns_per_s"] for u in xs], style, label=who)
    left.set_xlabel("concurrent senders")
    left.set_ylabel("turn latency (ms)")
    left.set_yscale("log")
    left.legend(fontsize=8)
    left.grid(True, alpha=0.3)
    right.set_xlabel("concurrent senders")
    right.set_ylabel("turns per second")
    right.legend(fontsize=8)
    right.grid(True, alpha=0.3)
    fig.suptitle("Latency and throughput against concurrency")
    path = out / "compare_concurrency.png"
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def kb_size(result: dict, out: Path) -> Path | None:
    kb = result.get("ours", {}).get("kb_scale")
    if not kb:
        return None
    sizes = kb["sizes"]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for stat, style in (("p50_ms", "-o"), ("p95_ms", "-s"), ("p99_ms", ":^")):
        ax.plot(sizes, [kb["runs"][str(s)][stat] for s in sizes], style, label=stat[:3])
    ax.set_xscale("log")
    ax.set_xlabel("generated places in the knowledge base (log scale)")
    ax.set_ylabel("turn latency, one sender (ms)")
    ax.set_title("Our turn latency against knowledge-base size")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    path = out / "compare_kb_size.png"
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def draw_all(result: dict, raw: dict, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = [latency_distributions(result, raw, out), concurrency(result, out), kb_size(result, out)]
    return [p for p in paths if p is not None]
