"""Tokens for the index: CJK single characters and bigrams, Latin words and numbers whole.

Each token carries a position so that phrase queries work: the bigram of characters i and
i+1 sits at position i, next to the single character i. Punctuation between CJK characters is
ignored (a fragment typed without the colon still matches), and there is a gap between field
values so that no phrase runs from a title into an author's name.
"""
import re

from jala.search.normalize import CJK_CLASS, normalize_text

TOKEN_RE = re.compile(f"([{CJK_CLASS}]+)|([^\\W_{CJK_CLASS}]+)")
_CJK_RUN_JOIN_RE = re.compile(f"(?<=[{CJK_CLASS}])[^\\w{CJK_CLASS}]+(?=[{CJK_CLASS}])")
FIELD_GAP = 8
MAX_POSITION = 16383
MAX_POSITIONS_PER_LEXEME = 255
PINYIN_PREFIX = "~"
# '12A': a position with its weight, as the tsvector literal writes it (made once, not per lexeme)
_POSITION_LABELS = {weight: [f"{pos}{weight}" for pos in range(MAX_POSITION + 1)]
                    for weight in "ABCD"}


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
    # units() inlined: this runs for every field of every imported record
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
            append((word, pos))
            previous = None
            pos += 1
    return out, pos


def pinyin_pair_lexemes(syllables, start):
    """Lexemes for consecutive syllable pairs ('~zhongguo'), or the lone syllable."""
    if len(syllables) == 1:
        return [(PINYIN_PREFIX + syllables[0], start)], start + 1
    out = [(PINYIN_PREFIX + a + b, start + i)
           for i, (a, b) in enumerate(zip(syllables, syllables[1:], strict=False))]
    return out, start + len(syllables)


class VectorBuilder:
    """Collects weighted, positioned lexemes and writes a tsvector literal."""

    def __init__(self):
        self.lexemes = {}
        self.position = 1

    def add_text(self, text, weight, normalized=False):
        """Index one field value (normalised here unless told it already is)."""
        if not text:
            return
        pairs, end = positioned_lexemes(text if normalized else normalize_text(text),
                                        self.position)
        self._add(pairs, weight)
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
        other = VectorBuilder()
        other.lexemes = {lexeme: positions[:] for lexeme, positions in self.lexemes.items()}
        other.position = self.position
        return other

    def _add(self, pairs, weight):
        lexemes = self.lexemes
        labels = _POSITION_LABELS[weight]
        for lexeme, pos in pairs:
            if pos > MAX_POSITION:
                break
            entries = lexemes.get(lexeme)
            if entries is None:
                lexemes[lexeme] = [labels[pos]]
            elif len(entries) < MAX_POSITIONS_PER_LEXEME:
                entries.append(labels[pos])

    def literal(self):
        """The tsvector in PostgreSQL's input syntax (positions arrive in increasing order)."""
        text = " ".join([f"'{lexeme}':{','.join(positions)}"
                         for lexeme, positions in self.lexemes.items()])
        # lexemes are letters, digits and '~' by construction; quote defensively all the same
        if "\\" in text or text.count("'") != 2 * len(self.lexemes):
            text = " ".join([f"'{_escape(lexeme)}':{','.join(positions)}"
                             for lexeme, positions in self.lexemes.items()])
        return text


def _escape(lexeme):
    return lexeme.replace("\\", "\\\\").replace("'", "''")
