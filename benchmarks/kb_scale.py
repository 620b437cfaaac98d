"""Synthetic places for the knowledge-base size benchmark: plausible Vietnamese names
(a business prefix and two or three syllables of a proper name), coordinates around
Đà Nẵng, bulk-inserted next to the real seed so questions about real places still work."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timezone
from types import SimpleNamespace
from typing import Any

from sqlalchemy import insert

from bot.text_normalise import fold
from knowledge.db import get_engine
from knowledge.models import Place

# (prefix, category, kind): the everyday businesses a city base would hold most of.
PREFIXES = (
    ("Quán", "restaurant", "service"),
    ("Nhà hàng", "restaurant", "service"),
    ("Cà phê", "restaurant", "service"),
    ("Khách sạn", "hotel", "service"),
    ("Nhà nghỉ", "hotel", "service"),
    ("Homestay", "hotel", "service"),
    ("Tiệm", "restaurant", "service"),
    ("Hiệu thuốc", "pharmacy", "service"),
    ("Chợ", "market", "attraction"),
    ("Vườn", "park", "attraction"),
)
SYLLABLES = (
    "An",
    "Bình",
    "Cát",
    "Châu",
    "Diệp",
    "Đông",
    "Gia",
    "Giang",
    "Hà",
    "Hải",
    "Hạnh",
    "Hòa",
    "Hoàng",
    "Hồng",
    "Hưng",
    "Khánh",
    "Kim",
    "Lam",
    "Lan",
    "Liên",
    "Linh",
    "Lộc",
    "Long",
    "Mai",
    "Minh",
    "Mỹ",
    "Nam",
    "Ngân",
    "Ngọc",
    "Nguyên",
    "Nhật",
    "Phát",
    "Phong",
    "Phú",
    "Phúc",
    "Phương",
    "Quang",
    "Quế",
    "Sơn",
    "Tâm",
    "Tân",
    "Thanh",
    "Thành",
    "Thảo",
    "Thịnh",
    "Thu",
    "Thủy",
    "Tiến",
    "Toàn",
    "Trang",
    "Trí",
    "Trung",
    "Tú",
    "Tuấn",
    "Uyên",
    "Vân",
    "Việt",
    "Vinh",
    "Xuân",
    "Yến",
)
STREETS = (
    "Bạch Đằng",
    "Trần Phú",
    "Lê Duẩn",
    "Nguyễn Văn Linh",
    "Võ Nguyên Giáp",
    "Hùng Vương",
    "Phan Châu Trinh",
    "Ông Ích Khiêm",
    "Hoàng Sa",
    "Ngô Quyền",
)
DISTRICTS = ("Hải Châu", "Sơn Trà", "Ngũ Hành Sơn", "Thanh Khê", "Liên Chiểu", "Cẩm Lệ")
# Around the city centre: the box the seed places of Đà Nẵng proper fall in.
LAT_RANGE = (15.95, 16.12)
LON_RANGE = (108.13, 108.30)


def generate_places(count: int, seed: int = 5) -> Iterator[dict[str, Any]]:
    """``count`` place rows with unique slugs and unique Vietnamese names (deterministic)."""
    rng = random.Random(seed)
    seen: set[str] = set()
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    made = 0
    while made < count:
        prefix, category, kind = rng.choice(PREFIXES)
        proper = " ".join(rng.sample(SYLLABLES, rng.choice((2, 3, 3))))
        name = f"{prefix} {proper}"
        # Unique once folded too: a live name is unique by its folded form in the base.
        if fold(name) in seen:
            continue
        seen.add(fold(name))
        made += 1
        street = rng.choice(STREETS)
        row = {
            "slug": f"gen-{made}-" + fold(name).replace(" ", "-"),
            "kind": kind,
            "category": category,
            "district": rng.choice(DISTRICTS),
            "name_vi": name,
            "name_en": None,
            "aliases": [],
            "address_vi": f"{rng.randint(1, 400)} {street}, Đà Nẵng",
            "address_en": f"{rng.randint(1, 400)} {fold(street).title()} St, Da Nang",
            "lat": round(rng.uniform(*LAT_RANGE), 5),
            "lon": round(rng.uniform(*LON_RANGE), 5),
            "hours_vi": f"{rng.randint(6, 9)}:00–{rng.randint(20, 23)}:00",
            "hours_en": None,
            "price_vi": None,
            "summary_vi": f"{name}, một địa điểm ở {street}.",
            "tags": [],
            "source": "benchmark",
            "verified": False,
            "retired": False,
            "created_at": now,
            "updated_at": now,
            "version": 1,
        }
        # What the ORM's before-insert hook would fill in (a bulk Core insert skips it).
        holder = SimpleNamespace(**row, SEARCHED=Place.SEARCHED, TITLE="name_vi", phone=None)
        Place.refresh_search_text(holder)  # type: ignore[arg-type]
        row["search_text"] = holder.search_text
        if hasattr(Place, "refresh_title_key"):
            Place.refresh_title_key(holder)  # type: ignore[arg-type]
            row["title_key"] = holder.title_key
        yield row


def add_places(url: str, count: int, seed: int = 5, batch: int = 5000) -> list[dict[str, Any]]:
    """Insert ``count`` generated places into the base at ``url``; returns the rows."""
    rows = list(generate_places(count, seed))
    engine = get_engine(url)
    with engine.begin() as conn:
        for start in range(0, len(rows), batch):
            conn.execute(insert(Place.__table__), rows[start : start + batch])
    return rows
