"""Tests for bot.tokenizer.VietnameseTokenizer (no model training needed)."""

from __future__ import annotations

import time
import unicodedata
from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import (
    CountVectorsFeaturizer,
)
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

import bot.tokenizer as tokenizer_module
from bot.text_normalise import normalise
from bot.tokenizer import VietnameseTokenizer

MUSEUM = "Bảo tàng Điêu khắc Chăm ở đâu?"


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


@pytest.fixture(scope="module")
def tokenizer() -> VietnameseTokenizer:
    return VietnameseTokenizer(VietnameseTokenizer.get_default_config())


def tokenize(tokenizer: VietnameseTokenizer, text: str) -> list[Token]:
    tokens = tokenizer.tokenize(Message(data={TEXT: text}), TEXT)
    assert_invariants(text, tokens)
    return tokens


def assert_invariants(original: str, tokens: list[Token]) -> None:
    """Tokens are ordered, non-overlapping, inside the text, and point at their surface."""
    previous_end = 0
    for token in tokens:
        assert 0 <= previous_end <= token.start < token.end <= len(original), token
        surface = original[token.start : token.end]
        assert normalise(surface) == token.text, (surface, token.text)
        assert surface == surface.strip(), token
        assert token.lemma, token
        assert "\n" not in surface, token
        previous_end = token.end


def triples(tokens: list[Token]) -> list[tuple[str, int, int]]:
    return [(t.text, t.start, t.end) for t in tokens]


def texts(tokens: list[Token]) -> list[str]:
    return [t.text for t in tokens]


def lemmas(tokens: list[Token]) -> list[str]:
    return [t.lemma for t in tokens]


def syllables(tokens: list[Token]) -> list[str]:
    """What CountVectorsFeaturizer's word analyzer sees: lemmas joined, split into words."""
    return " ".join(lemmas(tokens)).split()


def test_default_config_has_all_base_keys() -> None:
    assert VietnameseTokenizer.get_default_config() == {
        "intent_tokenization_flag": False,
        "intent_split_symbol": "_",
        "token_pattern": None,
        "prefix_separator_symbol": None,
        "lowercase_for_segmentation": True,
        "dictionary_words_only": True,
    }


def test_multi_syllable_words_offsets_and_lemmas(tokenizer: VietnameseTokenizer) -> None:
    tokens = tokenize(tokenizer, MUSEUM)
    assert triples(tokens) == [
        ("Bảo tàng", 0, 8),
        ("Điêu khắc", 9, 18),
        ("Chăm", 19, 23),
        ("ở", 24, 25),
        ("đâu", 26, 29),
    ]
    assert lemmas(tokens) == ["bao tang", "dieu khac", "cham", "o", "dau"]


def test_punctuation_is_dropped(tokenizer: VietnameseTokenizer) -> None:
    text = "Xin chào!!! Cho hỏi, giá vé (người lớn) bao nhiêu?"
    tokens = tokenize(tokenizer, text)
    assert triples(tokens) == [
        ("Xin", 0, 3),
        ("chào", 4, 8),
        ("Cho", 12, 15),
        ("hỏi", 16, 19),
        ("giá", 21, 24),
        ("vé", 25, 27),
        ("người lớn", 29, 38),
        ("bao nhiêu", 40, 49),
    ]
    assert all(t.text[-1].isalnum() and t.text[0].isalnum() for t in tokens)


