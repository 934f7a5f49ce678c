"""Toneless pinyin: romanising titles for the index, and splitting typed pinyin into syllables."""
import re
import unicodedata
from functools import lru_cache

from pypinyin import Style, lazy_pinyin
from pypinyin.seg.simpleseg import seg as pinyin_words

from jala.search.normalize import CJK_RE

INITIALS = ("zh", "ch", "sh", "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h", "j", "q",
            "x", "r", "z", "c", "s", "y", "w", "")
FINALS = ("a", "o", "e", "ai", "ei", "ao", "ou", "an", "en", "ang", "eng", "ong", "er", "i", "ia",
          "ie", "iao", "iu", "ian", "in", "iang", "ing", "iong", "u", "ua", "uo", "uai", "ui",
          "uan", "un", "uang", "ueng", "v", "ve", "ue", "van", "vn", "n", "ng", "m", "io")


def _all_syllables():
    from pypinyin.pinyin_dict import pinyin_dict

    found = set()
    for readings in pinyin_dict.values():
        for reading in readings.split(","):
            # ü (also inside ǚ/ǜ) is u + a combining diaeresis once decomposed: write it v,
            # then strip the tone marks
            decomposed = unicodedata.normalize("NFD", reading).replace("u\u0308", "v")
            plain = "".join(c for c in decomposed if not unicodedata.combining(c))
            if plain.isalpha():
                found.add(plain.lower())
    return frozenset(found)


SYLLABLES = _all_syllables() | {"lue", "nue"}
MAX_SYLLABLE = max(len(s) for s in SYLLABLES)
_WORD_RE = re.compile(r"[a-z]+")


def romanize(text):
    """Toneless pinyin syllables of the CJK characters in ``text`` (other characters skipped)."""
    cjk_only = "".join(CJK_RE.findall(text))
    if not cjk_only:
        return []
    # lazy_pinyin splits the text into dictionary words and reads each word on its own; doing
    # the split here lets the reading of each word be remembered (titles share their words)
    out = []
    for word in pinyin_words(cjk_only):
        out.extend(_word_syllables(word))
    return out


@lru_cache(maxsize=65536)
def _word_syllables(word):
    return tuple(s.replace("ü", "v") for s in lazy_pinyin(word, style=Style.NORMAL,
                                                          v_to_u=False, errors="ignore"))


def syllables_from_romanisation(text):
    """Syllables of a catalogue's own romanisation (CNMARC 200$A: 'Zhong Guo Fa Zhan')."""
    out = []
    for word in _WORD_RE.findall(text.lower()):
        split = split_pinyin(word)
        if split is None:
            return []
        out.extend(split)
    return out


@lru_cache(maxsize=8192)
def _split(word):
    # fewest syllables wins: 'xian' stays xian, 'zhongguo' → zhong guo
    best = [None] * (len(word) + 1)
    best[0] = ()
    for end in range(1, len(word) + 1):
        for start in range(max(0, end - MAX_SYLLABLE), end):
            if best[start] is not None and word[start:end] in SYLLABLES:
                candidate = best[start] + (word[start:end],)
                if best[end] is None or len(candidate) < len(best[end]):
                    best[end] = candidate
    return best[len(word)]


# what people type for lüe/nüe, as the index spells them
TYPED_FORMS = {"lue": "lve", "nue": "nve"}


def split_pinyin(word):
    """Split a run of toneless pinyin into syllables, or None if it is not pinyin."""
    word = word.lower().replace("ü", "v")
    if not word.isascii() or not word.isalpha() or len(word) > 120:
        return None
    result = _split(word)
    return [TYPED_FORMS.get(s, s) for s in result] if result else None
