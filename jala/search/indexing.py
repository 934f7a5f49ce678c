"""What a record looks like to the search engine: weighted tsvectors, keys, trigram text.

Weights: A title (and its pinyin, ISBN/ISSN), B authors and keywords, C subjects, publisher,
series and journal, D abstract and notes.
"""
from jala.search.normalize import alnum_only, normalize_key_part, normalize_text, trigram_text
from jala.search.pinyin import (
    pinyin_initials,
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
    """Normalised title + first author (or editor) + year, or None when either is missing.

    ``key`` is the title's key when the caller has it already.
    """
    authors = fields.get("authors") or fields.get("contributors") or []  # an edited book: editors
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
    # editors and translators are found by their names as authors are
    names = authors + [normalize_text(n) for n in fields.get("contributors") or ()]
    vector.add_values(names, "B", normalized=True)
    for syllables in author_syllables(names, fields.get("authors_pinyin")):
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
        "initials_key": pinyin_initials(normalized_title),
    }


def extra_fields(extra):
    """What the index reads from a record's extra fields (the ones the contract doesn't name).

    Libraries send whatever they like there: a value of the wrong shape is ignored.
    """
    series, notes, romanised = (extra.get(name) for name in ("series", "notes",
                                                              "authors_pinyin"))
    return {
        "series": series if isinstance(series, str) else None,
        "notes": notes if isinstance(notes, str) else None,
        "authors_pinyin": [r for r in romanised if isinstance(r, str)]
        if isinstance(romanised, list) else None,
        "contributors": [name for role in ("editor", "translator")
                         if isinstance(extra.get(role), list)
                         for name in extra[role] if isinstance(name, str)],
    }


REINDEXED_COLUMNS = ("title_key", "search_vector", "title_vector", "search_text", "pinyin_key",
                     "initials_key")
# the fields a document is built from, compared when the new document is written: a record an
# import changed in the meantime keeps the document that import wrote
_SOURCE_FIELDS = "md5(ROW(title, title_pinyin, authors, keywords, subjects, publisher, " \
    "journal, abstract, isbn, issn, extra)::text)"


def reindex(batch_size=1000, progress=None):
    """Rebuild every record's index columns from its fields, in batches, each committed.

    For when the indexing rules change (a new column, a new tokenisation): the records stay
    searchable throughout, and imports may run meanwhile. Match keys are left as they are, so
    union records never split or merge behind an import's back. Returns the number of
    records read.
    """
    from sqlalchemy import text

    from jala.extensions import db

    done, after = 0, 0
    while True:
        rows = db.session.execute(text(
            "SELECT id, title, title_pinyin, authors, keywords, subjects, publisher, journal, "
            f"abstract, isbn, issn, extra, {_SOURCE_FIELDS} FROM records "
            "WHERE id > :after ORDER BY id LIMIT :n"), {"after": after, "n": batch_size}).all()
        if not rows:
            return done
        updates = []
        for row in rows:
            fields = dict(zip(("title", "title_pinyin", "authors", "keywords", "subjects",
                               "publisher", "journal", "abstract", "isbn_list", "issn_list"),
                              row[1:11], strict=True))
            fields.update(extra_fields(row[11] or {}))
            document = build_document(fields)
            updates.append({"id": row[0], "seen": row[12],
                            **{c: document[c] for c in REINDEXED_COLUMNS}})
        db.session.execute(text(
            "UPDATE records SET title_key = :title_key, search_text = :search_text, "
            "pinyin_key = :pinyin_key, initials_key = :initials_key, "
            "search_vector = CAST(:search_vector AS tsvector), "
            "title_vector = CAST(:title_vector AS tsvector) "
            f"WHERE id = :id AND {_SOURCE_FIELDS} = :seen"), updates)
        db.session.commit()
        done += len(rows)
        after = rows[-1][0]
        if progress:
            progress(done)
