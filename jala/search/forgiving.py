"""Forgiving search: what the reader meant when the words as typed find (almost) nothing.

The strict search matches the characters as typed. When it leaves the first page short, the
relaxations below are tried in order, each one bounded; their hits rank after every strict
hit (and each relaxation's after the one before), and the result says which found them.
Once enough is found, the looser ones are not tried.

  substring what was typed, inside a title or an author's name (a fragment that cuts a Latin
            word: VID-19疫情); pg_trgm's index answers LIKE
  pinyin    the query read as toneless pinyin (characters, pinyin or both mixed), as a phrase of
            the titles' pinyin: 发站报告 finds 发展报告 (a homophone the pinyin keyboard
            offered), 中国fazhan finds 中国发展
  slip      a run of characters with one character too many or two swapped: each way of
            undoing it, as a phrase (辅助乳化中微萃取, 辅助化乳微萃取 → 辅助乳化微萃取)
  words     runs of characters typed without spaces, or with a character left out: records
            holding all but a few of a run's character pairs, anywhere (图书馆服务高校)
  initials  a title's pinyin initials, from its start: zgfzbg finds 中国发展报告
  spelling  a title typed in pinyin with a slip (zhonguo, fazahn): the pinyin before and after
            the slip, each a phrase of the titles' pinyin
  latin     a Latin word one edit off (TESBED for TESTBED), the rest of the query as typed:
            the word by trigram similarity to the words of titles and names

The tsquery relaxations are built from the query's own tokens, so the GIN indexes answer them.
The minimum-should-match over a run's pairs is an OR of ANDs; it is anchored on the run's
rarest pairs (``frequencies.py``): any record holding all but ``t`` of the pairs holds one of
any ``t + 1`` of them, so GIN reads only those short posting lists, and the OR of ANDs is
checked on the few rows they give.
"""
from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations

from rapidfuzz.fuzz import partial_ratio, ratio
from sqlalchemy import text as sql
from sqlalchemy.exc import OperationalError

from jala.extensions import db
from jala.search.candidates import CANDIDATE_COLUMNS, RANK_WEIGHTS, fetch
from jala.search.frequencies import rarest
from jala.search.normalize import normalize_text, trigram_text
from jala.search.pinyin import romanize, split_pinyin
from jala.search.tokens import pinyin_pair_lexemes, units

