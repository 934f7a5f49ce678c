"""What a record looks like to the search engine: weighted tsvectors, keys, trigram text.

Weights: A title (and its pinyin, ISBN/ISSN), B authors and keywords, C subjects, publisher,
series and journal, D abstract and notes.
"""
from jala.search.normalize import alnum_only, normalize_key_part, normalize_text, trigram_text
from jala.search.pinyin import romanize, syllables_from_romanisation
from jala.search.query import title_key
from jala.search.tokens import VectorBuilder


def title_syllables(title, romanisation=None, normalized=False):
    """The title's pinyin: the catalogue's own romanisation when usable, else pypinyin's."""
    if romanisation:
        syllables = syllables_from_romanisation(romanisation)
        if syllables:
            return syllables
    return romanize(title if normalized else normalize_text(title))


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
    syllables = title_syllables(normalized_title, fields.get("title_pinyin"), normalized=True)
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
    }
