"""What a record looks like to the search engine: weighted tsvectors, keys, trigram text.

Weights: A title (and its pinyin, ISBN/ISSN), B authors and keywords, C subjects, publisher,
series and journal, D abstract and notes.
"""
from jala.search.normalize import normalize_key_part, normalize_text, trigram_text
from jala.search.pinyin import romanize, syllables_from_romanisation
from jala.search.query import title_key
from jala.search.tokens import VectorBuilder


def title_syllables(title, romanisation=None):
    """The title's pinyin: the catalogue's own romanisation when usable, else pypinyin's."""
    if romanisation:
        syllables = syllables_from_romanisation(romanisation)
        if syllables:
            return syllables
    return romanize(normalize_text(title))


def match_key(fields):
    """Normalised title + first author + year, or None when author or year is missing."""
    authors = fields.get("authors") or []
    if not authors or not fields.get("year"):
        return None
    author = normalize_key_part(authors[0])
    key = title_key(fields["title"])
    if not author or not key:
        return None
    return f"{key}|{author}|{fields['year']}"


def build_document(fields):
    """Index columns for a record's fields (a dict in the import contract's shape)."""
    title = fields["title"]
    normalized_title = normalize_text(title)
    syllables = title_syllables(title, fields.get("title_pinyin"))

    title_vector = VectorBuilder()
    title_vector.add_text(normalized_title, "A", normalized=True)
    title_vector.add_pinyin(syllables, "A")

    vector = VectorBuilder()
    vector.add_text(normalized_title, "A", normalized=True)
    vector.add_pinyin(syllables, "A")
    for isbn in fields.get("isbn_list") or ():
        vector.add_exact(isbn, "A")
    for issn in fields.get("issn_list") or ():
        vector.add_exact(issn.replace("-", "").lower(), "A")
    vector.add_values(fields.get("authors"), "B")
    vector.add_values(fields.get("keywords"), "B")
    vector.add_values(fields.get("subjects"), "C")
    for name in ("publisher", "series", "journal"):
        vector.add_text(fields.get(name), "C")
    vector.add_text(fields.get("abstract"), "D")
    vector.add_text(fields.get("notes"), "D")

    authors_text = " ".join(normalize_text(a) for a in fields.get("authors") or ())
    return {
        "title_key": title_key(title),
        "search_vector": vector.literal(),
        "title_vector": title_vector.literal(),
        "search_text": trigram_text(normalized_title + " " + authors_text).strip()[:2000],
        "match_key": match_key(fields),
    }
