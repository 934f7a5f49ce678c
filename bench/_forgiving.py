"""Known-item queries typed the way a reader types on a phone: runs, slips, mixed script.

Each class has one small generator ``make_<class>(rng, rec, vocab)`` that turns one record into
zero or more ``(query, info)`` pairs (zero when the record does not fit the class); ``collect``
walks a seeded shuffle of the records and keeps the first ``per_class`` queries. ``info`` carries
a ``note`` saying what was changed (shown by ``--samples`` and in the list of misses) and, for
classes with more than one way of typing, a ``variant`` the report breaks down by.

  run          two CJK keywords of the record typed in one run (数字图书馆资源共享); a second
               query with three when the record has three or more
  homophone    a 4-8 character CJK piece of the title with one character replaced by a common
               character of the same toneless reading (发站报告 for 发展报告)
  dropped      a 5-8 character CJK piece with one inner character left out
  extra        a 4-7 character CJK piece with one common character inserted inside it
  transposed   a 5-8 character CJK piece with two adjacent inner characters swapped
  mixed        a 4-8 character CJK piece, its first 2-4 characters in Chinese, the rest (at least
               two) in toneless pinyin run together (中国fazhan)
  initials     the pinyin initials of the whole title (titles of 4-12 CJK characters), and of the
               first 4-8 characters of a title that starts with Chinese (zgfzbg)
  latin-typo   the title's longest Latin word (>= 6 letters) with one edit of its inner letters,
               and a 2-character CJK piece of the title
  pinyin-typo  the run-together pinyin of a title of 4-10 CJK characters with one letter left
               out (zhonguo) or two adjacent letters swapped (fazahn)

Pieces are taken from one run of CJK characters of the title (never across punctuation or Latin
text). Readings come from pypinyin (toneless, heteronyms off) for the whole run, so a character
is read as it is in its word (行 in 银行 is hang).
"""
import random
import re
import string
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import lru_cache

CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")
_CJK_ONLY = re.compile(r"[\u4e00-\u9fff]+$")
_INITIALS_TOKEN = re.compile(r"[\u4e00-\u9fff]+|[A-Za-z]+|[0-9]+")
_LATIN_WORD = re.compile(r"[A-Za-z]+")
_LATIN_OR_DIGIT_WORD = re.compile(r"[^A-Za-z0-9]+")

COMMON_MIN_COUNT = 3  # a character is "common" when at least this many titles use it
HOMOPHONE_CHOICES = 5  # replacements come from the most frequent homophones, as an IME offers
EXTRA_CHOICES = 500  # an inserted character is one of the most frequent title characters


@lru_cache(maxsize=1)
def _pinyin():
    from pypinyin import Style, lazy_pinyin

    return lambda text: lazy_pinyin(text, style=Style.NORMAL)


def typed_pinyin(title):
    """The title as a reader types it in pinyin: syllables, Latin words, numbers; no punctuation.

    This is the query of the pinyin classes since their first version, kept as it was so their
    numbers stay comparable: a non-CJK stretch with non-ASCII punctuation in it (USPTO、DII,
    n=2～20) is left out whole. ``pinyin_letters`` keeps such Latin words and numbers.
    """
    parts = []
    for item in _pinyin()(title):
        item = item.strip()
        if item and item.isascii():
            parts.extend(w for w in _LATIN_OR_DIGIT_WORD.split(item) if w)
    return parts


def syllables(run):
    """One toneless reading per character of a CJK run, read in context (None if unknown)."""
    read = _pinyin()(run)
    if len(read) != len(run):  # characters pypinyin does not know come back merged
        read = [_pinyin()(ch)[0] for ch in run]
    return [s if s.isascii() and s.isalpha() else None for s in read]


def is_cjk(text):
    return bool(_CJK_ONLY.match(text))


def cjk_count(text):
    return sum(len(run) for run in CJK_RUN.findall(text))


