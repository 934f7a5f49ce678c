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
  spelling  a title typed in pinyin with a slip (zhonguo, fazahn, shuiseng): ``spelling.py``
  latin     a Latin word one edit off (TESBED for TESTBED), the rest of the query as typed:
            the word by trigram similarity to the words of titles and names

How a relaxation is written as SQL, and anchored on its rarest terms: ``relaxation.py``; the
ones for pinyin typed with a slip: ``spelling.py``.
"""
from rapidfuzz.fuzz import partial_ratio
from sqlalchemy import text as sql
from sqlalchemy.exc import OperationalError

from jala.extensions import db
from jala.search.candidates import CANDIDATE_COLUMNS, fetch
from jala.search.normalize import normalize_text, trigram_text
from jala.search.pinyin import romanize, split_pinyin
from jala.search.relaxation import (
    TSQUERY,
    Relaxation,
    all_of,
    any_of,
    char_pairs,
    most_of,
    others_as_typed,
    pinyin_phrase,
    query_pieces,
    quote,
    run_phrase,
    tsquery_relaxation,
    typed_letters,
)
from jala.search.spelling import (
    spelled_pairs_relaxation,
    spelling_relaxation,
    trigram_spelling_relaxation,
)
from jala.search.trigram import word_like

MIN_RUN = 4  # a run of fewer characters has too few pairs to relax
SLIPS = (4, 10)  # runs this long get the ways of undoing a slip as phrases
SLIP_MISSES = 3  # the typed pairs a slip spoils, at most (two characters swapped)
MIN_INITIALS, MAX_INITIALS = 3, 30
# a last resort (``spelling.py``) reads the posting lists of every trigram typed (common ones
# hold a tenth of the catalogue): past this, it gives up and the reader gets the tips instead
LAST_RESORT_MS = 100
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
ENOUGH = 20  # with this many hits found, the looser relaxations after are not tried
# how much a title that reads like the query (rapidfuzz's best-substring similarity) is worth
# beside the relaxation's own rank: it tells the title meant from those that merely share
# common pairs (与能的影响 → …组织与性能的影响)
LIKENESS_WEIGHT = 2.0


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
    return tsquery_relaxation("pinyin", pinyin_phrase(syllables), in_title_only=True)


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
    ways = any_of([run_phrase(way) for way in undone_slips(runs[0])])
    # a character too many spoils two of the typed pairs, two swapped three: the record
    # meant holds two of any five of them, one of any four when there are four; of three it
    # may hold none (辅乳助化 for 辅助乳化): GIN reads the ways themselves then
    pairs = char_pairs(runs[0])
    held = 2 if len(pairs) >= SLIP_MISSES + 2 else 1
    anchors = (pairs, SLIP_MISSES + held, held) if len(pairs) > SLIP_MISSES else None
    return tsquery_relaxation("slip", all_of([ways, *others_as_typed(pieces, "cjk")]),
                               in_title_only=True, anchors=anchors)


def run_relaxation(run):
    """``most_of`` a run's character pairs: for a run typed with its words run together.

    Words typed without spaces miss the pairs across the joins; a character left out spoils
    one or two.
    """
    return most_of(char_pairs(run))


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
            terms.append(run_phrase(text) if kind == "cjk" else quote(text))
    return tsquery_relaxation("words", all_of(terms), anchors=anchors)


def initials_relaxation(pieces):
    """A title whose pinyin initials are, or begin with, the letters typed (zgfzbg)."""
    letters = typed_letters(pieces)
    if not MIN_INITIALS <= len(letters) <= MAX_INITIALS:
        return None
    return Relaxation("initials", ("initials_key = :initials", "initials_key LIKE :initials_from"),
                      "1", {"initials": letters, "initials_from": letters + "%"})



def latin_relaxation(pieces):
    """Latin words like those typed (one edit off), every other piece as typed."""
    params, words = {}, []
    for kind, piece in pieces:
        if kind == "word" and piece.isalpha() and len(piece) >= MIN_LATIN_WORD:
            words.append(piece)
            params[f"latin{len(words)}"] = piece
    if not words or split_pinyin("".join(words)) is not None:
        return None  # pinyin is the pinyin relaxations' to read
    others = [term for (kind, text), term in zip(pieces, others_as_typed(pieces, None), strict=True)
              if text not in words]
    similarity = LATIN_SIMILARITY_NARROWED if others else LATIN_SIMILARITY
    conditions = [word_like(f":latin{i}", "search_text", similarity)
                  for i in range(1, len(words) + 1)]
    if others:
        conditions.append(f"search_vector @@ {TSQUERY}")
        params["relaxed"] = all_of(others)
    rank = " + ".join(f"word_similarity(:latin{i}, search_text)"
                      for i in range(1, len(words) + 1))

    def one_edit_off(candidate):
        return all(partial_ratio(word, candidate.title_key) >= LATIN_LIKENESS for word in words)

    return Relaxation("latin", (" AND ".join(conditions),), rank, params, ordered=True,
                      similarity=similarity, accept=one_edit_off)


def relaxations(raw, texts):
    """The relaxations worth trying, in order.

    ``raw`` is the query as typed, ``texts`` its clauses' texts when they are plain (else
    only the substring is tried).
    """
    found = [substring_relaxation(raw)]
    if texts:
        pieces = query_pieces(texts)
        found += [pinyin_relaxation(pieces), slip_relaxation(pieces), words_relaxation(pieces),
                  initials_relaxation(pieces), spelling_relaxation(pieces),
                  spelled_pairs_relaxation(pieces), trigram_spelling_relaxation(pieces),
                  latin_relaxation(pieces)]
    return [r for r in found if r is not None]


# --- running them -------------------------------------------------------------------------------

def _anchor(relaxation, index):
    """The Anchor of the relaxation's ``index``-th condition, or None."""
    return relaxation.anchors[index] if index < len(relaxation.anchors) else None


def _statement(relaxation, index, where):
    condition = relaxation.matches[index]
    order = f"ORDER BY {relaxation.rank} DESC, id" if relaxation.ordered else ""
    anchor = _anchor(relaxation, index)
    if anchor:
        # the anchor through its index (OFFSET 0 keeps the planner from folding the loose
        # condition into the index scan), the loose condition on those rows alone
        return (f"SELECT {CANDIDATE_COLUMNS}, {relaxation.rank} FROM (SELECT * FROM records "
                f"WHERE {anchor.condition} AND {where} LIMIT {anchor.rows} OFFSET 0) r "
                f"WHERE {condition} {order} LIMIT :rk")
    return (f"SELECT {CANDIDATE_COLUMNS}, {relaxation.rank} FROM records "
            f"WHERE {condition} AND {where} {order} LIMIT :rk")


def _fetch_in_time(relaxation, statement, params):
    if not relaxation.last_resort:
        return fetch(statement, params)
    try:
        with db.session.begin_nested():
            # a sharded catalogue: postgres_fdw opens a shard's transaction and savepoint at
            # a statement's first use of it, and a cancel landing in that exchange leaves the
            # connection unusable for the rest of the transaction ("abort cleanup failure"),
            # so every bucket is opened before the clock starts (one node: a primary key probe)
            db.session.execute(sql("SELECT 1 FROM records WHERE id < 0"))
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
            anchor = _anchor(relaxation, index)
            rows = _fetch_in_time(relaxation, _statement(relaxation, index, where),
                                  dict(params, **relaxation.params,
                                       **(anchor.params if anchor else {}),
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
