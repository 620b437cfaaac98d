"""The Rasa project as a whole: data validation, test stories with the trained model, the
held-out NLU evaluation, and lookup tables in step with the knowledge base."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from bot.launcher import BIN, ROOT, runtime_env
from knowledge.cli import LOOKUPS_FILE, render_lookups


def _rasa(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "rasa"), *args], cwd=ROOT, env=runtime_env(), capture_output=True, text=True, timeout=900
    )


def test_data_validate_gives_no_warnings():
    result = _rasa(
        "data",
        "validate",
        "--fail-on-warnings",
        "--data",
        "nlu_data",
        "--domain",
        "domain.yml",
        "--config",
        "config.yml",
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "UserWarning" not in output, output[-3000:]


def test_stories_pass_with_the_trained_model(trained_model, tmp_path: Path):
    stories = ROOT / "tests" / "stories"
    assert (
        sum(
            1
            for line in (stories / "test_stories.yml").read_text().splitlines()
            if line.strip().startswith("- story:")
        )
        >= 30
    )
    result = _rasa(
        "test",
        "core",
        "--model",
        str(trained_model),
        "--stories",
        str(stories),
        "--out",
        str(tmp_path),
        "--no-plot",
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    failed = (tmp_path / "failed_test_stories.yml").read_text()
    assert "story:" not in failed, failed[:5000]
    report = json.loads((tmp_path / "story_report.json").read_text())
    assert report["conversation_accuracy"]["accuracy"] == 1.0, report["conversation_accuracy"]


def test_nlu_evaluation_on_held_out_data():
    from benchmarks.nlu_eval import REPORTS, evaluate

    summary = evaluate()
    assert (REPORTS / "nlu_evaluation.json").exists()
    assert summary["test_examples"] >= 300
    assert summary["intent_accuracy"] >= 0.88, summary
    assert summary["entity_micro_f1"] >= 0.75, summary


def test_lookup_tables_match_the_seed_knowledge(seeded_kb):
    assert LOOKUPS_FILE.read_text(encoding="utf-8") == render_lookups(from_db=True), (
        "nlu_data/lookups.yml is out of date: run `python -m knowledge lookups`"
    )


def test_training_data_is_what_the_generator_produces():
    # nlu_vi.yml / nlu_en.yml are generated from tools/nlu_templates.yml: an edit to one
    # without the other would be lost at the next regeneration.
    result = subprocess.run(
        [str(BIN / "python"), "tools/nlu_generate.py", "--check"],
        cwd=ROOT,
        env=runtime_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-2000:]