def test_abbreviations_lose_their_trailing_dot(tokenizer: VietnameseTokenizer) -> None:
    # pyvi keeps "Tp." / "ĐN." / "OK." as single pieces; an entity span must not end in "."
    tokens = tokenize(tokenizer, "Tp. Đà Nẵng có ĐN. OK.")
    assert triples(tokens) == [
        ("Tp", 0, 2),
        ("Đà", 4, 6),  # proper names are not in pyvi's dictionary: one token per syllable
        ("Nẵng", 7, 11),
        ("có", 12, 14),
        ("ĐN", 15, 17),
        ("OK", 19, 21),
    ]
    assert lemmas(tokens)[4] == "da nang"  # teencode "đn"


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "Ngày 15/8/2025 và 2/9 có gì?",
            [
                ("Ngày", 0, 4),
                ("15/8/2025", 5, 14),
                ("và", 15, 17),
                ("2/9", 18, 21),
                ("có", 22, 24),
                ("gì", 25, 27),
            ],
        ),
        ("lễ 2/9.", [("lễ", 0, 2), ("2/9", 3, 6)]),
        ("ngày 30/4-1/5", [("ngày", 0, 4), ("30/4", 5, 9), ("1/5", 10, 13)]),
        ("mở 7:30 - 17:00", [("mở", 0, 2), ("7:30", 3, 7), ("17:00", 10, 15)]),
        ("2025-08-15 hay 15-8-2025", [("2025-08-15", 0, 10), ("hay", 11, 14), ("15-8-2025", 15, 24)]),
    ],
)
def test_dates_and_times_are_single_tokens(
    tokenizer: VietnameseTokenizer, text: str, expected: list[tuple[str, int, int]]
) -> None:
    assert triples(tokenize(tokenizer, text)) == expected


def test_emoji_does_not_shift_offsets(tokenizer: VietnameseTokenizer) -> None:
    text = "Cầu Rồng 🐉 ở đâu"
    tokens = tokenize(tokenizer, text)
    assert texts(tokens) == ["Cầu", "Rồng", "ở", "đâu"]
    assert (tokens[2].start, tokens[2].end) == (11, 12)
    assert text[tokens[3].start : tokens[3].end] == "đâu"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Cầu Rồng🐉phun lửa", ["Cầu", "Rồng", "phun", "lửa"]),
        ("❤️👍🏽 tuyệt 👨‍👩‍👧", ["tuyệt"]),
        ("👍", ["👍"]),  # nothing but an emoji: kept, as WhitespaceTokenizer does
        (":) ???", [":)", "???"]),
    ],
)
def test_emoji_variants(tokenizer: VietnameseTokenizer, text: str, expected: list[str]) -> None:
    assert texts(tokenize(tokenizer, text)) == expected


def test_nfd_input_offsets_point_into_the_original(tokenizer: VietnameseTokenizer) -> None:
    original = nfd(MUSEUM)
    assert len(original) > len(MUSEUM)
    tokens = tokenize(tokenizer, original)
    assert texts(tokens) == ["Bảo tàng", "Điêu khắc", "Chăm", "ở", "đâu"]
    assert lemmas(tokens) == ["bao tang", "dieu khac", "cham", "o", "dau"]
    for token in tokens:
        assert unicodedata.normalize("NFC", original[token.start : token.end]) == token.text
    assert tokens[-1].end == len(original) - 1  # everything but the "?"
    assert tokens[1].start == len(nfd("Bảo tàng "))


def test_old_and_new_tone_placement_give_identical_tokens(
    tokenizer: VietnameseTokenizer,
) -> None:
    old = tokenize(tokenizer, "Khu du lịch Hoà Phú Thành ở Hoà Vang, nước thuỷ")
    new = tokenize(tokenizer, "Khu du lịch Hòa Phú Thành ở Hòa Vang, nước thủy")
    assert triples(old) == triples(new)
    assert lemmas(old) == lemmas(new)
    assert texts(old) == [
        "Khu",
        "du lịch",
        "Hòa",
        "Phú",
        "Thành",
        "ở",
        "Hòa",
        "Vang",
        "nước",
        "thủy",
    ]
    assert texts(tokenize(tokenizer, "Hoà Vang")) == texts(tokenize(tokenizer, "Hòa Vang"))
    assert lemmas(tokenize(tokenizer, "Hoà Vang")) == ["hoa", "vang"]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Thủy cung ở đâu", ["Thủy cung", "ở", "đâu"]),
        ("Thuỷ cung ở đâu", ["Thủy cung", "ở", "đâu"]),
        (nfd("Thuỷ cung ở đâu"), ["Thủy cung", "ở", "đâu"]),
        ("Hòa bình và sức khỏe", ["Hòa bình", "và", "sức khỏe"]),
        ("Hoà bình và sức khoẻ", ["Hòa bình", "và", "sức khỏe"]),
    ],
)
def test_pyvi_sees_its_own_tone_placement(
    tokenizer: VietnameseTokenizer, text: str, expected: list[str]
) -> None:
    """pyvi's dictionary spells "thuỷ", "hoà", "khoẻ"; the canonical text says "thủy"..."""
    assert texts(tokenize(tokenizer, text)) == expected


