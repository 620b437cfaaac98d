"""Turning the assistant's replies into Telegram messages: splitting within Telegram's
length limit, HTML escaping, inline keyboards with short callback data, and finding the
place a reply's map link points at. Pure functions (and one small LRU map), no I/O."""

from __future__ import annotations

import base64
import hashlib
import html
import re
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

# Telegram counts a message's length in UTF-16 code units, after entity parsing: an emoji
# such as 🗺 counts twice. Escaping happens after splitting, so "&amp;" costs one unit.
MESSAGE_LIMIT = 4096
CALLBACK_DATA_LIMIT = 64  # bytes of UTF-8
_HEADING_LIMIT = 100
_KEY_PREFIX = "#k"
# The map links the actions write (actions/replies.py map_link).
_MAP_LINK = re.compile(
    r"https://www\.google\.com/maps/search/\?api=1&query=(-?\d{1,2}(?:\.\d+)?),(-?\d{1,3}(?:\.\d+)?)"
)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _fit(text: str, limit: int) -> int:
    """The number of leading characters of ``text`` that fit in ``limit`` UTF-16 units."""
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > limit:
            return index
    return len(text)


def split_text(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split a reply into messages of at most ``limit`` UTF-16 units, at a paragraph break
    if there is one in the second half of the allowance, else at a line break, else at a
    space, else anywhere. Blank pieces are dropped (Telegram rejects empty messages)."""
    chunks: list[str] = []
    rest = text.strip()
    while rest:
        fit = _fit(rest, limit)
        if fit == len(rest):
            chunks.append(rest)
            break
        head = rest[:fit]
        cut = next(
            (i for sep in ("\n\n", "\n", " ") if (i := head.rfind(sep)) > fit // 2),
            fit,
        )
        chunk = rest[:cut].rstrip()
        if chunk:
            chunks.append(chunk)
        rest = rest[cut:].lstrip()
    return chunks


def to_html(text: str, heading: bool = True) -> str:
    """The text escaped for parse_mode=HTML: nothing in a knowledge-base text (``<``, ``&``,
    Markdown's ``*`` and ``_``) can break a message or turn into markup. With ``heading``, the
    subject of a multi-line reply (its first line, or the part before ": ") is bold."""
    first, newline, rest = text.partition("\n")
    if heading and newline:
        name, colon, after = first.partition(": ")
        if colon and len(name) <= _HEADING_LIMIT:
            return f"<b>{_escape(name)}</b>: {_escape(after)}\n{_escape(rest)}"
        if len(first) <= _HEADING_LIMIT:
            return f"<b>{_escape(first)}</b>\n{_escape(rest)}"
    return _escape(text)


def _escape(text: str) -> str:
    return html.escape(text, quote=False)


class PayloadStore:
    """Button payloads too long for Telegram's 64-byte callback data, under short keys.

    The key is a hash of the payload, so the same button always gets the same key and the
    map only grows with distinct payloads; the oldest are dropped past ``capacity``. A key
    unknown after a restart is resolved by the channel from the button's title."""

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._payloads: OrderedDict[str, str] = OrderedDict()

    def callback_data(self, payload: str) -> str:
        if len(payload.encode()) <= CALLBACK_DATA_LIMIT and not payload.startswith(_KEY_PREFIX):
            return payload
        digest = hashlib.sha256(payload.encode()).digest()
        key = _KEY_PREFIX + base64.urlsafe_b64encode(digest).decode()[:20]
        self._payloads[key] = payload
        self._payloads.move_to_end(key)
        while len(self._payloads) > self.capacity:
            self._payloads.popitem(last=False)
        return key

    @staticmethod
    def is_key(data: str) -> bool:
        return data.startswith(_KEY_PREFIX)

    def resolve(self, data: str) -> str | None:
        """The payload behind a key (None if unknown); other data is the payload itself."""
        if not self.is_key(data):
            return data
        payload = self._payloads.get(data)
        if payload is not None:
            self._payloads.move_to_end(data)
        return payload


def inline_keyboard(
    buttons: Iterable[Mapping[str, object]], store: PayloadStore
) -> InlineKeyboardMarkup | None:
    """Rasa buttons ({"title", "payload"}) as an inline keyboard, one button per row: titles
    are phrases ("Giờ mở cửa", place names) that would be cut off side by side on a phone."""
    rows = []
    for button in buttons:
        title, payload = button.get("title"), button.get("payload")
        if isinstance(title, str) and title.strip() and isinstance(payload, str) and payload:
            rows.append([InlineKeyboardButton(title.strip(), callback_data=store.callback_data(payload))])
    return InlineKeyboardMarkup(rows) if rows else None


@dataclass(frozen=True)
class MapLink:
    lat: float
    lon: float
    text: str  # the reply without the line that carried the link


def single_map_link(text: str) -> MapLink | None:
    """The place a reply is about, when it has exactly one map link (a list of several
    places keeps its links as text). The link's line is dropped: a venue replaces it."""
    points = {(m.group(1), m.group(2)) for m in _MAP_LINK.finditer(text)}
    if len(points) != 1:
        return None
    lat, lon = (float(v) for v in points.pop())
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    kept = [line for line in text.split("\n") if not _MAP_LINK.search(line)]
    return MapLink(lat, lon, "\n".join(kept).strip())


def fallback_title(text: str) -> str:
    """A venue title when the base has no place at the link's coordinates: the reply's
    first line up to ": ", without leading symbols."""
    first = text.strip().split("\n", 1)[0].split(": ", 1)[0]
    return first.lstrip("•📍🗺🕘🎟 ").strip()[:_HEADING_LIMIT] or "Đà Nẵng"


def user_language(language_code: str | None) -> str:
    """ "vi" or "en" from Telegram's language_code (the app's interface language): used only
    where the visitor wrote no words to detect the language from (commands, stickers,
    shared locations). Vietnamese is the default, as in the rest of the assistant."""
    if language_code and not language_code.lower().startswith("vi"):
        return "en"
    return "vi"