class Vocabulary:
    """Common characters and their homophones, from the frequency of characters in the titles."""

    def __init__(self, records):
        counts = Counter(ch for rec in records for run in CJK_RUN.findall(rec["title"])
                         for ch in run)
        self.common = [ch for ch, n in counts.most_common() if n >= COMMON_MIN_COUNT]
        self.homophones = defaultdict(list)  # reading -> common characters, most frequent first
        for ch in self.common:
            reading = syllables(ch)[0]
            if reading:
                self.homophones[reading].append(ch)

    def homophones_of(self, ch, reading):
        """The characters a pinyin IME would offer first for this reading, except ``ch``."""
        return [c for c in self.homophones.get(reading, ()) if c != ch][:HOMOPHONE_CHOICES]


@dataclass
class Piece:
    """A piece of a title taken from one CJK run, with the readings of its characters."""

    text: str
    readings: list


def cjk_piece(rng, title, shortest, longest):
    """A random piece of ``shortest``-``longest`` characters from one CJK run of the title."""
    runs = [run for run in CJK_RUN.findall(title) if len(run) >= shortest]
    if not runs:
        return None
    run = rng.choice(runs)
    length = rng.randint(shortest, min(longest, len(run)))
    start = rng.randint(0, len(run) - length)
    return Piece(run[start:start + length], syllables(run)[start:start + length])


def inner_positions(text):
    """Indexes of the characters that are neither the first nor the last."""
    return range(1, len(text) - 1)


def adjacent_inner_pairs(text):
    """Indexes i where text[i] and text[i + 1] are both inner and differ (a swap changes text)."""
    return [i for i in range(1, len(text) - 2) if text[i].lower() != text[i + 1].lower()]


def swap(text, i):
    return text[:i] + text[i + 1] + text[i] + text[i + 2:]


# --- one generator per class ----------------------------------------------------------------

def make_run(rng, rec, vocab):
    words = list(dict.fromkeys(k for k in rec.get("keywords") or [] if is_cjk(k)))
    queries = []
    for n in (2, 3):
        if len(words) >= n:
            picked = rng.sample(words, n)
            queries.append(("".join(picked), {"variant": f"{n} keywords",
                                              "note": " + ".join(picked)}))
    return queries


def make_homophone(rng, rec, vocab):
    piece = cjk_piece(rng, rec["title"], 4, 8)
    if not piece:
        return []
    positions = list(range(len(piece.text)))
    rng.shuffle(positions)
    for i in positions:
        original, reading = piece.text[i], piece.readings[i]
        choices = vocab.homophones_of(original, reading) if reading else []
        if choices:
            new = rng.choice(choices)
            return [(piece.text[:i] + new + piece.text[i + 1:],
                     {"note": f"{piece.text}: {original}->{new} ({reading})"})]
    return []


def make_dropped(rng, rec, vocab):
    piece = cjk_piece(rng, rec["title"], 5, 8)
    if not piece:
        return []
    i = rng.choice(inner_positions(piece.text))
    return [(piece.text[:i] + piece.text[i + 1:],
             {"note": f"{piece.text}: without {piece.text[i]} (position {i + 1})"})]


def make_extra(rng, rec, vocab):
    piece = cjk_piece(rng, rec["title"], 4, 7)
    if not piece:
        return []
    i = rng.randint(1, len(piece.text) - 1)  # between two characters of the piece
    ch = rng.choice(vocab.common[:EXTRA_CHOICES])
    return [(piece.text[:i] + ch + piece.text[i:],
             {"note": f"{piece.text}: +{ch} after position {i}"})]


def make_transposed(rng, rec, vocab):
    piece = cjk_piece(rng, rec["title"], 5, 8)
    pairs = adjacent_inner_pairs(piece.text) if piece else []
    if not pairs:
        return []
    i = rng.choice(pairs)
    return [(swap(piece.text, i),
             {"note": f"{piece.text}: {piece.text[i]}<->{piece.text[i + 1]}"})]


def make_mixed(rng, rec, vocab):
    piece = cjk_piece(rng, rec["title"], 4, 8)
    if not piece:
        return []
    head = rng.randint(2, min(4, len(piece.text) - 2))
    tail = piece.readings[head:]
    if None in tail:
        return []
    return [(piece.text[:head] + "".join(tail), {"note": f"{piece.text}: {head} in Chinese"})]


