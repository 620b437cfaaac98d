"""What a valid place, event or practical-information entry is, for every way staff change
the base (admin forms, JSON API, spreadsheet import).

Validation is pydantic (the version Rasa 3.6 pins); messages are Vietnamese because the
people who read them are the department's officers. Every string is normalised (NFC,
canonical tone placement) and trimmed, and an empty string means "no value".
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any, Literal

from dateutil.rrule import rrulestr
from pydantic import BaseModel, Extra, Field, ValidationError, validator

from bot.text_normalise import normalise
from knowledge.queries import SUB_DAILY_RULE

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
CODE_RE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
TIME_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")

# Pydantic's own error types, said in Vietnamese. Our validators raise ValueError with a
# Vietnamese message already, which is passed through.
_MESSAGES = {
    "value_error.missing": "Bắt buộc phải điền.",
    "type_error.none.not_allowed": "Bắt buộc phải điền.",
    "type_error.float": "Phải là một số (dùng dấu chấm cho phần thập phân, ví dụ 16.0544).",
    "type_error.integer": "Phải là một số nguyên.",
    "type_error.bool": "Phải là có/không (true/false).",
    "type_error.date": "Phải là một ngày dạng YYYY-MM-DD.",
    "value_error.date": "Phải là một ngày có thật, dạng YYYY-MM-DD (ví dụ 2027-06-01).",
    "type_error.list": "Phải là một danh sách.",
    "type_error.str": "Phải là chữ.",
    "value_error.any_str.max_length": "Dài quá: tối đa {limit_value} ký tự.",
    "value_error.const": "Phải là một trong: {permitted}.",
    "value_error.extra": "Trường này không có trong biểu mẫu.",
    "value_error.number.not_ge": "Phải lớn hơn hoặc bằng {limit_value}.",
    "value_error.number.not_le": "Phải nhỏ hơn hoặc bằng {limit_value}.",
    "type_error.enum": "Phải là một trong: {permitted}.",
}

TRUE_WORDS = {"1", "true", "yes", "y", "có", "co", "x", "đã", "da", "on"}
FALSE_WORDS = {"0", "false", "no", "n", "không", "khong", "", "chưa", "chua", "off"}


class FieldError(dict):
    """``{"field": ..., "message": ...}``: one thing wrong, said where it is."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(field=field, message=message)


class InvalidEntry(ValueError):
    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))
        self.errors = errors


