"""Forgiving search: what the reader meant when the words as typed find (almost) nothing.

The strict search matches the characters as typed. When it leaves the first page short, the
relaxations below are tried in order, each one bounded; their hits rank after every strict
hit (and each relaxation's after the one before), and the result says which found them.

  substring what was typed, inside a title or an author's name (a fragment that cuts a Latin
            word: VID-19疫情); pg_trgm's index answers LIKE
  pinyin    the query read as toneless pinyin (characters, pinyin or both mixed), as a phrase of
            the titles' pinyin: 发站报告 finds 发展报告 (a homophone the pinyin keyboard
            offered), 中国fazhan finds 中国发展
  words     runs of characters typed without spaces or with one slip (a character left out,
            one too many, two swapped): records holding all but a few of a run's character
            pairs, or every one of its characters and some of its pairs, anywhere
  initials  a title's pinyin initials, from its start: zgfzbg finds 中国发展报告
  spelling  a title typed in pinyin with a letter off (zhonguo, fazahn): the titles' pinyin
            keys by trigram similarity
  latin     a Latin word one edit off (TESBED for TESTBED), the rest of the query as typed:
            the word by trigram similarity to the words of titles and names

The first two are tsqueries built from the query's own tokens, so the GIN indexes answer
them; the minimum-should-match over a run's character pairs is written out as an OR of ANDs,
which GIN evaluates over the run's few distinct pairs. The initials are a btree prefix, the
spelling pg_trgm's word similarity on its GIN index.
"""
from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations

from rapidfuzz.fuzz import partial_ratio
from sqlalchemy import text as sql

from jala.extensions import db
from jala.search.candidates import CANDIDATE_COLUMNS, RANK_WEIGHTS, fetch
from jala.search.normalize import normalize_text, trigram_text
from jala.search.pinyin import romanize, split_pinyin
from jala.search.tokens import pinyin_pair_lexemes, units

MIN_RUN = 3  # a run of fewer characters has too few pairs to relax
MAX_PAIRS = 9  # longer runs are relaxed over this many of their pairs, spread along the run
TSQUERY = "CAST(:relaxed AS tsquery)"
SPELLING_SIMILARITY = 0.6  # of the typed pinyin's trigrams, this share in a title's key
# a word is short: one edit (two letters swapped) can spoil more than half its trigrams, so
# the index is asked loosely and each candidate's title is checked by rapidfuzz
LATIN_SIMILARITY = 0.3
LATIN_LIKENESS = 75  # rapidfuzz's partial_ratio of the typed word and the title: one edit
MIN_INITIALS, MAX_INITIALS = 3, 30
MIN_SPELLING = 6
MIN_LATIN_WORD = 5
MIN_SUBSTRING = 3
RELAX_BELOW = 10  # fewer strict matches than this: the forgiving search joins in
RELAXED_CANDIDATES = 300  # the most each relaxation adds
ENOUGH = 20  # with this many hits found, the looser relaxations after are not tried
# how much a title that reads like the query (rapidfuzz's best-substring similarity) is worth
# beside the relaxation's own rank: it tells the title meant from those that merely share
# common pairs (与能的影响 → …组织与性能的影响)
LIKENESS_WEIGHT = 2.0


@dataclass(frozen=True)
class Relaxation:
    """One way of reading the query more loosely, as SQL on ``records``.

    ``matches`` are conditions tried in turn, each adding what the ones before did not find
    (title matches before matches elsewhere); ``rank`` orders the candidates; ``ordered``
    says the best must be picked by ``rank`` in SQL, not just the first found.
    """

    name: str
    matches: tuple
    rank: str
    params: dict
    ordered: bool = False
    similarity: float = None  # pg_trgm's word-similarity threshold for its ``<%``
    accept: Callable = None  # (candidate) → whether it stays; checks what SQL only estimates


def _tsquery_relaxation(name, tsquery, in_title_only=False):
    title = f"title_vector @@ {TSQUERY}"
    elsewhere = f"search_vector @@ {TSQUERY} AND NOT ({title})"
    return Relaxation(name, (title,) if in_title_only else (title, elsewhere),
                      f"ts_rank(CAST('{RANK_WEIGHTS}' AS float4[]), title_vector, {TSQUERY}, 1)",
                      {"relaxed": tsquery})