@pytest.mark.parametrize(
    "word, expected",
    [
        ("hòa", "hoà"),
        ("HÒA", "HOÀ"),
        ("thủy", "thuỷ"),
        ("Thủy", "Thuỷ"),
        ("khỏe", "khoẻ"),
        ("xòe", "xoè"),
        ("ủy", "uỷ"),
        ("tòa", "toà"),
        ("quý", "quý"),
        ("QUÝ", "QUÝ"),
        ("hoàng", "hoàng"),
        ("mùa", "mùa"),
        ("người", "người"),
        ("hoà", "hoà"),
        ("hoa", "hoa"),
    ],
)
def test_pyvi_tone_style(word: str, expected: str) -> None:
    assert tokenizer_module._pyvi_tone_style(word) == expected
    assert len(tokenizer_module._pyvi_tone_style(word)) == len(word)


@pytest.mark.parametrize(
    "variants",
    [
        ["Tôi muốn đi Ngũ Hành Sơn", "tôi muốn đi ngũ hành sơn", "TÔI MUỐN ĐI NGŨ HÀNH SƠN"],
        ["Where is the Dragon Bridge?", "where is the dragon bridge?", "WHERE IS THE DRAGON BRIDGE?"],
        ["Bãi biển Mỹ Khê có đẹp không", "bãi biển mỹ khê có đẹp không", "BÃI BIỂN MỸ KHÊ CÓ ĐẸP KHÔNG"],
    ],
)
def test_segmentation_ignores_case(tokenizer: VietnameseTokenizer, variants: list[str]) -> None:
    spans = [[(t.start, t.end) for t in tokenize(tokenizer, v)] for v in variants]
    assert spans[0] == spans[1] == spans[2]
    raw = VietnameseTokenizer(
        {
            **VietnameseTokenizer.get_default_config(),
            "lowercase_for_segmentation": False,
            "dictionary_words_only": False,
        }
    )
    raw_spans = [[(t.start, t.end) for t in tokenize(raw, v)] for v in variants]
    assert len({tuple(s) for s in raw_spans}) > 1  # what pyvi alone does with casing


def test_words_outside_pyvi_dictionary_are_split(
    monkeypatch: pytest.MonkeyPatch, tokenizer: VietnameseTokenizer
) -> None:
    # pyvi glues syllables at entity edges, e.g. "ve_deo hai van" or "the_hoan my hospital"
    text = "em muon biet ve deo hai van"
    monkeypatch.setattr(tokenizer_module, "ViTokenizer", _BrokenPyvi("em muon biet ve_deo hai_van"))
    assert texts(tokenize(tokenizer, text)) == ["em", "muon", "biet", "ve", "deo", "hai", "van"]
    monkeypatch.setattr(tokenizer_module, "ViTokenizer", _BrokenPyvi("bảo_tàng_chăm ở_đâu_đi"))
    assert texts(tokenize(tokenizer, "bảo tàng chăm ở đâu đi")) == ["bảo tàng", "chăm", "ở", "đâu", "đi"]


