"""Staff review of the questions the assistant could not answer.

Visitors ask the same thing in many spellings ("Cầu Rồng mấy giờ phun lửa", "cau rong
may gio phun lua vay"), so open questions are grouped before an officer sees them: one
group per thing that is missing, biggest first. From a group the officer adds the name
visitors used as an alias of an existing entry (the commonest fix: the place exists, the
visitors call it something else), creates a new entry, or dismisses the group.

Grouping works on ``search_key`` (folded, teencode expanded) with the question words
("ở đâu", "mấy giờ", "where is") removed, so what is left is the subject. Identical keys
are merged first; the remaining distinct keys are clustered greedily, biggest first, by a
weighted, typo-tolerant (RapidFuzz) word overlap with the seed key of each group.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from rapidfuzz import fuzz, process
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.text_normalise import fold, search_key
from knowledge import editing
from knowledge.models import UnansweredQuestion, utcnow
from knowledge.names import NameIndex, Target

STATUSES = ("open", "resolved", "dismissed")
# Where an alias goes in each table (faqs have keywords rather than aliases).
ALIAS_FIELD = {"places": "aliases", "events": "aliases", "faqs": "keywords"}
_TARGET_KIND = {"place": "places", "event": "events", "faq": "faqs"}
_KIND_TARGET = {v: k for k, v in _TARGET_KIND.items()}

# Two keys are one question when this share of their word weight is in the other key. Words
# are weighted by how rare they are among the keys, and each key's rarest word must be in
# the other, so "sim có gì hay" and "taxi có gì hay" (common words shared, the subjects
# differ) stay apart. Erring this way is deliberate: a question wrongly merged into another
# group is hidden behind that group's text, one left on its own is still seen.
SIMILAR = 0.75
# Two words are one when a typo apart ("rongg", "rong"); short words must be equal.
WORD_RATIO = 85.0
# A name, not a paragraph (the form field allows as much).
MAX_ALIAS = 200
# Guard against a runaway table: the review reads at most this many questions.
MAX_QUESTIONS = 20_000

# Words that make a question a question but say nothing about what is missing (folded,
# teencode already expanded by search_key). Removed as whole phrases, longest first. Single
# words only where the folded form is not also a name word: "hỏi" would eat "Hội An",
# "tối" the evening, "với" the elephant.
_FILLER_PHRASES = """
o dau | nam o dau | cho nao | o cho nao | may gio | luc may gio | khi nao | luc nao | bao gio
bao nhieu | bao nhieu tien | the nao | nhu the nao | ra sao | la gi | co khong | duoc khong
phai khong | khong a | vay a | cho toi hoi | cho minh hoi | cho em hoi | cho hoi | xin hoi
toi muon hoi | minh muon hoi | toi muon biet | ban oi | em oi | ad oi | oi | a | ah | nhi | nhe
vay | khong | nao | thi | giup
where is | where are | where | what time | what is | what are | what | when is | when | how much
how do i | how can i | how to | how | is | are | the | please | tell me | do you | can you
can i | i | you | there | of | in | at | to get
"""
_FILLERS = {tuple(p.split()) for p in re.split(r"[|\n]", _FILLER_PHRASES) if p.strip()}
_FILLER_MAX = max(len(p) for p in _FILLERS)
_WORD = re.compile(r"\w+", re.UNICODE)


def _filler_spans(folded_words: Sequence[str]) -> list[bool]:
    """For each word, whether it is part of a question-word phrase (longest match first)."""
    drop = [False] * len(folded_words)
    i = 0
    while i < len(folded_words):
        for n in range(min(_FILLER_MAX, len(folded_words) - i), 0, -1):
            if tuple(folded_words[i : i + n]) in _FILLERS:
                drop[i : i + n] = [True] * n
                i += n
                break
        else:
            i += 1
    return drop


def core_key(text: str) -> str:
    """The subject of a question: its search key without question words. A question that
    is nothing but question words ("ở đâu vậy?") keeps its whole key."""
    words = search_key(text).split()
    drop = _filler_spans(words)
    kept = [w for w, d in zip(words, drop, strict=True) if not d]
    return " ".join(kept) if kept else " ".join(words)


def subject_text(text: str) -> str:
    """The question's subject as the visitor wrote it (diacritics kept), a good first guess
    for an alias or a new entry's name: "Bảo tàng điêu khắc ở đâu vậy?" -> "Bảo tàng điêu khắc"."""
    words = _WORD.findall(text.replace("_", " "))
    drop = _filler_spans([search_key(w) for w in words])
    kept = [w for w, d in zip(words, drop, strict=True) if not d]
    return " ".join(kept or words)


