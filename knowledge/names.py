"""Resolve place, event and practical-topic names in free text against the knowledge base.

Visitors write "bao tang cham", "Bảo tàng Chăm", "ba na hils" or "dragon bridge"; staff add
places at any time. So names are matched at request time, on the folded ``search_key`` form,
against an in-memory index built from the base and rebuilt when the base changes:

1. exact: the longest word n-grams of the question that equal a known name or alias;
2. typo-tolerant: for words left over, names that share a (possibly misspelt) word with the
   question are compared with the question's windows by edit-distance ratio (RapidFuzz).
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz, process
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.text_normalise import search_key
from knowledge.models import Event, Faq, Place

# Generic words that start many names ("Bảo tàng Đà Nẵng", "biển Mỹ Khê"). Visitors often
# drop them ("Mỹ Khê", "Linh Ứng Bãi Bụt"), so each name is also indexed without them, as
# long as what remains is two or more words and not just a city or district name.
_GENERIC_PREFIXES = (
    "bai bien",
    "bien",
    "bao tang",
    "chua",
    "cau",
    "cho dem",
    "cho",
    "lang",
    "deo",
    "ban dao",
    "nui",
    "suoi khoang nong",
    "cong vien",
    "nha tho",
    "benh vien",
    "khach san",
    "pho co",
    "thanh dia",
    "le hoi",
)
_TOO_GENERIC = {
    "da nang",
    "thanh pho da nang",
    "viet nam",
    "hai chau",
    "thanh khe",
    "son tra",
    "lien chieu",
    "cam le",
    "hoa vang",
    "quang nam",
}
# Words that say nothing about which place is meant: a fuzzy match must also agree on at
# least one word outside this set ("o da nang" is not "chợ Cồn Đà Nẵng").
_UNDISTINCTIVE = {w for phrase in (*_GENERIC_PREFIXES, *_TOO_GENERIC) for w in phrase.split()}
FUZZY_THRESHOLD = 86.0
_MIN_FUZZY_WORD = 4


@dataclass(frozen=True)
class Target:
    kind: str  # "place" | "event" | "faq"
    id: int


@dataclass(frozen=True)
class NameMatch:
    """A name found in the question. More than one target means the name is ambiguous."""

    targets: tuple[Target, ...]
    key: str
    score: float  # 100 for an exact match, the RapidFuzz ratio otherwise
    start: int  # word positions in the question's search key
    end: int

    @property
    def exact(self) -> bool:
        return self.score >= 100.0

    @property
    def target(self) -> Target | None:
        """The one row this name stands for, or None when it is ambiguous."""
        return self.targets[0] if len(self.targets) == 1 else None


@lru_cache(maxsize=65536)
def _word_key(word: str) -> str:
    return search_key(word)


def _name_key(name: str) -> str:
    """``search_key`` of a name, built from memoised per-word keys. Folding and teencode
    work word by word, so the result is the same; but a base of 100,000 places is made of
    a few thousand distinct words, and folding each name in full made rebuilding the index
    take 3.6 s there (every turn waits while the index is rebuilt after an edit)."""
    return " ".join(k for k in map(_word_key, name.split()) if k)


def name_keys(*names: str | None) -> set[str]:
    """Every search key under which a row with these names/aliases is found."""
    direct, derived = _keys(names)
    return direct | derived


def _keys(names: Iterable[str | None]) -> tuple[set[str], set[str]]:
    """The keys of the names themselves, and the shorter keys derived by dropping a
    generic first word ("biển Mỹ Khê" -> "mỹ khê")."""
    direct: set[str] = set()
    derived: set[str] = set()
    codes = {_name_key(str(n)) for n in names if n and _is_code(str(n))}
    for name in names:
        key = _name_key(str(name)) if name else ""
        if not key:
            continue
        direct.add(key)
        for prefix in _GENERIC_PREFIXES:
            if key.startswith(prefix + " "):
                rest = key[len(prefix) + 1 :]
                if len(rest.split()) >= 2 and rest not in _TOO_GENERIC:
                    derived.add(rest)
                break
    # Very short one-word keys would match everyday words: one or two letters never
    # count, and three-letter codes ("DAD" the airport, "VCB", "T1") only as typed.
    usable = lambda k: " " in k or len(k) >= 4 or (len(k) == 3 and k not in codes)  # noqa: E731
    return {k for k in direct if usable(k)}, {k for k in derived - direct if usable(k)}


def _is_code(name: str) -> bool:
    """An abbreviation or code such as "DAD", "FMP" or "T2" rather than a word."""
    name = name.strip()
    return len(name) <= 3 and name.isascii() and (name.isupper() or any(c.isdigit() for c in name))


def _ambiguous_keyword(word: str, key: str) -> bool:
    """A short one-word keyword that loses its diacritics becomes an everyday word:
    "thẻ" -> "the", "bão" -> "bao" (as in "bao nhiêu"), "cân" -> "can". Such keywords
    are left out; the entry is still found by its longer keywords and its title."""
    return " " not in key and len(key) <= 4 and key != word.strip().lower()


class NameIndex:
    def __init__(
        self, entries: Iterable[tuple[str, Target]], derived: Iterable[tuple[str, Target]] = ()
    ) -> None:
        self._targets: dict[str, set[Target]] = defaultdict(set)
        for key, target in entries:
            self._targets[key].add(target)
        # A derived key never competes with a real name: "chợ đêm Cầu Rồng" must not make
        # "cầu rồng" ambiguous.
        direct = set(self._targets)
        for key, target in derived:
            if key not in direct:
                self._targets[key].add(target)
        self._by_word: dict[str, set[str]] = defaultdict(set)
        for key in self._targets:
            for word in key.split():
                self._by_word[word].add(key)
        self._vocabulary = [w for w in self._by_word if len(w) >= _MIN_FUZZY_WORD]
        self._max_words = max((len(k.split()) for k in self._targets), default=0)

    def __len__(self) -> int:
        return len(self._targets)

    @classmethod
    def from_session(cls, session: Session) -> NameIndex:
        entries: list[tuple[str, Target]] = []
        derived: list[tuple[str, Target]] = []
        for kind, model in (("place", Place), ("event", Event)):
            rows = session.execute(
                select(model.id, model.name_vi, model.name_en, model.aliases).where(~model.retired)
            )
            for row_id, name_vi, name_en, aliases in rows:
                target = Target(kind, row_id)
                direct, shorter = _keys((name_vi, name_en, *(aliases or [])))
                entries += [(k, target) for k in direct]
                derived += [(k, target) for k in shorter]
        rows = session.execute(select(Faq.id, Faq.title_vi, Faq.title_en, Faq.keywords).where(~Faq.retired))
        for fid, title_vi, title_en, keywords in rows:
            target = Target("faq", fid)
            # Topic keywords are short ("visa", "sim", "113"): indexed as they are, without
            # the generic-prefix expansion, and short numbers such as 113 are kept.
            for word in (title_vi, title_en, *(keywords or [])):
                key = _name_key(str(word or ""))
                if key and not _ambiguous_keyword(str(word), key):
                    entries.append((key, target))
        return cls(entries, derived)

    def find(self, text: str, kinds: Iterable[str] | None = None) -> list[NameMatch]:
        """Names in ``text``, best first: exact before fuzzy, longer before shorter."""
        allowed = set(kinds) if kinds else None
        words = search_key(text).split()
        taken = [False] * len(words)
        matches: list[NameMatch] = []

        def targets_of(key: str) -> tuple[Target, ...]:
            found = self._targets.get(key, set())
            chosen = [t for t in found if allowed is None or t.kind in allowed]
            return tuple(sorted(chosen, key=lambda t: (t.kind, t.id)))

        for n in range(min(self._max_words, len(words)), 0, -1):
            for i in range(len(words) - n + 1):
                if any(taken[i : i + n]):
                    continue
                key = " ".join(words[i : i + n])
                targets = targets_of(key)
                if targets:
                    matches.append(NameMatch(targets, key, 100.0, i, i + n))
                    taken[i : i + n] = [True] * n

        matches += self._fuzzy(words, taken, targets_of)
        matches.sort(key=lambda m: (-m.score, -(m.end - m.start), -len(m.key), m.start))
        return matches

    def find_partial(self, text: str, kinds: Iterable[str], min_cover: float = 0.5) -> list[Target]:
        """Targets whose key words the question covers best, for topics asked in other
        words ("khẩn cấp" for "Số điện thoại khẩn cấp"). Words under three letters do not
        count: they are grammar, not topic."""
        allowed = set(kinds)
        words = {w for w in search_key(text).split() if len(w) >= 3}
        best: dict[Target, float] = {}
        for word in words:
            for key in self._by_word.get(word, ()):
                key_words = {w for w in key.split() if len(w) >= 3}
                cover = len(words & key_words) / max(len(key_words), 1)
                if cover < min_cover:
                    continue
                for target in self._targets[key]:
                    if target.kind in allowed and cover > best.get(target, 0.0):
                        best[target] = cover
        return sorted(best, key=lambda t: (-best[t], t.id))

    def _fuzzy(self, words: list[str], taken: list[bool], targets_of) -> list[NameMatch]:
        free = [i for i, t in enumerate(taken) if not t]
        if not free:
            return []
        candidates: set[str] = set()
        for i in free:
            word = words[i]
            candidates |= self._by_word.get(word, set())
            if len(word) >= _MIN_FUZZY_WORD and word not in self._by_word:
                for similar, _score, _ in process.extract(
                    word, self._vocabulary, scorer=fuzz.ratio, score_cutoff=80, limit=5
                ):
                    candidates |= self._by_word[similar]
        found: list[NameMatch] = []
        for key in candidates:
            size = len(key.split())
            # Only words of four letters or more can vouch for a misspelt name: "go to"
            # is a fuzzy hit on "giỗ tổ" (gio to), but neither word tells them apart.
            distinctive = [w for w in key.split() if w not in _UNDISTINCTIVE and len(w) >= _MIN_FUZZY_WORD]
            if (size < 2 and len(key) < 5) or not distinctive:
                continue  # a short single word is too easy to hit by accident
            best: tuple[float, int, int] | None = None
            for n in {max(1, size - 1), size, size + 1}:
                for i in range(len(words) - n + 1):
                    if any(taken[i : i + n]):
                        continue
                    window = words[i : i + n]
                    score = fuzz.ratio(" ".join(window), key)
                    agrees = any(
                        fuzz.ratio(w, d) >= 80
                        for w in window
                        if len(w) >= _MIN_FUZZY_WORD
                        for d in distinctive
                    )
                    if score >= FUZZY_THRESHOLD and agrees and (best is None or score > best[0]):
                        best = (score, i, i + n)
            if best:
                targets = targets_of(key)
                if targets:
                    found.append(NameMatch(targets, key, best[0], best[1], best[2]))
        # Keep the best non-overlapping fuzzy matches.
        found.sort(key=lambda m: (-m.score, -(m.end - m.start)))
        kept: list[NameMatch] = []
        for m in found:
            if not any(taken[m.start : m.end]):
                kept.append(m)
                taken[m.start : m.end] = [True] * (m.end - m.start)
        return kept


def _stamp(session: Session) -> tuple:
    """Cheap fingerprint of the named rows: changes whenever a row is added, edited,
    retired or deleted (``updated_at`` is bumped by every ORM update)."""
    parts = []
    for model in (Place, Event, Faq):
        parts.append(tuple(session.execute(select(func.count(), func.max(model.updated_at))).one()))
    return tuple(parts)


class NameIndexCache:
    """One index per process, rebuilt when the base changes. The fingerprint is checked at
    most every ``check_every`` seconds so a turn costs no extra query most of the time,
    while a change made in the admin is seen within that delay."""

    def __init__(self, check_every: float = 1.0) -> None:
        self.check_every = check_every
        self._lock = threading.Lock()
        self._index: NameIndex | None = None
        self._stamp: tuple | None = None
        self._checked = 0.0

    def get(self, session: Session) -> NameIndex:
        now = time.monotonic()
        if self._index is not None and now - self._checked < self.check_every:
            return self._index
        with self._lock:
            stamp = _stamp(session)
            if self._index is None or stamp != self._stamp:
                self._index = NameIndex.from_session(session)
                self._stamp = stamp
            self._checked = now
            return self._index