@pytest.mark.parametrize(
    "variants",
    [
        [MUSEUM, "bao tang dieu khac cham o dau", "BẢO TÀNG ĐIÊU KHẮC CHĂM Ở ĐÂU", nfd(MUSEUM)],
        [
            "mình ở khách sạn gần biển Mỹ Khê",
            "minh o khach san gan bien my khe",
            "MÌNH Ở KHÁCH SẠN GẦN BIỂN MỸ KHÊ",
            "mik o khach san gan bien my khe",
        ],
    ],
)
def test_spellings_share_syllable_features(tokenizer: VietnameseTokenizer, variants: list[str]) -> None:
    reference = syllables(tokenize(tokenizer, variants[0]))
    for variant in variants[1:]:
        other = syllables(tokenize(tokenizer, variant))
        shared = set(reference) & set(other)
        assert len(shared) >= len(set(reference)) - 1, (variant, other)
    assert syllables(tokenize(tokenizer, variants[1])) == reference


def test_diacritic_free_text_is_segmented_differently_but_featurised_identically(
    tmp_path: Path, tokenizer: VietnameseTokenizer
) -> None:
    """The reason lemmas use spaces: pyvi joins "Bảo_tàng" but not "bao tang", yet
    CountVectorsFeaturizer (word and char_wb) must give the same sentence features."""
    full = tokenize(tokenizer, MUSEUM)
    plain = tokenize(tokenizer, "bao tang dieu khac cham o dau")
    assert len(full) != len(plain)  # different segmentation ...
    assert syllables(full) == syllables(plain)  # ... same syllables

    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(GraphSchema({}), "test")
    train = [
        Message(data={TEXT: t, INTENT: "ask_location"})
        for t in [MUSEUM, "Cầu Rồng phun lửa mấy giờ?", "giá vé Bà Nà bao nhiêu"]
    ]
    for analyzer, ngram in (("word", 1), ("char_wb", 4)):
        featurizer = CountVectorsFeaturizer.create(
            {
                **CountVectorsFeaturizer.get_default_config(),
                "analyzer": analyzer,
                "min_ngram": 1,
                "max_ngram": ngram,
            },
            storage,
            Resource(f"cvf_{analyzer}"),
            context,
        )
        data = TrainingData(training_examples=[Message(data=dict(m.data)) for m in train])
        tokenizer.process_training_data(data)
        featurizer.train(data)
        messages = [
            Message(data={TEXT: t})
            for t in [MUSEUM, "bao tang dieu khac cham o dau", "BẢO TÀNG ĐIÊU KHẮC CHĂM Ở ĐÂU"]
        ]
        tokenizer.process(messages)
        featurizer.process(messages)
        sentence = [m.get_sparse_features(TEXT)[1].features.toarray() for m in messages]
        assert sentence[0].sum() > 0
        assert (sentence[0] == sentence[1]).all(), analyzer
        assert (sentence[0] == sentence[2]).all(), analyzer


def test_teencode_lemmas(tokenizer: VietnameseTokenizer) -> None:
    assert lemmas(tokenize(tokenizer, "ko dc")) == ["khong", "duoc"]
    tokens = tokenize(tokenizer, "Mik muốn đi ĐN ko dc à")
    assert texts(tokens) == ["Mik", "muốn", "đi", "ĐN", "ko", "dc", "à"]
    assert lemmas(tokens) == ["minh", "muon", "di", "da nang", "khong", "duoc", "a"]


def test_capitals_keep_case_in_text_not_in_lemma(tokenizer: VietnameseTokenizer) -> None:
    tokens = tokenize(tokenizer, "BẢO TÀNG ĐIÊU KHẮC CHĂM Ở ĐÂU")
    assert texts(tokens) == ["BẢO TÀNG", "ĐIÊU KHẮC", "CHĂM", "Ở", "ĐÂU"]
    assert lemmas(tokens) == ["bao tang", "dieu khac", "cham", "o", "dau"]


