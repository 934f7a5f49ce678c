"""What a record looks like to the search engine: weighted tsvectors, keys, trigram text.

Weights: A title (and its pinyin, ISBN/ISSN), B authors and keywords, C subjects, publisher,
series and journal, D abstract and notes.
"""
from jala.search.normalize import alnum_only, normalize_key_part, normalize_text, trigram_text
from jala.search.pinyin import (
    pinyin_key,
    romanize_name,
    romanize_with_key,
    syllables_from_romanisation,
)
from jala.search.query import title_key
from jala.search.tokens import VectorBuilder


def title_syllables(title, romanisation=None, normalized=False):
    """``(syllables, key)`` of the title's pinyin (see ``romanize_with_key``).

    The catalogue's own romanisation when usable, else pypinyin's.
    """
    if romanisation:
        syllables = syllables_from_romanisation(romanisation)
        if syllables:
            return syllables, pinyin_key(normalize_text(romanisation))
    return romanize_with_key(title if normalized else normalize_text(title))


def author_syllables(normalized_authors, romanisations=None):
    """Each author's pinyin syllables: the catalogue's romanisations (CNMARC 70x $A) first.

    pypinyin's readings of the CJK names join them where they differ, since a reader may type
    either: the catalogue knows the polyphones (曾 zeng), and pypinyin the everyday sound.
    """
    readings = [syllables_from_romanisation(r) for r in romanisations or ()
                if isinstance(r, str)]
    readings += [romanize_name(a) for a in normalized_authors]
    return [list(r) for r in dict.fromkeys(tuple(r) for r in readings if r)]


def match_key(fields, key=None):
    """Normalised title + first author + year, or None when author or year is missing.

    ``key`` is the title's key when the caller has it already.
    """
    authors = fields.get("authors") or []
    if not authors or not fields.get("year"):
        return None
    author = normalize_key_part(authors[0])
    if key is None:
        key = title_key(fields["title"])
    if not author or not key:
        return None
    return f"{key}|{author}|{fields['year']}"


def build_document(fields):
    """Index columns for a record's fields (a dict in the import contract's shape)."""
    # each text is normalised once, and the title tokenised once: this runs for every record
    # of an import
    normalized_title = normalize_text(fields["title"])
    syllables, key_in_pinyin = title_syllables(normalized_title, fields.get("title_pinyin"),
                                               normalized=True)
    key = alnum_only(normalized_title)
    authors = [normalize_text(a) for a in fields.get("authors") or ()]

    title_vector = VectorBuilder()
    title_vector.add_text(normalized_title, "A", normalized=True)
    title_vector.add_pinyin(syllables, "A")

    vector = title_vector.copy()  # the search vector starts with what the title vector has
    for isbn in fields.get("isbn_list") or ():
        vector.add_exact(isbn, "A")
    for issn in fields.get("issn_list") or ():
        vector.add_exact(issn.replace("-", "").lower(), "A")
    vector.add_values(authors, "B", normalized=True)
    for syllables in author_syllables(authors, fields.get("authors_pinyin")):
        vector.add_pinyin(syllables, "B")
    vector.add_values(fields.get("keywords"), "B")
    vector.add_values(fields.get("subjects"), "C")
    for name in ("publisher", "series", "journal"):
        vector.add_text(fields.get(name), "C")
    vector.add_text(fields.get("abstract"), "D")
    vector.add_text(fields.get("notes"), "D")

    return {
        "title_key": key,
        "search_vector": vector.literal(),
        "title_vector": title_vector.literal(),
        "search_text": trigram_text(normalized_title + " " + " ".join(authors)).strip()[:2000],
        "match_key": match_key(fields, key),
        "pinyin_key": key_in_pinyin,
    }


REINDEXED_COLUMNS = ("title_key", "search_vector", "title_vector", "search_text", "pinyin_key")


def reindex(batch_size=1000, progress=None):
    """Rebuild every record's index columns from its fields, in batches, each committed.

    For when the indexing rules change (a new column, a new tokenisation): the records stay
    searchable throughout. Match keys are left as they are, so union records never split or
    merge behind an import's back. Returns the number of records rewritten.
    """
    from sqlalchemy import text

    from jala.extensions import db

    done, after = 0, 0
    while True:
        rows = db.session.execute(text(
            "SELECT id, title, title_pinyin, authors, keywords, subjects, publisher, "
            "extra->>'series', journal, abstract, extra->>'notes', isbn, issn, "
            "extra->'authors_pinyin' FROM records "
            "WHERE id > :after ORDER BY id LIMIT :n"), {"after": after, "n": batch_size}).all()
        if not rows:
            return done
        updates = []
        for row in rows:
            fields = dict(zip(("title", "title_pinyin", "authors", "keywords", "subjects",
                               "publisher", "series", "journal", "abstract", "notes",
                               "isbn_list", "issn_list", "authors_pinyin"), row[1:],
                              strict=True))
            document = build_document(fields)
            updates.append({"id": row[0], **{c: document[c] for c in REINDEXED_COLUMNS}})
        db.session.execute(text(
            "UPDATE records SET title_key = :title_key, search_text = :search_text, "
            "pinyin_key = :pinyin_key, search_vector = CAST(:search_vector AS tsvector), "
            "title_vector = CAST(:title_vector AS tsvector) WHERE id = :id"), updates)
        db.session.commit()
        done += len(rows)
        after = rows[-1][0]
        if progress:
            progress(done)
