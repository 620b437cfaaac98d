"""Vietnamese text normalisation shared by the NLU pipeline, the actions and the knowledge base.

Visitors type on phones: NFD Unicode from some keyboards, old and new tone placement
("hoà"/"hòa"), no diacritics at all, teencode ("ko", "dc", "đn"). Everything that compares
text (tokenizer features, name resolution, search) goes through the functions here so that
all of those spellings meet in one form.

Pure Python on purpose: the knowledge base and the admin import it without pulling in Rasa.
"""

from __future__ import annotations

import re
import unicodedata

# The five Vietnamese tone marks as combining characters. Vowel-quality marks (breve,
# circumflex, horn) are not tones and stay with their letter.
_TONE_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
_VOWELS = set("aăâeêioôơuưy")
_MODIFIED_VOWELS = set("ăâêôơư")
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_VOWEL_GROUPS = re.compile(r"[aeiouy]+")

# Teencode and common chat abbreviations, keyed by their folded form. Only unambiguous
# expansions are listed: "bn" (bạn / bao nhiêu) and "h" (giờ / hả) depend on context and
# are left to the classifier, which sees them in the training data.
TEENCODE: dict[str, str] = {
    "ko": "không",
    "k": "không",
    "kh": "không",
    "khong": "không",
    "hok": "không",
    "hong": "không",
    "hem": "không",
    "kg": "không",
    "dc": "được",
    "dk": "được",
    "duoc": "được",
    "j": "gì",
    "dn": "đà nẵng",
    "dng": "đà nẵng",
    "ntn": "như thế nào",
    "mn": "mọi người",
    "vs": "với",
    "ms": "mới",
    "z": "vậy",
    "v": "vậy",
    "r": "rồi",
    "trc": "trước",
    "mik": "mình",
    "mk": "mình",
    "mjk": "mình",
    "cx": "cũng",
    "cg": "cũng",
    "bik": "biết",
    "wa": "quá",
    "qa": "quá",
    "nhiu": "nhiêu",
    "bh": "bây giờ",
    "bjo": "bây giờ",
    "ng": "người",
    "nguoi": "người",
    "t7": "thứ bảy",
    "cn": "chủ nhật",
    "tks": "cảm ơn",
    "ad": "admin",
    "oke": "ok",
    "okie": "ok",
    "uh": "ừ",
    "um": "ừ",
    "dzui": "vui",
    "zui": "vui",
}


def nfc(text: str) -> str:
    """Compose to NFC, the form every stored and compared string uses."""
    return unicodedata.normalize("NFC", text)


def _tone_target(letters: list[str]) -> int | None:
    """Index (into ``letters``, lowercase bases without tone) of the letter that carries the
    tone in the traditional placement ("hòa", "thủy", "mùa", "ngoài", "hoàng")."""
    n = len(letters)
    start = 0
    # Skip the initial consonant; "qu" and "gi" + vowel belong to the consonant.
    while start < n and letters[start] not in _VOWELS:
        start += 1
    if start >= n:
        return None
    if start > 0 and letters[start - 1] == "q" and letters[start] == "u":
        start += 1
    elif (
        start > 0
        and letters[start - 1] == "g"
        and letters[start] == "i"
        and start + 1 < n
        and letters[start + 1] in _VOWELS
    ):
        start += 1
    end = start
    while end < n and letters[end] in _VOWELS:
        end += 1
    cluster = list(range(start, end))
    if not cluster:
        return None
    modified = [i for i in cluster if letters[i] in _MODIFIED_VOWELS]
    if modified:
        return modified[-1]
    has_final = end < n
    if has_final or len(cluster) == 1:
        return cluster[-1]
    if len(cluster) == 2:
        return cluster[0]
    return cluster[1]


_FOREIGN_LETTERS = set("fjwz")


