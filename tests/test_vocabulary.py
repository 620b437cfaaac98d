"""Words for kinds of places, themes, districts and dishes, with and without diacritics."""

from __future__ import annotations

import pytest

from knowledge.vocabulary import (
    asks_near,
    asks_where,
    find_categories,
    find_dishes,
    find_district,
    find_tags,
    is_kind_of_place,
)


@pytest.mark.parametrize(
    "text, category",
    [
        ("bãi biển nào đẹp", "beach"),
        ("bai bien nao dep", "beach"),
        ("chùa nào nổi tiếng", "pagoda"),
        ("chua nao noi tieng", "pagoda"),  # "chua" alone is also "chưa" (not yet)
        ("chợ đêm ở đâu", "market"),
        ("benh vien gan cau rong", "hospital"),
        ("đổi tiền ở đâu", "currency_exchange"),
        ("where can I change money", "currency_exchange"),
        ("ks gần biển", "hotel"),
        ("any good museums?", "museum"),
    ],
)
def test_categories(text, category):
    assert find_categories(text)[0] == category


@pytest.mark.parametrize("text", ["cho minh hoi cau rong o dau", "mo cua chua", "Tôi muốn hỏi"])
def test_everyday_words_are_not_kinds_of_places(text):
    assert find_categories(text) == []


def test_themes_districts_and_dishes():
    assert find_tags("trời mưa đi đâu") == ["rain"]
    assert find_tags("toi nay di dau") == ["evening"]
    assert find_tags("things to do with kids") == ["children"]
    assert find_district("nhà thuốc ở hai chau") == "Hải Châu"
    assert find_district("nhà thuốc gần đây") is None
    assert find_dishes("quán mì quảng ngon") == ["mi_quang"]


def test_question_words():
    assert asks_where("Where is the Dragon Bridge?") and asks_where("cau rong o dau")
    assert not asks_where("cầu rồng mấy giờ")
    assert asks_near("atm gần chợ hàn") and asks_near("hotel near the beach")
    assert not asks_near("atm chợ hàn")


def test_kind_of_place_alone():
    assert is_kind_of_place("Bảo tàng") and is_kind_of_place("hotels")
    assert not is_kind_of_place("Bảo tàng Chăm")
