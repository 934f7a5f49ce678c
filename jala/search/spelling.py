"""Titles typed in pinyin with a slip: a letter left out, two swapped (zhonguo, fazahn).

Tried in turn: the pinyin either side of a slip that does not read as pinyin, each a phrase
of the titles' pinyin; most of the syllable pairs typed, for a slip that reads as other pinyin
(shuiseng for shuisheng); as a last resort, the titles whose pinyin key is most like the
letters typed (pg_trgm's similarity), within the time the forgiving search gives it.
"""
from dataclasses import replace

from rapidfuzz.fuzz import ratio

from jala.search.pinyin import split_pinyin
from jala.search.relaxation import (
    ANCHORED_ROWS,
    Anchor,
    Relaxation,
    all_of,
    any_of,
    most_of,
    pinyin_phrase,
    tsquery_relaxation,
    typed_letters,
)
from jala.search.tokens import pinyin_pair_lexemes
from jala.search.trigram import similar

MIN_SPELLING = 6  # letters, for a slip in typed pinyin to be looked for
MIN_SPELLED_PAIRS = 4  # syllable pairs, for most of them to say which title was meant
MAX_SLIP = 4  # letters that are not pinyin where the slip is (zahn for zhan)
MIN_SLIP_CONTEXT = 3  # syllables read around the slip: fewer say too little (yanjiu alone)
SPELLING_LIKENESS = 80  # rapidfuzz's ratio of the letters typed and a title's pinyin key
SPELLING_SIMILARITY = 0.6  # pg_trgm's, when the syllables around the slip cannot place it
MIN_END = 6  # letters a beginning or an end must have to find a key (fewer: pg_trgm)


def pinyin_around_a_slip(letters):
    """Readings of typed pinyin with one slip in it: ``(before, after)`` syllables, best first.

    The slip is where a few letters do not read as pinyin (a letter left out, two swapped);
    the pinyin on either side of them does. The syllable next to the slip may have taken a
    letter of it (fazahn reads fa za + hn): each reading comes also without those.
    """
    found = []
    for start in range(len(letters)):
        for length in range(1, MAX_SLIP + 1):
            before, after = letters[:start], letters[start + length:]
            if start + length > len(letters):
                break
            left = split_pinyin(before) if before else []
            right = split_pinyin(after) if after else []
            if left is None or right is None:
                continue
            for trimmed, (sides) in enumerate(((left, right), (left[:-1], right[1:]))):
                kept = [side for side in sides if len(side) >= 2]
                if sum(len(side) for side in kept) >= MIN_SLIP_CONTEXT:
                    found.append((length + trimmed, -sum(map(len, kept)), *map(tuple, sides)))
    return [(list(left), list(right)) for *_cost, left, right in sorted(set(found))[:4]]


def _spelled(pieces):
    """The letters typed, if they are long enough to look for a slip in; else ''."""
    letters = typed_letters(pieces)
    return letters if len(letters) >= MIN_SPELLING and letters.isalpha() else ""


def _in_titles_spelled_like(tsquery, anchors, letters):
    """Titles matching ``tsquery``, those whose pinyin reads most like ``letters`` first."""
    relaxation = tsquery_relaxation("spelling", tsquery, in_title_only=True, anchors=anchors)
    return replace(relaxation, rank="similarity(pinyin_key, :spelled)",
                   params=dict(relaxation.params, spelled=letters), ordered=True,
                   accept=_reads_like(letters))


def spelling_relaxation(pieces):
    """A title typed in pinyin with a slip: the pinyin either side of it, each a phrase."""
    # typed pinyin that reads as other syllables (bocheng for baocheng) has a slip too
    letters = _spelled(pieces)
    if not letters:
        return None
    readings = [all_of([pinyin_phrase(side) for side in sides if len(side) >= 2])
                for sides in pinyin_around_a_slip(letters)
                if any(len(side) >= 2 for side in sides)]
    if not readings:
        return None
    tsquery = any_of(list(dict.fromkeys(readings)))
    return _in_titles_spelled_like(tsquery, tsquery, letters)


def spelled_pairs_relaxation(pieces):
    """A title typed in pinyin with a slip that reads as other pinyin (shuiseng for shuisheng).

    No letters stand out as the slip, so it is not placed: all but a few of the syllable
    pairs typed must be in the title's pinyin (a slip spoils the pairs of one or two
    syllables). Pinyin that does not read whole has its pairs read either side of the slip.
    """
    letters = _spelled(pieces)
    if not letters:
        return None
    whole = split_pinyin(letters)
    around = pinyin_around_a_slip(letters)[:1] if whole is None else []
    sides = [whole] if whole else [side for reading in around for side in reading]
    lexemes = [lexeme for side in sides if len(side) >= 2
               for lexeme, _position in pinyin_pair_lexemes(side, 0)[0]]
    if len(lexemes) < MIN_SPELLED_PAIRS:
        return None
    return _in_titles_spelled_like(*most_of(lexemes), letters)


def _reads_like(letters):
    def accept(candidate):
        return ratio(letters, candidate.pinyin_key[:len(letters) + 3]) >= SPELLING_LIKENESS
    return accept


def trigram_spelling_relaxation(pieces):
    """Titles whose pinyin key is most like the letters typed.

    The last resort for pinyin with a slip, when the syllables around it could not place it.
    Few letters: pg_trgm's index. Many: the index would read the long posting lists of most
    of their trigrams (pinyin has few, all common: 50-100 ms at a million records), so the
    keys are read that begin with the first third of the letters or end with the last, a
    btree prefix each (of the key, of the key reversed).
    """
    letters = typed_letters(pieces)
    if sum(ch.isalpha() for ch in letters) < MIN_SPELLING:  # Latin and digits may be mixed in
        return None
    if len(letters) < 2 * MIN_END + 1:
        matches, anchors = (similar("pinyin_key", ":spelled", SPELLING_SIMILARITY),), ()
    else:
        # a third each (at least MIN_END letters): a slip leaves one of them whole, and so do
        # two differences unless one is in each (a sign in the title no keyboard types, and
        # a slip); each end read on its own, so that a common one (…yanjiu) cannot crowd out
        # the other
        piece = max(MIN_END, len(letters) // 3)
        anchors = (Anchor("pinyin_key LIKE :spelled_head", ANCHORED_ROWS["title_vector"],
                          {"spelled_head": letters[:piece] + "%"}),
                   Anchor("reverse(pinyin_key) LIKE :spelled_tail", ANCHORED_ROWS["title_vector"],
                          {"spelled_tail": letters[-piece:][::-1] + "%"}))
        matches = (f"similarity(pinyin_key, :spelled) >= {SPELLING_SIMILARITY}",) * 2
    return Relaxation("spelling", matches, "similarity(pinyin_key, :spelled)",
                      {"spelled": letters}, ordered=True, similarity=SPELLING_SIMILARITY,
                      accept=_reads_like(letters), anchors=anchors, last_resort=True)
