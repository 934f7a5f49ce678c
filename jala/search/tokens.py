"""Tokens for the index: CJK single characters and bigrams, Latin words and numbers whole.

Each token carries a position so that phrase queries work: the bigram of characters i and
i+1 sits at position i, next to the single character i. Punctuation between CJK characters is
ignored (a fragment typed without the colon still matches), and there is a gap between field
values so that no phrase runs from a title into an author's name.
"""
import contextlib
import contextvars
import re
import struct

from jala.search.normalize import CJK_CLASS, normalize_text

TOKEN_RE = re.compile(f"([{CJK_CLASS}]+)|([^\\W_{CJK_CLASS}]+)")
_CJK_RUN_JOIN_RE = re.compile(f"(?<=[{CJK_CLASS}])[^\\w{CJK_CLASS}]+(?=[{CJK_CLASS}])")
FIELD_GAP = 8
MAX_POSITION = 16383
MAX_POSITIONS_PER_LEXEME = 255
# PostgreSQL refuses a tsvector with a longer lexeme (its own to_tsvector leaves such words out,
# with a notice): a word longer than this in UTF-8 is left out of the index and keeps its
# position. No text of up to MAX_LEXEME_BYTES // 4 characters can be longer.
MAX_LEXEME_BYTES = 2047
_SURELY_SHORT = MAX_LEXEME_BYTES // 4
PINYIN_PREFIX = "~"
# '12A': a position with its weight, as the tsvector literal writes it (made once, not per lexeme)
_POSITION_LABELS = {weight: [f"{pos}{weight}" for pos in range(MAX_POSITION + 1)]
                    for weight in "ABCD"}
# The binary format (tsvectorrecv) of a lexeme: its UTF-8, a NUL, the number of positions and
# the positions (weight in the top two bits), big-endian 16-bit integers. The builder keeps the
# positions as text, each of those bytes a character that UTF-8 with "surrogateescape" encodes
# to that byte, so that the whole tsvector is one join and one encode.


def _byte_chars(data):
    return "".join(chr(b) if b < 0x80 else chr(0xDC00 + b) for b in data)


_POSITION_CHARS = {weight: [_byte_chars(struct.pack(">H", code << 14 | pos))
                            for pos in range(MAX_POSITION + 1)]
                   for code, weight in enumerate("DCBA")}
_COUNT_CHARS = ["\0" + _byte_chars(struct.pack(">H", n))
                for n in range(MAX_POSITIONS_PER_LEXEME + 1)]
_BINARY = contextvars.ContextVar("binary_tsvectors", default=False)


class BinaryTsvector(bytes):
    """A tsvector in PostgreSQL's binary format (tsvectorsend/tsvectorrecv)."""


@contextlib.contextmanager
def binary_tsvectors():
    """Within this block, ``VectorBuilder.literal`` gives ``BinaryTsvector`` values.

    A bulk import writes them with binary COPY: PostgreSQL takes them several times faster
    than the text literal, which it has to tokenise, and sort, again.
    """
    token = _BINARY.set(True)
    try:
        yield
    finally:
        _BINARY.reset(token)


def is_too_long(word):
    """Whether a word is longer than a tsvector's lexeme may be (it is left out of the index)."""
    return len(word) > _SURELY_SHORT and len(word.encode("utf-8", "surrogatepass")) \
        > MAX_LEXEME_BYTES


def too_long_words(text):
    """The words of ``text`` that the index leaves out for their length, longest first."""
    if len(text) <= _SURELY_SHORT:
        return []
    return sorted((word for _, word in TOKEN_RE.findall(normalize_text(text))
                   if word and is_too_long(word)), key=len, reverse=True)


def units(normalized):
    """Split normalised text into ``[(kind, text)]``: kind 'cjk' (one character) or 'word'."""
    joined = _CJK_RUN_JOIN_RE.sub("", normalized)
    out = []
    for cjk, word in TOKEN_RE.findall(joined):
        if cjk:
            out.extend(("cjk", ch) for ch in cjk)
        else:
            out.append(("word", word))
    return out


def positioned_lexemes(normalized, start=1):
    """``[(lexeme, position)]`` for the index, and the next free position."""
    # the rule, written to be read: the index is built by _add_positioned_lexemes, which
    # must give the same (tests/catalog/test_bulk_load.py compares them)
    out = []
    append = out.append
    pos = start
    previous = None  # the previous unit, when it is a CJK character
    for cjk, word in TOKEN_RE.findall(_CJK_RUN_JOIN_RE.sub("", normalized)):
        if cjk:
            for ch in cjk:
                if previous is not None:
                    append((previous + ch, pos - 1))
                append((ch, pos))
                previous = ch
                pos += 1
        else:
            if not is_too_long(word):
                append((word, pos))
            previous = None
            pos += 1
    return out, pos