class _Similarity:
    """Weighted, typo-tolerant word overlap of two keys (a Dice coefficient where each word
    counts by its inverse document frequency among the keys being grouped)."""

    def __init__(self, keys: Iterable[str]) -> None:
        keys = list(keys)
        self._df = Counter(w for k in keys for w in set(k.split()))
        self._n = len(keys)

    def weight(self, word: str) -> float:
        return math.log((self._n + 1) / (self._df.get(word, 0) + 1)) + 1.0

    def _match(self, word: str, other: list[str]) -> float:
        if word in other:
            return 1.0
        if len(word) < 4:
            return 0.0
        best = max((fuzz.ratio(word, o) for o in other if len(o) >= 4), default=0.0)
        return best / 100 if best >= WORD_RATIO else 0.0

    def rarest(self, key: str) -> list[str]:
        """The words of ``key`` that say most about what it is about (its rarest)."""
        words = key.split()
        top = max((self.weight(w) for w in words), default=0.0)
        return [w for w in words if self.weight(w) == top]

    def _covered(self, words: list[str], other: list[str]) -> tuple[float, float] | None:
        """The weight of ``words`` found in ``other`` and their whole weight; None when
        the rarest word (the one that says what the question is about) is not found."""
        weights = [self.weight(w) for w in words]
        matches = [self._match(w, other) for w in words]
        top = max(weights, default=0.0)
        if not any(m for w, m in zip(weights, matches, strict=True) if w == top):
            return None
        return sum(w * m for w, m in zip(weights, matches, strict=True)), sum(weights)

    def score(self, a: str, b: str) -> float:
        if a == b:
            return 1.0
        wa, wb = a.split(), b.split()
        ca, cb = self._covered(wa, wb), self._covered(wb, wa)
        if ca is None or cb is None:
            return 0.0
        return (ca[0] + cb[0]) / (ca[1] + cb[1])


@dataclass
class Suggestion:
    kind: str  # "places" | "events" | "faqs"
    id: int
    name: str


@dataclass
class Group:
    key: str
    text: str  # the representative question (the newest wording of the commonest key)
    subject: str  # its subject, as a proposed alias or name
    count: int
    question_ids: list[int]
    texts: list[str]  # distinct wordings, newest first
    reasons: list[str]  # commonest first
    languages: list[str]
    first_seen: datetime
    last_seen: datetime
    suggestion: Suggestion | None = None
    resolutions: list[str] = field(default_factory=list)
    resolved_by: list[str] = field(default_factory=list)


@dataclass
class _Question:
    id: int
    text: str
    reason: str
    language: str | None
    created_at: datetime
    resolution: str | None
    resolved_by: str | None


@dataclass
class _Bucket:
    """Questions with one identical core key."""

    key: str
    questions: list[_Question]

    @property
    def last_seen(self) -> datetime:
        return max(q.created_at for q in self.questions)


def _load(session: Session, status: str) -> list[_Question]:
    Q = UnansweredQuestion
    rows = session.execute(
        select(Q.id, Q.text, Q.reason, Q.language, Q.created_at, Q.resolution, Q.resolved_by)
        .where(Q.status == status)
        .order_by(Q.created_at.desc(), Q.id.desc())
        .limit(MAX_QUESTIONS)
    ).all()
    return [_Question(*row) for row in rows]


