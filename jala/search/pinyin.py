"""Toneless pinyin: romanising titles for the index, and splitting typed pinyin into syllables.

Typed pinyin run together is ambiguous: 'fangan' is 方案 (fang an) or 反感 (fan gan), 'xian'
is 县 (xian) or 西安 (xi an). Splitting keeps several readings, best first: fewer syllables,
and neighbouring syllables that form a word of pypinyin's phrase dictionary. The search ORs
them, so whichever reading the catalogue holds is found.
"""
import re
import unicodedata
from functools import lru_cache

from pypinyin import Style, lazy_pinyin
from pypinyin.seg.simpleseg import seg as pinyin_words

from jala.search.normalize import CJK_CLASS, CJK_RE


def _all_syllables():
    from pypinyin.pinyin_dict import pinyin_dict

    found = set()
    for readings in pinyin_dict.values():
        for reading in readings.split(","):
            plain = _toneless(reading)
            if plain.isalpha():
                found.add(plain)
    return frozenset(found)


@lru_cache(maxsize=4096)
def _toneless(reading):
    """'lǚ' → 'lv', a reading without its tone.

    ü (also inside ǚ/ǜ) is u + a combining diaeresis once decomposed: it is written v, then
    the tone marks are stripped.
    """
    decomposed = unicodedata.normalize("NFD", reading).replace("u\u0308", "v")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


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


# surnames that pypinyin reads with the sound of the common word (曾经 ceng, 单独 dan)
SURNAME_READINGS = {
    "曾": "zeng", "单": "shan", "解": "xie", "仇": "qiu", "朴": "piao", "查": "zha", "区": "ou",
    "盖": "ge", "乐": "yue", "缪": "miao", "翟": "zhai", "覃": "qin", "种": "chong", "秘": "bi",
    "繁": "po", "员": "yun", "句": "gou", "召": "shao", "折": "she", "隗": "wei", "宓": "fu",
    "薄": "bo", "都": "du", "能": "nai", "祭": "zhai", "莘": "shen", "尉": "yu",
}


def romanize_name(normalized):
    """Syllables of a personal name, its surname read as a surname (曾国藩 → zeng guo fan).

    A name of two to four characters is read a character at a time (given names are not
    dictionary words, and single characters are what the reading cache holds well).
    """
    if 2 <= len(normalized) <= 4 and len(CJK_RE.findall(normalized)) == len(normalized):
        first = SURNAME_READINGS.get(normalized[0])
        # a character pypinyin has no reading for (㐂) gives none, as in romanize()
        readings = [(first,) if first else _word_syllables(normalized[0]),
                    *(_word_syllables(ch) for ch in normalized[1:])]
        return [r[0] for r in readings if r]
    return romanize(normalized)


def syllables_from_romanisation(text):
    """Syllables of a catalogue's own romanisation (CNMARC 200$A: 'Zhong Guo Fa Zhan')."""
    out = []
    for word in _WORD_RE.findall(text.lower()):
        split = split_pinyin(word)
        if split is None:
            return []
        out.extend(split)
    return out


_RUN_RE = re.compile(f"([{CJK_CLASS}]+)|([^\\W_{CJK_CLASS}]+)")
_LETTERS_OR_DIGITS_RE = re.compile(r"[^\W\d_]+|\d+")
PINYIN_KEY_LENGTH = 120


def romanize_with_key(normalized):
    """``(syllables, key)`` of normalised text.

    ``syllables`` are the toneless pinyin of its CJK characters (as ``romanize``); ``key`` is
    the whole text run together, CJK in pinyin, Latin words and digits kept, everything else
    dropped: 'sol-gel法合成' → 'solgelfahecheng'. The key lets a title typed as one run of
    pinyin be found by its beginning, whatever is mixed into it.
    """
    syllables, parts = [], []
    for cjk, other in _RUN_RE.findall(normalized):
        if cjk:
            for word in pinyin_words(cjk):
                read = _word_syllables(word)
                syllables.extend(read)
                parts.extend(read)
        else:
            parts.append(other)
    return syllables, "".join(parts)[:PINYIN_KEY_LENGTH]


