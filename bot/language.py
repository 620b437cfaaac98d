"""Which language a visitor writes in: "vi" or "en".

Vietnamese is the default -- most visitors are domestic -- so the answer is "en" only when
the message is clearly English. Rules, in order:

1. Known Đà Nẵng place names ("Cầu Rồng", "Bà Nà Hills", "Hội An", ...) are ignored: an
   English-speaking tourist who pastes "Cầu Rồng" from a map is still writing English.
2. Any remaining Vietnamese-only letter (ă â đ ê ô ơ ư) or tone mark -> "vi".
3. Diacritic-free text: words found in a small English list are counted against words
   found in a small list of diacritic-free Vietnamese syllables and teencode (plus a few
   two-word Vietnamese phrases, which count extra). Words that are common in both
   languages ("the" = thế/thể, "do" = đó/do, "to" = to/tô, "an" = ăn, "on" = ổn/ơn, ...)
   count for neither. "en" only if English words outnumber Vietnamese ones.

Pure Python (no Rasa import) so actions and tests can use it directly.
"""

from __future__ import annotations

import re
import unicodedata

from bot.text_normalise import fold, nfc

# Combining marks that only Vietnamese puts on Latin letters here: the five tones plus
# breve (ă), circumflex (â ê ô) and horn (ơ ư). đ has no combining form and is checked apart.
_VI_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323\u0306\u0302\u031b")

# Place names, folded, longest first so "ba na hills" wins over "ba na".
_PLACE_NAMES = sorted(
    [
        "da nang",
        "danang",
        "hoi an",
        "hue",
        "ba na hills",
        "ba na",
        "bana hills",
        "son tra",
        "my khe",
        "ngu hanh son",
        "non nuoc",
        "cau rong",
        "cau song han",
        "cau tran thi ly",
        "cau thuan phuoc",
        "cau tinh yeu",
        "song han",
        "cho han",
        "cho con",
        "linh ung",
        "hai van",
        "deo hai van",
        "lang co",
        "cu lao cham",
        "nam o",
        "tien sa",
        "bach ma",
        "than tai",
        "hoa vang",
        "hai chau",
        "thanh khe",
        "lien chieu",
        "cam le",
        "asia park",
        "sun world",
        "my son",
        "nui than tai",
    ],
    key=len,
    reverse=True,
)
_PLACE_RE = re.compile(r"\b(?:" + "|".join(re.escape(p) for p in _PLACE_NAMES) + r")\b")

_ENGLISH = frozenset(
    """
    i i'm im i'd i'll i've you you're your yours she we we're they they're my our their
    him her us it's its this that these those there here what what's whats where
    where's wheres when which who whom whose why how is are was were am be been being
    does did doing don't dont doesn't didn't isn't aren't can't cant won't wouldn't
    have has had having will would should could shall might must want wanna need like
    love get getting got going gonna go goes come coming take taking make know think
    tell show give find look looking see visit visiting recommend suggest help please
    thanks thank thx ty hello hey hi bye goodbye yes yeah yep nope not any some much
    many more most very really just also too only all every each other another about
    of with from for and or but if so because at into onto near nearby far around
    between over under after before during until by up down out off best good great
    nice beautiful cheap expensive free open opening opens close closing closes closed
    time times hour hours today tomorrow tonight yesterday weekend morning afternoon
    evening night week days price prices ticket tickets cost costs fee fees entrance
    entry admission buy pay booking reserve reservation bridge dragon beach beaches
    museum market food eat eating drink restaurant restaurants street city mountain
    mountains hill hills marble pagoda temple church airport station weather rain
    sunny hot cold fire breathe breathing shows festival fireworks family kids
    children people friends way distance minutes walk walking ride drive driving rent
    car motorbike bike how's there's anything something everything place places thing
    things trip travel trips english vietnamese speak understand sorry excuse okay
    fine well worth seafood breakfast lunch dinner vegetarian vegan halal shopping
    souvenir souvenirs photo photos picture pictures sunset sunrise swim swimming boat
    cruise island river water park parking
    lot lots not got hot top map maps tip tips bit big cut put let set yet net met hit
    sit fit kit pick pin pop bottom cheers cool awesome cute lovely amazing guide
    """.split()
)