def test_newlines_split_words(tokenizer: VietnameseTokenizer) -> None:
    assert triples(tokenize(tokenizer, "Bãi biển\n\nMỹ Khê")) == [
        ("Bãi", 0, 3),
        ("biển", 4, 8),
        ("Mỹ", 10, 12),
        ("Khê", 13, 16),
    ]
    assert triples(tokenize(tokenizer, "dòng 1\ndòng 2")) == [
        ("dòng", 0, 4),
        ("1", 5, 6),
        ("dòng", 7, 11),
        ("2", 12, 13),
    ]
    for token in tokenize(tokenizer, "Bảo\ntàng\r\nChăm\u2028ở đâu"):
        assert token.text in {"Bảo", "tàng", "Chăm", "ở", "đâu", "ở đâu"}


def test_multiple_spaces_and_tabs(tokenizer: VietnameseTokenizer) -> None:
    text = "  Bảo   tàng    Chăm  ở\tđâu  "
    tokens = tokenize(tokenizer, text)
    assert [text[t.start : t.end] for t in tokens] == ["Bảo   tàng", "Chăm", "ở", "đâu"]
    assert lemmas(tokens) == ["bao tang", "cham", "o", "dau"]  # spaces collapsed
    assert tokens[0].start == 2


@pytest.mark.parametrize("text", ["", " ", "\n\t  \n"])
def test_empty_input_gives_no_tokens(tokenizer: VietnameseTokenizer, text: str) -> None:
    assert tokenize(tokenizer, text) == []


def test_long_input_is_fast(tokenizer: VietnameseTokenizer) -> None:
    text = ("Bảo tàng Chăm ở đâu? Ngày 2/9 🐉 có bắn pháo hoa không\n" * 300)[:10_000]
    assert len(text) == 10_000
    tokenizer.tokenize_text("khởi động")  # warm-up
    started = time.perf_counter()
    tokens = tokenize(tokenizer, text)
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0, elapsed
    assert len(tokens) > 1500
    assert tokens[-1].end <= len(text)
    assert texts(tokens[:3]) == ["Bảo tàng", "Chăm", "ở"]


def test_long_nfd_and_symbol_input(tokenizer: VietnameseTokenizer) -> None:
    tokenize(tokenizer, nfd("Hoà Vang ở đâu? ") * 600)
    assert texts(tokenize(tokenizer, "🐉" * 10_000)) == ["🐉" * 10_000]


def test_typical_message_is_fast(tokenizer: VietnameseTokenizer) -> None:
    text = "Cho mình hỏi Bảo tàng Điêu khắc Chăm mở cửa mấy giờ vậy?"
    tokenizer.tokenize_text(text)
    runs = 200
    started = time.perf_counter()
    for _ in range(runs):
        tokenizer.tokenize(Message(data={TEXT: text}), TEXT)
    per_message = (time.perf_counter() - started) / runs
    assert per_message < 0.005, per_message  # ~0.5 ms measured; generous for slow CI


def test_english_sentence(tokenizer: VietnameseTokenizer) -> None:
    text = "Where is the Dragon Bridge? What time does it breathe fire?"
    tokens = tokenize(tokenizer, text)
    assert " ".join(texts(tokens)).split() == [
        "Where",
        "is",
        "the",
        "Dragon",
        "Bridge",
        "What",
        "time",
        "does",
        "it",
        "breathe",
        "fire",
    ]
    assert syllables(tokens)[:5] == ["where", "is", "the", "dragon", "bridge"]


@pytest.mark.parametrize(
    "text",
    [
        "q\u0301 ặ\u0301x",  # combining marks with no precomposed form
        "a_b __init__ c__d _",
        "email a.b@c.vn https://danang.gov.vn/a_b?q=1.",
        "giá 1.500.000đ hay 150k; 3,5 km",
        "\u200bzero\u200bwidth\ufeff",
        "Hội An\r\nhello\x0bworld",
        "ÀÁẢÃẠ àáảãạ",
    ],
)
def test_odd_input_keeps_invariants(tokenizer: VietnameseTokenizer, text: str) -> None:
    tokenize(tokenizer, text)
    tokenize(tokenizer, nfd(text))