def _cluster(buckets: list[_Bucket]) -> list[list[_Bucket]]:
    """Greedy: each key, biggest first, joins the most similar group seed, or starts a group
    of its own. Only seeds that contain the key's rarest word (or a word a typo away from
    it) can be similar, so only those are compared: a few thousand keys take well under a
    second even when they share many common words."""
    buckets = sorted(buckets, key=lambda b: (-len(b.questions), -b.last_seen.timestamp(), b.key))
    similarity = _Similarity(b.key for b in buckets)
    clusters: list[list[_Bucket]] = []
    seeds: list[str] = []
    by_word: dict[str, list[int]] = defaultdict(list)  # word -> groups whose seed has it
    vocabulary: list[str] = []  # the words of by_word long enough for typo matching
    for bucket in buckets:
        candidates: set[int] = set()
        for word in similarity.rarest(bucket.key):
            if word in by_word:
                candidates.update(by_word[word])
            elif len(word) >= 4:
                for near, _score, _pos in process.extract(
                    word, vocabulary, scorer=fuzz.ratio, score_cutoff=WORD_RATIO, limit=5
                ):
                    candidates.update(by_word[near])
        home, best = None, SIMILAR
        for index in sorted(candidates):
            score = similarity.score(bucket.key, seeds[index])
            if score > best or (score == best and home is None):
                home, best = index, score
        if home is None:
            home = len(clusters)
            clusters.append([])
            seeds.append(bucket.key)
            for word in set(bucket.key.split()):
                if word not in by_word and len(word) >= 4:
                    vocabulary.append(word)
                by_word[word].append(home)
        clusters[home].append(bucket)
    return clusters


def _commonest(values: Iterable[str | None]) -> list[str]:
    counts = Counter(v for v in values if v)
    return [v for v, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]


def _has_diacritics(text: str) -> bool:
    return fold(text) != text.lower()


def _group(buckets: list[_Bucket]) -> Group:
    questions = sorted((q for b in buckets for q in b.questions), key=lambda q: (q.created_at, q.id),
                       reverse=True)
    seed = buckets[0]
    # The newest wording of the commonest key (buckets keep the newest first), preferably one
    # with diacritics: it reads better and makes a better alias than the same words without.
    text = next((q.text for q in seed.questions if _has_diacritics(q.text)), seed.questions[0].text)
    texts: list[str] = []
    for q in questions:
        if q.text not in texts:
            texts.append(q.text)
    return Group(
        key=seed.key,
        text=text,
        subject=subject_text(text),
        count=len(questions),
        question_ids=[q.id for q in questions],
        texts=texts,
        reasons=_commonest(q.reason for q in questions),
        languages=_commonest(q.language for q in questions),
        first_seen=min(q.created_at for q in questions),
        last_seen=max(q.created_at for q in questions),
        resolutions=_commonest(q.resolution for q in questions),
        resolved_by=_commonest(q.resolved_by for q in questions),
    )


def _suggest(index: NameIndex, group: Group) -> Target | None:
    """The existing entry the question seems to be about: a name found in it (exact, then
    typo-tolerant), else the entry whose name words it covers best."""
    for text in (group.text, *group.texts[:5]):
        for match in index.find(text):
            if match.target is not None:
                return match.target
    for text in (group.text, *group.texts[:5]):
        found = index.find_partial(text, ("place", "event", "faq"))
        if found:
            return found[0]
    return None


def titles(session: Session) -> dict[str, dict[int, str]]:
    """Live entries of each table, id -> Vietnamese name, for choosing where an alias goes."""
    found: dict[str, dict[int, str]] = {}
    for kind, model in editing.MODELS.items():
        title = getattr(model, editing.TITLE_FIELD[kind])
        rows = session.execute(select(model.id, title).where(~model.retired).order_by(title)).all()
        found[kind] = {row_id: name for row_id, name in rows}
    return found


def groups(session: Session, status: str = "open", limit: int | None = 200, *,
           suggest: bool = True) -> list[Group]:
    """Questions of ``status`` grouped by similarity, biggest groups first (then the most
    recently asked), each with a suggested existing entry when the question names one
    (``suggest``; the page fills it in only for the groups it shows)."""
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}")
    by_key: dict[str, list[_Question]] = defaultdict(list)
    for question in _load(session, status):
        by_key[core_key(question.text)].append(question)
    clusters = _cluster([_Bucket(k, qs) for k, qs in by_key.items()])
    found = sorted((_group(c) for c in clusters), key=lambda g: (-g.count, -g.last_seen.timestamp(), g.key))
    if limit is not None:
        found = found[:limit]
    if suggest:
        add_suggestions(session, found)
    return found


def add_suggestions(session: Session, found: list[Group]) -> None:
    """Fill in each group's suggested entry."""
    if not found:
        return
    index = NameIndex.from_session(session)
    names = titles(session)
    for group in found:
        target = _suggest(index, group)
        if target is not None:
            kind = _TARGET_KIND[target.kind]
            name = names[kind].get(target.id)
            if name is not None:
                group.suggestion = Suggestion(kind, target.id, name)


