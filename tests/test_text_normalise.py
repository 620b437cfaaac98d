"""Unicode normalisation, tone placement, folding and teencode."""

from __future__ import annotations

import unicodedata

import pytest

from bot.text_normalise import (
    canonical_tones,
    expand_teencode,
    fold,
    nfc_with_offsets,
    normalise,
    search_key,
    strip_diacritics,
)


@pytest.mark.parametrize(
    "old, new",
    [("hoà", "hòa"), ("Hoà Vang", "Hòa Vang"), ("thuỷ", "thủy"), ("khoẻ", "khỏe"), ("HOÀ", "HÒA")],
)
def test_old_and_new_tone_placement_meet(old, new):
    assert canonical_tones(old) == canonical_tones(new) == new


@pytest.mark.parametrize(
    "word",
    ["hoàng", "ngoài", "quý", "giá", "gì", "Trường", "Nẵng", "khuya", "thuở", "Cộng Café", "José", "résumé"],
)
def test_words_already_canonical_or_foreign_are_unchanged(word):
    assert canonical_tones(word) == word


def test_nfd_input_becomes_nfc():
    nfd = unicodedata.normalize("NFD", "Bảo tàng Điêu khắc Chăm")
    assert normalise(nfd) == "Bảo tàng Điêu khắc Chăm"


def test_offsets_map_back_into_the_nfd_original():
    original = unicodedata.normalize("NFD", "Cầu Rồng ở đâu?")
    normalised, offsets = nfc_with_offsets(original)
    assert normalised == "Cầu Rồng ở đâu?"
    assert len(offsets) == len(normalised) + 1 and offsets[-1] == len(original)
    start, end = offsets[4], offsets[8]  # "Rồng" in the normalised text
    assert unicodedata.normalize("NFC", original[start:end]) == "Rồng"


@pytest.mark.parametrize(
    "text, folded",
    [("Đà Nẵng", "da nang"), ("Ðà Nẵng", "da nang"), ("NGŨ HÀNH SƠN", "ngu hanh son"), ("Chăm", "cham")],
)
def test_fold(text, folded):
    assert fold(text) == folded


def test_strip_diacritics_keeps_case_and_length():
    assert strip_diacritics("Bà Nà Hills") == "Ba Na Hills"
    assert len(strip_diacritics("Đường Hải Phòng")) == len("Đường Hải Phòng")


def test_teencode():
    assert expand_teencode("Ko dc j") == "không được gì"
    assert search_key("đi đn ntn") == "di da nang nhu the nao"
    assert search_key("ko_dc") == "khong duoc"


def test_search_key_ignores_spelling_differences():
    variants = [
        "Bảo tàng  Chăm!",
        "bao tang cham",
        "BẢO TÀNG CHĂM?",
        unicodedata.normalize("NFD", "bảo tàng chăm"),
    ]
    assert {search_key(v) for v in variants} == {"bao tang cham"}
