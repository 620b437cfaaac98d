"""The words visitors use for kinds of places, recommendation themes, districts and dishes,
in Vietnamese and English, mapped to the codes stored in the knowledge base.

Matching is on the folded form (no diacritics), except for the few words whose folded form
is also an everyday word ("chợ"/"cho" = for, "chùa"/"chưa" = not yet, "cầu"/"câu"): those
match folded only when the visitor typed no diacritics at all.
"""

from __future__ import annotations

import re
from functools import lru_cache

from bot.text_normalise import expand_teencode, fold, normalise
from bot.text_normalise import search_key as _search_key

# The vocabulary's own phrases are keyed again and again: cache them (and the questions).
search_key = lru_cache(maxsize=8192)(_search_key)

CATEGORY_WORDS: dict[str, tuple[str, ...]] = {
    "beach": ("bãi biển", "biển", "bãi tắm", "tắm biển", "beach", "beaches"),
    "museum": ("bảo tàng", "museum", "museums"),
    "pagoda": ("chùa", "pagoda", "pagodas", "temple", "temples"),
    "church": ("nhà thờ", "church", "cathedral"),
    "market": ("chợ", "chợ đêm", "market", "markets", "night market"),
    "bridge": ("cầu", "cây cầu", "bridge", "bridges"),
    "theme_park": (
        "khu vui chơi",
        "công viên giải trí",
        "công viên nước",
        "theme park",
        "amusement park",
        "water park",
    ),
    "hospital": ("bệnh viện", "bv", "phòng khám", "bác sĩ", "hospital", "clinic", "doctor"),
    "pharmacy": (
        "nhà thuốc",
        "hiệu thuốc",
        "tiệm thuốc",
        "quầy thuốc",
        "mua thuốc",
        "pharmacy",
        "pharmacies",
        "drugstore",
        "chemist",
    ),
    "police": ("công an", "đồn công an", "cảnh sát", "police", "police station"),
    "tourist_info": (
        "thông tin du lịch",
        "trung tâm thông tin",
        "tourist information",
        "tourist info",
        "visitor center",
        "visitor centre",
        "information center",
    ),
    "airport": ("sân bay", "phi trường", "airport"),
    "train_station": (
        "ga tàu",
        "nhà ga",
        "ga xe lửa",
        "tàu hỏa",
        "tàu lửa",
        "train station",
        "railway station",
        "train",
    ),
    "bus_station": ("bến xe", "xe khách", "bus station", "coach station", "bus"),
    "taxi": ("taxi", "tắc xi", "grab", "xe ôm", "gọi xe", "cab", "xanh sm"),
    "bank": ("ngân hàng", "atm", "cây atm", "rút tiền", "bank", "banks", "cash machine"),
    "currency_exchange": (
        "đổi tiền",
        "đổi ngoại tệ",
        "đổi đô",
        "đổi usd",
        "currency exchange",
        "exchange money",
        "change money",
        "money changer",
        "money exchange",
    ),
    "hotel": (
        "khách sạn",
        "ks",
        "resort",
        "homestay",
        "nhà nghỉ",
        "chỗ ở",
        "hotel",
        "hotels",
        "accommodation",
        "place to stay",
        "hostel",
    ),
    "restaurant": (
        "quán ăn",
        "nhà hàng",
        "quán",
        "ăn gì",
        "ăn ở đâu",
        "đồ ăn",
        "restaurant",
        "restaurants",
        "place to eat",
        "where to eat",
        "food",
    ),
}

TAG_WORDS: dict[str, tuple[str, ...]] = {
    "famous": (
        "nổi tiếng",
        "nên đi",
        "phải đi",
        "đáng đi",
        "nên đến",
        "đẹp nhất",
        "tham quan",
        "không thể bỏ qua",
        "must see",
        "must-see",
        "famous",
        "top",
        "best",
        "highlights",
        "sightseeing",
        "attractions",
    ),
    "evening": (
        "buổi tối",
        "tối",
        "ban đêm",
        "về đêm",
        "đêm",
        "tonight",
        "evening",
        "night",
        "nightlife",
        "after dark",
    ),
    "children": (
        "trẻ em",
        "trẻ con",
        "con nít",
        "em bé",
        "các bé",
        "con nhỏ",
        "gia đình",
        "kids",
        "kid",
        "children",
        "child",
        "family",
        "toddler",
    ),
    "rain": ("trời mưa", "mưa", "rain", "rainy", "raining", "indoor", "trong nhà"),
    "free": ("miễn phí", "không mất tiền", "free"),
    "nature": ("thiên nhiên", "nature", "hiking", "trekking", "leo núi"),
    "photo": ("sống ảo", "chụp ảnh", "check in", "photo", "photos"),
    "history": ("lịch sử", "văn hóa", "history", "historical", "culture"),
    "shopping": ("mua sắm", "quà lưu niệm", "shopping", "souvenir", "souvenirs"),
    "spiritual": ("tâm linh", "spiritual"),
    "adventure": ("mạo hiểm", "adventure"),
    "relax": ("thư giãn", "nghỉ dưỡng", "relax", "relaxing"),
    "day_trip": ("đi trong ngày", "day trip", "day trips"),
}

DISTRICTS: tuple[str, ...] = (
    "Hải Châu",
    "Thanh Khê",
    "Sơn Trà",
    "Ngũ Hành Sơn",
    "Liên Chiểu",
    "Cẩm Lệ",
    "Hòa Vang",
    "Hội An",
)

