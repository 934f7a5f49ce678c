"""GB/T 7714-2015 (信息与文献 参考文献著录规则), 顺序编码制, for one catalogue record.

The shape follows the standard and the official CSL style
(china-national-standard-gb-t-7714-2015-numeric; bench/citations.py measures the agreement):

    作者. 题名: 编号[类型/OL]. 译者, 译. 版本. 出版地: 出版者, 年: 页码[引用日期]. URL. DOI:….
    作者. 析出题名[M]//编者. 书名. 出版地: 出版者, 年: 页码.
    作者. 题名[J]. 刊名, 年, 卷(期): 页码.          作者. 题名[N]. 报名, YYYY-MM-DD(版次).
    作者. 题名: 专利号[P]. YYYY-MM-DD.               作者. 题名[EB/OL]. (YYYY-MM-DD)[引用日期]. URL.

At most three names, then 等 / et al.; Latin personal names as the upper-case family name and
initials without dots or hyphens (``LI W J``); organisations in Latin script upper-cased as the
official style writes them (``WORLD HEALTH ORGANIZATION``), Chinese ones as they are; an
apostrophe in a name or title typographic (``O’NEILL``). Chinese items
take Chinese terms (等, 译, 2版), the others English ones (et al., trans., 2nd ed.). The date
cited is the record's ``accessed``, never today's. An unknown place or publisher of a book is
written ``[出版地不详]``/``[出版者不详]`` (``[S.l.]``/``[s.n.]``).
"""
import re
from dataclasses import dataclass

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
    iso_date,
    issued_parts,
    pages_text,
    parse_name,
    place_of,
    publisher_of,
    squash,
)
from jala.reading.csljson import csl_type

TYPE_CODES = {"book": "M", "chapter": "M", "article-journal": "J", "periodical": "J",
              "article-newspaper": "N", "thesis": "D", "paper-conference": "C", "report": "R",
              "standard": "S", "patent": "P", "map": "CM", "webpage": "EB", "software": "CP"}
# the standard's types that CSL has no type for, by record type
RECORD_TYPE_CODES = {"compilation": "G", "database": "DB"}
PERIODICAL_TYPES = ("article-journal", "article-newspaper")
ONLINE_ONLY_TYPES = ("webpage", "dataset", "software")
PART_TYPES = ("chapter", "paper-conference")
# kinds whose imprint is always written, with the standard's words for what is unknown
IMPRINT_TYPES = ("book", "chapter", "paper-conference", "periodical", "thesis")


@dataclass(frozen=True)
class Words:
    """The terms of one language."""

    et_al: str
    translated: str
    no_place: str
    no_publisher: str
    no_imprint: str
    months: tuple = ()

    def edition(self, edition):
        if not edition.isdigit():
            return edition
        if not self.months:
            return f"{edition}版"
        return f"{edition}{ordinal_suffix(int(edition))} ed."

    def text_date(self, parts):
        if not self.months:
            return "".join(f"{p}{u}" for p, u in zip(parts, "年月日", strict=False))
        year, month, day = (parts + [None, None])[:3]
        if month is None:
            return str(year)
        return f"{self.months[month - 1]} {day}, {year}" if day else \
            f"{self.months[month - 1]} {year}"


CHINESE = Words(et_al="等", translated="译", no_place="[出版地不详]", no_publisher="[出版者不详]",
                no_imprint="[出版地不详: 出版者不详]")
ENGLISH = Words(et_al="et al.", translated="trans.", no_place="[S.l.]", no_publisher="[s.n.]",
                no_imprint="[S.l.: s.n.]",
                months=("January", "February", "March", "April", "May", "June", "July",
                        "August", "September", "October", "November", "December"))


def ordinal_suffix(number):
    """``1`` → ``st``, ``2`` → ``nd``, ``11`` → ``th``."""
    if number % 100 in (11, 12, 13):
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")


def initials(given):
    """``"John Adam"`` → ``"J A"``; ``"Wen-Jie"`` → ``"W J"`` (no dots or hyphens)."""
    tokens = (given or "").replace(".", " ").replace("-", " ").split()
    return " ".join(token[0].upper() for token in tokens)


def typographic(text):
    """Straight apostrophes after a letter as ``’`` (``O'Neill`` → ``O’Neill``)."""
    return re.sub(r"(?<=\w)'", "\u2019", text)


def gbt_name(name, corporate=frozenset()):
    """A name as GB/T 7714 writes it: ``张三``, ``SMITH J A``, ``WORLD HEALTH ORGANIZATION``."""
    family, given = parse_name(name, corporate)
    if given is None:
        return typographic(family.upper())
    return typographic(f"{family.upper()} {initials(given)}".strip())


def name_list(names, corporate, words):
    """At most three names, then ``等``/``et al.``."""
    written = [gbt_name(n, corporate) for n in names]
    text = ", ".join(written[:3])
    return f"{text}, {words.et_al}" if len(written) > 3 else text


