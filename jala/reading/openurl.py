"""OpenURL 1.0 (Z39.88-2004) context objects in KEV form: resolver links and COinS.

A link resolver (SFX, 360 Link, Alma …) takes a description of the work and sends the reader
to a copy their library licenses. COinS puts the same description in a
``<span class="Z3988" title="…">`` so reference managers (Zotero) pick the record up.
"""
from urllib.parse import urlencode, urlsplit

from flask import current_app

from jala.reading.bibfields import clean_doi, page_range, place_of, publisher_of

CTX_VER = "Z39.88-2004"
FMT = "info:ofi/fmt:kev:mtx:"
BOOK_GENRES = {"book": "book", "ebook": "book", "report": "report", "conference": "conference"}


def referrer_id():
    """``info:sid/<our host>:jala`` — who is sending the reader (the portal's public host)."""
    host = urlsplit(current_app.config.get("PUBLIC_URL") or "").hostname or "localhost"
    return f"info:sid/{host}:jala"


def context_object(record):
    """The record as ``(key, value)`` pairs of a KEV context object (without transport keys)."""
    pairs = [("ctx_ver", CTX_VER)]
    first, last = page_range(record.pages)
    if record.type in ("article", "journal") or (record.type == "conference" and record.journal):
        pairs.append(("rft_val_fmt", FMT + "journal"))
        if record.type == "journal":
            pairs += [("rft.genre", "journal"), ("rft.jtitle", record.title)]
        else:
            pairs += [("rft.genre", "proceeding" if record.type == "conference" else "article"),
                      ("rft.atitle", record.title), ("rft.jtitle", record.journal)]
        pairs += [("rft.volume", record.volume), ("rft.issue", record.issue),
                  ("rft.spage", first), ("rft.epage", last),
                  ("rft.pages", record.pages if last else None)]
        pairs += [("rft.issn", value) for value in record.issn or []]
    elif record.type == "thesis":
        pairs += [("rft_val_fmt", FMT + "dissertation"), ("rft.title", record.title),
                  ("rft.inst", publisher_of(record)),
                  ("rft.degree", (record.extra or {}).get("degree"))]
    else:
        pairs += [("rft_val_fmt", FMT + "book"),
                  ("rft.genre", BOOK_GENRES.get(record.type, "document")),
                  ("rft.btitle", record.title), ("rft.pub", publisher_of(record)),
                  ("rft.place", place_of(record)), ("rft.tpages", record.page_count)]
        pairs += [("rft.isbn", value) for value in record.isbn or []]
    pairs += [("rft.au", name) for name in (record.authors or [])[:10]]
    pairs.append(("rft.date", record.year))
    pairs.append(("rft.language", record.language))
    doi = clean_doi(record.doi)
    if doi:
        pairs.append(("rft_id", f"info:doi/{doi}"))
    if record.url:
        pairs.append(("rft_id", record.url))
    return [(key, str(value).strip()) for key, value in pairs
            if value is not None and str(value).strip() and isinstance(value, str | int)]


def coins(record):
    """The ``title`` of a COinS span for the record (escape it as an HTML attribute)."""
    return urlencode([("ctx_ver", CTX_VER), ("rfr_id", referrer_id())]
                     + context_object(record)[1:])


def resolver_url(base_url, record):
    """A link to ``base_url`` (a library's resolver) asking for ``record``."""
    base = base_url.strip().rstrip("?&")
    query = urlencode([("url_ver", CTX_VER), ("url_ctx_fmt", "info:ofi/fmt:kev:mtx:ctx"),
                       ("ctx_ver", CTX_VER), ("rfr_id", referrer_id())]
                      + context_object(record)[1:])
    return f"{base}{'&' if '?' in base else '?'}{query}"
