"""Tests for bot.language.detect_language and the LanguageDetector NLU component."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from rasa.core.test import EvaluationStore, _clean_entity_results
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.test import (
    EntityEvaluationResult,
    align_entity_predictions,
    evaluate_entities,
)
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.language import detect_language
from bot.language_detector import LanguageDetector
from bot.tokenizer import VietnameseTokenizer


@pytest.mark.parametrize(
    "text, expected",
    [
        # the cases from the specification
        ("where is the dragon bridge", "en"),
        ("cau rong o dau", "vi"),
        ("ba na hills ve bao nhieu", "vi"),
        ("ba na hills ticket price", "en"),
        ("hello", "en"),
        ("hi", "en"),
        ("xin chao", "vi"),
        ("ok", "vi"),
        ("thanks", "en"),
        ("cam on", "vi"),
        # more
        ("Where is the Dragon Bridge?", "en"),
        ("How much is a ticket to Ba Na Hills?", "en"),
        ("What time does the dragon breathe fire?", "en"),
        ("is it open today", "en"),
        ("I'd like to go to My Khe beach", "en"),
        ("Thank you!", "en"),
        ("the nao", "vi"),  # thế nào: "the" alone is no evidence
        ("co the di bo khong", "vi"),
        ("may gio cau rong phun lua", "vi"),
        ("ko dc a", "vi"),
        ("hi ad", "vi"),
        ("hi em", "vi"),
        ("di an gi", "vi"),
        ("mua he o day co gi vui", "vi"),
        ("OK", "vi"),
        ("tour ba na", "vi"),  # loanwords and place names only: default
        ("", "vi"),
        ("   ", "vi"),
        ("🐉🐉", "vi"),
        ("123", "vi"),
        ("?", "vi"),
    ],
)
def test_detect_language(text: str, expected: str) -> None:
    assert detect_language(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "ăn",
        "bánh mì",
        "đi",
        "Đà",
        "cầu",
        "phố",
        "ơi",
        "thư",
        "cà phê",
        "ở đâu",
        "giá vé",
        "hello ạ",
        "where is the bridge ạ",
        "Cảm ơn",
        "thank you nhé ạ",
    ],
)
def test_any_vietnamese_letter_or_tone_means_vietnamese(text: str) -> None:
    assert detect_language(text) == "vi"
    assert detect_language(unicodedata.normalize("NFD", text)) == "vi"
    assert detect_language(text.upper()) == "vi"


@pytest.mark.parametrize("text", ["Where is Cầu Rồng?", "How far is Hội An from Đà Nẵng?"])
def test_pasted_vietnamese_place_names_do_not_make_english_vietnamese(text: str) -> None:
    assert detect_language(text) == "en"
    assert detect_language(unicodedata.normalize("NFD", text)) == "en"


@pytest.mark.parametrize("text", ["Cầu Rồng", "Đà Nẵng", "Bà Nà Hills", "Cầu Rồng ở đâu"])
def test_place_names_alone_stay_vietnamese(text: str) -> None:
    assert detect_language(text) == "vi"


# --- LanguageDetector component ------------------------------------------------------


@pytest.fixture
def detector(tmp_path: Path) -> LanguageDetector:
    return LanguageDetector.create(
        LanguageDetector.get_default_config(),
        LocalModelStorage(tmp_path),
        Resource("language_detector"),
        ExecutionContext(GraphSchema({}), "test_model"),
    )


def language_entities(message: Message) -> list:
    return [e for e in message.get(ENTITIES, []) if e["entity"] == "language"]


def test_detector_adds_language_entity(detector: LanguageDetector) -> None:
    messages = [
        Message(data={TEXT: "Cầu Rồng ở đâu?"}),
        Message(data={TEXT: "Where is the Dragon Bridge?"}),
        Message(data={TEXT: "ok"}),
    ]
    detector.process(messages)
    assert [m.get(ENTITIES) for m in messages] == [
        [{"entity": "language", "value": v, "start": 0, "end": 0, "extractor": "LanguageDetector"}]
        for v in ("vi", "en", "vi")
    ]
    # the entity is part of the parse result Rasa returns to the dialogue engine
    assert messages[1].as_dict(only_output_properties=True)[ENTITIES][0]["value"] == "en"


def test_detector_keeps_other_entities_and_is_idempotent(detector: LanguageDetector) -> None:
    place = {"entity": "place", "value": "Cầu Rồng", "start": 12, "end": 20}
    message = Message(data={TEXT: "Where is the Cầu Rồng?", ENTITIES: [place]})
    detector.process([message])
    detector.process([message])
    assert message.get(ENTITIES)[0] == place
    assert [e["value"] for e in language_entities(message)] == ["en"]
    assert len(message.get(ENTITIES)) == 2


def test_detector_skips_messages_without_text(detector: LanguageDetector) -> None:
    messages = [Message(data={TEXT: ""}), Message(data={TEXT: "  "}), Message(data={})]
    detector.process(messages)
    assert all(not m.get(ENTITIES) for m in messages)


def test_detector_registered_as_untrainable_entity_extractor() -> None:
    registered = DefaultV1Recipe._from_registry("bot.language_detector.LanguageDetector")
    assert registered.clazz is LanguageDetector
    assert DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR in registered.types
    assert registered.is_trainable is False


def _evaluation_result(detector: LanguageDetector) -> EntityEvaluationResult:
    text = "Bảo tàng Chăm ở đâu?"
    message = Message(data={TEXT: text})
    VietnameseTokenizer(VietnameseTokenizer.get_default_config()).process([message])
    detector.process([message])
    target = {"entity": "place", "value": "Bảo tàng Chăm", "start": 0, "end": 13}
    predicted = message.get(ENTITIES) + [{**target, "extractor": "DIETClassifier"}]
    return EntityEvaluationResult([target], predicted, message.get(TOKENS_NAMES[TEXT]), text)


@pytest.mark.filterwarnings("ignore:.*ill-defined:UserWarning")  # LanguageDetector: all "O"
def test_rasa_test_nlu_entity_evaluation_accepts_the_entity(
    detector: LanguageDetector,
) -> None:
    result = _evaluation_result(detector)
    aligned = align_entity_predictions(result, {"LanguageDetector", "DIETClassifier"})
    # the zero-width span at 0 labels no token
    assert aligned["extractor_labels"]["LanguageDetector"] == ["O", "O", "O", "O"]
    assert aligned["extractor_labels"]["DIETClassifier"] == ["place", "place", "O", "O"]
    report = evaluate_entities(
        [result], {"LanguageDetector", "DIETClassifier"}, None, False, False, True, True
    )
    assert report["DIETClassifier"]["f1_score"] == 1.0


def test_entity_without_offsets_would_break_rasa_test(detector: LanguageDetector) -> None:
    """Documents why the entity carries start/end at all."""
    result = _evaluation_result(detector)
    for entity in result.entity_predictions:
        if entity["entity"] == "language":
            del entity["start"], entity["end"]
    with pytest.raises(KeyError):
        align_entity_predictions(result, {"LanguageDetector", "DIETClassifier"})


def test_rasa_test_core_entity_comparison_accepts_the_entity(
    detector: LanguageDetector,
) -> None:
    message = Message(data={TEXT: "Cầu Rồng ở đâu?"})
    detector.process([message])
    store = EvaluationStore(
        entity_predictions=_clean_entity_results(message.get(TEXT), message.get(ENTITIES)),
        entity_targets=[],
    )
    targets, predictions = store.serialise()
    assert len(targets) == len(predictions) == 1
    # ...but a test story with user text cannot annotate it, so it shows as a mismatch
    assert store.check_prediction_target_mismatch()


@pytest.mark.parametrize(
    "text, expected",
    [
        # Diacritic-free Vietnamese made of words outside the word lists: judged by
        # syllable shape ("dien thoai benh vien" cannot be English).
        ("so dien thoai benh vien da nang", "vi"),
        ("nha thuoc gan day", "vi"),
        ("gioi thieu ve ngu hanh son", "vi"),
        ("thanks a lot", "en"),
        ("any good beaches?", "en"),
        ("do i need a visa", "en"),
        ("who won the world cup", "en"),
    ],
)
def test_syllable_shape_decides_unknown_words(text, expected):
    assert detect_language(text) == expected


def test_noise_stays_vietnamese():
    assert detect_language("asdf qwer zzz") == "vi"


def test_detector_ignores_the_names_found_by_earlier_extractors():
    from rasa.shared.nlu.training_data.message import Message

    from bot.language_detector import LanguageDetector

    text = "how do I get to Chùa Linh Ứng"
    message = Message(
        data={
            "text": text,
            "entities": [
                {
                    "entity": "place",
                    "value": "Chùa Linh Ứng",
                    "start": 16,
                    "end": 29,
                    "extractor": "CRFEntityExtractor",
                }
            ],
        }
    )
    LanguageDetector({}).process([message])
    language = [e for e in message.get("entities") if e["entity"] == "language"]
    assert [e["value"] for e in language] == ["en"]
    assert detect_language(text) == "vi"  # without the extractor's span it would be Vietnamese
