"""Vietnamese word tokenizer for the Rasa NLU pipeline.

Vietnamese words are made of several space-separated syllables ("bảo tàng" = museum), so a
whitespace tokenizer cuts every word into pieces. This component lets pyvi decide which
syllables form a word and turns its output into Rasa ``Token`` objects whose offsets point
into the ORIGINAL message text, whatever Unicode form or tone placement the visitor's
keyboard produced.

Segmentation: the text is normalised (NFC, canonical tones, with a map back to original
offsets), lowercased and given pyvi's tone placement (both length-preserving, so positions
do not move), segmented by pyvi, aligned back piece by piece, and pyvi's multi-syllable
words are kept only if pyvi's own dictionary knows them; numeric dates/times are re-joined.
The point is that a phrase gets the same token boundaries however it is typed -- casing,
tone placement, NFD -- because entity annotations must line up with token boundaries.

Per token:

* ``start``/``end``: offsets into the original text (Python code points, as Rasa uses), so
  ``text[start:end]`` is the surface form -- also for NFD input, where the original is longer
  than its NFC form.
* ``text``: that surface in NFC with canonical ("hòa", not "hoà") tone placement.
* ``lemma``: the matching key ``fold(expand_teencode(text))`` with the syllables of a
  multi-syllable word separated by single spaces ("Bảo tàng" -> "bao tang"); see
  ``_lemma`` for why spaces and not underscores.

Punctuation and emoji are dropped, as Rasa's ``WhitespaceTokenizer`` does, so entity spans
built from tokens never include trailing punctuation. Only when a message has no word at
all (":)", "👍", "???") are its whitespace-separated chunks used as tokens, again like
``WhitespaceTokenizer``, so such messages still get features.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from functools import lru_cache
from typing import Any

from pyvi import ViTokenizer
from pyvi.ViTokenizer import ViTokenizer as _PyviModel
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.training_data.message import Message

from bot.text_normalise import expand_teencode, fold, nfc_with_offsets

logger = logging.getLogger(__name__)

Span = tuple[int, int]

# Characters that end a line. pyvi treats "\n" as a token of its own and never joins across
# it, but its CRF may still glue syllables around other line breaks; a word never spans lines.
_LINE_BREAKS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")

# Numeric dates and times that pyvi splits at "/" and ":" ("15 / 8 / 2025"). They are kept
# as one token, as WhitespaceTokenizer does, so that a date entity is a single token.
_DATE_OR_TIME = re.compile(
    r"(?<![\w/:.])(?:"
    r"\d{1,2}/\d{1,2}(?:/\d{2,4})?"  # 15/8/2025, 2/9
    r"|\d{1,2}-\d{1,2}-\d{2,4}"  # 15-8-2025
    r"|\d{4}-\d{1,2}-\d{1,2}"  # 2025-08-15
    r"|\d{1,2}:\d{2}(?::\d{2})?"  # 14:30
    r")(?![\w/:]|\.\d)"  # "30/4-1/5" is two dates; "1/2/3/4" and "1/2.5" are none
)

# Used for the remaining text when pyvi's output cannot be aligned with the input: runs of
# letters/digits, optionally joined by in-word punctuation ("15/8/2025", "a.b@c.vn", "it's").
_FALLBACK_WORD = re.compile(r"[^\W_]+(?:[-'’./:@_][^\W_]+)*")


def _is_word_char(ch: str) -> bool:
    return ch.isalnum()


@lru_cache(maxsize=65536)
def _lemma(surface: str) -> str:
    """The matching form of a token: teencode expanded, folded, syllables space-separated.

    Why "bao tang" and not "bao_tang": rasa's CountVectorsFeaturizer reads ``token.lemma``
    (``use_lemma: True`` by default) and
      * at training time fits its sklearn vectorizer on ``" ".join(lemmas)``; the word
        analyzer then splits that string with ``token_pattern=r"(?u)\\b\\w+\\b"`` and the
        char_wb analyzer splits it on whitespace before building padded n-grams;
      * builds sequence features with ``vectorizer.transform(lemmas)``, one lemma at a time,
        and sentence features from ``" ".join(lemmas)``.
    With spaces, "Bảo_tàng Chăm" (pyvi joins the diacritic text) and "bao tang cham" (pyvi
    leaves diacritic-free text as single syllables) give the same vocabulary entries
    ("bao", "tang", "cham") and identical sentence features, and the token "bảo tàng" gets
    the multi-hot sequence feature {bao, tang}. With "bao_tang" the word analyzer would keep
    "bao_tang" as one entry (``\\w`` includes "_") that diacritic-free input never produces,
    and char_wb would build n-grams such as "o_t" that only exist for one segmentation.
    Caveat: do not configure ``OOV_token`` on CountVectorsFeaturizer with this tokenizer --
    its OOV replacement compares whole lemmas with the (single-syllable) vocabulary and would
    map every multi-syllable lemma to the OOV token.
    """
    return " ".join(fold(expand_teencode(surface)).split())


def _strip_to_word(text: str, start: int, end: int) -> Span:
    """Shrink [start, end) so that it starts and ends with a letter or digit ("ĐN." -> "ĐN")."""
    while start < end and not _is_word_char(text[start]):
        start += 1
    while end > start and not _is_word_char(text[end - 1]):
        end -= 1
    return start, end


def _fallback_runs(text: str, start: int) -> list[list[Span]]:
    return [[m.span()] for m in _FALLBACK_WORD.finditer(text, start)]


def _align(text: str, segmented: str) -> list[list[Span]]:
    """pyvi's words as runs of syllable spans in ``text``.

    pyvi drops whitespace, joins the syllables of a word with "_" and puts spaces between
    words, so every "_"- or space-separated piece of its output occurs in ``text`` in order,
    separated only by whitespace (or by underscores that were already in the input, which
    pyvi treats as word characters: pieces separated by such an underscore stay one
    syllable). Pieces are matched one after the other; nothing is assumed about their
    lengths. Pieces without a letter or digit (punctuation, emoji) are dropped and split a
    pyvi word in two, as does a line break. If a piece is not where it should be, the rest of
    the text is tokenised with a regex instead.
    """
    runs: list[list[Span]] = []
    n = len(text)
    cursor = 0
    for word in segmented.split():
        run: list[Span] = []
        for piece in word.split("_"):
            if not piece:
                continue
            pos = cursor
            while pos < n and (text[pos].isspace() or text[pos] == "_"):
                pos += 1
            if not text.startswith(piece, pos):
                logger.debug("pyvi output does not align at offset %d; using regex", pos)
                if run:
                    runs.append(run)
                return runs + _fallback_runs(text, cursor)
            gap = text[cursor:pos]
            cursor = pos + len(piece)
            s, e = _strip_to_word(text, pos, cursor)
            if run and (s == e or any(c in _LINE_BREAKS for c in gap)):
                runs.append(run)
                run = []
            if s < e:
                if run and gap and not any(c.isspace() for c in gap):
                    run[-1] = (run[-1][0], e)  # "a_b" in the input: one syllable
                else:
                    run.append((s, e))
        if run:
            runs.append(run)
    if any(_is_word_char(c) for c in text[cursor:]):  # pyvi lost text at the end
        runs.extend(_fallback_runs(text, cursor))
    return runs


@lru_cache(maxsize=1)
def _pyvi_dictionary() -> frozenset[str]:
    """pyvi's own list of two- and three-syllable words (lowercase, new tone placement)."""
    return frozenset(_PyviModel.bi_grams) | frozenset(_PyviModel.tri_grams)