class _BrokenPyvi:
    def __init__(self, output: str | None) -> None:
        self.output = output

    def tokenize(self, text: str) -> str:
        if self.output is None:
            raise RuntimeError("pyvi exploded")
        return self.output


@pytest.mark.parametrize(
    "pyvi_output",
    [None, "Bảo_tàng XYZ Chăm ở đâu", "Bảo_tàng", "Bảo tàng Điêu_khắc Chăm ở đâu ? thêm rác"],
)
def test_unalignable_pyvi_output_falls_back(
    monkeypatch: pytest.MonkeyPatch, tokenizer: VietnameseTokenizer, pyvi_output: str | None
) -> None:
    monkeypatch.setattr(tokenizer_module, "ViTokenizer", _BrokenPyvi(pyvi_output))
    original = nfd(MUSEUM)
    tokens = tokenize(tokenizer, original)
    assert syllables(tokens) == ["bao", "tang", "dieu", "khac", "cham", "o", "dau"]


def test_token_pattern_applies_to_normalised_text_with_original_offsets() -> None:
    config = {**VietnameseTokenizer.get_default_config(), "token_pattern": r"\w+"}
    tokenizer = VietnameseTokenizer(config)
    original = nfd("Bảo tàng Chăm")
    tokens = tokenize(tokenizer, original)
    assert texts(tokens) == ["Bảo", "tàng", "Chăm"]
    assert lemmas(tokens) == ["bao", "tang", "cham"]


@pytest.fixture
def graph_tokenizer(tmp_path: Path) -> VietnameseTokenizer:
    component = VietnameseTokenizer.create(
        {**VietnameseTokenizer.get_default_config(), "intent_tokenization_flag": True},
        LocalModelStorage(tmp_path),
        Resource("vietnamese_tokenizer"),
        ExecutionContext(GraphSchema({}), "test_model"),
    )
    assert isinstance(component, VietnameseTokenizer)
    return component


def test_graph_api_process_messages(graph_tokenizer: VietnameseTokenizer) -> None:
    messages = [Message(data={TEXT: nfd(MUSEUM)}), Message(data={TEXT: ""})]
    graph_tokenizer.process(messages)
    tokens = messages[0].get(TOKENS_NAMES[TEXT])
    assert texts(tokens) == ["Bảo tàng", "Điêu khắc", "Chăm", "ở", "đâu"]
    assert_invariants(messages[0].get(TEXT), tokens)
    assert messages[1].get(TOKENS_NAMES[TEXT]) == []


def test_graph_api_process_training_data(graph_tokenizer: VietnameseTokenizer) -> None:
    data = TrainingData(
        training_examples=[
            Message(data={TEXT: "Bảo tàng Chăm ở đâu?", INTENT: "ask_location"}),
            Message(data={TEXT: "giá vé 15/8/2025", INTENT: "ask_price"}),
        ]
    )
    graph_tokenizer.process_training_data(data)
    first, second = data.training_examples
    assert texts(first.get(TOKENS_NAMES[TEXT])) == ["Bảo tàng", "Chăm", "ở", "đâu"]
    assert texts(first.get(TOKENS_NAMES[INTENT])) == ["ask", "location"]
    assert texts(second.get(TOKENS_NAMES[TEXT])) == ["giá", "vé", "15/8/2025"]


def test_registered_with_the_default_recipe() -> None:
    registered = DefaultV1Recipe._from_registry("bot.tokenizer.VietnameseTokenizer")
    assert registered.clazz is VietnameseTokenizer
    assert DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER in registered.types
    assert registered.is_trainable is False