def title_of(row: object, kind: str) -> str:
    return getattr(row, editing.TITLE_FIELD[kind])


class ReviewError(ValueError):
    """Something the officer asked for cannot be done; the message says why, in Vietnamese."""


def _clean_ids(question_ids: Iterable[int]) -> list[int]:
    ids = sorted({int(i) for i in question_ids})
    if not ids:
        raise ReviewError("Không có câu hỏi nào được chọn.")
    return ids


def _close(session: Session, question_ids: Iterable[int], status: str, user: str | None,
           resolution: str | None) -> int:
    ids = _clean_ids(question_ids)
    Q = UnansweredQuestion
    result = session.execute(
        update(Q)
        .where(Q.id.in_(ids))
        .values(status=status, resolved_by=user, resolved_at=utcnow(), resolution=resolution)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def resolve(session: Session, question_ids: Iterable[int], user: str | None, resolution: str | None) -> int:
    """Mark the questions answered by a change to the base; returns how many were marked."""
    return _close(session, question_ids, "resolved", user, (resolution or "").strip() or None)


def dismiss(session: Session, question_ids: Iterable[int], user: str | None) -> int:
    """Mark the questions as needing nothing (greetings, off-topic, spam)."""
    return _close(session, question_ids, "dismissed", user, None)


def reopen(session: Session, question_ids: Iterable[int]) -> int:
    """Put resolved or dismissed questions back in the open list (a mistaken click)."""
    ids = _clean_ids(question_ids)
    Q = UnansweredQuestion
    result = session.execute(
        update(Q)
        .where(Q.id.in_(ids))
        .values(status="open", resolved_by=None, resolved_at=None, resolution=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def _names_of(row: object, kind: str) -> list[str]:
    if kind == "faqs":
        return [row.title_vi, row.title_en]  # type: ignore[attr-defined]
    return [row.name_vi, row.name_en]  # type: ignore[attr-defined]


def add_alias(session: Session, kind: str, row_id: int, alias: str, user: str | None,
              question_ids: Iterable[int]) -> tuple[object, bool]:
    """Add ``alias`` to the entry's other names (a faq's keywords) through the editing
    service, so the history records who added it, then resolve the questions. Returns the
    row and whether the alias was new (already known: the questions are resolved anyway,
    the assistant will find the entry by it)."""
    if kind not in ALIAS_FIELD:
        raise ReviewError("Hãy chọn loại mục: địa điểm, sự kiện hoặc thông tin thiết thực.")
    alias = " ".join(alias.split())
    key = search_key(alias)
    if not key:
        raise ReviewError("Hãy nhập tên gọi khác (không để trống).")
    if len(alias) > MAX_ALIAS:
        raise ReviewError(f"Tên gọi khác dài quá: tối đa {MAX_ALIAS} ký tự.")
    try:
        row = editing.get(session, kind, row_id)
    except editing.NotFound:
        raise ReviewError("Không tìm thấy mục đã chọn; có thể nó vừa bị xoá. Hãy chọn lại.") from None
    if row.retired:
        raise ReviewError("Mục này đã ngừng sử dụng; hãy chọn một mục đang dùng.")
    column = ALIAS_FIELD[kind]
    existing = list(getattr(row, column) or [])
    if key in {search_key(str(n)) for n in (*existing, *_names_of(row, kind)) if n}:
        added = False
    else:
        _check_not_taken(session, kind, row_id, alias, key)
        editing.update(session, kind, row_id, {column: [*existing, alias]}, user, None, partial=True)
        added = True
    resolve(session, question_ids, user, f"alias:{kind}/{row_id}")
    return row, added


def _check_not_taken(session: Session, kind: str, row_id: int, alias: str, key: str) -> None:
    # The same name on two entries makes the assistant ask which one is meant: say so now.
    own = Target(_KIND_TARGET[kind], row_id)
    names = titles(session)
    for match in NameIndex.from_session(session).find(alias):
        if match.exact and match.key == key:
            others = [t for t in match.targets if t != own]
            if others:
                other = others[0]
                other_kind = _TARGET_KIND[other.kind]
                name = names[other_kind].get(other.id, f"số {other.id}")
                raise ReviewError(f"“{alias}” đã là tên (hoặc tên gọi khác) của mục “{name}”.")