def _dictionary_words(lookup: str, run: list[Span]) -> list[Span]:
    """Split a pyvi word into the longest words (3, 2, then 1 syllables, left to right) that
    pyvi's dictionary knows.

    pyvi's CRF glues syllables that are not a word, mostly at the edges of names and in
    diacritic-free text ("ve_deo hai van", "the_hoan my hospital", "Bridge_from"). On the
    project's NLU data that put ~5% of entity boundaries inside a token; keeping only
    dictionary words brings it to ~0.1%. Proper names are not in the dictionary and become
    one token per syllable, which is also how their diacritic-free spellings come out."""
    if len(run) == 1:
        return run
    words = _pyvi_dictionary()
    result: list[Span] = []
    i, n = 0, len(run)
    while i < n:
        for size in (3, 2):
            if i + size <= n:
                key = " ".join(lookup[s:e] for s, e in run[i : i + size]).lower()
                if key in words:
                    result.append((run[i][0], run[i + size - 1][1]))
                    i += size
                    break
        else:
            result.append(run[i])
            i += 1
    return result


def _merge_dates(text: str, spans: list[Span]) -> list[Span]:
    """Join the pieces of numeric dates and times back into a single span."""
    if not spans or ("/" not in text and ":" not in text and "-" not in text):
        return spans
    merged: list[Span] = []
    i = 0
    for match in _DATE_OR_TIME.finditer(text):
        ms, me = match.span()
        while i < len(spans) and spans[i][1] <= ms:
            merged.append(spans[i])
            i += 1
        j = i
        while j < len(spans) and spans[j][0] < me:
            j += 1
        # Merge only if several spans lie entirely inside the date; a pyvi word reaching
        # outside it is left alone.
        if j - i >= 2 and spans[i][0] >= ms and spans[j - 1][1] <= me:
            merged.append((ms, me))
            i = j
    merged.extend(spans[i:])
    return merged