def _add_positioned_lexemes(lexemes, labels, normalized, start):
    """``positioned_lexemes`` and ``VectorBuilder._add`` in one pass: the next free position.

    (This runs for every field of every imported record: adding an entry is written out at
    each of its three places rather than called, which a call per lexeme would cost.) Past
    ``MAX_POSITION`` nothing more is added, and the position returned is past it too.
    """
    pos = start
    previous = None
    for cjk, word in TOKEN_RE.findall(_CJK_RUN_JOIN_RE.sub("", normalized)):
        if cjk:
            for ch in cjk:
                if previous is not None:
                    if pos > MAX_POSITION + 1:
                        return MAX_POSITION + 1
                    bigram = previous + ch
                    entries = lexemes.get(bigram)
                    if entries is None:
                        lexemes[bigram] = [labels[pos - 1]]
                    elif len(entries) < MAX_POSITIONS_PER_LEXEME:
                        entries.append(labels[pos - 1])
                if pos > MAX_POSITION:
                    return MAX_POSITION + 1
                entries = lexemes.get(ch)
                if entries is None:
                    lexemes[ch] = [labels[pos]]
                elif len(entries) < MAX_POSITIONS_PER_LEXEME:
                    entries.append(labels[pos])
                previous = ch
                pos += 1
        else:
            if pos > MAX_POSITION:
                return MAX_POSITION + 1
            entries = lexemes.get(word)
            if entries is None:
                # (the length is asked here first: a call per word would cost)
                if len(word) <= _SURELY_SHORT or not is_too_long(word):
                    lexemes[word] = [labels[pos]]
            elif len(entries) < MAX_POSITIONS_PER_LEXEME:
                entries.append(labels[pos])
            previous = None
            pos += 1
    return pos


def pinyin_pair_lexemes(syllables, start):
    """Lexemes for consecutive syllable pairs ('~zhongguo'), or the lone syllable."""
    if len(syllables) == 1:
        return [(PINYIN_PREFIX + syllables[0], start)], start + 1
    out = [(PINYIN_PREFIX + a + b, start + i)
           for i, (a, b) in enumerate(zip(syllables, syllables[1:], strict=False))]
    return out, start + len(syllables)


class VectorBuilder:
    """Collects weighted, positioned lexemes and writes a tsvector literal.

    The literal is text, or ``BinaryTsvector`` for a builder made within ``binary_tsvectors()``.
    """

    def __init__(self, binary=None):
        self.lexemes = {}
        self.position = 1
        self.binary = _BINARY.get() if binary is None else binary
        self._labels = _POSITION_CHARS if self.binary else _POSITION_LABELS

    def add_text(self, text, weight, normalized=False):
        """Index one field value (normalised here unless told it already is)."""
        if not text:
            return
        end = _add_positioned_lexemes(self.lexemes, self._labels[weight],
                                      text if normalized else normalize_text(text), self.position)
        self.position = end + FIELD_GAP

    def add_values(self, values, weight, normalized=False):
        """Index several values of one field (authors, keywords) with gaps between them."""
        for value in values or ():
            self.add_text(value, weight, normalized=normalized)

    def add_pinyin(self, syllables, weight):
        """Index romanised syllables as pair lexemes."""
        if syllables:
            pairs, end = pinyin_pair_lexemes(syllables, self.position)
            self._add(pairs, weight)
            self.position = end + FIELD_GAP

    def add_exact(self, lexeme, weight):
        """Index one lexeme as it is (identifiers)."""
        if lexeme:
            self._add([(lexeme, self.position)], weight)
            self.position += 1 + FIELD_GAP

    def copy(self):
        """A builder holding the same lexemes, to be continued on its own."""
        other = VectorBuilder(self.binary)
        other.lexemes = {lexeme: positions[:] for lexeme, positions in self.lexemes.items()}
        other.position = self.position
        return other

    def _add(self, pairs, weight):
        lexemes = self.lexemes
        labels = self._labels[weight]
        for lexeme, pos in pairs:
            if pos > MAX_POSITION:
                break
            entries = lexemes.get(lexeme)
            if entries is None and is_too_long(lexeme):
                continue
            if entries is None:
                lexemes[lexeme] = [labels[pos]]
            elif len(entries) < MAX_POSITIONS_PER_LEXEME:
                entries.append(labels[pos])

    def literal(self):
        """The tsvector in PostgreSQL's input syntax (positions arrive in increasing order)."""
        if self.binary:
            return self._binary()
        text = " ".join([f"'{lexeme}':{','.join(positions)}"
                         for lexeme, positions in self.lexemes.items()])
        # lexemes are letters, digits and '~' by construction; quote defensively all the same
        if "\\" in text or text.count("'") != 2 * len(self.lexemes):
            text = " ".join([f"'{_escape(lexeme)}':{','.join(positions)}"
                             for lexeme, positions in self.lexemes.items()])
        return text

    def _binary(self):
        # PostgreSQL sorts the lexemes, faster than Python would
        counts = _COUNT_CHARS
        return BinaryTsvector(struct.pack(">i", len(self.lexemes)) + "".join([
            lexeme + counts[len(positions)] + "".join(positions)
            for lexeme, positions in self.lexemes.items()]).encode("utf-8", "surrogateescape"))


def _escape(lexeme):
    return lexeme.replace("\\", "\\\\").replace("'", "''")