def _quote(lexeme):
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def _all(terms):
    return terms[0] if len(terms) == 1 else "(" + " & ".join(terms) + ")"


def _any(terms):
    return terms[0] if len(terms) == 1 else "(" + " | ".join(terms) + ")"


def _phrase(lexemes):
    return lexemes[0] if len(lexemes) == 1 else "(" + " <1> ".join(lexemes) + ")"


def _pieces(texts):
    """The query's plain text as ``[(kind, text)]`` runs: 'cjk' runs and 'word's."""
    pieces = []
    for text in texts:
        run = ""
        for kind, unit in units(normalize_text(text)):
            if kind == "cjk":
                run += unit
                continue
            if run:
                pieces.append(("cjk", run))
                run = ""
            pieces.append(("word", unit))
        if run:
            pieces.append(("cjk", run))
    return pieces


def pinyin_relaxation(pieces):
    """The whole query as one phrase of pinyin syllable pairs, if it reads as pinyin.

    Characters are read as the index reads titles; a Latin word must be pinyin. A query of
    pinyin alone is left to the strict search, which reads it so already.
    """
    syllables, has_cjk = [], False
    for kind, text in pieces:
        if kind == "cjk":
            read = romanize(text)
            if len(read) != len(text):
                return None  # a character without a reading
            syllables.extend(read)
            has_cjk = True
        else:
            split = split_pinyin(text)
            if split is None:
                return None
            syllables.extend(split)
    if not has_cjk or len(syllables) < 2:
        return None
    pairs, _end = pinyin_pair_lexemes(syllables, 0)
    return _tsquery_relaxation("pinyin", _phrase([_quote(lexeme) for lexeme, _pos in pairs]),
                               in_title_only=True)


def _allowed_misses(pairs):
    return 1 if pairs <= 3 else 2 if pairs <= 7 else 3


def _spread(items, most):
    """At most ``most`` of ``items``, spread evenly, the first and last always among them."""
    if len(items) <= most:
        return items
    step = (len(items) - 1) / (most - 1)
    return [items[round(i * step)] for i in range(most)]


def run_relaxation(run):
    """A tsquery for a run of characters typed with its words run together or one slip.

    Either all but a few of its character pairs are present (words typed without spaces miss
    the pairs across the joins; a character left out or one too many spoils one or two), or
    every character is present with at least one of the pairs (two characters swapped).
    """
    pairs = list(dict.fromkeys(run[i:i + 2] for i in range(len(run) - 1)))
    chosen = _spread([_quote(p) for p in pairs], MAX_PAIRS)
    keep = len(chosen) - _allowed_misses(len(chosen))
    most_pairs = _any([_all(list(combo)) for combo in combinations(chosen, keep)])
    characters = _all([_quote(ch) for ch in dict.fromkeys(run)])
    every_character = f"({characters} & {_any([_quote(p) for p in pairs])})"
    return f"({most_pairs} | {every_character})"


def words_relaxation(pieces):
    """Every run of characters relaxed (``run_relaxation``); other words as typed."""
    if not any(kind == "cjk" and len(text) >= MIN_RUN for kind, text in pieces):
        return None
    terms = []
    for kind, text in pieces:
        if kind == "cjk" and len(text) >= MIN_RUN:
            terms.append(run_relaxation(text))
        elif kind == "cjk":
            terms.append(_phrase([_quote(text[i:i + 2]) for i in range(len(text) - 1)])
                         if len(text) > 1 else _quote(text))
        else:
            terms.append(_quote(text))
    return _tsquery_relaxation("words", _all(terms))


def _typed_letters(pieces):
    """The query as one run of lower-case letters (and digits), if it is nothing else."""
    if not pieces or any(kind != "word" for kind, _text in pieces):
        return ""
    letters = "".join(text for _kind, text in pieces)
    return letters if letters.isascii() and letters.isalnum() and not letters.isdigit() else ""


def initials_relaxation(pieces):
    """A title whose pinyin initials are, or begin with, the letters typed (zgfzbg)."""
    letters = _typed_letters(pieces)
    if not MIN_INITIALS <= len(letters) <= MAX_INITIALS:
        return None
    return Relaxation("initials", ("initials_key = :initials", "initials_key LIKE :initials_from"),
                      "1", {"initials": letters, "initials_from": letters + "%"})