_SYLLABLE = re.compile(r"[^\W\d_]+")
_TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")


def _new_style_syllable(match: re.Match[str]) -> str:
    """ "hòa" -> "hoà", "thủy" -> "thuỷ", "khỏe" -> "khoẻ" (same length)."""
    word = match.group(0)
    if len(word) < 2:
        return word
    first, last = word[-2], word[-1]
    decomposed = unicodedata.normalize("NFD", first)
    if len(decomposed) != 2 or decomposed[1] not in _TONE_MARKS:
        return word
    base, tail = decomposed[0].lower(), last.lower()
    if not ((base == "o" and tail in "ae") or (base == "u" and tail == "y")):
        return word
    if base == "u" and len(word) > 2 and word[-3] in "qQ":  # "quý": tone is on y anyway
        return word
    moved = unicodedata.normalize("NFC", last + decomposed[1])
    return word[:-2] + decomposed[0] + moved if len(moved) == 1 else word


def _pyvi_tone_style(text: str) -> str:
    """Canonical text uses the traditional tone placement ("hòa", "thủy"), but every entry of
    pyvi's dictionary -- which feeds both its CRF features and ``_dictionary_words`` -- uses
    the new one ("hoà", "thuỷ"). Convert open oa/oe/uy syllables for pyvi only."""
    return _SYLLABLE.sub(_new_style_syllable, text)