DISH_WORDS: dict[str, tuple[str, ...]] = {
    "mi_quang": ("mì quảng", "my quang", "mi quang noodles"),
    "banh_trang_cuon_thit_heo": ("bánh tráng cuốn thịt heo", "bánh tráng cuốn", "pork rolls"),
    "bun_cha_ca": ("bún chả cá", "fish cake noodle", "fish cake noodles"),
    "banh_xeo": ("bánh xèo", "banh xeo", "pancake", "pancakes"),
    "hai_san": ("hải sản", "seafood", "ốc", "đồ biển"),
    "bun_mam": ("bún mắm", "bún mắm nêm"),
    "banh_can": ("bánh căn",),
    "che": ("chè", "sweet soup", "dessert"),
    "com_ga": ("cơm gà", "chicken rice"),
    "nem_lui": ("nem lụi",),
    "banh_mi": ("bánh mì", "banh mi", "sandwich"),
}

# Folded forms that are also common unrelated words.
_AMBIGUOUS_FOLDED = {"cho", "chua", "cau", "quan", "toi", "dem", "mua", "ga", "bien", "top"}
# Without diacritics such a word counts as a kind of place only next to a word that makes
# it one: "chua nao dep" (which pagoda), "di bien" (go to the beach), not "cho minh hoi".
_CUE_BEFORE = {"di", "tam", "bai", "cac", "nhung", "may", "mot", "ngoi", "cay", "ve", "toi"}
_CUE_AFTER = {"nao", "o", "gan", "dep", "noi", "lon", "nhat", "gi", "dem", "hay", "dau", "nay"}
_WORDS = re.compile(r"\w+", re.UNICODE)


def _has_diacritics(text: str) -> bool:
    return fold(text) != text.lower()


class _Text:
    """The question in the two forms phrases are matched against."""

    def __init__(self, text: str) -> None:
        expanded = normalise(expand_teencode(text))
        self.accented = " " + " ".join(_WORDS.findall(expanded.lower())) + " "
        self.folded = " " + search_key(text) + " "
        self.plain = not _has_diacritics(normalise(text))

    def has(self, phrase: str) -> bool:
        folded = search_key(phrase)
        if folded not in _AMBIGUOUS_FOLDED:
            return f" {folded} " in self.folded
        if not self.plain:
            return f" {normalise(phrase).lower()} " in self.accented
        words = self.folded.split()
        return any(
            w == folded
            and ((i > 0 and words[i - 1] in _CUE_BEFORE) or " ".join(words[i + 1 : i + 2]) in _CUE_AFTER)
            for i, w in enumerate(words)
        )


def _find(table: dict[str, tuple[str, ...]], text: str) -> list[str]:
    """Codes whose phrases occur in the text, in the order the visitor named them ("ks gần
    biển" is about hotels first); at one position the longest phrase wins."""
    t = _Text(text)
    hits: list[tuple[int, int, str]] = []
    for code, phrases in table.items():
        found = [(t.folded.find(f" {search_key(p)} "), -len(p)) for p in phrases if t.has(p)]
        if found:
            position, length = min(found)
            hits.append((position, length, code))
    return [code for _, _, code in sorted(hits)]


def find_categories(text: str) -> list[str]:
    return _find(CATEGORY_WORDS, text)


def find_tags(text: str) -> list[str]:
    return _find(TAG_WORDS, text)


def find_dishes(text: str) -> list[str]:
    return _find(DISH_WORDS, text)


def find_district(text: str) -> str | None:
    t = _Text(text)
    for district in DISTRICTS:
        if t.has(district):
            return district
    return None


# Question words the actions use to settle what is asked when the classifier hesitates.
WHERE_WORDS: tuple[str, ...] = (
    "ở đâu", "chỗ nào", "nằm đâu", "địa chỉ", "đường đi", "đi thế nào", "đi như thế nào",
    "đi bằng gì", "cách đi", "where", "address", "directions", "how to get", "how do i get",
    "how can i get",
)  # fmt: skip
NEAR_WORDS: tuple[str, ...] = (
    "gần", "quanh", "gần đây", "cạnh", "bên cạnh", "near", "nearby", "around", "close to",
    "next to", "by the",
)  # fmt: skip


# What a question about a named place asks, when the classifier could not tell.
ASPECT_WORDS: dict[str, tuple[str, ...]] = {
    "hours": ("mấy giờ", "giờ mở cửa", "mở cửa", "đóng cửa", "giờ nào", "opening hours", "open",
              "close", "what time", "hours"),
    "price": ("giá vé", "giá", "vé", "bao nhiêu tiền", "mất phí", "miễn phí", "price", "ticket",
              "cost", "how much", "fee", "free"),
    "contact": ("số điện thoại", "sđt", "điện thoại", "liên hệ", "hotline", "phone", "contact",
                "call"),
}  # fmt: skip


def mentions_any(phrases: tuple[str, ...], text: str) -> bool:
    t = _Text(text)
    return any(t.has(phrase) for phrase in phrases)


def asks_where(text: str) -> bool:
    """Whether the question asks where something is or how to get there."""
    return mentions_any(WHERE_WORDS, text)


def asked_aspect(text: str) -> str:
    """Which aspect of a place a question asks about: location, hours, price, contact or,
    failing all, general information."""
    if asks_where(text):
        return "location"
    return next((aspect for aspect, words in ASPECT_WORDS.items() if mentions_any(words, text)), "info")


def asks_near(text: str) -> bool:
    """Whether the question asks for something near a place."""
    return mentions_any(NEAR_WORDS, text)


def is_kind_of_place(text: str) -> bool:
    """Whether the text is nothing but a word for a kind of place ("bảo tàng", "hotels")."""
    key = search_key(text)
    return any(key == search_key(p) for phrases in CATEGORY_WORDS.values() for p in phrases)
