"""One relaxation of the forgiving search as SQL, and the parts relaxations are built of.

A relaxation's tsquery is written from the query's own tokens (never PostgreSQL's parser), so
the GIN indexes answer it. The minimum-should-match over a run's pairs (``most_of``, "at least
k of n" as a nested tsquery) is anchored on the rarest of them (``frequencies.py``): any record
holding all but ``t`` of the lexemes holds two of any ``t + 2`` of them, so GIN reads only those
short posting lists, and the whole condition is checked on the few rows holding two.
"""
from collections.abc import Callable
from dataclasses import dataclass

from jala.search.candidates import ts_rank_sql
from jala.search.frequencies import catalogue_size, rarest, tsquery_share
from jala.search.normalize import normalize_text
from jala.search.tokens import pinyin_pair_lexemes, units

TSQUERY = "CAST(:relaxed AS tsquery)"
ANCHORS = "CAST(:anchors AS tsquery)"
MAX_PAIRS = 9  # longer runs are relaxed over this many of their pairs, spread along the run
# the most rows an anchored relaxation checks: a title vector is small and stored in its row,
# a search vector is large and read from TOAST
ANCHORED_ROWS = {"title_vector": 5000, "search_vector": 2000}


@dataclass(frozen=True)
class Anchor:
    """Where a relaxation's condition is checked.

    The first ``rows`` records meeting a cheap condition an index answers (``params`` are its
    own) and the reader's filters.
    """

    condition: str
    rows: int
    params: dict


def tsquery_anchor(vector, tsquery):
    return Anchor(f"{vector} @@ {ANCHORS}", ANCHORED_ROWS[vector], {"anchors": tsquery})


@dataclass(frozen=True)
class Relaxation:
    """One way of reading the query more loosely, as SQL on ``records``.

    ``matches`` are conditions tried in turn, each adding what the ones before did not find
    (title matches before matches elsewhere); ``rank`` orders the candidates; ``ordered``
    says the best must be picked by ``rank`` in SQL, not just the first found. With an
    ``Anchor`` for a condition, an index finds the rows it is checked on.
    """

    name: str
    matches: tuple
    rank: str
    params: dict
    ordered: bool = False
    similarity: float = None  # the threshold of its pg_trgm condition (jala.search.trigram)
    accept: Callable = None  # (candidate) → whether it stays; checks what SQL only estimates
    anchors: tuple = ()  # per condition of ``matches``: its Anchor, or None
    last_resort: bool = False  # tried only when nothing was found before, within LAST_RESORT_MS


# --- tsquery text ---------------------------------------------------------------------------

def quote(lexeme):
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def all_of(terms):
    return terms[0] if len(terms) == 1 else "(" + " & ".join(terms) + ")"


def any_of(terms):
    return terms[0] if len(terms) == 1 else "(" + " | ".join(terms) + ")"


def phrase_of(lexemes):
    return lexemes[0] if len(lexemes) == 1 else "(" + " <1> ".join(lexemes) + ")"


def char_pairs(run):
    return [run[i:i + 2] for i in range(len(run) - 1)]


def run_phrase(run):
    """A run of characters as the strict search reads it: a phrase of its pairs."""
    return phrase_of([quote(p) for p in char_pairs(run)]) if len(run) > 1 else quote(run)


def pinyin_phrase(syllables):
    return phrase_of([quote(lexeme) for lexeme, _pos in pinyin_pair_lexemes(syllables, 0)[0]])