def _message(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    if kind.startswith("value_error") and kind not in _MESSAGES:
        return str(error.get("msg", ""))
    template = _MESSAGES.get(kind)
    if template is None:
        return str(error.get("msg", "Giá trị không hợp lệ."))
    context = {k: (", ".join(map(str, v)) if isinstance(v, list | tuple) else v)
               for k, v in (error.get("ctx") or {}).items()}
    try:
        return template.format(**context)
    except (KeyError, IndexError):
        return template


def errors_of(exc: ValidationError) -> list[FieldError]:
    found = []
    for error in exc.errors():
        loc = [str(part) for part in error["loc"] if part != "__root__"]
        found.append(FieldError(".".join(loc) or "*", _message(error)))
    return found


class UnsafeText(ValueError):
    pass


def text_problem(text: str) -> str | None:
    """What no database can store in ``text``, said for the officer, or None. PostgreSQL
    refuses NUL characters and no encoder takes an unpaired surrogate: catching them here
    turns a failure at write time into a message about the field."""
    if "\x00" in text:
        return "Có ký tự không hợp lệ: ký tự NUL (\\u0000)."
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "Có ký tự không hợp lệ: nửa cặp surrogate (mã hóa Unicode hỏng)."
    return None


def clean_text(value: Any) -> Any:
    if isinstance(value, str):
        problem = text_problem(value)
        if problem:
            raise UnsafeText(problem)
        value = normalise(value.strip())
        return value or None
    return value


def split_list(value: Any) -> list[str]:
    """A list from a list, or from text with one item per line or separated by ';' (how
    staff type several aliases in one form field or spreadsheet cell)."""
    if value is None:
        return []
    if isinstance(value, str):
        value = re.split(r"[;\n]", value)
    if not isinstance(value, list | tuple):
        raise ValueError("Phải là một danh sách (mỗi dòng một mục, hoặc ngăn bằng dấu ;).")
    items: list[str] = []
    for item in value:
        text = clean_text(str(item)) if item is not None else None
        if text and text not in items:
            items.append(text)
    return items


def parse_bool(value: Any) -> Any:
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise ValueError("Phải là có/không (true/false).")
    return value


class _Entry(BaseModel):
    class Config:
        extra = Extra.forbid
        anystr_strip_whitespace = True

    slug: str | None = Field(
        None, max_length=120, description="Stable identifier; made from the name if empty."
    )
    source: str | None = Field(None, description="Where the facts come from (URL or document).")
    verified: bool = Field(False, description="Staff have checked the facts against the source.")
    retired: bool = Field(False, description="Retired rows are kept but never mentioned.")

    @validator("*", pre=True)
    def _normalise_text(cls, value: Any) -> Any:  # noqa: N805 - pydantic validators are classmethods
        return clean_text(value)

    @validator("slug")
    def _slug_shape(cls, value: str | None) -> str | None:  # noqa: N805
        if value is not None and not SLUG_RE.match(value):
            raise ValueError("Chỉ gồm chữ thường không dấu, số và dấu gạch ngang, ví dụ cau-rong.")
        return value

    @validator("verified", "retired", pre=True)
    def _bool_words(cls, value: Any) -> Any:  # noqa: N805
        return False if value is None else parse_bool(value)


def _code(value: str | None, what: str) -> str | None:
    if value is not None and not CODE_RE.match(value):
        raise ValueError(f"{what} là mã viết thường không dấu, ví dụ beach, hospital, night_market.")
    return value


class PlaceIn(_Entry):
    kind: Literal["attraction", "service"] = Field(
        ..., description="'attraction' (điểm tham quan) or 'service' (dịch vụ: bệnh viện, ATM...)."
    )
    category: str = Field(..., max_length=40, description="Code such as beach, museum, hospital, bank.")
    district: str | None = Field(None, max_length=60)
    name_vi: str = Field(..., max_length=200)
    name_en: str | None = Field(None, max_length=200)
    aliases: list[str] = Field(default_factory=list, description="Other names visitors use.")
    address_vi: str | None = None
    address_en: str | None = None
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    hours_vi: str | None = None
    hours_en: str | None = None
    price_vi: str | None = None
    price_en: str | None = None
    free: bool | None = Field(None, description="Entry is free of charge.")
    phone: str | None = Field(None, max_length=60)
    website: str | None = Field(None, max_length=300)
    summary_vi: str | None = None
    summary_en: str | None = None
    description_vi: str | None = None
    description_en: str | None = None
    how_to_get_vi: str | None = None
    how_to_get_en: str | None = None
    tags: list[str] = Field(default_factory=list, description="Recommendation themes: family, night, food...")

    _lists = validator("aliases", "tags", pre=True, allow_reuse=True)(split_list)

    @validator("kind", pre=True)
    def _kind_words(cls, value: Any) -> Any:  # noqa: N805
        words = {"điểm tham quan": "attraction", "tham quan": "attraction", "dịch vụ": "service"}
        return words.get(str(value).lower(), value) if value is not None else value

    @validator("category")
    def _category_code(cls, value: str) -> str:  # noqa: N805
        return _code(value, "Loại")  # type: ignore[return-value]

    @validator("free", pre=True)
    def _free_words(cls, value: Any) -> Any:  # noqa: N805
        # Blank means "not known", not "not free" (a spreadsheet cell left empty).
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        return parse_bool(value)

    @validator("phone")
    def _phone_shape(cls, value: str | None) -> str | None:  # noqa: N805
        if value is not None and not re.fullmatch(r"[+0-9 ().\-/,]{3,60}", value):
            raise ValueError("Số điện thoại chỉ gồm chữ số, dấu cách, +, -, (, ), ví dụ 0236 3822 022.")
        return value

    @validator("website")
    def _website_shape(cls, value: str | None) -> str | None:  # noqa: N805
        if value is not None and not re.match(r"^https?://[^\s/$.?#].[^\s]*$", value, re.I):
            raise ValueError("Địa chỉ web phải bắt đầu bằng http:// hoặc https://.")
        return value


class EventDateIn(BaseModel):
    class Config:
        extra = Extra.forbid

    start: date
    end: date | None = None


class EventIn(_Entry):
    category: str = Field(..., max_length=40, description="Code such as festival, show, holiday, sport.")
    name_vi: str = Field(..., max_length=200)
    name_en: str | None = Field(None, max_length=200)
    aliases: list[str] = Field(default_factory=list)
    venue_slug: str | None = Field(None, description="Slug of the place where it happens.")
    venue_vi: str | None = None
    venue_en: str | None = None
    recurrence: str | None = Field(
        None,
        max_length=200,
        description="RFC 5545 rule for solar-calendar repeats, e.g. FREQ=WEEKLY;BYDAY=SA,SU",
    )
    recurrence_start: date | None = None
    recurrence_end: date | None = None
    start_time: str | None = Field(None, description="HH:MM, 24-hour clock.")
    end_time: str | None = Field(None, description="HH:MM, 24-hour clock.")
    typical_vi: str | None = Field(None, description="When it usually happens, for years without dates yet.")
    typical_en: str | None = None
    price_vi: str | None = None
    price_en: str | None = None
    summary_vi: str | None = None
    summary_en: str | None = None
    description_vi: str | None = None
    description_en: str | None = None
    dates: list[EventDateIn] = Field(default_factory=list, description="Concrete dates (inclusive).")

    _lists = validator("aliases", pre=True, allow_reuse=True)(split_list)

    @validator("category")
    def _category_code(cls, value: str) -> str:  # noqa: N805
        return _code(value, "Loại")  # type: ignore[return-value]

    @validator("recurrence")
    def _rule(cls, value: str | None) -> str | None:  # noqa: N805
        if value is None:
            return value
        value = value.upper().removeprefix("RRULE:")
        if SUB_DAILY_RULE.search(value):
            raise ValueError("Sự kiện lặp theo ngày, tuần, tháng hoặc năm (DAILY, WEEKLY, MONTHLY, YEARLY); "
                             "không lặp theo giờ, phút hay giây. Giờ diễn ra ghi ở ô Giờ bắt đầu.")
        try:
            rrulestr(value, dtstart=None)
        except (ValueError, TypeError) as exc:
            raise ValueError(
                "Quy tắc lặp không đúng chuẩn RFC 5545, ví dụ FREQ=WEEKLY;BYDAY=FR,SA "
                f"(thứ Sáu và thứ Bảy hằng tuần). Lỗi: {exc}"
            ) from None
        return value

    @validator("start_time", "end_time")
    def _clock(cls, value: str | None) -> str | None:  # noqa: N805
        if value is None:
            return value
        if re.fullmatch(r"\d:[0-5]\d", value):
            value = "0" + value
        value = value.replace("h", ":") if re.fullmatch(r"\d{1,2}h[0-5]\d", value) else value
        if not TIME_RE.match(value):
            raise ValueError("Giờ viết dạng HH:MM theo 24 giờ, ví dụ 20:30.")
        return value

    @validator("dates", pre=True)
    def _dates_text(cls, value: Any) -> Any:  # noqa: N805
        """Dates typed as text: one per line or ';', a range as 'START..END' or 'START/END'."""
        if value is None:
            return []
        if isinstance(value, str):
            found = []
            for part in re.split(r"[;\n]", value):
                if part.strip():
                    bounds = re.split(r"\s*(?:\.\.|/|→)\s*", part.strip(), maxsplit=1)
                    found.append({"start": bounds[0], "end": bounds[-1]})
            return found
        return value


class FaqIn(_Entry):
    topic: str = Field(..., max_length=40, description="Code such as visa, emergency, weather, money.")
    title_vi: str = Field(..., max_length=200)
    title_en: str | None = Field(None, max_length=200)
    keywords: list[str] = Field(default_factory=list, description="Words visitors use for this topic.")
    answer_vi: str = Field(...)
    answer_en: str | None = None

    _lists = validator("keywords", pre=True, allow_reuse=True)(split_list)

    @validator("topic")
    def _topic_code(cls, value: str) -> str:  # noqa: N805
        return _code(value, "Chủ đề")  # type: ignore[return-value]


def _cross_checks(kind: str, values: dict[str, Any]) -> list[FieldError]:
    """Rules between fields, each blamed on the field an officer should correct."""
    errors: list[FieldError] = []
    if kind == "places" and (values["lat"] is None) != (values["lon"] is None):
        missing = "lon" if values["lon"] is None else "lat"
        errors.append(FieldError(missing, "Cần cả vĩ độ (lat) và kinh độ (lon), hoặc bỏ trống cả hai."))
    if kind == "events":
        for i, span in enumerate(values["dates"]):
            span["end"] = span["end"] or span["start"]
            if span["end"] < span["start"]:
                errors.append(FieldError(f"dates.{i}.end", "Ngày kết thúc phải sau hoặc bằng ngày bắt đầu."))
        start, end = values["recurrence_start"], values["recurrence_end"]
        if start and end and end < start:
            errors.append(FieldError("recurrence_end", "Ngày kết thúc lặp phải sau ngày bắt đầu lặp."))
        if values["recurrence"] and not start:
            errors.append(FieldError("recurrence_start", "Quy tắc lặp cần ngày bắt đầu (từ ngày nào)."))
    return errors


SCHEMAS: dict[str, type[_Entry]] = {"places": PlaceIn, "events": EventIn, "faqs": FaqIn}


def validate(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """The cleaned values of a whole entry, or ``InvalidEntry`` listing every problem."""
    try:
        values = SCHEMAS[kind](**data).dict()
    except ValidationError as exc:
        raise InvalidEntry(errors_of(exc)) from None
    errors = _cross_checks(kind, values)
    if errors:
        raise InvalidEntry(errors)
    return values


def field_names(kind: str) -> list[str]:
    return list(SCHEMAS[kind].__fields__)
