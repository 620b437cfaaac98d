"""Evaluate the NLU pipeline on a held-out part of the project's own training data.

    .venv/bin/python benchmarks/nlu_eval.py        # writes reports/nlu_evaluation.json

Every intent's examples are split 80/20 by a stable hash of the text, so the split is the
same on every machine and run. A model is trained on the 80 % (NLU only) and Rasa's own
evaluation runs on the 20 %; the summary (intent accuracy and macro F1, entity F1 per
entity and micro-averaged) is written next to Rasa's full reports.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rasa.shared.data import is_nlu_file  # noqa: E402
from rasa.shared.nlu.training_data.loading import load_data  # noqa: E402
from rasa.shared.nlu.training_data.training_data import TrainingData  # noqa: E402

from bot.launcher import BIN, runtime_env, train  # noqa: E402

REPORTS = ROOT / "reports"
HELD_OUT_PERCENT = 20


def _held_out(text: str) -> bool:
    return int(hashlib.sha256(text.encode()).hexdigest(), 16) % 100 < HELD_OUT_PERCENT


def split(data_dir: Path, out: Path) -> tuple[int, int]:
    # Only the NLU files: load_data() on the whole folder stumbles over rules.yml.
    parts = [load_data(str(f)) for f in sorted(data_dir.glob("*.yml")) if is_nlu_file(str(f))]
    data = parts[0].merge(*parts[1:])
    examples = [e for e in data.training_examples if e.get("intent")]
    train_part = [e for e in examples if not _held_out(e.get("text"))]
    test_part = [e for e in examples if _held_out(e.get("text"))]
    out.mkdir(parents=True, exist_ok=True)
    train_data = TrainingData(
        train_part, lookup_tables=data.lookup_tables, regex_features=data.regex_features
    )
    (out / "train").mkdir(exist_ok=True)
    (out / "train" / "nlu.yml").write_text(train_data.nlu_as_yaml(), encoding="utf-8")
    (out / "test.yml").write_text(TrainingData(test_part).nlu_as_yaml(), encoding="utf-8")
    return len(train_part), len(test_part)


def evaluate(report_dir: Path = REPORTS) -> dict:
    report_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        n_train, n_test = split(ROOT / "nlu_data", work)
        started = time.monotonic()
        model = train(work / "models", "nlu-eval", data=[work / "train"], nlu_only=True)
        train_seconds = time.monotonic() - started
        subprocess.run(
            [
                str(BIN / "rasa"),
                "test",
                "nlu",
                "--model",
                str(model),
                "--nlu",
                str(work / "test.yml"),
                "--out",
                str(report_dir / "rasa"),
                "--no-plot",
            ],
            cwd=ROOT,
            env=runtime_env(),
            check=True,
        )
    intents = json.loads((report_dir / "rasa" / "intent_report.json").read_text())
    entities_path = report_dir / "rasa" / "CRFEntityExtractor_report.json"
    entities = json.loads(entities_path.read_text()) if entities_path.exists() else {}
    summary = {
        "train_examples": n_train,
        "test_examples": n_test,
        "train_seconds": round(train_seconds, 1),
        "intent_accuracy": round(intents["accuracy"], 4),
        "intent_macro_f1": round(intents["macro avg"]["f1-score"], 4),
        "entity_micro_f1": round(entities.get("micro avg", {}).get("f1-score", 0.0), 4),
        "entity_f1": {
            name: round(v["f1-score"], 4)
            for name, v in entities.items()
            if isinstance(v, dict)
            and name not in {"micro avg", "macro avg", "weighted avg", "accuracy"}
            and "f1-score" in v
        },
    }
    (report_dir / "nlu_evaluation.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    return summary


if __name__ == "__main__":
    print(json.dumps(evaluate(), indent=2, ensure_ascii=False))