def pinyin_initials(normalized):
    """The first letter of each syllable, Latin word and number: 中国发展报告 → zgfzbg.

    What a reader types on a phone's pinyin keyboard to find a title by its initials.
    """
    letters = []
    for cjk, other in _RUN_RE.findall(normalized):
        if cjk:
            for word in pinyin_words(cjk):
                letters.extend(syllable[0] for syllable in _word_syllables(word) if syllable)
        else:  # TOP204 is a word and a number: t2
            letters.extend(part[0] for part in _LETTERS_OR_DIGITS_RE.findall(other))
    return "".join(letters)[:PINYIN_KEY_LENGTH]


def pinyin_key(normalized):
    """The key of ``romanize_with_key`` alone (for typed queries and catalogue romanisation)."""
    return romanize_with_key(normalized)[1]


# interjections (嗯 ń, 呣 m̀, 噷 hm) are never what a reader means inside a run of pinyin
_SPLIT_SYLLABLES = SYLLABLES - {"n", "ng", "m", "hm", "hng"}
# a neighbour that makes a dictionary word is worth a third of a syllable: enough to choose
# 方案 fang an over fan gan, not enough to prefer xi an over xian
WORD_PAIR_BONUS = 0.3
MAX_READINGS = 8


@lru_cache(maxsize=1)
def _word_pairs():
    """Syllable pairs that occur inside the words of pypinyin's phrase dictionary."""
    from pypinyin.phrases_dict import phrases_dict

    pairs = set()
    for readings in phrases_dict.values():
        syllables = [_toneless(reading[0]) for reading in readings]
        pairs.update(zip(syllables, syllables[1:], strict=False))
    return frozenset(pairs)


@lru_cache(maxsize=8192)
def _readings(text, boundaries):
    """Up to MAX_READINGS splits of ``text`` into syllables, best first.

    No syllable crosses a position in ``boundaries`` (where the reader typed a space).
    """
    pairs = _word_pairs()
    crossing = [False] * (len(text) + 1)  # crossing[i]: a syllable may not span i
    for b in boundaries:
        crossing[b] = True
    # best[end]: the best few (cost, start, rank in best[start], last syllable) for text[:end];
    # the syllables themselves are read back at the end, so no partial reading is copied
    best = [[] for _ in range(len(text) + 1)]
    best[0] = [(0.0, 0, 0, "")]
    for end in range(1, len(text) + 1):
        options = []
        for start in range(end - 1, max(-1, end - MAX_SYLLABLE - 1), -1):
            if start < end - 1 and crossing[start + 1]:
                break  # this and every earlier start would cross a space
            syllable = text[start:end]
            if not best[start] or syllable not in _SPLIT_SYLLABLES:
                continue
            for rank, (cost, _start, _rank, last) in enumerate(best[start]):
                bonus = WORD_PAIR_BONUS if (last, syllable) in pairs else 0.0
                options.append((cost + 1.0 - bonus, start, rank, syllable))
        options.sort()
        best[end] = options[:MAX_READINGS]
    readings = []
    for entry in best[len(text)]:
        syllables, end = [], len(text)
        while end:
            _cost, start, rank, syllable = entry
            syllables.append(syllable)
            entry, end = best[start][rank], start
        readings.append(tuple(reversed(syllables)))
    return tuple(readings)


# a longer run of letters is not a title typed in pinyin (the query itself is bounded)
MAX_PINYIN_WORD = 120
# what people type for lüe/nüe, as the index spells them
TYPED_FORMS = {"lue": "lve", "nue": "nve"}


def pinyin_readings(words):
    """The likely syllable readings of typed pinyin words, best first; [] if not pinyin.

    ``words`` is what the reader typed, split at spaces: ['zhongguo', 'fazhan'] or
    ['zhongguofazhan'] or ['zhong', 'guo', 'fa', 'zhan'].
    """
    words = [w.lower().replace("ü", "v") for w in words]
    text = "".join(words)
    if not text or not text.isascii() or not text.isalpha() or \
            max(len(w) for w in words) > MAX_PINYIN_WORD:
        return []
    boundaries, position = [], 0
    for word in words[:-1]:
        position += len(word)
        boundaries.append(position)
    return [[TYPED_FORMS.get(s, s) for s in reading]
            for reading in _readings(text, tuple(boundaries))]


def split_pinyin(word):
    """The best split of a run of toneless pinyin into syllables, or None if it is not pinyin."""
    readings = pinyin_readings([word])
    return readings[0] if readings else None