def spelling_relaxation(pieces):
    """Titles whose pinyin key holds something like the letters typed (a letter off)."""
    letters = _typed_letters(pieces)
    if sum(ch.isalpha() for ch in letters) < MIN_SPELLING:
        return None
    return Relaxation("spelling", (":spelled <% pinyin_key",),
                      "word_similarity(:spelled, pinyin_key)", {"spelled": letters},
                      ordered=True, similarity=SPELLING_SIMILARITY)


def latin_relaxation(pieces):
    """Latin words like those typed (one edit off), every other piece as typed."""
    conditions, params, words = [], {}, []
    for kind, piece in pieces:
        if kind == "word" and piece.isalpha() and len(piece) >= MIN_LATIN_WORD:
            words.append(piece)
            conditions.append(f":latin{len(words)} <% search_text")
            params[f"latin{len(words)}"] = piece
    if not words or split_pinyin("".join(words)) is not None:
        return None  # pinyin is the pinyin relaxations' to read
    others = [_phrase([_quote(p[i:i + 2]) for i in range(len(p) - 1)]) if kind == "cjk"
              and len(p) > 1 else _quote(p) for kind, p in pieces if p not in words]
    if others:
        conditions.append(f"search_vector @@ {TSQUERY}")
        params["relaxed"] = _all(others)
    rank = " + ".join(f"word_similarity(:latin{i}, search_text)" for i in range(1, len(words)
                                                                                  + 1))

    def one_edit_off(candidate):
        return all(partial_ratio(word, candidate.title_key) >= LATIN_LIKENESS for word in words)

    return Relaxation("latin", (" AND ".join(conditions),), rank, params, ordered=True,
                      similarity=LATIN_SIMILARITY, accept=one_edit_off)


def substring_relaxation(raw):
    """Records whose title or authors hold the text typed (pg_trgm's index answers LIKE)."""
    normalized = trigram_text(normalize_text(raw)).strip()
    if len(normalized) < MIN_SUBSTRING:
        return None
    pattern = "%" + normalized.replace("\\", "\\\\").replace("%", "\\%").replace(
        "_", "\\_") + "%"
    return Relaxation("substring", ("search_text LIKE :pattern",), "holdings_count",
                      {"pattern": pattern}, ordered=True)


def relaxations(raw, texts):
    """The relaxations worth trying, in order.

    ``raw`` is the query as typed, ``texts`` its clauses' texts when they are plain (else
    only the substring is tried).
    """
    found = [substring_relaxation(raw)]
    if texts:
        pieces = _pieces(texts)
        found += [pinyin_relaxation(pieces), words_relaxation(pieces),
                  initials_relaxation(pieces), spelling_relaxation(pieces),
                  latin_relaxation(pieces)]
    return [r for r in found if r is not None]


def relaxed_candidates(found, where, params, seen, query_key=""):
    """Each relaxation's candidates that are not ``seen`` yet, and the names that found some.

    ``query_key`` is the query's comparison form (``query.title_key``): a candidate's base
    rank gains how much its title reads like it.
    """
    candidates, used = [], []
    for tier, relaxation in enumerate(found, start=1):
        if len(seen) >= ENOUGH:
            break
        if relaxation.similarity:
            db.session.execute(sql(f"SET LOCAL pg_trgm.word_similarity_threshold = "
                                    f"{float(relaxation.similarity)}"))
        args = dict(params, **relaxation.params, rk=RELAXED_CANDIDATES)
        order = f"ORDER BY {relaxation.rank} DESC, id" if relaxation.ordered else ""
        new, matched = [], set()
        for condition in relaxation.matches:
            rows = fetch(f"SELECT {CANDIDATE_COLUMNS}, {relaxation.rank} FROM records "
                         f"WHERE {condition} AND {where} {order} LIMIT :rk", args)
            new += [c for c in rows if c.id not in seen and c.id not in matched
                    and (relaxation.accept is None or relaxation.accept(c))]
            matched.update(c.id for c in rows)
            if len(matched) >= RELAXED_CANDIDATES:
                break
        for c in new:
            c.tier = tier
            if query_key:
                c.base += LIKENESS_WEIGHT * partial_ratio(query_key, c.title_key) / 100
            seen.add(c.id)
        if new:
            used.append(relaxation.name)
        candidates += new
    return candidates, used
