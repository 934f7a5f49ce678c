"""Inbound OpenURL: a database's "find it in the alliance" link, read and matched.

Reads a Z39.88-2004 key/encoded-value context object (``rft.isbn``, ``rft.issn`` with
``rft.volume``/``rft.issue``/``rft.spage``, ``rft.atitle``/``btitle``/``jtitle``/``title``,
``rft.au``/``aulast``, ``rft_id=info:doi/…``) and the older 0.1 form (``isbn=``, ``issn=``,
``title=``, ``id=doi:…``). ``resolve`` gives the one record the citation names, or the search
that shows the candidates: never an error, whatever the link holds.
"""
import re
from dataclasses import dataclass
from dataclasses import field as dataclass_field

from sqlalchemy import func, select

from jala.catalog.models import Record
from jala.catalog.service import record_by_isbn
from jala.extensions import db
from jala.search.normalize import canonical_isbn, canonical_issn
from jala.search.query import title_key

MAX_VALUE = 300
_DOI_RE = re.compile(r"^(?:info:doi/|doi:|https?://(?:dx\.)?doi\.org/)(10\.\S+)$", re.I)
_YEAR_RE = re.compile(r"(1[5-9]\d\d|20\d\d)")


@dataclass
class Citation:
    """What a context object says of its referent."""

    isbn: str = None
    issns: list = dataclass_field(default_factory=list)
    doi: str = None
    article_title: str = None
    title: str = None  # the book's or the journal's
    author: str = None
    volume: str = None
    issue: str = None
    start_page: str = None
    year: int = None


def _value(args, *names):
    """The first non-empty value among ``names``, in the 1.0 (``rft.``) or 0.1 form."""
    for name in names:
        for key in (f"rft.{name}", name):
            value = (args.get(key) or "").strip()
            if value:
                return value[:MAX_VALUE]
    return None


def _doi(args):
    for value in [*args.getlist("rft_id"), *args.getlist("id"), args.get("rft.doi") or ""]:
        match = _DOI_RE.match(value.strip())
        if match:
            return match.group(1).lower()
    return None


def _author(args):
    full = _value(args, "au")
    if full:
        return full
    last, first = _value(args, "aulast"), _value(args, "aufirst", "auinit")
    return " ".join(part for part in (last, first) if part) or None


def read_citation(args):
    """The citation in a request's arguments (a werkzeug MultiDict)."""
    date = _value(args, "date") or ""
    year = _YEAR_RE.search(date)
    genre = (_value(args, "genre") or "").lower()
    article_title = _value(args, "atitle")
    title = _value(args, "btitle", "jtitle", "title", "stitle")
    if genre == "article" and not article_title and _value(args, "title") and \
            _value(args, "jtitle"):
        article_title = _value(args, "title")
    return Citation(
        isbn=canonical_isbn(_value(args, "isbn")),
        issns=[issn for issn in (canonical_issn(_value(args, name)) for name in
                                 ("issn", "eissn")) if issn],
        doi=_doi(args), article_title=article_title, title=title, author=_author(args),
        volume=_value(args, "volume"), issue=_value(args, "issue"),
        start_page=_value(args, "spage") or (_value(args, "pages") or "").split("-")[0] or None,
        year=int(year.group(1)) if year else None)


def _only(statement):
    """The one record the statement finds, or None when it finds none or several."""
    rows = db.session.execute(statement.limit(2)).scalars().all()
    return rows[0] if len(rows) == 1 else None


def _by_doi(citation):
    if citation.doi:
        return _only(select(Record).where(func.lower(Record.doi) == citation.doi))
    return None


def _by_issn_and_place(citation):
    """The article at that volume, issue and first page of the journal with that ISSN."""
    if not (citation.issns and citation.volume and citation.start_page):
        return None
    statement = select(Record).where(Record.issn.overlap(citation.issns),
                                     Record.volume == citation.volume,
                                     func.split_part(Record.pages, "-", 1) == citation.start_page)
    if citation.issue:
        statement = statement.where(Record.issue == citation.issue)
    return _only(statement)


def _by_title(citation):
    """A record whose whole title is the article's (or book's) title, narrowed by year."""
    key = title_key(citation.article_title or citation.title or "")
    if len(key) < 4:
        return None
    statement = select(Record).where(Record.title_key == key)
    if citation.year:
        statement = statement.where(Record.year == citation.year)
    return _only(statement)


def _by_journal_issn(citation):
    """The journal itself, when the link names a journal and no article in it."""
    if citation.issns and not (citation.article_title or citation.volume):
        return _only(select(Record).where(Record.issn.overlap(citation.issns),
                                          Record.type.in_(("journal", "newspaper"))))
    return None


def find_record(citation):
    """The one record the citation names, or None."""
    if citation.isbn:
        record = record_by_isbn(citation.isbn)
        if record is not None:
            return record
    for match in (_by_doi, _by_issn_and_place, _by_journal_issn, _by_title):
        record = match(citation)
        if record is not None:
            return record
    return None


def search_terms(citation):
    """The portal query that shows the candidates for a citation it could not pin down."""
    if citation.article_title or citation.title:
        words = [f'"{(citation.article_title or citation.title).replace(chr(34), " ")}"']
        if citation.author:
            words.append(f'author:"{citation.author.replace(chr(34), " ")}"')
        return " ".join(words)
    if citation.isbn:
        return f"isbn:{citation.isbn}"
    if citation.issns:
        return f"issn:{citation.issns[0]}"
    return citation.doi or ""