_VIETNAMESE = frozenset(
    """
    o dau may gio bao nhieu lau ko k kh khong hok hong hem kg di cho minh gi nao la co
    duoc dc dk j toi tui em anh chi oi nha nhe nhi hen vay z v roi r thi ma va voi vs
    cua tu tren duoi trong ngoai gan xa nay kia sao lam uong choi mua gia ve ngay dem
    chieu trua mo dong xem hoi biet muon nen phai cai con nguoi ng cau rong bien quan
    ngon re dat xe khach san pho cam xin chao ak ah uh um mik mk mn ntn bn bh trc cx cg
    bik wa qa ad admin chua luon ne vui dep nhat lai tien bay sau tam chin muoi hai mot
    bon nam thu chu tuan thang ai duong huong dan gioi thieu nghi dia diem tham du lich
    khu vuc dang ky nhom gia dinh tre lon mien phi luc troi nang thoi tiet le phao hoa
    phun lua nuoc ca dac mon phe
    """.split()
)

# Common in both languages (the Vietnamese readings: thế/thể, đó, tô, ăn, ổn/ơn, nó, mẹ,
# ít, cần, bạn, đây, hè, thêm, ...) and loanwords Vietnamese chat uses as-is: never counted.
_AMBIGUOUS = frozenset(
    """
    a the do to an on in no me it can ban bang long sang tin ten hang mat den tan dam bus
    ha van day he them ok oke okie wifi taxi tour book grab menu bar cafe coffee hotel
    resort homestay spa massage check view review sale selfie shop
    """.split()
)

# Two-word Vietnamese phrases whose words may be ambiguous alone ("the nao" = thế nào).
_VI_PHRASES = frozenset(
    """
    the_nao co_the o_dau bao_nhieu may_gio cam_on xin_chao duoc_khong khong_a the_a
    bao_lau o_day di_den den_do gia_ve an_gi an_o choi_gi
    """.split()
)

_WORD_RE = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")

# The shape of a Vietnamese syllable once its diacritics are gone: optional onset,
# vowel group, optional coda. Words outside both word lists are judged by it, so
# "dien thoai benh vien" reads as Vietnamese and "ticket price" as English.
_VI_SYLLABLE = re.compile(
    r"^(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnprstvx])?"
    r"(?:uye|uya|oai|oay|oeo|uay|uoi|uou|ieu|yeu|ai|ao|au|ay|eo|eu|ia|ie|iu|oa|oe|oi|oo|ua|ue|ui|uo|uu|uy|ye"
    r"|a|e|i|o|u|y)"
    r"(?:ch|ng|nh|[cmnpt])?$"
)


def _strip_place_names(text: str) -> str:
    """Blank out known place names. ``fold`` is length-preserving on NFC text, so spans
    found in the folded string are valid in the original."""
    folded = fold(text)
    if len(folded) != len(text):  # "İ".lower() is two characters: leave such text alone
        return text
    spans = [m.span() for m in _PLACE_RE.finditer(folded)]
    if not spans:
        return text
    out, last = [], 0
    for s, e in spans:
        out.append(text[last:s])
        out.append(" ")
        last = e
    out.append(text[last:])
    return "".join(out)


def _has_vietnamese_letter(text: str) -> bool:
    for ch in text:
        if ch in "đĐ":
            return True
        if ord(ch) < 0xC0:
            continue
        if any(c in _VI_MARKS for c in unicodedata.normalize("NFD", ch)):
            return True
    return False


def detect_language(text: str) -> str:
    """Return "vi" or "en" for a visitor's message (see module docstring)."""
    if not text:
        return "vi"
    text = _strip_place_names(nfc(text))
    if _has_vietnamese_letter(text):
        return "vi"
    words = _WORD_RE.findall(fold(text).replace("’", "'"))
    english = vietnamese = 0.0
    foreign = 0  # words that cannot be Vietnamese syllables
    for word in words:
        if word in _AMBIGUOUS or word.isdigit():
            continue
        if word in _ENGLISH:
            english += 1
        elif word in _VIETNAMESE or _VI_SYLLABLE.match(word):
            vietnamese += 1
        elif word.isalpha() and len(word) >= 3:
            foreign += 1
    # Words that are not Vietnamese count as English only next to a known English word:
    # "any good beaches" is English, "asdf qwer" is just noise (Vietnamese default).
    if english:
        english += 0.5 * foreign
    vietnamese += sum(1 for a, b in zip(words, words[1:], strict=False) if f"{a}_{b}" in _VI_PHRASES)
    return "en" if english > vietnamese else "vi"
