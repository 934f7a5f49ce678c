"""A record as schema.org JSON-LD, for the search engines that read record pages."""
from jala.catalog.vocabulary import language_key
from jala.urls import external_url

SCHEMA_TYPES = {
    "book": "Book", "ebook": "Book", "article": "ScholarlyArticle",
    "conference": "ScholarlyArticle", "thesis": "Thesis", "journal": "Periodical",
    "newspaper": "Periodical", "map": "Map", "video": "VideoObject", "audio": "AudioObject",
    "report": "Report",
}
EXTRA_PEOPLE = {"translator": "translator", "editor": "editor"}
# properties schema.org defines on one type only: a Periodical has no bookEdition
BOOK_ONLY = ("bookEdition", "numberOfPages")


def _names(value):
    if isinstance(value, str):
        return [value] if value.strip() else []
    return [v for v in value if isinstance(v, str) and v.strip()] if isinstance(value, list) \
        else []


def _agents(names, organisations=()):
    return [{"@type": "Organization" if name in organisations else "Person", "name": name}
            for name in names]


def _text(record, key):
    value = record.extra.get(key)
    return value.strip() or None if isinstance(value, str) else None


def _organisation(name):
    return name and {"@type": "Organization", "name": name}


def _published(record):
    issued = record.extra.get("issued")
    if isinstance(issued, str) and issued[:4].isdigit():
        return issued
    return str(record.year) if record.year else None


def _host_periodical(record):
    """Where an article appeared: the journal (with its ISSN), volume and issue."""
    if not record.journal:
        return None
    host = {"@type": "Periodical", "name": record.journal}
    if record.issn:
        host["issn"] = record.issn
    if record.volume:
        host = {"@type": "PublicationVolume", "volumeNumber": record.volume, "isPartOf": host}
    if record.issue:
        host = {"@type": "PublicationIssue", "issueNumber": record.issue, "isPartOf": host}
    return host


def record_json_ld(record):
    """The record as a schema.org object (``@type`` by record type, ``name`` = title)."""
    corporate = set(_names(record.extra.get("corporate-authors")))
    data = {
        "@context": "https://schema.org",
        "@type": SCHEMA_TYPES.get(record.type, "CreativeWork"),
        "@id": external_url("catalog.record", record_id=record.public_id),
        "url": external_url("catalog.record", record_id=record.public_id),
        "name": record.title,
        "author": _agents(record.authors, corporate),
        "isbn": record.isbn,
        "publisher": _organisation(record.publisher),
        "datePublished": _published(record),
        "inLanguage": record.language and language_key(record.language),
        "description": record.abstract,
        "keywords": list(dict.fromkeys(record.subjects + record.keywords)),
        "numberOfPages": record.page_count,
        "pagination": record.pages,
        "bookEdition": _text(record, "edition"),
        "locationCreated": _text(record, "place") and {"@type": "Place",
                                                       "name": _text(record, "place")},
        "sameAs": record.doi and f"https://doi.org/{record.doi}",
    }
    if record.type in ("journal", "newspaper"):
        data["issn"] = record.issn
    else:
        data["isPartOf"] = _host_periodical(record)
    if data["@type"] != "Book":
        for prop in BOOK_ONLY:
            data.pop(prop)
    if record.type == "ebook":
        data["bookFormat"] = "https://schema.org/EBook"
    if record.type == "thesis":
        data["inSupportOf"] = _text(record, "degree")
        data["sourceOrganization"] = _organisation(_text(record, "institution"))
    for key, prop in EXTRA_PEOPLE.items():
        data[prop] = _agents(_names(record.extra.get(key)), corporate)
    return {key: value for key, value in data.items() if value not in (None, "", [], {})}
