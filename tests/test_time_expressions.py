"""Time expressions in visitors' questions about events, resolved against fixed days."""

from __future__ import annotations

import unicodedata
from datetime import date

import pytest

from actions.time_expressions import DateRange, parse_time_expression

WED = date(2026, 11, 25)  # a Wednesday
SAT = date(2026, 11, 28)
SUN = date(2026, 11, 29)
NYE = date(2026, 12, 31)  # a Thursday
FEB28 = date(2027, 2, 28)  # a Sunday, in a non-leap year
TUE_DEC29 = date(2026, 12, 29)  # a week that runs into the next year


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def d(month: int, day: int, year: int = 2026) -> date:
    return date(year, month, day)


def test_fixed_days_are_the_weekdays_the_cases_assume() -> None:
    assert [x.weekday() for x in (WED, SAT, SUN, NYE, FEB28, TUE_DEC29)] == [2, 5, 6, 3, 6, 1]


# (text, today, start, end, part_of_day)
RANGES = [
    # today / tonight
    ("Tối nay có sự kiện gì không?", WED, d(11, 25), d(11, 25), "evening"),
    ("toi nay co gi", WED, d(11, 25), d(11, 25), "evening"),
    (nfd("Tối nay có gì"), WED, d(11, 25), d(11, 25), "evening"),
    ("TỐI NAY", WED, d(11, 25), d(11, 25), "evening"),
    ("đêm nay đi đâu", WED, d(11, 25), d(11, 25), "evening"),
    ("what's on tonight?", WED, d(11, 25), d(11, 25), "evening"),
    ("anything this evening", WED, d(11, 25), d(11, 25), "evening"),
    ("hôm nay có gì chơi", WED, d(11, 25), d(11, 25), None),
    ("HOM NAY", WED, d(11, 25), d(11, 25), None),
    ("hnay co gi ko", WED, d(11, 25), d(11, 25), None),
    ("Today", WED, d(11, 25), d(11, 25), None),
    ("sáng nay", WED, d(11, 25), d(11, 25), "morning"),
    ("tối hôm nay", WED, d(11, 25), d(11, 25), "evening"),
    # tomorrow, and the day after
    ("sáng mai có chợ phiên không", WED, d(11, 26), d(11, 26), "morning"),
    ("chieu mai", WED, d(11, 26), d(11, 26), "afternoon"),
    (nfd("tối mai"), WED, d(11, 26), d(11, 26), "evening"),
    ("ngày mai", WED, d(11, 26), d(11, 26), None),
    ("mai có gì vui", WED, d(11, 26), d(11, 26), None),
    ("Mai có gì?", WED, d(11, 26), d(11, 26), None),
    ("mai dc ko", WED, d(11, 26), d(11, 26), None),
    ("tôi mai đi Hội An", WED, d(11, 26), d(11, 26), None),  # "tôi" is "I", not "tối"
    ("Chị Mai ơi, mai có gì", WED, d(11, 26), d(11, 26), None),  # the name, then the day
    ("mai tối có gì", WED, d(11, 26), d(11, 26), "evening"),
    ("Mai sang Hội An chơi", WED, d(11, 26), d(11, 26), None),  # "sang" = over to
    ("tomorrow night", WED, d(11, 26), d(11, 26), "evening"),
    ("tmr", WED, d(11, 26), d(11, 26), None),
    ("ngày mai", NYE, d(1, 1, 2027), d(1, 1, 2027), None),
    ("ngày mai", FEB28, d(3, 1, 2027), d(3, 1, 2027), None),
    ("ngày kia", WED, d(11, 27), d(11, 27), None),
    ("ngay kia", WED, d(11, 27), d(11, 27), None),
    ("mốt đi Bà Nà được không", WED, d(11, 27), d(11, 27), None),
    ("ngay mot", WED, d(11, 27), d(11, 27), None),
    ("the day after tomorrow", WED, d(11, 27), d(11, 27), None),
    ("mốt", NYE, d(1, 2, 2027), d(1, 2, 2027), None),
    # weekends
    ("cuối tuần này có lễ hội gì", WED, d(11, 28), d(11, 29), None),
    ("cuoi tuan", WED, d(11, 28), d(11, 29), None),
    ("CUỐI TUẦN NÀY", WED, d(11, 28), d(11, 29), None),
    ("this weekend", WED, d(11, 28), d(11, 29), None),
    ("cuối tuần sau", WED, d(12, 5), d(12, 6), None),
    ("cuoi tuan toi", WED, d(12, 5), d(12, 6), None),
    ("next weekend", WED, d(12, 5), d(12, 6), None),
    ("cuối tuần này", SAT, d(11, 28), d(11, 29), None),
    ("cuối tuần sau", SAT, d(12, 5), d(12, 6), None),
    ("cuối tuần này", SUN, d(11, 29), d(11, 29), None),  # never in the past: Sunday only
    ("this weekend", SUN, d(11, 29), d(11, 29), None),
    ("next weekend", SUN, d(12, 5), d(12, 6), None),
    ("cuối tuần này", NYE, d(1, 2, 2027), d(1, 3, 2027), None),
    # weeks
    ("tuần này", WED, d(11, 25), d(11, 29), None),
    ("this week", WED, d(11, 25), d(11, 29), None),
    ("tuần sau", WED, d(11, 30), d(12, 6), None),
    ("tuan toi", WED, d(11, 30), d(12, 6), None),
    ("next week", WED, d(11, 30), d(12, 6), None),
    ("tuần này", SUN, d(11, 29), d(11, 29), None),
    ("tuần sau", SUN, d(11, 30), d(12, 6), None),
    ("tuần sau", NYE, d(1, 4, 2027), d(1, 10, 2027), None),
    ("tuần này", TUE_DEC29, d(12, 29), d(1, 3, 2027), None),
    # months
    ("tháng này", WED, d(11, 25), d(11, 30), None),
    ("this month", WED, d(11, 25), d(11, 30), None),
    ("tháng sau", WED, d(12, 1), d(12, 31), None),
    ("thang toi", WED, d(12, 1), d(12, 31), None),
    ("next month", WED, d(12, 1), d(12, 31), None),
    ("tháng sau", NYE, d(1, 1, 2027), d(1, 31, 2027), None),
    ("tháng này", NYE, d(12, 31), d(12, 31), None),
    ("tháng này", FEB28, d(2, 28, 2027), d(2, 28, 2027), None),
    ("tháng sau", FEB28, d(3, 1, 2027), d(3, 31, 2027), None),
    ("tháng 6", WED, d(6, 1, 2027), d(6, 30, 2027), None),
    ("Tháng Sáu có gì", WED, d(6, 1, 2027), d(6, 30, 2027), None),
    ("th6", WED, d(6, 1, 2027), d(6, 30, 2027), None),
    ("thang 6", WED, d(6, 1, 2027), d(6, 30, 2027), None),
    ("tháng 12", WED, d(12, 1), d(12, 31), None),
    ("tháng 11", WED, d(11, 25), d(11, 30), None),  # the current month, from today
    ("tháng 3", WED, d(3, 1, 2027), d(3, 31, 2027), None),  # already past: next year
    ("tháng mười một", WED, d(11, 25), d(11, 30), None),
    ("tháng 1", NYE, d(1, 1, 2027), d(1, 31, 2027), None),
    ("tháng 12 năm sau", WED, d(12, 1, 2027), d(12, 31, 2027), None),
    ("tháng 6/2027", WED, d(6, 1, 2027), d(6, 30, 2027), None),
    ("in June", WED, d(6, 1, 2027), d(6, 30, 2027), None),
    ("Jun", WED, d(6, 1, 2027), d(6, 30, 2027), None),
    ("any festivals in May?", WED, d(5, 1, 2027), d(5, 31, 2027), None),
    ("December 2026", WED, d(12, 1), d(12, 31), None),
    # weekdays; "t6" is Friday, not June
    ("T6", WED, d(11, 27), d(11, 27), None),
    ("t7 nay co gi ko", WED, d(11, 28), d(11, 28), None),
    ("CN", WED, d(11, 29), d(11, 29), None),
    ("thứ 7", WED, d(11, 28), d(11, 28), None),
    ("thứ bảy này", WED, d(11, 28), d(11, 28), None),
    ("thu bay", WED, d(11, 28), d(11, 28), None),
    (nfd("chủ nhật"), WED, d(11, 29), d(11, 29), None),
    ("thứ hai tuần sau", WED, d(11, 30), d(11, 30), None),
    ("thu 2 tuan sau", WED, d(11, 30), d(11, 30), None),
    ("thứ tư", WED, d(11, 25), d(11, 25), None),  # today counts
    ("thứ 4 tới", WED, d(12, 2), d(12, 2), None),  # "tới": after today
    ("this saturday", WED, d(11, 28), d(11, 28), None),
    ("on sunday", WED, d(11, 29), d(11, 29), None),
    ("Friday", WED, d(11, 27), d(11, 27), None),
    ("next friday", WED, d(12, 4), d(12, 4), None),  # Friday of next week
    ("tối thứ 7", WED, d(11, 28), d(11, 28), "evening"),
    ("sáng chủ nhật", WED, d(11, 29), d(11, 29), "morning"),
    ("thứ 7 tối có gì", WED, d(11, 28), d(11, 28), "evening"),
    ("saturday night", WED, d(11, 28), d(11, 28), "evening"),
    ("thứ 7", SAT, d(11, 28), d(11, 28), None),
    ("thứ 7 tới", SAT, d(12, 5), d(12, 5), None),
    ("next saturday", SAT, d(12, 5), d(12, 5), None),
    ("thứ 7", SUN, d(12, 5), d(12, 5), None),
    ("thứ bảy này", SUN, d(12, 5), d(12, 5), None),
    ("chủ nhật", SUN, d(11, 29), d(11, 29), None),
    ("chủ nhật tuần sau", SUN, d(12, 6), d(12, 6), None),
    ("next sunday", SUN, d(12, 6), d(12, 6), None),
    # years
    ("năm nay", WED, d(11, 25), d(12, 31), None),
    ("this year", WED, d(11, 25), d(12, 31), None),
    ("năm sau", WED, d(1, 1, 2027), d(12, 31, 2027), None),
    ("nam toi", WED, d(1, 1, 2027), d(12, 31, 2027), None),
    ("next year", WED, d(1, 1, 2027), d(12, 31, 2027), None),
    ("năm 2027", WED, d(1, 1, 2027), d(12, 31, 2027), None),
    # dates: the next occurrence when the year is left out, today included
    ("15/8", WED, d(8, 15, 2027), d(8, 15, 2027), None),
    ("15-8", WED, d(8, 15, 2027), d(8, 15, 2027), None),
    ("15.8", WED, d(8, 15, 2027), d(8, 15, 2027), None),
    ("15/8/2027", WED, d(8, 15, 2027), d(8, 15, 2027), None),
    ("15/8/27", WED, d(8, 15, 2027), d(8, 15, 2027), None),
    ("ngày 15 tháng 8", WED, d(8, 15, 2027), d(8, 15, 2027), None),
    ("ngay 15 thang 8 nam 2028", WED, d(8, 15, 2028), d(8, 15, 2028), None),
    ("mùng 2 tháng 9", WED, d(9, 2, 2027), d(9, 2, 2027), None),
    ("mung 2/9 co phao hoa ko", WED, d(9, 2, 2027), d(9, 2, 2027), None),
    ("2/9", WED, d(9, 2, 2027), d(9, 2, 2027), None),
    ("25/11", WED, d(11, 25), d(11, 25), None),
    ("24/11", WED, d(11, 24, 2027), d(11, 24, 2027), None),
    ("1/12", WED, d(12, 1), d(12, 1), None),
    ("tối 1/12", WED, d(12, 1), d(12, 1), "evening"),
    ("15/8 tối", WED, d(8, 15, 2027), d(8, 15, 2027), "evening"),
    ("1/1", NYE, d(1, 1, 2027), d(1, 1, 2027), None),
    ("31/12", NYE, d(12, 31), d(12, 31), None),
    ("29/2", FEB28, d(2, 29, 2028), d(2, 29, 2028), None),
    ("August 15", WED, d(8, 15, 2027), d(8, 15, 2027), None),
    ("15 August", WED, d(8, 15, 2027), d(8, 15, 2027), None),
    ("Aug 15th", WED, d(8, 15, 2027), d(8, 15, 2027), None),
    ("the 15th of August, 2028", WED, d(8, 15, 2028), d(8, 15, 2028), None),
    ("on the 15th", WED, d(12, 15), d(12, 15), None),
    ("ngày 30", WED, d(11, 30), d(11, 30), None),
    ("ngày 30", FEB28, d(3, 30, 2027), d(3, 30, 2027), None),
    # the first expression wins
    ("tối mai hoặc cuối tuần", WED, d(11, 26), d(11, 26), "evening"),
    ("from 15/8 to 20/8", WED, d(8, 15, 2027), d(8, 15, 2027), None),
    ("vé 100k, tối thứ 6 mở cửa không", WED, d(11, 27), d(11, 27), "evening"),
]