TSQUERY = "CAST(:relaxed AS tsquery)"
ANCHORS = "CAST(:anchors AS tsquery)"
MIN_RUN = 4  # a run of fewer characters has too few pairs to relax
MAX_PAIRS = 9  # longer runs are relaxed over this many of their pairs, spread along the run
SLIPS = (4, 10)  # runs this long get the ways of undoing a slip as phrases
MIN_INITIALS, MAX_INITIALS = 3, 30
MIN_SPELLING = 6  # letters, for a slip in typed pinyin to be looked for
MAX_SLIP = 4  # letters that are not pinyin where the slip is (zahn for zhan)
MIN_SLIP_CONTEXT = 3  # syllables read around the slip: fewer say too little (yanjiu alone)
SPELLING_LIKENESS = 80  # rapidfuzz's ratio of the letters typed and a title's pinyin key
SPELLING_SIMILARITY = 0.6  # pg_trgm's, when the syllables around the slip cannot place it
# a last resort reads the posting lists of every trigram typed (common ones hold a tenth of
# the catalogue): past this, it gives up and the reader gets the tips instead
LAST_RESORT_MS = 150
MIN_LATIN_WORD = 5
MIN_SUBSTRING = 3
# a word is short: one edit (two letters swapped) can spoil more than half its trigrams, so
# the index is asked loosely (more loosely when the query's other words narrow it down) and
# each candidate's title is checked by rapidfuzz
LATIN_SIMILARITY = 0.4
LATIN_SIMILARITY_NARROWED = 0.25
LATIN_LIKENESS = 75  # rapidfuzz's partial_ratio of the typed word and the title: one edit
RELAX_BELOW = 10  # fewer strict matches than this: the forgiving search joins in
RELAXED_CANDIDATES = 300  # the most each relaxation adds
ANCHORED_ROWS = 2000  # the most rows an anchored relaxation checks
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
    says the best must be picked by ``rank`` in SQL, not just the first found. With
    ``anchors`` (a tsquery), GIN finds the rows holding one of them, and ``matches`` are
    checked on those rows only.
    """

    name: str
    matches: tuple
    rank: str
    params: dict
    ordered: bool = False
    similarity: float = None  # pg_trgm's word-similarity threshold for its ``<%``
    accept: Callable = None  # (candidate) → whether it stays; checks what SQL only estimates
    anchors: tuple = ()  # per condition of ``matches``: the vector and tsquery anchoring it
    last_resort: bool = False  # tried only when nothing was found before, within LAST_RESORT_MS


# --- tsquery text ---------------------------------------------------------------------------

def _quote(lexeme):
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def _all(terms):
    return terms[0] if len(terms) == 1 else "(" + " & ".join(terms) + ")"


def _any(terms):
    return terms[0] if len(terms) == 1 else "(" + " | ".join(terms) + ")"


def _phrase(lexemes):
    return lexemes[0] if len(lexemes) == 1 else "(" + " <1> ".join(lexemes) + ")"


def _pairs(run):
    return [run[i:i + 2] for i in range(len(run) - 1)]


def _run_phrase(run):
    """A run of characters as the strict search reads it: a phrase of its pairs."""
    return _phrase([_quote(p) for p in _pairs(run)]) if len(run) > 1 else _quote(run)


def _pinyin_phrase(syllables):
    return _phrase([_quote(lexeme) for lexeme, _pos in pinyin_pair_lexemes(syllables, 0)[0]])


def _tsquery_relaxation(name, tsquery, in_title_only=False, anchors=None):
    """A relaxation matching ``tsquery`` in titles, then (unless told) anywhere else.

    ``anchors`` is a tsquery, or ``(lexemes, how many)``: the rarest that many of the lexemes,
    as each vector's statistics count them, anchor each pass.
    """
    title = f"title_vector @@ {TSQUERY}"
    elsewhere = f"search_vector @@ {TSQUERY} AND NOT ({title})"
    matches = (title,) if in_title_only else (title, elsewhere)
    anchored = ()
    if isinstance(anchors, str):
        anchored = (("title_vector", anchors), ("search_vector", anchors))[:len(matches)]
    elif anchors:
        lexemes, how_many = anchors
        anchored = tuple((vector, _any([_quote(lexeme) for lexeme in rarest(
            lexemes, how_many, vector)])) for vector in ("title_vector", "search_vector"))
        anchored = anchored[:len(matches)]
    return Relaxation(name, matches,
                      f"ts_rank(CAST('{RANK_WEIGHTS}' AS float4[]), title_vector, {TSQUERY}, 1)",
                      {"relaxed": tsquery}, anchors=anchored)


# --- the query's pieces -----------------------------------------------------------------------

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


def _typed_letters(pieces):
    """The query as one run of lower-case letters (and digits), if it is nothing else."""
    if not pieces or any(kind != "word" for kind, _text in pieces):
        return ""
    letters = "".join(text for _kind, text in pieces)
    return letters if letters.isascii() and letters.isalnum() and not letters.isdigit() else ""


def _others(pieces, relaxed_kind):
    """Every piece but those of ``relaxed_kind``, as the strict search reads it."""
    return [_run_phrase(text) if kind == "cjk" else _quote(text)
            for kind, text in pieces if kind != relaxed_kind]


# --- the relaxations ----------------------------------------------------------------------------

def substring_relaxation(raw):
    """Records whose title or authors hold the text typed (pg_trgm's index answers LIKE)."""
    normalized = trigram_text(normalize_text(raw)).strip()
    if len(normalized) < MIN_SUBSTRING:
        return None
    pattern = "%" + normalized.replace("\\", "\\\\").replace("%", "\\%").replace(
        "_", "\\_") + "%"
    return Relaxation("substring", ("search_text LIKE :pattern",), "holdings_count",
                      {"pattern": pattern}, ordered=True)


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
    return _tsquery_relaxation("pinyin", _pinyin_phrase(syllables), in_title_only=True)


def undone_slips(run):
    """The run with one character taken out, or two neighbours swapped back: every way."""
    ways = [run[:i] + run[i + 1:] for i in range(len(run))]
    ways += [run[:i] + run[i + 1] + run[i] + run[i + 2:] for i in range(len(run) - 1)]
    return [way for way in dict.fromkeys(ways) if way != run]


def slip_relaxation(pieces):
    """Each run of characters with its slip undone, one way or another, as a phrase."""
    runs = [text for kind, text in pieces if kind == "cjk" and SLIPS[0] <= len(text) <= SLIPS[1]]
    if len(runs) != 1:
        return None
    ways = _any([_run_phrase(way) for way in undone_slips(runs[0])])
    return _tsquery_relaxation("slip", _all([ways, *_others(pieces, "cjk")]),
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
    """``(tsquery, (pairs, how many anchor))`` for a run typed with its words run together.

    All but a few of its character pairs must be present (words typed without spaces miss
    the pairs across the joins; a character left out spoils one or two): any ``t + 1`` of
    them anchor it, the rarest the cheapest.
    """
    pairs = _spread(list(dict.fromkeys(_pairs(run))), MAX_PAIRS)
    misses = _allowed_misses(len(pairs))
    keep = len(pairs) - misses
    most_pairs = _any([_all([_quote(p) for p in combo]) for combo in combinations(pairs, keep)])
    return most_pairs, (pairs, misses + 1)


def words_relaxation(pieces):
    """Every run of characters relaxed (``run_relaxation``); other words as typed."""
    if not any(kind == "cjk" and len(text) >= MIN_RUN for kind, text in pieces):
        return None
    terms, anchors = [], None
    for kind, text in pieces:
        if kind == "cjk" and len(text) >= MIN_RUN:
            term, run_anchors = run_relaxation(text)
            terms.append(term)
            # any one run's anchors are enough: the longest run's are the rarest
            if anchors is None or len(run_anchors[0]) > len(anchors[0]):
                anchors = run_anchors
        else:
            terms.append(_run_phrase(text) if kind == "cjk" else _quote(text))
    return _tsquery_relaxation("words", _all(terms), anchors=anchors)


def initials_relaxation(pieces):
    """A title whose pinyin initials are, or begin with, the letters typed (zgfzbg)."""
    letters = _typed_letters(pieces)
    if not MIN_INITIALS <= len(letters) <= MAX_INITIALS:
        return None
    return Relaxation("initials", ("initials_key = :initials", "initials_key LIKE :initials_from"),
                      "1", {"initials": letters, "initials_from": letters + "%"})


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


def spelling_relaxation(pieces):
    """A title typed in pinyin with a slip: the pinyin either side of it, each a phrase."""
    letters = _typed_letters(pieces)
    # typed pinyin that reads as other syllables (bocheng for baocheng) has a slip too
    if len(letters) < MIN_SPELLING or not letters.isalpha():
        return None
    readings = [_all([_pinyin_phrase(side) for side in sides if len(side) >= 2])
                for sides in pinyin_around_a_slip(letters)
                if any(len(side) >= 2 for side in sides)]
    if not readings:
        return None
    tsquery = _any(list(dict.fromkeys(readings)))
    relaxation = _tsquery_relaxation("spelling", tsquery, in_title_only=True, anchors=tsquery)
    # the titles whose pinyin reads most like the letters typed come first
    return Relaxation(relaxation.name, relaxation.matches, "similarity(pinyin_key, :spelled)",
                      dict(relaxation.params, spelled=letters), ordered=True,
                      anchors=relaxation.anchors, accept=_reads_like(letters))


def _reads_like(letters):
    def accept(candidate):
        return ratio(letters, candidate.pinyin_key[:len(letters) + 3]) >= SPELLING_LIKENESS
    return accept


def trigram_spelling_relaxation(pieces):
    """Titles whose pinyin key is most like the letters typed (pg_trgm's index).

    The last resort for pinyin with a slip, when the syllables around it could not place it.
    """
    letters = _typed_letters(pieces)
    if sum(ch.isalpha() for ch in letters) < MIN_SPELLING:  # Latin and digits may be mixed in
        return None
    return Relaxation("spelling", ("pinyin_key % :spelled",), "similarity(pinyin_key, :spelled)",
                      {"spelled": letters}, ordered=True, similarity=SPELLING_SIMILARITY,
                      accept=_reads_like(letters), last_resort=True)


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
    others = [term for (kind, text), term in zip(pieces, _others(pieces, None), strict=True)
              if text not in words]
    if others:
        conditions.append(f"search_vector @@ {TSQUERY}")
        params["relaxed"] = _all(others)
    rank = " + ".join(f"word_similarity(:latin{i}, search_text)"
                      for i in range(1, len(words) + 1))

    def one_edit_off(candidate):
        return all(partial_ratio(word, candidate.title_key) >= LATIN_LIKENESS for word in words)

    return Relaxation("latin", (" AND ".join(conditions),), rank, params, ordered=True,
                      similarity=LATIN_SIMILARITY_NARROWED if others else LATIN_SIMILARITY,
                      accept=one_edit_off)


def relaxations(raw, texts):
    """The relaxations worth trying, in order.

    ``raw`` is the query as typed, ``texts`` its clauses' texts when they are plain (else
    only the substring is tried).
    """
    found = [substring_relaxation(raw)]
    if texts:
        pieces = _pieces(texts)
        found += [pinyin_relaxation(pieces), slip_relaxation(pieces), words_relaxation(pieces),
                  initials_relaxation(pieces), spelling_relaxation(pieces),
                  trigram_spelling_relaxation(pieces), latin_relaxation(pieces)]
    return [r for r in found if r is not None]


# --- running them -------------------------------------------------------------------------------

def _statement(relaxation, index, where):
    condition = relaxation.matches[index]
    order = f"ORDER BY {relaxation.rank} DESC, id" if relaxation.ordered else ""
    if index < len(relaxation.anchors):
        vector, _anchors = relaxation.anchors[index]
        # the anchors through GIN (OFFSET 0 keeps the planner from folding the loose
        # condition into the index scan), the loose condition on those rows alone
        return (f"SELECT {CANDIDATE_COLUMNS}, {relaxation.rank} FROM (SELECT * FROM records "
                f"WHERE {vector} @@ {ANCHORS} AND {where} LIMIT {ANCHORED_ROWS} OFFSET 0) r "
                f"WHERE {condition} {order} LIMIT :rk")
    return (f"SELECT {CANDIDATE_COLUMNS}, {relaxation.rank} FROM records "
            f"WHERE {condition} AND {where} {order} LIMIT :rk")


def _fetch_in_time(relaxation, statement, params):
    if not relaxation.last_resort:
        return fetch(statement, params)
    try:
        with db.session.begin_nested():
            db.session.execute(sql(f"SET LOCAL statement_timeout = {LAST_RESORT_MS}"))
            rows = fetch(statement, params)
            db.session.execute(sql("SET LOCAL statement_timeout TO DEFAULT"))
            return rows
    except OperationalError as error:  # QueryCanceled: the savepoint is rolled back
        if "statement timeout" not in str(error):
            raise
        return []


def relaxed_candidates(found, where, params, seen, query_key=""):
    """Each relaxation's candidates that are not ``seen`` yet, and the names that found some.

    ``query_key`` is the query's comparison form (``query.title_key``): a candidate's base
    rank gains how much its title reads like it.
    """
    candidates, used = [], []
    for tier, relaxation in enumerate(found, start=1):
        if len(seen) >= ENOUGH:
            break
        if relaxation.last_resort and seen:
            continue
        if relaxation.similarity:
            threshold = float(relaxation.similarity)
            db.session.execute(sql(f"SET LOCAL pg_trgm.word_similarity_threshold = {threshold}; "
                                   f"SET LOCAL pg_trgm.similarity_threshold = {threshold}"))
        new, matched = [], set()
        for index in range(len(relaxation.matches)):
            anchors = relaxation.anchors[index][1] if index < len(relaxation.anchors) else ""
            rows = _fetch_in_time(relaxation, _statement(relaxation, index, where),
                                  dict(params, **relaxation.params, anchors=anchors,
                                       rk=RELAXED_CANDIDATES))
            new += [c for c in rows if c.id not in seen and c.id not in matched
                    and (relaxation.accept is None or relaxation.accept(c))]
            matched.update(c.id for c in rows)
            # the next statements read further fields, whose hits would rank below these
            if len(matched) >= RELAXED_CANDIDATES or len(seen) + len(new) >= ENOUGH:
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
