"""CSL-JSON (the Citation Style Language's item format) from catalogue records.

Zotero, citeproc-js, pandoc and most reference managers read it; one item per record.
"""
import json

from jala.catalog.vocabulary import language_key
from jala.reading.bibfields import (
    accessed_parts,
    authors_of,
    clean_doi,
    container_of,
    corporate_names,
    date_parts,
    extra_names,
    extra_text,
    is_chinese,
    issued_parts,
    pages_text,
    parse_name,
    place_of,
    publisher_of,
    squash,
)

# record type → CSL type (a book or report with a container-title is a chapter of it)
CSL_TYPES = {"book": "book", "ebook": "book", "compilation": "book", "article": "article-journal",
             "journal": "periodical", "thesis": "thesis", "conference": "paper-conference",
             "report": "report", "newspaper": "article-newspaper", "standard": "standard",
             "patent": "patent", "map": "map", "score": "musical_score", "audio": "song",
             "video": "motion_picture", "database": "dataset", "software": "software"}


def csl_type(record):
    """The CSL item type of the record."""
    if record.type in ("book", "ebook", "compilation") and container_of(record):
        return "chapter"
    if record.type == "other" or record.type not in CSL_TYPES:
        return "webpage" if record.url else "document"
    return CSL_TYPES[record.type]


def csl_names(names, corporate):
    """Names as CSL wants them: ``{"family", "given"}`` for persons, ``{"literal"}`` else."""
    found = []
    for name in names:
        family, given = parse_name(name, corporate)
        found.append({"family": family, "given": given} if given else {"literal": family})
    return found


def _date(parts):
    return {"date-parts": [parts]} if parts else None


def _language(record):
    code = language_key(record.language)
    if code == "zh" or (not code and is_chinese(record)):
        return "zh-CN"
    return code or None


def csl_item(record):
    """One CSL-JSON item (a dict) for the record; empty fields are left out."""
    corporate = corporate_names(record)
    kind = csl_type(record)
    item = {
        "id": str(record.id), "type": kind, "title": squash(record.title),
        "author": csl_names(authors_of(record), corporate),
        "editor": csl_names(extra_names(record, "editor"), corporate),
        "translator": csl_names(extra_names(record, "translator"), corporate),
        "container-title": container_of(record),
        "publisher": publisher_of(record), "publisher-place": place_of(record),
        "edition": extra_text(record, "edition"), "number": extra_text(record, "number"),
        "volume": squash(record.volume), "issue": squash(record.issue),
        "page": pages_text(record), "genre": extra_text(record, "degree"),
        "issued": _date(issued_parts(record)), "accessed": _date(accessed_parts(record)),
        "event-title": extra_text(record, "event"),
        "event-place": extra_text(record, "event-place"),
        "DOI": clean_doi(record.doi), "URL": squash(record.url),
        "ISBN": ", ".join(record.isbn or []), "ISSN": ", ".join(record.issn or []),
        "language": _language(record), "abstract": squash(record.abstract),
        "keyword": ", ".join(record.keywords or []),
        "event-date": _date(date_parts(extra_text(record, "event-date"))),
    }
    return {key: value for key, value in item.items() if value}


def csl_json(records):
    """The records as a CSL-JSON array, pretty-printed, Chinese kept as it is."""
    return json.dumps([csl_item(r) for r in records], ensure_ascii=False, indent=2) + "\n"