def initials(text):
    """Pinyin initials: a letter per CJK character, the first of each Latin word or number."""
    letters = []
    for token in _INITIALS_TOKEN.findall(text):
        if is_cjk(token):
            readings = syllables(token)
            if None in readings:
                return None
            letters.extend(r[0] for r in readings)
        else:
            letters.append(token[0].lower())
    return "".join(letters)


def make_initials(rng, rec, vocab):
    title = rec["title"]
    queries = []
    whole = initials(title) if 4 <= cjk_count(title) <= 12 else None
    if whole:
        queries.append((whole, {"variant": "whole title", "note": title}))
    lead = CJK_RUN.match(title)
    if lead and len(lead.group()) >= 4:
        start = lead.group()[:rng.randint(4, min(8, len(lead.group())))]
        prefix = initials(start)
        if prefix and prefix != whole:
            queries.append((prefix, {"variant": "first 4-8 characters", "note": start}))
    return queries


def latin_typo(rng, word):
    """``word`` with one edit of its inner letters; returns (typo, kind)."""
    kinds = ["substitution", "deletion", "insertion", "transposition"]
    rng.shuffle(kinds)
    for kind in kinds:
        if kind == "transposition":
            pairs = adjacent_inner_pairs(word)
            if pairs:
                return swap(word, rng.choice(pairs)), kind
            continue
        i = rng.choice(inner_positions(word))
        letter = rng.choice(string.ascii_lowercase.replace(word[i].lower(), ""))
        letter = letter.upper() if word[i].isupper() else letter
        if kind == "substitution":
            return word[:i] + letter + word[i + 1:], kind
        if kind == "deletion":
            return word[:i] + word[i + 1:], kind
        return word[:i] + letter + word[i:], kind  # insertion, before an inner letter
    return None, None


def make_latin_typo(rng, rec, vocab):
    words = [w for w in _LATIN_WORD.findall(rec["title"]) if len(w) >= 6]
    if not words:
        return []
    word = max(words, key=len)
    typo, kind = latin_typo(rng, word)
    piece = cjk_piece(rng, rec["title"], 2, 2)
    if not typo or not piece:
        return []
    return [(f"{typo} {piece.text}", {"variant": kind, "note": f"{word} -> {typo} ({kind})"})]


def pinyin_letters(title):
    """The run-together pinyin of the title and, per letter, whether it spells a CJK reading."""
    joined, is_pinyin = [], []
    for token in _INITIALS_TOKEN.findall(title):
        readings = syllables(token) if is_cjk(token) else [token]
        if None in readings:
            return None, None
        text = "".join(readings)
        joined.append(text)
        is_pinyin.extend([is_cjk(token)] * len(text))
    return "".join(joined), is_pinyin


def make_pinyin_typo(rng, rec, vocab):
    if not 4 <= cjk_count(rec["title"]) <= 10:
        return []
    joined, is_pinyin = pinyin_letters(rec["title"])
    if not joined:
        return []
    # the typo falls on the pinyin, not on a Latin word or number of the title
    if rng.random() < 0.5:
        i = rng.choice([i for i in inner_positions(joined) if is_pinyin[i]])
        return [(joined[:i] + joined[i + 1:],
                 {"variant": "dropped letter", "note": f"{joined}: without {joined[i]}"})]
    pairs = [i for i in adjacent_inner_pairs(joined) if is_pinyin[i] and is_pinyin[i + 1]]
    if not pairs:
        return []
    i = rng.choice(pairs)
    return [(swap(joined, i), {"variant": "swapped letters",
                               "note": f"{joined}: {joined[i]}<->{joined[i + 1]}"})]


GENERATORS = {
    "run": make_run,
    "homophone": make_homophone,
    "dropped": make_dropped,
    "extra": make_extra,
    "transposed": make_transposed,
    "mixed": make_mixed,
    "initials": make_initials,
    "latin-typo": make_latin_typo,
    "pinyin-typo": make_pinyin_typo,
}


def collect(make, records, per_class, seed, vocab):
    """The first ``per_class`` queries ``make`` gives over a seeded shuffle of ``records``."""
    rng = random.Random(seed)
    queries = []
    for rec in rng.sample(records, len(records)):
        queries.extend((q, rec, info) for q, info in make(rng, rec, vocab))
        if len(queries) >= per_class:
            break
    return queries[:per_class]