def type_code(record, kind):
    """``M``, ``J/OL``, ``EB/OL`` …: the document type, ``/OL`` when it has a URL or DOI."""
    code = RECORD_TYPE_CODES.get(record.type) or TYPE_CODES.get(kind, "Z")
    return f"{code}/OL" if record.url or record.doi else code


def _title(record, kind):
    title = typographic(squash(record.title))
    volume = squash(record.volume)
    if volume and kind not in ("article-journal", "article-newspaper", "periodical") \
            and kind not in PART_TYPES:
        title += f": {volume}"
    number = extra_text(record, "number")
    if number:
        title += f": {number}"
    return f"{title}[{type_code(record, kind)}]"


def _year(record):
    issued = issued_parts(record)
    if issued:
        return str(issued[0])
    accessed = accessed_parts(record)
    return f"[{accessed[0]}]" if accessed else ""


def _cited(record):
    """``[YYYY-MM-DD]``, the date cited, for an item read online."""
    accessed = accessed_parts(record)
    return f"[{iso_date(accessed)}]" if accessed and (record.url or record.doi) else ""


def _imprint(record, kind, words):
    """``出版地: 出版者, 年: 页码`` and the date cited, or the dates of an online item."""
    if kind == "patent":
        return iso_date(issued_parts(record)) + _cited(record)
    place, publisher, pages = place_of(record), publisher_of(record), pages_text(record)
    if kind in IMPRINT_TYPES or place or publisher or pages:
        text = words.no_imprint if kind in IMPRINT_TYPES else ""
        if place or publisher:
            text = f"{place or words.no_place}: {publisher or words.no_publisher}"
        text = ", ".join(filter(None, [text, _year(record)]))
        return ": ".join(filter(None, [text, pages])) + _cited(record)
    if record.url or record.doi:
        issued = iso_date(issued_parts(record))
        return (f"({issued})" if issued else "") + _cited(record)
    return _year(record)


def _periodical(record, kind):
    """``刊名, 年, 卷(期): 页码`` or ``报名, YYYY-MM-DD(版次)``, then the date cited."""
    container, pages = container_of(record), pages_text(record)
    if kind == "article-newspaper":
        text = ", ".join(filter(None, [container, iso_date(issued_parts(record))]))
        text += f"({pages})" if pages else ""
    else:
        text = ", ".join(filter(None, [container, _year(record), squash(record.volume)]))
        text += f"({squash(record.issue)})" if record.issue else ""
        text = ": ".join(filter(None, [text, pages]))
    return text + _cited(record)


def _translators(record, corporate, words):
    names = extra_names(record, "translator")
    return f"{name_list(names, corporate, words)}, {words.translated}" if names else ""


def _host(record, corporate, words):
    """``编者. 书名: 卷, 会议日期, 会议地点``: what a part (析出文献) is taken from."""
    container = container_of(record)
    if container and record.volume:
        container += f": {squash(record.volume)}"
    kind = csl_type(record)
    if not container and kind == "paper-conference":
        container = extra_text(record, "event")
    event_date = date_parts(extra_text(record, "event-date"))
    if kind == "paper-conference" and event_date:
        container = ", ".join(filter(None, [container, words.text_date(event_date),
                                            extra_text(record, "event-place")]))
    editors = name_list(extra_names(record, "editor"), corporate, words)
    return ". ".join(filter(None, [editors, container]))


def _authors(record, corporate, words):
    names = authors_of(record)
    if not names and not container_of(record):
        names = extra_names(record, "editor")
    return name_list(names, corporate, words)


def _join(parts):
    """Parts joined by ``. `` and ended by ``.``, never doubling a full stop."""
    text = ""
    for part in filter(None, parts):
        if text:
            text += " " if text.endswith(".") else ". "
        text += part
    return text if text.endswith(".") else text + "."


def gbt7714(record):
    """One GB/T 7714-2015 reference for ``record``."""
    words = CHINESE if is_chinese(record) else ENGLISH
    corporate = corporate_names(record)
    kind = csl_type(record)
    title = _title(record, kind)
    edition = words.edition(extra_text(record, "edition"))
    if kind in PERIODICAL_TYPES:
        body = [title, _periodical(record, kind)]
    elif kind == "periodical":
        year = ", ".join(filter(None, [_year(record), squash(record.volume)]))
        year += f"({squash(record.issue)})" if record.issue else ""
        body = [title, year, _imprint(record, kind, words)]
    elif kind == "patent" or kind in ONLINE_ONLY_TYPES:
        body = [title, _imprint(record, kind, words)]
    elif kind in PART_TYPES or container_of(record):
        own = ". ".join(filter(None, [title, _translators(record, corporate, words)]))
        host = _host(record, corporate, words)
        body = [f"{own}//{host}" if host else own, edition, _imprint(record, kind, words)]
    else:
        body = [title, _translators(record, corporate, words), edition,
                _imprint(record, kind, words)]
    doi = clean_doi(record.doi)
    access = [squash(record.url), f"DOI:{doi}" if doi else ""]
    return _join([_authors(record, corporate, words), *body, *access])