def tsquery_relaxation(name, tsquery, in_title_only=False, anchors=None):
    """A relaxation matching ``tsquery`` in titles, then (unless told) anywhere else.

    ``anchors`` is a tsquery, or ``(lexemes, how many, held)``: a record holding ``held`` of
    the rarest ``how many`` of the lexemes (as each vector's statistics count them) anchors
    each pass.
    """
    title = f"title_vector @@ {TSQUERY}"
    elsewhere = f"search_vector @@ {TSQUERY} AND NOT ({title})"
    matches = (title,) if in_title_only else (title, elsewhere)
    anchored = ()
    if isinstance(anchors, str):
        anchored = tuple(tsquery_anchor(vector, anchors)
                         for vector in ("title_vector", "search_vector")[:len(matches)])
    elif anchors:
        lexemes, how_many, held = anchors
        for vector in ("title_vector", "search_vector")[:len(matches)]:
            rarest_ones = [quote(lexeme) for lexeme in rarest(lexemes, how_many, vector)]
            # holding ``held`` of them, a record holds one of the rarest ``how many - held +
            # 1``: their share estimates the anchored rows, from above
            rows = tsquery_share(any_of(rarest_ones[:how_many - held + 1]), vector) * \
                catalogue_size()
            # anchors in more titles than are checked leave the titles to be read whole:
            # rows past the first ANCHORED_ROWS would go unseen (a search vector holds
            # common pairs in most rows, and is only ever read a bounded way)
            unanchored = vector == "title_vector" and rows > ANCHORED_ROWS[vector]
            anchored += (None if unanchored else
                         tsquery_anchor(vector, at_least(held, rarest_ones)),)
    return Relaxation(name, matches, ts_rank_sql("title_vector", TSQUERY), {"relaxed": tsquery},
                      anchors=anchored)


# --- the query's pieces -----------------------------------------------------------------------

def query_pieces(texts):
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


def typed_letters(pieces):
    """The query as one run of lower-case letters (and digits), if it is nothing else."""
    if not pieces or any(kind != "word" for kind, _text in pieces):
        return ""
    letters = "".join(text for _kind, text in pieces)
    return letters if letters.isascii() and letters.isalnum() and not letters.isdigit() else ""


def others_as_typed(pieces, relaxed_kind):
    """Every piece but those of ``relaxed_kind``, as the strict search reads it."""
    return [run_phrase(text) if kind == "cjk" else quote(text)
            for kind, text in pieces if kind != relaxed_kind]


# --- all but a few ------------------------------------------------------------------------------

def allowed_misses(pairs):
    return 1 if pairs <= 3 else 2 if pairs <= 7 else 3


def spread(items, most):
    """At most ``most`` of ``items``, spread evenly, the first and last always among them."""
    if len(items) <= most:
        return items
    step = (len(items) - 1) / (most - 1)
    return [items[round(i * step)] for i in range(most)]


def at_least(how_many, terms):
    """A tsquery true when at least ``how_many`` of ``terms`` are.

    Written nested, ``(t1 & at_least(k - 1, rest)) | at_least(k, rest)``, not as the OR of
    every combination: PostgreSQL checks it on a row in a few lookups where the OR of all 84
    six-of-nine combinations took hundreds (26 ms for 2,000 rows against 13).
    """
    if not 1 <= how_many <= len(terms):
        raise ValueError(f"at least {how_many} of {len(terms)} terms")
    if how_many == len(terms):
        return all_of(terms)
    if how_many == 1:
        return any_of(terms)
    head, rest = terms[0], terms[1:]
    return any_of([all_of([head, at_least(how_many - 1, rest)]), at_least(how_many, rest)])


def most_of(lexemes):
    """``(tsquery, anchors)``: all but a few (``t``) of ``lexemes``, anywhere.

    A record missing at most ``t`` of them holds two of any ``t + 2`` (``anchors``: the
    rarest that many, as ``tsquery_relaxation`` takes them): GIN reads their short posting
    lists, and far fewer rows hold two than one.
    """
    lexemes = spread(list(dict.fromkeys(lexemes)), MAX_PAIRS)
    # one distinct lexeme (哈哈哈哈 is one pair, 哈哈, three times) must be held itself
    keep = max(1, len(lexemes) - allowed_misses(len(lexemes)))
    most = at_least(keep, [quote(p) for p in lexemes])
    held = min(2, keep)
    return most, (lexemes, len(lexemes) - keep + held, held)
