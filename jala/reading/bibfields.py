"""What a citation reads from a catalogue record: names, dates, places, identifiers.

Beyond the record's columns, the import keeps CSL-JSON-style keys in ``record.extra`` (the
record contract): ``place``, ``edition``, ``translator`` and ``editor`` (names written like
``authors``), ``container-title`` (the host book of a part: 析出文献), ``number`` (standard,
patent or report number), ``issued`` and ``accessed`` (``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD``),
``event``, ``event-place``, ``event-date``, ``corporate-authors`` (names that are
organisations), ``institution`` and ``degree`` (theses).
"""
import re

CJK_RE = re.compile("[\u3400-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]")
PAGE_RANGE_RE = re.compile(r"^\s*([\w.]+)\s*[-‐–—~至]+\s*([\w.]+)\s*$")
DOI_PREFIX_RE = re.compile(r"^\s*(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)
DATE_RE = re.compile(r"^(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?")
CHINESE_LANGUAGES = ("zh", "chi", "zho", "cn")


def squash(value):
    """The value as one line of text (``""`` for None)."""
    return " ".join(str(value).split()) if value is not None else ""


def is_cjk(text):
    """Whether ``text`` contains a Chinese (CJK) character."""
    return bool(CJK_RE.search(text or ""))


def is_chinese(record):
    """Whether the record is a Chinese document (its language, else its title)."""
    language = (record.language or "").strip().lower()
    if language:
        return language.startswith(CHINESE_LANGUAGES)
    return is_cjk(record.title)


def extra_text(record, key):
    """One text value of ``record.extra`` (``""`` when absent or not text)."""
    value = (record.extra or {}).get(key)
    return squash(value) if isinstance(value, str | int) else ""


def extra_names(record, key):
    """A list of names in ``record.extra`` (``translator``, ``editor``); one name is a list too."""
    value = (record.extra or {}).get(key)
    if isinstance(value, str):
        value = [value]
    return [squash(n) for n in value or [] if isinstance(n, str) and squash(n)]


def authors_of(record):
    """The record's authors, blanks left out."""
    return [squash(a) for a in record.authors or [] if squash(a)]


def corporate_names(record):
    """The names the record marks as organisations (``corporate-authors``)."""
    return set(extra_names(record, "corporate-authors"))


def place_of(record):
    """The place of publication, when the record has one."""
    return extra_text(record, "place")


def publisher_of(record):
    """The publisher; for a thesis, the degree-granting institution."""
    if record.type == "thesis":
        return extra_text(record, "institution") or squash(record.publisher)
    return squash(record.publisher)


def container_of(record):
    """The title of what holds the item: a journal, a newspaper, proceedings or a host book."""
    if record.type in ("book", "ebook", "report", "compilation"):
        return extra_text(record, "container-title")
    return squash(record.journal) or extra_text(record, "container-title")


def clean_doi(doi):
    """A bare DOI (``10.…``) from a DOI written with or without its resolver prefix."""
    return DOI_PREFIX_RE.sub("", doi or "").strip()


def page_range(pages):
    """``"12-30"`` → ``("12", "30")``; one page or anything else → ``(pages, "")``."""
    pages = squash(pages)
    match = PAGE_RANGE_RE.match(pages)
    if match:
        return match.group(1), match.group(2)
    return pages, ""


def pages_text(record):
    """The pages as ``12-30`` (any dash or ``至`` becomes a hyphen)."""
    first, last = page_range(record.pages)
    return f"{first}-{last}" if last else first


def date_parts(text):
    """``"2015-3-04"`` → ``[2015, 3, 4]``; ``"2015"`` → ``[2015]``; anything else → ``[]``."""
    match = DATE_RE.match(squash(text))
    return [int(part) for part in match.groups() if part] if match else []


def iso_date(parts):
    """``[2015, 3, 4]`` → ``"2015-03-04"``; ``[2015]`` → ``"2015"``."""
    return "-".join([f"{parts[0]:04d}", *(f"{p:02d}" for p in parts[1:])]) if parts else ""


def issued_parts(record):
    """The date of publication: ``issued`` when the record has it, else the year."""
    parts = date_parts(extra_text(record, "issued"))
    if parts:
        return parts
    return [record.year] if record.year else []


def accessed_parts(record):
    """The date the online item was cited (``accessed``); never today's date."""
    return date_parts(extra_text(record, "accessed"))


def parse_name(name, corporate=frozenset()):
    """Split a personal name into ``(family, given)``; Chinese and corporate names stay whole.

    ``"Smith, John A."`` and ``"John A. Smith"`` both give ``("Smith", "John A.")``. A name in
    ``corporate``, in Chinese characters, or of four or more words without a comma (``"World
    Health Organization"``) is a body or a whole name: ``(name, None)``.
    """
    name = squash(name)
    if not name or name in corporate or is_cjk(name):
        return name, None
    if "," in name:
        family, given = (part.strip() for part in name.split(",", 1))
        return family, given
    parts = name.split(" ")
    if len(parts) == 1 or len(parts) > 3:
        return name, None
    return parts[-1], " ".join(parts[:-1])


def sortable_name(name, corporate=frozenset()):
    """A name as RIS and BibTeX want it: ``Smith, John A.``; ``张三`` and bodies as they are."""
    family, given = parse_name(name, corporate)
    return f"{family}, {given}" if given else family