@pytest.mark.parametrize(("text", "today", "start", "end", "part_of_day"), RANGES)
def test_resolves_range(text: str, today: date, start: date, end: date, part_of_day: str | None) -> None:
    result = parse_time_expression(text, today)
    assert result is not None
    assert (result.start, result.end, result.part_of_day) == (start, end, part_of_day)


NOT_TIME = [
    "Có quán cà phê nào đẹp không?",
    "Đường Mai Hắc Đế ở đâu?",
    "Mai Hắc Đế",
    "mai hac de o dau",
    "nhà hàng trên đường mai hắc đế",
    "Chị Mai ơi",
    "hoa mai nở chưa",
    "nhớ mãi Đà Nẵng",
    "mai mốt mình quay lại",
    "một người đi được không",
    "vé 50/100k",
    "giá 150k/người",
    "giá 1.5 triệu",
    "phòng 2/3 còn trống không",
    "kiệt 12/3 Trần Phú",
    "8.30 tối",
    "mở cửa 24/7",
    "mở lúc 21:00",
    "9h sáng",
    "đi bộ 15 phút",
    "tour 3 ngày 2 đêm",
    "2-3 người",
    "dịp Tết có gì",
    "rằm tháng 7",
    "mùng 1 Tết",
    "May I bring my dog?",
    "lần thứ hai đến đây",
    "Việt Nam nay đẹp quá",
    "31/2",
    "29/2/2027",
    "",
]