def _lower_same_length(text: str) -> str:
    """Lowercase without changing length ("İ".lower() is two characters: keep it as is)."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


def _symbol_chunks(text: str) -> list[Span]:
    """Whitespace-separated chunks, for messages made only of punctuation and emoji."""
    return [m.span() for m in re.finditer(r"\S+", text)]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class VietnameseTokenizer(Tokenizer):
    """Word segmentation with pyvi, offsets into the original text, folded lemmas."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Returns the component's default config (same keys as WhitespaceTokenizer)."""
        return {
            # Flag to check whether to split intents
            "intent_tokenization_flag": False,
            # Symbol on which intent should be split
            "intent_split_symbol": "_",
            # Regular expression to further split tokens (applied to the normalised text)
            "token_pattern": None,
            # Symbol on which prefix should be split
            "prefix_separator_symbol": None,
            # Segment the lowercased text. pyvi's CRF uses capitalisation, so "Dragon
            # Bridge" / "Ngũ Hành Sơn" are joined or split differently from "dragon bridge"
            # / "ngũ hành sơn" / "NGŨ HÀNH SƠN"; visitors' casing is arbitrary, and token
            # boundaries that differ between training data and chat hurt entity tagging.
            "lowercase_for_segmentation": True,
            # Keep only pyvi words found in pyvi's own dictionary (see _dictionary_words).
            "dictionary_words_only": True,
        }

    def __init__(self, config: dict[str, Any]) -> None:
        """Initialize the tokenizer."""
        super().__init__(config)
        self._lowercase = bool(config.get("lowercase_for_segmentation", True))
        self._dictionary_only = bool(config.get("dictionary_words_only", True))
        if self._dictionary_only:
            _pyvi_dictionary()  # build it now rather than on the first message

    @staticmethod
    def required_packages() -> list[str]:
        """Python packages needed by this component."""
        return ["pyvi"]

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> VietnameseTokenizer:
        """Creates a new component (see parent class for full docstring)."""
        return cls(config)

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        """Tokenizes the text of the provided attribute of the incoming message."""
        text = message.get(attribute)
        if not isinstance(text, str):
            return []
        return self.tokenize_text(text)

    def tokenize_text(self, original: str) -> list[Token]:
        """Tokens for ``original`` (see module docstring); never raises on odd input."""
        if not original or original.isspace():
            return []
        normalised, offsets = nfc_with_offsets(original)

        # What pyvi sees: same length and positions as ``normalised``, so spans found in
        # it are spans of ``normalised``.
        segmenter_input = _lower_same_length(normalised) if self._lowercase else normalised
        segmenter_input = _pyvi_tone_style(segmenter_input)
        try:
            segmented = ViTokenizer.tokenize(segmenter_input)
        except Exception:  # pyvi is a third-party CRF: never let it break a turn
            logger.exception("pyvi failed; falling back to regex tokenisation")
            runs = _fallback_runs(normalised, 0)
        else:
            runs = _align(segmenter_input, segmented)
        if self._dictionary_only:
            spans = [w for run in runs for w in _dictionary_words(segmenter_input, run)]
        else:
            spans = [(run[0][0], run[-1][1]) for run in runs]
        spans = _merge_dates(normalised, spans)
        if not spans:
            spans = _symbol_chunks(normalised)
        if self.token_pattern_regex is not None:
            spans = self._split_by_pattern(normalised, spans)
        return self._to_tokens(normalised, offsets, spans)

    def _split_by_pattern(self, text: str, spans: list[Span]) -> list[Span]:
        """Apply the configured ``token_pattern`` inside each span (like the base class's
        ``_apply_token_pattern``, but on the normalised text so offsets stay mappable)."""
        assert self.token_pattern_regex is not None
        result: list[Span] = []
        for s, e in spans:
            parts = [m.span() for m in self.token_pattern_regex.finditer(text, s, e)]
            parts = [(a, b) for a, b in parts if a < b]
            result.extend(parts if parts else [(s, e)])
        return result

    @staticmethod
    def _to_tokens(text: str, offsets: list[int], spans: list[Span]) -> list[Token]:
        """Map spans of the normalised text to tokens with offsets into the original.

        ``offsets[i]`` is the original offset of normalised character i. A character cluster
        that NFC cannot compose to one character (e.g. a consonant with a tone mark) maps
        all of its characters to the cluster's start, so spans are widened to whole clusters
        and clipped so that tokens never overlap."""
        tokens: list[Token] = []
        last_end = 0  # in the normalised text
        n = len(text)
        for s, e in sorted(spans):
            while 0 < s < n and offsets[s] == offsets[s - 1]:
                s -= 1
            while e < n and offsets[e] == offsets[e - 1]:
                e += 1
            s = max(s, last_end)
            if s >= e:
                continue
            surface = text[s:e]
            tokens.append(Token(surface, offsets[s], offsets[e], lemma=_lemma(surface)))
            last_end = e
        return tokens

    @staticmethod
    def supported_languages() -> list[str] | None:
        """Any language: Vietnamese is segmented by pyvi, other text falls through it."""
        return None
