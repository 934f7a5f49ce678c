"""Suggestions as the reader types: titles, authors and subjects by prefix, pinyin or initials.

The suggestions have a table of their own (``search_suggestions``): one row per distinct title,
author and subject, with the keys it is found by (its characters, its pinyin, its initials)
and a weight (the copies held of a title, the records of an author or a subject). A prefix of
one or two characters, or two to four letters, is answered from an index in weight order;
a longer one ranges over its key. The sweeper adds what new records bring
(``take_in_new_records``); ``rebuild_suggestions`` (``jala suggestions``, and after a bulk
import) makes the table anew from the whole catalogue.
"""
from dataclasses import dataclass

from sqlalchemy import text

from jala.extensions import db
from jala.jobs import sweep_task
from jala.search.normalize import CJK_RE, alnum_only, normalize_text
from jala.search.pinyin import pinyin_initials, pinyin_key

MAX_SUGGESTIONS = 8
INDEXED_PREFIXES = {"key": (1, 2), "pinyin": (2, 3, 4), "initials": (2, 3)}
MIN_LETTERS = 2  # a single letter says too little to look up pinyin and initials by
SWEEP_BATCH = 5000
LENGTHS = {"text": 200, "key": 100, "pinyin": 120, "initials": 60}


@dataclass(frozen=True)
class Suggestion:
    """One suggestion: the words to put in the box, and what they are (title, author, subject)."""

    text: str
    kind: str


# --- asking ---------------------------------------------------------------------------------------

def _lookup(column, prefix, limit):
    if len(prefix) in INDEXED_PREFIXES[column]:
        # the expression must read as the index's does: its length is written in, not bound
        condition = f"left({column}, {len(prefix)}) = :prefix"
        value = prefix
    else:
        condition = f"{column} LIKE :prefix"
        value = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    rows = db.session.execute(text(
        f"SELECT text, kind, weight FROM search_suggestions WHERE {condition} "
        f"ORDER BY weight DESC, id LIMIT :limit"), {"prefix": value, "limit": limit})
    return rows.all()


def suggestions(typed, limit=MAX_SUGGESTIONS):
    """Up to ``limit`` suggestions for what is typed so far, the heaviest first."""
    key = alnum_only(normalize_text(typed or ""))[:LENGTHS["key"]]
    if not key:
        return []
    found = _lookup("key", key, limit)
    if key.isascii() and key.isalpha() and len(key) >= MIN_LETTERS:
        found += _lookup("pinyin", key, limit) + _lookup("initials", key, limit)
    found.sort(key=lambda row: -row.weight)
    unique = dict.fromkeys((row.text, row.kind) for row in found)
    return [Suggestion(text, kind) for text, kind in list(unique)[:limit]]


# --- keeping them ---------------------------------------------------------------------------------

def _keys(value):
    normalized = normalize_text(value)
    return (alnum_only(normalized)[:LENGTHS["key"]],
            (pinyin_key(normalized) if CJK_RE.search(normalized) else "")[:LENGTHS["pinyin"]],
            (pinyin_initials(normalized) if CJK_RE.search(normalized) else "")[
                :LENGTHS["initials"]])


def _gather(rows):
    """``{(kind, text): [weight, keys]}`` of what records bring: titles, authors, subjects.

    A title's keys are the record's own (the index made them); the others' are made here.
    """
    gathered = {}

    def add(kind, value, weight, keys=None):
        value = " ".join(str(value).split())[:LENGTHS["text"]]
        entry = gathered.setdefault((kind, value), [0, keys])
        entry[0] += weight

    for title, holdings, authors, subjects, keywords, key, pinyin, initials in rows:
        add("title", title, 1 + (holdings or 0),
            (key[:LENGTHS["key"]], pinyin[:LENGTHS["pinyin"]], initials[:LENGTHS["initials"]]))
        for author in set(authors or ()):
            add("author", author, 1)
        for subject in set((subjects or []) + (keywords or [])):
            add("subject", subject, 1)
    return gathered


def _copy_field(value):
    return str(value).replace("\\", "\\\\").replace("\t", " ").replace("\n", " ").replace(
        "\r", " ")


def _merge(gathered):
    """Add gathered suggestions to the table (the weights of those already there grow)."""
    lines = []
    for (kind, value), (weight, keys) in gathered.items():
        key, pinyin, initials = keys or _keys(value)
        if key:
            lines.append("\t".join(_copy_field(v) for v in (kind, value, key, pinyin, initials,
                                                             weight)))
    if not lines:
        return 0
    cursor = db.session.connection().connection.driver_connection.cursor()
    cursor.execute("CREATE TEMP TABLE IF NOT EXISTS incoming_suggestions (kind text, text text, "
                   "key text, pinyin text, initials text, weight int) ON COMMIT DROP")
    with cursor.copy("COPY incoming_suggestions FROM STDIN") as copy:
        copy.write("\n".join(lines) + "\n")
    cursor.execute(
        "INSERT INTO search_suggestions (kind, text, key, pinyin, initials, weight) "
        "SELECT kind, min(text), key, min(pinyin), min(initials), sum(weight) "
        "FROM incoming_suggestions GROUP BY kind, key "
        "ON CONFLICT (kind, key) DO UPDATE SET weight = search_suggestions.weight + "
        "excluded.weight")
    cursor.execute("TRUNCATE incoming_suggestions")
    return len(lines)


def _through():
    row = db.session.execute(text(
        "SELECT through_record_id FROM search_suggestion_progress WHERE id = 1 FOR UPDATE")
    ).first()
    if row is None:
        db.session.execute(text("INSERT INTO search_suggestion_progress (id) VALUES (1) "
                                "ON CONFLICT DO NOTHING"))
        return 0
    return row[0]


def _records_after(after, limit):
    return db.session.execute(text(
        "SELECT id, title, holdings_count, authors, subjects, keywords, title_key, pinyin_key, "
        "initials_key FROM records "
        "WHERE id > :after ORDER BY id LIMIT :limit"), {"after": after, "limit": limit}).all()


def take_in(limit=SWEEP_BATCH):
    """Add the suggestions of up to ``limit`` records not taken in yet; how many were read."""
    after = _through()
    rows = _records_after(after, limit)
    if rows:
        _merge(_gather(row[1:] for row in rows))
        db.session.execute(text("UPDATE search_suggestion_progress SET through_record_id = :id "
                                "WHERE id = 1"), {"id": rows[-1][0]})
    return len(rows)


@sweep_task
def take_in_new_records():
    """Sweep task: the suggestions of records imported since the last sweep."""
    return take_in()


def rebuild_suggestions(batch_size=50_000, progress=None):
    """Make the suggestions anew from the whole catalogue, a batch at a time (committed)."""
    db.session.execute(text("TRUNCATE search_suggestions"))
    db.session.execute(text("DELETE FROM search_suggestion_progress"))
    db.session.commit()
    done = 0
    while True:
        read = take_in(batch_size)
        db.session.commit()
        if not read:
            return done
        done += read
        if progress:
            progress(done)

