"""Vietnamese and English time expressions ("tối nay", "cuoi tuan sau", "t7", "Aug 15th")
resolved to a date range, for questions about what events are on.

Matching runs on the folded form of the text (lowercase, no diacritics, teencode expanded)
so "Tối nay", "toi nay" and NFD input meet in one string. Where dropping diacritics makes a
word ambiguous ("mãi"/"mai", "một"/"mốt", "sáu"/"sau", "tôi"/"tối") the same offsets are
looked up in the lowercase text that still has them: the fold is length-preserving, so a match
on one is a match on the other. Unaccented input gets the reading a tourist most likely means.

Deliberate choices (tests pin each of them):
- Weeks run Monday to Sunday. "tuần này"/"this week" is today to Sunday; "tuần sau" is the
  whole next Monday-Sunday.
- "cuối tuần (này)"/"this weekend" is this week's Saturday-Sunday, never in the past: on a
  Sunday it is that Sunday only. "cuối tuần sau"/"next weekend" is next week's Saturday-Sunday.
- A bare weekday, "thứ bảy này" and "this saturday" mean its next occurrence, today included;
  "thứ bảy tới"/"coming saturday" its next occurrence after today; "thứ bảy tuần sau" and
  "next saturday" the Saturday of next week (so on a Wednesday "next friday" is nine days away).
- "t2".."t7" and "cn" are weekdays (teencode for thứ hai..thứ bảy, chủ nhật); "th6", "thg6"
  and "tháng 6" are June. Unaccented "thang sau" is "next month"; June needs "sáu" or a digit.
- A date or month without a year is its next occurrence, today's date and month included; the
  current month then starts today. Year-less 29/2 goes to the next leap year.
- Bare "mai" is "tomorrow" unless it looks like a name: "Mai" capitalised mid-sentence or
  followed by a capitalised word, after "đường", "hoa", "chị"..., or before a known street or
  blossom name ("Mai Hắc Đế", "mai vàng"). "mai mốt"/"mai kia" ("some day") are too vague: None.
- Part of day ("sáng", "chiều", "tối"/"đêm" before a day, or after it when written with
  diacritics; "morning", "evening", "night" after it) is kept only for single days.
- Clock times ("21:00", "9h", "8.30 tối"), prices, addresses ("kiệt 12/3"), "24/7", counts
  ("2-3 người") and lunar dates ("mùng 1 Tết", "rằm tháng 7") are not dates. "Tết" and other
  holidays are not resolved at all.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from bot.text_normalise import expand_teencode, fold, nfc


@dataclass(frozen=True)
class DateRange:
    start: date  # inclusive
    end: date  # inclusive
    label_vi: str
    label_en: str
    part_of_day: str | None = None  # "morning" | "afternoon" | "evening"


_MONTHS_EN = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_WEEKDAYS_VI = ("thứ hai", "thứ ba", "thứ tư", "thứ năm", "thứ sáu", "thứ bảy", "chủ nhật")
_POD_VI = {"morning": "sáng", "afternoon": "chiều", "evening": "tối"}
_POD_SPELLINGS = {"sáng": "morning", "sang": "morning", "chiều": "afternoon",
                  "chieu": "afternoon", "tối": "evening", "toi": "evening", "đêm": "evening",
                  "dem": "evening"}  # fmt: skip

_EN_MONTH_KEYS = {name.lower(): i for i, name in enumerate(_MONTHS_EN, 1)}
_EN_MONTH_KEYS.update({name.lower()[:3]: i for i, name in enumerate(_MONTHS_EN, 1)})
_EN_MONTH_KEYS["sept"] = 9
_EN_MONTH_RE = "|".join(sorted(_EN_MONTH_KEYS, key=len, reverse=True))
# "may", "march" and "mar" are ordinary English words: months only with a preposition or year.
_EN_MONTH_WORDS = {"may", "march", "mar"}
_EN_MONTH_PREPOSITIONS = {"in", "of", "during", "this", "next", "until", "by", "early", "late",
                          "mid", "for", "since"}  # fmt: skip
_EN_WEEKDAY_KEYS = {name.lower(): i for i, name in enumerate(_WEEKDAYS_EN)}
_EN_WEEKDAY_ABBR = {"mon": 0, "tue": 1, "tues": 1, "wed": 2, "thu": 3, "thur": 3, "thurs": 3,
                    "fri": 4, "sat": 5, "sun": 6}  # fmt: skip

# Folded Vietnamese number words after "tháng" / "thứ".
_VI_MONTH_WORDS = {"mot": 1, "hai": 2, "ba": 3, "tu": 4, "bon": 4, "nam": 5, "sau": 6, "bay": 7,
                   "tam": 8, "chin": 9, "muoi": 10, "muoi mot": 11, "muoi hai": 12}  # fmt: skip
_VI_MONTH_RE = r"muoi\s+mot|muoi\s+hai|muoi|mot|hai|ba|tu|bon|nam|sau|bay|tam|chin"
_VI_WEEKDAY_WORDS = {"hai": 0, "ba": 1, "tu": 2, "nam": 3, "sau": 4, "bay": 5}

# Words that, right after a number or date, show it is a count, a price or a clock time.
_NOT_A_DATE_AFTER = re.compile(
    r"\s*(?:%|\$|(?:dem|ngay|nguoi|lan|tieng|gio|phut|giay|km|m|kg|k|tr|trieu|nghin|ngan|d|"
    r"dong|vnd|usd|ve|phong|sao|tuoi|suat|xe|mon|khach|nam|thang|tuan|h|am|pm|days?|nights?|"
    r"people|persons?|pax|hours?|hrs?|mins?|minutes?|tickets?|rooms?|stars?)\b)"
)
# Lunar dates ("rằm tháng 7", "mùng 1 Tết", "15/8 âm lịch") need a lunar calendar: not ours.
_LUNAR_AFTER = re.compile(r"\s*(?:am\s+lich|al|tet)\b")
# Before a number pair: a price, a score or an address ("giá 1.5", "phòng 2/3", "kiệt 12/3").
_NOT_A_DATE_BEFORE = {"gia", "giam", "sale", "off", "discount", "price", "diem", "rating",
                      "phong", "so", "tang", "kiet", "hem", "ngo", "nha", "room", "no"}  # fmt: skip
# Before "thứ hai/ba/...", these make it an ordinal ("lần thứ hai" = the second time).
_ORDINAL_BEFORE = {"lan", "nguoi", "cai", "hang", "giai", "lop", "con", "so", "tap", "phan", "buoc"}
# Before "mai": a street, a blossom or a person ("đường Mai Hắc Đế", "hoa mai", "chị Mai").
# Value: accented spellings that mean the name reading, or None when any spelling does.
_MAI_NAME_BEFORE: dict[str, set[str] | None] = {
    "duong": None, "pho": None, "hoa": None, "cay": None, "kiet": None, "hem": None,
    "chi": {"chị"}, "co": {"cô"}, "ba": {"bà"}, "ong": {"ông"}, "ten": None, "be": {"bé"},
    "nguyen": None, "le": {"lê"}, "tran": None, "pham": None, "hoang": None, "huynh": None,
    "vo": {"võ"}, "bui": None, "ngo": {"ngô"}, "tuyet": None, "nu": None,
}  # fmt: skip
_MAI_NAME_AFTER = re.compile(
    r"\s+(?:hac\s+de|dang\s+chon|lao\s+bang|xuan\s+thuong|thuc\s+loan|chi\s+tho|am|vang|"
    r"trang|anh\s+dao|mot|kia)\b"
)
# Before "năm": "Việt Nam", "Quảng Nam" are places, not years.
_NAM_PLACE_BEFORE = {"viet", "quang", "mien", "phia", "huong", "phuong", "ha", "hai"}


@dataclass(frozen=True)
class _Text:
    orig: str  # NFC, teencode expanded, original case
    vi: str  # lowercase with diacritics
    key: str  # lowercase without diacritics; same length as ``vi`` and ``orig``
    today: date

    def vi_at(self, m: re.Match[str], group: str | int = 0) -> str:
        return " ".join(self.vi[m.start(group) : m.end(group)].split())

    def prev_word(self, pos: int) -> tuple[str, str]:
        """The (folded, accented) word just before ``pos``, across spaces only."""
        w = re.search(r"(\w+)\s+$", self.key[:pos])
        return (w.group(1), self.vi[w.start(1) : w.end(1)]) if w else ("", "")


def _same_length(text: str, transform: Callable[[str], str]) -> str:
    """Apply ``transform`` character by character where it would change the length, so that
    offsets stay shared between the three forms."""
    out = transform(text)
    if len(out) == len(text):
        return out
    return "".join(c if len(transform(c)) != 1 else transform(c) for c in text)


def _prepare(text: str, today: date) -> _Text:
    orig = nfc(expand_teencode(text))
    vi = _same_length(orig, str.lower)
    return _Text(orig, vi, _same_length(vi, fold), today)


# --- labels -----------------------------------------------------------------------------


def _vi_day(d: date, year: bool = False) -> str:
    return f"{d.day}/{d.month}/{d.year}" if year else f"{d.day}/{d.month}"


def _en_day(d: date, year: bool = False) -> str:
    return f"{d.day} {_MONTHS_EN[d.month - 1][:3]}" + (f" {d.year}" if year else "")


def _vi_span(a: date, b: date) -> str:
    if a == b:
        return _vi_day(a)
    if a.year != b.year:
        return f"{_vi_day(a, True)}–{_vi_day(b, True)}"
    if a.month == b.month:
        return f"{a.day}–{b.day}/{b.month}"
    return f"{_vi_day(a)}–{_vi_day(b)}"


def _en_span(a: date, b: date) -> str:
    if a == b:
        return _en_day(a)
    if a.year != b.year:
        return f"{_en_day(a, True)}–{_en_day(b, True)}"
    if a.month == b.month:
        return f"{a.day}–{_en_day(b)}"
    return f"{_en_day(a)}–{_en_day(b)}"


def _span(a: date, b: date, vi: str, en: str) -> DateRange:
    return DateRange(a, b, f"{vi} ({_vi_span(a, b)})", f"{en} ({_en_span(a, b)})")


def _one_day(
    d: date,
    vi: str,
    en: str,
    pod: str | None,
    pod_names: tuple[str, str] | None = None,
    relative: bool = True,
) -> DateRange:
    """A single day, named relatively ("ngày mai (26/11)") or absolutely ("ngày 15/8/2027")."""
    if pod:
        vi, en = pod_names or (f"{_POD_VI[pod]} {vi}", f"the {pod} of {en}")
    if relative:
        vi, en = f"{vi} ({_vi_day(d)})", f"{en} ({_en_day(d)})"
    return DateRange(d, d, vi, en, pod)


def _pod(t: _Text, m: re.Match[str]) -> str | None:
    """Part of day written around the match: "tối thứ 7", "saturday night"."""
    before = re.search(r"\b(sang|chieu|toi|dem)\s+$", t.key[: m.start()])
    # "tôi" is "I", "đem" is "to bring": only the accented or fully unaccented spelling counts.
    if before and t.vi_at(before, 1) in _POD_SPELLINGS:
        return _POD_SPELLINGS[t.vi_at(before, 1)]
    after = re.match(r"\s+(morning|afternoon|evening|night)\b", t.key[m.end() :])
    if after:
        return "evening" if after.group(1) == "night" else after.group(1)
    # After the day ("15/8 tối", "mai tối") only with diacritics: "mai sang Hội An" is "tomorrow,
    # over to Hội An" and "mai toi di" is "tomorrow I go".
    after = re.match(r"\s+(?:buổi\s+)?(sáng|chiều|tối|đêm)(?!\w)", t.vi[m.end() :])
    return _POD_SPELLINGS[after.group(1)] if after else None


# --- resolvers: each gets the match on ``t.key`` and returns a range or None (rejected) --


def _today(t: _Text, m: re.Match[str]) -> DateRange | None:
    if m.group("vpod"):  # "tối nay"
        pod: str | None = _POD_SPELLINGS[m.group("vpod")]
    elif m.group("epod"):  # "this evening"
        pod = m.group("epod")
    else:
        pod = "evening" if m.group(0) == "tonight" else _pod(t, m)
    names = {"morning": ("sáng nay", "this morning"), "afternoon": ("chiều nay", "this afternoon"),
             "evening": ("tối nay", "tonight")}  # fmt: skip
    return _one_day(t.today, "hôm nay", "today", pod, names.get(pod or ""))


def _tomorrow(t: _Text, m: re.Match[str]) -> DateRange | None:
    if m.group(0) == "mai" and _mai_is_name(t, m):
        return None
    pod = _pod(t, m)
    names = (f"{_POD_VI[pod]} mai", f"tomorrow {pod}") if pod else None
    return _one_day(t.today + timedelta(1), "ngày mai", "tomorrow", pod, names)


def _mai_is_name(t: _Text, m: re.Match[str]) -> bool:
    if t.vi_at(m) != "mai":  # "mãi" (forever), "mái" (roof)...
        return True
    prev, prev_vi = t.prev_word(m.start())
    if prev in _MAI_NAME_BEFORE:
        spellings = _MAI_NAME_BEFORE[prev]
        if spellings is None or prev_vi in spellings:
            return True
    if _MAI_NAME_AFTER.match(t.key, m.end()):
        return True
    # Capitals only mean something when the visitor does not type in all caps.
    if t.orig[m.start() : m.end()] == "Mai" and t.orig != t.orig.upper():
        before = t.orig[: m.start()].rstrip()
        sentence_start = not before or before[-1] in ".!?:;"
        next_word = re.match(r"\s+(\w)", t.orig[m.end() :])
        return not sentence_start or bool(next_word and next_word.group(1).isupper())
    return False


def _day_after_tomorrow(t: _Text, m: re.Match[str]) -> DateRange | None:
    last = t.vi_at(m).split()[-1]
    if last in {"một", "kìa"}:  # "ngày một" (more and more), "kìa" (look!)
        return None
    if m.group(0) == "mot" and (last != "mốt" or t.prev_word(m.start())[0] == "mai"):
        return None  # bare unaccented "mot" is "one"; "mai mốt" is "some day"
    return _one_day(t.today + timedelta(2), "ngày kia", "the day after tomorrow", _pod(t, m))


def _monday(d: date) -> date:
    return d - timedelta(d.weekday())


def _is_next(t: _Text, m: re.Match[str], group: str) -> bool | None:
    """True for "sau/tới/kế/next", False for "này/this" or nothing, None for a "tối" that is
    really a part of day ("tuần tối" is not a thing)."""
    if not m.group(group):
        return False
    word = m.group(group).split()[-1]
    if word == "toi" and t.vi_at(m, group).split()[-1] not in {"tới", "toi"}:
        return None
    return word in {"sau", "toi", "ke", "tiep", "next"}


def _weekend(t: _Text, m: re.Match[str]) -> DateRange | None:
    nxt = _is_next(t, m, "mod")
    if nxt is None:
        return None
    sat = _monday(t.today) + timedelta(12 if nxt else 5)
    vi, en = ("cuối tuần sau", "next weekend") if nxt else ("cuối tuần này", "this weekend")
    return _span(max(sat, t.today), sat + timedelta(1), vi, en)  # on Sunday: Sunday only


def _week(t: _Text, m: re.Match[str]) -> DateRange | None:
    nxt = _is_next(t, m, "mod")
    if nxt is None:
        return None
    if nxt:
        mon = _monday(t.today) + timedelta(7)
        return _span(mon, mon + timedelta(6), "tuần sau", "next week")
    return _span(t.today, _monday(t.today) + timedelta(6), "tuần này", "this week")


def _weekday(t: _Text, wd: int, mode: str, pod: str | None) -> DateRange:
    """mode: "" = next occurrence from today, "after" = strictly after today, "next_week"."""
    if mode == "next_week":
        d = _monday(t.today) + timedelta(7 + wd)
    else:
        delta = (wd - t.today.weekday()) % 7
        d = t.today + timedelta(delta or (7 if mode == "after" else 0))
    vi = _WEEKDAYS_VI[wd] + (" tuần sau" if mode == "next_week" else "")
    en = ("next " if mode == "next_week" else "") + _WEEKDAYS_EN[wd]
    return _one_day(d, vi, en, pod, (f"{_POD_VI[pod]} {vi}", f"{en} {pod}") if pod else None)


def _vi_weekday(t: _Text, m: re.Match[str]) -> DateRange | None:
    if m.group("cn"):
        wd = 6
    elif m.group("word"):
        wd = _VI_WEEKDAY_WORDS[m.group("word")]
        if m.group("word") == "sau" and t.vi_at(m, "word") not in {"sáu", "sau"}:
            return None
    else:
        wd = int(m.group("num") or m.group("tnum")) - 2
    if not m.group("tnum") and t.prev_word(m.start())[0] in _ORDINAL_BEFORE:
        return None
    pod = _pod(t, m)
    mode = ""
    if m.group("mod"):
        words = m.group("mod").split()
        if words[-1] == "toi" and t.vi_at(m, "mod").split()[-1] == "tối":
            return _weekday(t, wd, "", "evening")  # "thứ 7 tối": Saturday evening
        if words[0] == "tuan" and words[-1] != "nay" or words[0] == "sau":
            mode = "next_week"
        elif words[0] in {"toi", "ke"}:
            mode = "after"
    return _weekday(t, wd, mode, pod)


def _en_weekday(t: _Text, m: re.Match[str]) -> DateRange | None:
    day = m.group("day")
    before = t.key[: m.start()].split()[-2:]
    if day in _EN_WEEKDAY_ABBR and not (before and before[-1] in {"on", "this", "next", "coming"}):
        return None  # "sat", "sun", "mon" are also words
    wd = _EN_WEEKDAY_KEYS.get(day, _EN_WEEKDAY_ABBR.get(day, 0))
    if (before and before[-1] == "next") or m.group("post") and "next" in m.group("post"):
        mode = "next_week"
    elif before and before[-1] == "coming":
        mode = "after"
    else:
        mode = ""
    return _weekday(t, wd, mode, _pod(t, m))


def _month_range(t: _Text, month: int, year: int | None) -> DateRange | None:
    if not 1 <= month <= 12:
        return None
    if year is None:
        year = t.today.year if month >= t.today.month else t.today.year + 1
    start = date(year, month, 1)
    end = date(year, month, calendar.monthrange(year, month)[1])
    vi, en = f"tháng {month}/{year}", f"{_MONTHS_EN[month - 1]} {year}"
    if start <= t.today <= end:  # the rest of the current month
        return _span(t.today, end, vi, en)
    return DateRange(start, end, vi, en)


def _year_of(t: _Text, m: re.Match[str]) -> tuple[bool, int | None]:
    """(ok, year) from the optional year suffix of a month or date match."""
    raw = m.group("y") or m.groupdict().get("y2")
    if raw:
        y = int(raw)
        y = y + 2000 if y < 100 else y
        return 1900 <= y <= 2200, y
    if m.groupdict().get("ymod"):
        return True, t.today.year + (m.group("ymod") != "nay")
    return True, None


def _vi_month_number(t: _Text, m: re.Match[str], group: str) -> int | None:
    raw = " ".join(m.group(group).split())
    if raw.isdigit():
        return int(raw)
    # Unaccented "sau" after "tháng" is "next month"; June must be written "sáu".
    if raw == "sau" and t.vi_at(m, group) != "sáu":
        return None
    return _VI_MONTH_WORDS[raw]


def _vi_month(t: _Text, m: re.Match[str]) -> DateRange | None:
    if _is_lunar(t, m):
        return None
    month = _vi_month_number(t, m, "m")
    ok, year = _year_of(t, m)
    return _month_range(t, month, year) if month and ok else None


def _relative_month(t: _Text, m: re.Match[str]) -> DateRange | None:
    word = m.group("mod").split()[0]
    if word == "sau" and t.vi_at(m, "mod") == "sáu":
        return None  # June, handled by _vi_month
    nxt = _is_next(t, m, "mod")
    if nxt is None:
        return None
    if not nxt:
        end = date(t.today.year, t.today.month, calendar.monthrange(t.today.year, t.today.month)[1])
        return _span(t.today, end, "tháng này", "this month")
    first = (date(t.today.year, t.today.month, 28) + timedelta(4)).replace(day=1)
    r = _month_range(t, first.month, first.year)
    assert r is not None
    return DateRange(r.start, r.end, f"tháng sau ({r.label_vi})", f"next month ({r.label_en})")


def _en_month(t: _Text, m: re.Match[str]) -> DateRange | None:
    prev = t.prev_word(m.start())[0]
    word = m.group("mon")
    if word in _EN_MONTH_WORDS and prev not in _EN_MONTH_PREPOSITIONS and not m.group("y"):
        return None
    month = _EN_MONTH_KEYS[word]
    ok, year = _year_of(t, m)
    if year is None and prev == "next" and month == t.today.month:
        year = t.today.year + 1
    return _month_range(t, month, year) if ok else None


def _year(t: _Text, m: re.Match[str]) -> DateRange | None:
    vnam = m.groupdict().get("vnam")
    if vnam and t.vi_at(m, "vnam") != "năm" and t.prev_word(m.start())[0] in _NAM_PLACE_BEFORE:
        return None  # "Viet Nam nay..."
    if m.groupdict().get("y"):
        y = int(m.group("y"))
        start = t.today if y == t.today.year else date(y, 1, 1)  # the rest of the current year
        return DateRange(start, date(y, 12, 31), f"năm {y}", str(y))
    nxt = _is_next(t, m, "mod")
    if nxt is None:
        return None
    y = t.today.year + nxt
    vi, en = ("năm sau", "next year") if nxt else ("năm nay", "this year")
    start = date(y, 1, 1) if nxt else t.today
    return DateRange(start, date(y, 12, 31), f"{vi} ({y})", f"{en} ({y})")


def _resolve_date(
    t: _Text, day: int, month: int | None, year: int | None, m: re.Match[str]
) -> DateRange | None:
    """Day (and month) without a year: the next occurrence, today included."""
    if month is None or not 1 <= month <= 12:
        return None
    candidates = [year] if year is not None else range(t.today.year, t.today.year + 9)
    for y in candidates:
        try:
            d = date(y, month, day)
        except ValueError:
            continue
        if year is not None or d >= t.today:
            vi, en = f"ngày {_vi_day(d, True)}", _en_day(d, True)
            return _one_day(d, vi, en, _pod(t, m), relative=False)
    return None


def _is_lunar(t: _Text, m: re.Match[str]) -> bool:
    return bool(_LUNAR_AFTER.match(t.key, m.end())) or t.prev_word(m.start())[0] == "ram"


def _not_a_date(t: _Text, m: re.Match[str]) -> bool:
    if _NOT_A_DATE_AFTER.match(t.key, m.end()) or _is_lunar(t, m):
        return True
    return t.prev_word(m.start())[0] in _NOT_A_DATE_BEFORE


def _numeric_date(t: _Text, m: re.Match[str]) -> DateRange | None:
    if _not_a_date(t, m) or (m.group("d"), m.group("m")) == ("24", "7"):  # "open 24/7"
        return None
    if m.group("sep") == "." and re.match(r"\s*(?:sang|chieu|toi)\b", t.key[m.end() :]):
        return None  # "8.30 tối" is a clock time
    ok, year = _year_of(t, m)
    return _resolve_date(t, int(m.group("d")), int(m.group("m")), year, m) if ok else None


def _vi_word_date(t: _Text, m: re.Match[str]) -> DateRange | None:
    if _not_a_date(t, m):
        return None
    ok, year = _year_of(t, m)
    month = _vi_month_number(t, m, "m")
    return _resolve_date(t, int(m.group("d")), month, year, m) if ok else None


def _en_date(t: _Text, m: re.Match[str]) -> DateRange | None:
    ok, year = _year_of(t, m)
    month = _EN_MONTH_KEYS[m.group("mon")]
    return _resolve_date(t, int(m.group("d")), month, year, m) if ok else None


def _day_of_month(t: _Text, m: re.Match[str]) -> DateRange | None:
    """ "ngày 15", "mùng 2", "the 15th": the next month (this one included) that has that day."""
    if _not_a_date(t, m) or re.search(r"\d\s+$", t.key[: m.start()]):  # "3 ngày 2 đêm"
        return None
    day, first = int(m.group("d")), t.today.replace(day=1)
    for _ in range(12):
        last = calendar.monthrange(first.year, first.month)[1]
        if 1 <= day <= last and first.replace(day=day) >= t.today:
            return _resolve_date(t, day, first.month, first.year, m)
        first = (first + timedelta(32)).replace(day=1)
    return None


_YEAR_SUFFIX = r"(?:\s*[/,]?\s*(?:nam\s+)?(?P<y>(?:19|20)\d\d)\b|\s+nam\s+(?P<ymod>nay|sau|toi))?"
_VI_MOD = r"(?P<mod>nay|sau|toi|ke\s+tiep|ke)\b"
_EN_MONTH = r"(?P<mon>" + _EN_MONTH_RE + r")\b\.?"
_ORDINAL = r"(?:st|nd|rd|th)"
_Resolver = Callable[[_Text, re.Match[str]], DateRange | None]

# All rules run over the whole text; the earliest match wins, then the longest, then the
# first rule listed. A resolver returning None lets the next candidate try.
_RULES: list[tuple[str, _Resolver]] = [
    ((r"\b(?:(?P<vpod>sang|chieu|toi|dem)\s+nay|(?:hom|bua)\s+nay|hnay|today|tonight"
      r"|this\s+(?P<epod>morning|afternoon|evening))\b"), _today),
    (r"\b(?:ngay\s+mai|tomorrow|tmrw?|mai)\b", _tomorrow),
    (r"\b(?:ngay\s+(?:kia|mot)|(?:the\s+)?day\s+after\s+tomorrow|mot)\b", _day_after_tomorrow),
    (r"\bcuoi\s+tuan(?:\s+" + _VI_MOD + ")?", _weekend),
    (r"\b(?:(?P<mod>this|next|coming)\s+)?weekend\b", _weekend),
    (r"\btuan\s+" + _VI_MOD, _week),
    (r"\b(?P<mod>this|next)\s+week\b", _week),
    ((r"\b(?:thu\s*(?P<num>[2-7])|t(?P<tnum>[2-7])|thu\s+(?P<word>hai|ba|tu|nam|sau|bay)"
      r"|(?P<cn>chu\s+nhat))\b(?P<mod>\s+(?:tuan\s+(?:nay|sau|toi|ke\s+tiep|ke)|nay|sau|toi"
      r"|ke\s+tiep)\b)?"), _vi_weekday),
    ((r"\b(?P<day>" + "|".join([*_EN_WEEKDAY_KEYS, *_EN_WEEKDAY_ABBR]) + r")\b"
      r"(?P<post>\s+(?:next|this)\s+week\b)?"), _en_weekday),
    (r"\bthang\s+" + _VI_MOD, _relative_month),
    (r"\b(?P<mod>this|next)\s+month\b", _relative_month),
    (r"\bthang\s*(?P<m>\d{1,2}|" + _VI_MONTH_RE + r")\b" + _YEAR_SUFFIX, _vi_month),
    (r"\bthg?\.?\s*(?P<m>\d{1,2})\b" + _YEAR_SUFFIX, _vi_month),
    (r"(?<![\w/.,:-])(?P<m>\d{1,2})\s*/\s*(?P<y>(?:19|20)\d\d)(?![\w/.-])", _vi_month),
    (r"\b" + _EN_MONTH + _YEAR_SUFFIX, _en_month),
    (r"\b(?P<vnam>nam)\s+(?:(?P<y>(?:19|20)\d\d)|" + _VI_MOD + r")\b", _year),
    (r"\b(?P<mod>this|next)\s+year\b", _year),
    (r"\bin\s+(?P<y>(?:19|20)\d\d)\b", _year),
    ((r"(?<![\w/.,:-])(?:(?:ngay|mung|mong|hom)\s*)?(?P<d>\d{1,2})\s*(?P<sep>[/.-])\s*"
      r"(?P<m>\d{1,2})(?:(?P=sep)(?P<y>\d{4}|\d{2}))?(?![\w/:-]|[.,]\d)"
      r"(?:\s+nam\s+(?:(?P<y2>(?:19|20)\d\d)|(?P<ymod>nay|sau|toi)))?"), _numeric_date),
    ((r"\b(?:(?:ngay|mung|mong)\s*)?(?P<d>\d{1,2})\s+thang\s*(?P<m>\d{1,2}|" + _VI_MONTH_RE
      + r")\b" + _YEAR_SUFFIX), _vi_word_date),
    ((r"\b" + _EN_MONTH + r"\s+(?:the\s+)?(?P<d>\d{1,2})" + _ORDINAL + r"?\b"
      r"(?:,?\s+(?P<y>(?:19|20)\d\d)\b)?"), _en_date),
    ((r"\b(?:the\s+)?(?P<d>\d{1,2})" + _ORDINAL + r"?\s+(?:of\s+)?" + _EN_MONTH
      + r"(?:,?\s+(?P<y>(?:19|20)\d\d)\b)?"), _en_date),
    (r"\b(?:ngay|mung|mong)\s*(?P<d>\d{1,2})\b(?!\s*(?:[/.-]\s*\d|thang))", _day_of_month),
    (r"\bthe\s+(?P<d>\d{1,2})" + _ORDINAL + r"\b(?!\s+of\b)", _day_of_month),
]  # fmt: skip
_COMPILED = [(re.compile(pattern), resolve) for pattern, resolve in _RULES]


def parse_time_expression(text: str, today: date) -> DateRange | None:
    """Find the first time expression in free text (any case, with or without diacritics, NFD,
    teencode) and resolve it relative to ``today``. None if there is none."""
    t = _prepare(text, today)
    found = [
        (m.start(), m.start() - m.end(), order, m, resolve)
        for order, (pattern, resolve) in enumerate(_COMPILED)
        for m in pattern.finditer(t.key)
    ]
    found.sort(key=lambda c: c[:3])
    for *_, m, resolve in found:
        result = resolve(t, m)
        if result is not None:
            return result
    return None