def _canonical_syllable(word: str) -> str:
    decomposed = unicodedata.normalize("NFD", word)
    tones = [c for c in decomposed if c in _TONE_MARKS]
    if len(tones) != 1:
        return word  # no tone, or not a Vietnamese syllable ("résumé")
    tone = tones[0]
    lower = word.lower()
    if _FOREIGN_LETTERS & set(lower) or len(_VOWEL_GROUPS.findall(fold_letters(lower))) != 1:
        return word  # "Café", "José": foreign words keep their accents where they are
    bare = nfc("".join(c for c in decomposed if c not in _TONE_MARKS))
    if len(bare) != len(word):  # not a plain Vietnamese syllable: leave it alone
        return word
    target = _tone_target([c.lower() for c in bare])
    if target is None:
        return word
    rebuilt = bare[:target] + nfc(bare[target] + tone) + bare[target + 1 :]
    return rebuilt if len(rebuilt) == len(word) else word


def canonical_tones(text: str) -> str:
    """NFC text with every syllable's tone mark on the letter the traditional rules put it on,
    so "hoà" and "hòa", "thuỷ" and "thủy" become the same string. Length-preserving on NFC
    input, which keeps character offsets valid."""
    return _WORD.sub(lambda m: _canonical_syllable(m.group(0)), nfc(text))


def normalise(text: str) -> str:
    """NFC + canonical tone placement: the form in which text is stored and displayed."""
    return canonical_tones(text)


def nfc_with_offsets(text: str) -> tuple[str, list[int]]:
    """Normalise ``text`` (NFC + canonical tones) and return, for every character of the
    result plus one past the end, its offset in the ORIGINAL text.

    NFD input is longer than its NFC form, so offsets computed on the normalised string must
    be mapped back before they reach Rasa's tokens and entities."""
    pieces: list[str] = []
    starts: list[int] = []
    i = 0
    n = len(text)
    while i < n:
        j = i + 1
        while j < n and unicodedata.combining(text[j]):
            j += 1
        composed = nfc(text[i:j])
        for _ in composed:
            starts.append(i)
        pieces.append(composed)
        i = j
    starts.append(n)
    normalised = "".join(pieces)
    toned = canonical_tones(normalised)
    if len(toned) == len(normalised):
        normalised = toned
    return normalised, starts


def fold_letters(text: str) -> str:
    """``strip_diacritics`` for text that is already NFC (no re-normalisation)."""
    out = []
    for ch in text:
        if ch in _D_LETTERS:
            out.append(_D_LETTERS[ch])
            continue
        base = "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c))
        out.append(base if len(base) == 1 else ch)
    return "".join(out)


# Đ/đ, and Ð (U+00D0, Icelandic eth) that some old Vietnamese encodings produce for Đ.
_D_LETTERS = {"đ": "d", "Đ": "D", "Ð": "D", "ð": "d"}


def strip_diacritics(text: str) -> str:
    """Remove every diacritic and map đ/Đ to d/D, keeping case and length for NFC input."""
    return fold_letters(nfc(text))


def fold(text: str) -> str:
    """Lowercase, diacritic-free form used as the matching key: "Đà Nẵng" -> "da nang"."""
    return strip_diacritics(text).lower()


_TOKEN = re.compile(r"\w+", re.UNICODE)


def expand_teencode(text: str) -> str:
    """Replace teencode words by their full spelling ("ko dc" -> "không được").

    Works word by word on the folded form of each word, so "Ko", "KO" and "ko" all expand."""
    return _TOKEN.sub(lambda m: TEENCODE.get(fold(m.group(0)), m.group(0)), nfc(text))


def search_key(text: str) -> str:
    """The key two spellings of the same phrase share: teencode expanded, folded, with
    punctuation and repeated spaces removed. "Bảo tàng  Chăm!" and "bao tang cham" -> "bao tang cham"."""
    return " ".join(_TOKEN.findall(fold(expand_teencode(text.replace("_", " "))).replace("_", " ")))