@pytest.mark.parametrize("text", NOT_TIME)
def test_no_time_expression(text: str) -> None:
    assert parse_time_expression(text, WED) is None


LABELS = [
    ("tối nay", WED, "tối nay (25/11)", "tonight (25 Nov)"),
    ("sáng mai", WED, "sáng mai (26/11)", "tomorrow morning (26 Nov)"),
    ("ngày kia", WED, "ngày kia (27/11)", "the day after tomorrow (27 Nov)"),
    ("cuối tuần này", WED, "cuối tuần này (28–29/11)", "this weekend (28–29 Nov)"),
    ("cuối tuần này", SUN, "cuối tuần này (29/11)", "this weekend (29 Nov)"),
    ("tuần sau", WED, "tuần sau (30/11–6/12)", "next week (30 Nov–6 Dec)"),
    ("tuần này", TUE_DEC29, "tuần này (29/12/2026–3/1/2027)", "this week (29 Dec 2026–3 Jan 2027)"),
    ("tháng này", WED, "tháng này (25–30/11)", "this month (25–30 Nov)"),
    ("tháng sau", WED, "tháng sau (tháng 12/2026)", "next month (December 2026)"),
    ("tháng 6", WED, "tháng 6/2027", "June 2027"),
    ("tháng 11", WED, "tháng 11/2026 (25–30/11)", "November 2026 (25–30 Nov)"),
    ("t6", WED, "thứ sáu (27/11)", "Friday (27 Nov)"),
    ("next friday", WED, "thứ sáu tuần sau (4/12)", "next Friday (4 Dec)"),
    ("tối thứ 7", WED, "tối thứ bảy (28/11)", "Saturday evening (28 Nov)"),
    ("15/8/2027", WED, "ngày 15/8/2027", "15 Aug 2027"),
    ("tối 15/8", WED, "tối ngày 15/8/2027", "the evening of 15 Aug 2027"),
    ("năm sau", WED, "năm sau (2027)", "next year (2027)"),
]


@pytest.mark.parametrize(("text", "today", "label_vi", "label_en"), LABELS)
def test_labels(text: str, today: date, label_vi: str, label_en: str) -> None:
    result = parse_time_expression(text, today)
    assert result is not None
    assert (result.label_vi, result.label_en) == (label_vi, label_en)


def test_result_is_a_frozen_value() -> None:
    result = parse_time_expression("hôm nay", WED)
    assert result == DateRange(WED, WED, "hôm nay (25/11)", "today (25 Nov)")
    with pytest.raises(AttributeError):
        result.start = SAT  # type: ignore[misc]
