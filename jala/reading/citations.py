"""Citations of catalogue records: GB/T 7714-2015, RIS and BibTeX, from plain templates.

GB/T 7714-2015 (信息与文献 参考文献著录规则) in short: ``作者. 题名[类型]. 出版地: 出版者,
年.`` for a book, ``作者. 题名[J]. 刊名, 年, 卷(期): 页码.`` for an article; at most three
authors, then ``, 等`` (Chinese) or ``, et al.``; Latin personal names as the upper-case family
name and the initials without dots (``SMITH J A``); an unknown place or publisher is written
``[出版地不详]``/``[出版者不详]`` (``[S.l.]``/``[s.n.]`` for a foreign document); online items carry
``/OL``, the date cited and the address; a DOI ends the entry as ``DOI:10.….``

Fields a record may carry beyond the catalogue's columns (kept in ``record.extra`` by the
import): ``place`` (place of publication), ``institution`` (a thesis's university, else the
publisher is used), ``degree``.
"""
import re
import unicodedata

from pypinyin import lazy_pinyin

from jala import clock

CJK_RE = re.compile("[\u3400-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]")
PAGE_RANGE_RE = re.compile(r"^\s*([\w.]+)\s*[-‐–—~至]+\s*([\w.]+)\s*$")
DOI_PREFIX_RE = re.compile(r"^\s*(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)

# format key → (label, file extension, content type)
FORMATS = {
    "gbt7714": ("GB/T 7714", "txt", "text/plain; charset=utf-8"),
    "ris": ("RIS", "ris", "application/x-research-info-systems; charset=utf-8"),
    "bibtex": ("BibTeX", "bib", "application/x-bibtex; charset=utf-8"),
}

GBT_TYPES = {"book": "M", "ebook": "M", "article": "J", "journal": "J", "thesis": "D",
             "conference": "C", "report": "R", "newspaper": "N", "standard": "S",
             "patent": "P", "map": "CM"}
RIS_TYPES = {"book": "BOOK", "ebook": "EBOOK", "article": "JOUR", "journal": "JFULL",
             "thesis": "THES", "conference": "CONF", "report": "RPRT", "newspaper": "NEWS",
             "standard": "STAND", "patent": "PAT", "map": "MAP", "score": "MUSIC",
             "audio": "SOUND", "video": "VIDEO"}
BIBTEX_ESCAPES = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "&": r"\&", "%": r"\%",
                  "$": r"\$", "#": r"\#", "_": r"\_", "~": r"\textasciitilde{}",
                  "^": r"\textasciicircum{}"}
TITLE_STOP_WORDS = {"a", "an", "the", "on", "of", "in", "and", "for", "to"}


# --- the parts of a record --------------------------------------------------------------------

def is_cjk(text):
    """Whether ``text`` contains a Chinese (CJK) character."""
    return bool(CJK_RE.search(text or ""))


def is_chinese(record):
    """Whether the record is a Chinese document (its language, else its title)."""
    language = (record.language or "").strip().lower()
    if language:
        return language.startswith(("zh", "chi", "zho", "cn"))
    return is_cjk(record.title)


def _squash(value):
    return " ".join(str(value).split()) if value is not None else ""


def _extra(record, key):
    value = (record.extra or {}).get(key)
    return _squash(value) if isinstance(value, str | int) else ""


def place_of(record):
    """The place of publication, when the record has one (``place`` in the imported data)."""
    return _extra(record, "place")


def publisher_of(record):
    """The publisher; for a thesis, the degree-granting institution."""
    if record.type == "thesis":
        return _extra(record, "institution") or _squash(record.publisher)
    return _squash(record.publisher)


def clean_doi(doi):
    """A bare DOI (``10.…``) from a DOI written with or without its resolver prefix."""
    return DOI_PREFIX_RE.sub("", doi or "").strip()


def page_range(pages):
    """``"12-30"`` → ``("12", "30")``; one page or anything else → ``(pages, "")``."""
    pages = _squash(pages)
    match = PAGE_RANGE_RE.match(pages)
    if match:
        return match.group(1), match.group(2)
    return pages, ""


def parse_name(name):
    """Split a personal name into ``(family, given)``; Chinese and corporate names stay whole.

    ``"Smith, John A."`` and ``"John A. Smith"`` both give ``("Smith", "John A.")``; a name of
    four or more words without a comma is taken for a body (``"World Health Organization"``)
    and comes back as ``(name, None)``, as does any name in Chinese characters.
    """
    name = _squash(name)
    if not name or is_cjk(name):
        return name, None
    if "," in name:
        family, given = (part.strip() for part in name.split(",", 1))
        return family, given
    parts = name.split(" ")
    if len(parts) == 1 or len(parts) > 3:
        return name, None
    return parts[-1], " ".join(parts[:-1])


def initials(given):
    """``"John Adam"`` → ``"J A"``; ``"Jean-Paul"`` → ``"J-P"`` (no dots, as GB/T 7714 asks)."""
    found = []
    for token in (given or "").replace(".", " ").split():
        pieces = [p for p in token.split("-") if p]
        if pieces:
            found.append("-".join(p[0].upper() for p in pieces))
    return " ".join(found)


def gbt_name(name):
    """A name as GB/T 7714 writes it: ``张三``, ``SMITH J A``."""
    family, given = parse_name(name)
    if given is None:
        return family
    return f"{family.upper()} {initials(given)}".strip()


def sortable_name(name):
    """A name as RIS and BibTeX want it: ``Smith, John A.``; ``张三`` as it is."""
    family, given = parse_name(name)
    return f"{family}, {given}" if given else family


# --- GB/T 7714-2015 ---------------------------------------------------------------------------

def gbt_type(record):
    """The document type code: ``M``, ``J``, ``D``, … with ``/OL`` for online items."""
    code = GBT_TYPES.get(record.type)
    if record.type == "ebook" and record.url:
        return "M/OL"
    if code is None:
        return "EB/OL" if record.url else "Z"
    return code


def _gbt_authors(record, chinese):
    names = [gbt_name(a) for a in record.authors or [] if _squash(a)]
    if not names:
        return ""
    text = ", ".join(names[:3])
    if len(names) > 3:
        text += ", 等" if chinese else ", et al."
    return text


def _gbt_imprint(record, chinese):
    """``出版地: 出版者, 年`` with the standard's words for what is unknown."""
    place, publisher = place_of(record), publisher_of(record)
    if not place and not publisher:
        text = "[出版地不详: 出版者不详]" if chinese else "[S.l.: s.n.]"
    else:
        text = (f"{place or ('[出版地不详]' if chinese else '[S.l.]')}: "
                f"{publisher or ('[出版者不详]' if chinese else '[s.n.]')}")
    if record.year:
        text += f", {record.year}"
    return text


def _gbt_serial(record, container):
    """``刊名, 年, 卷(期): 页码`` (the parts the record has)."""
    text = _squash(container)
    if record.year:
        text += f", {record.year}"
    if record.volume:
        text += f", {_squash(record.volume)}"
    if record.issue:
        text += f"({_squash(record.issue)})"
    if record.pages:
        first, last = page_range(record.pages)
        text += f": {first}-{last}" if last else f": {first}"
    return text.lstrip(", ")


def gbt7714(record, cited_on=None):
    """One GB/T 7714-2015 reference for ``record`` (``cited_on``: the date, for online items)."""
    chinese = is_chinese(record)
    code = gbt_type(record)
    cited = (cited_on or clock.local_today()).isoformat()
    authors = _gbt_authors(record, chinese)
    parts = []
    if authors:
        parts.append(authors if authors.endswith(".") else authors + ".")
    title = f"{_squash(record.title)}[{code}]"
    if record.type == "conference" and record.journal:
        title += f"//{_squash(record.journal)}"
    parts.append(title + ".")
    if code in ("J", "N") and record.type != "journal":
        serial = _gbt_serial(record, record.journal)
        if serial:
            parts.append(serial + ".")
    elif code == "EB/OL":
        parts.append(f"({record.year})[{cited}]." if record.year else f"[{cited}].")
        parts.append(_squash(record.url) + ".")
    elif code == "P":
        if record.year:
            parts.append(f"{record.year}.")
    else:
        imprint = _gbt_imprint(record, chinese)
        if record.type == "conference" and record.journal and record.pages:
            imprint += f": {'-'.join(p for p in page_range(record.pages) if p)}"
        if code == "M/OL":
            parts.append(f"{imprint}[{cited}].")
            parts.append(_squash(record.url) + ".")
        else:
            parts.append(imprint + ".")
    doi = clean_doi(record.doi)
    if doi:
        parts.append(f"DOI:{doi}.")
    return " ".join(parts)


# --- RIS ------------------------------------------------------------------------------------

def ris(record):
    """One RIS entry (``TY  - …`` to ``ER  - ``), lines ending in a newline."""
    kind = RIS_TYPES.get(record.type, "GEN")
    if record.type == "conference" and record.journal:
        kind = "CPAPER"
    lines = [("TY", kind)]
    lines += [("AU", sortable_name(a)) for a in record.authors or [] if _squash(a)]
    lines.append(("TI", record.title))
    if record.journal:
        lines.append(("T2", record.journal))
    lines.append(("PY", record.year))
    lines += [("VL", record.volume), ("IS", record.issue)]
    first, last = page_range(record.pages)
    lines += [("SP", first), ("EP", last)]
    if record.type != "article":
        lines += [("CY", place_of(record)), ("PB", publisher_of(record))]
    lines += [("SN", value) for value in list(record.isbn or []) + list(record.issn or [])]
    lines += [("DO", clean_doi(record.doi)), ("UR", record.url), ("LA", record.language)]
    lines += [("KW", k) for k in record.keywords or []]
    lines.append(("AB", record.abstract))
    text = "".join(f"{tag}  - {_squash(value)}\n" for tag, value in lines if _squash(value))
    return text + "ER  - \n"


# --- BibTeX ---------------------------------------------------------------------------------

def _bibtex_escape(value):
    return "".join(BIBTEX_ESCAPES.get(ch, ch) for ch in _squash(value))


def _ascii_word(text):
    text = unicodedata.normalize("NFKD", text)
    return re.sub(r"[^a-z0-9]", "", text.encode("ascii", "ignore").decode().lower())


def _key_title_word(title):
    title = _squash(title)
    cjk = CJK_RE.findall(title)
    if cjk:
        return "".join(lazy_pinyin("".join(cjk[:2])))
    for word in re.split(r"[\s:;,.!?/()\[\]-]+", title):
        word = _ascii_word(word)
        if word and word not in TITLE_STOP_WORDS:
            return word
    return ""


def bibtex_key(record):
    """A readable key: the first author's family name, the year, a word of the title."""
    author = ""
    if record.authors:
        family, given = parse_name(record.authors[0])
        if is_cjk(family):
            author = _ascii_word("".join(lazy_pinyin(CJK_RE.findall(family)[0])))
        else:
            author = _ascii_word(family.split(" ")[0] if given is None else family)
    key = f"{author}{record.year or ''}{_key_title_word(record.title)}"
    return key or f"jala{record.id}"


def _bibtex_type(record):
    if record.type in ("book", "ebook"):
        return "book"
    if record.type == "article":
        return "article"
    if record.type == "thesis":
        degree = _extra(record, "degree").lower()
        return "mastersthesis" if "master" in degree or "硕士" in degree else "phdthesis"
    if record.type == "conference":
        return "inproceedings" if record.journal else "proceedings"
    if record.type == "report":
        return "techreport"
    return "misc"


def bibtex(record, key=None):
    """One BibTeX entry."""
    entry_type = _bibtex_type(record)
    authors = []
    for name in record.authors or []:
        if not _squash(name):
            continue
        family, given = parse_name(name)
        if given is None and not is_cjk(family) and " " in family:
            authors.append("{" + _bibtex_escape(family) + "}")  # a body, not a person
        else:
            authors.append(_bibtex_escape(sortable_name(name)))
    publisher = publisher_of(record)
    fields = [("author", " and ".join(authors)), ("title", _bibtex_escape(record.title))]
    if entry_type == "article":
        fields.append(("journal", _bibtex_escape(record.journal)))
    elif entry_type == "inproceedings":
        fields.append(("booktitle", _bibtex_escape(record.journal)))
    if entry_type in ("phdthesis", "mastersthesis"):
        fields.append(("school", _bibtex_escape(publisher)))
    elif entry_type == "techreport":
        fields.append(("institution", _bibtex_escape(publisher)))
    elif entry_type != "article":
        fields.append(("publisher", _bibtex_escape(publisher)))
    fields.append(("address", _bibtex_escape(place_of(record))))
    fields.append(("year", str(record.year or "")))
    fields += [("volume", _bibtex_escape(record.volume)),
               ("number", _bibtex_escape(record.issue))]
    first, last = page_range(record.pages)
    fields.append(("pages", _bibtex_escape(f"{first}--{last}" if last else first)))
    fields += [("isbn", ", ".join(record.isbn or [])), ("issn", ", ".join(record.issn or [])),
               ("doi", clean_doi(record.doi)), ("url", _squash(record.url))]
    body = "".join(f"  {name} = {{{value}}},\n" for name, value in fields if value)
    return f"@{entry_type}{{{key or bibtex_key(record)},\n{body}}}\n"


# --- several records at once ------------------------------------------------------------------

def export(records, fmt, cited_on=None):
    """The records in one format: GB/T 7714 numbered ``[1] …``, RIS and BibTeX entries."""
    records = list(records)
    if fmt == "gbt7714":
        if len(records) == 1:
            return gbt7714(records[0], cited_on) + "\n"
        return "".join(f"[{n}] {gbt7714(r, cited_on)}\n" for n, r in enumerate(records, 1))
    if fmt == "ris":
        return "\n".join(ris(r) for r in records)
    if fmt == "bibtex":
        seen = {}
        entries = []
        for record in records:
            key = bibtex_key(record)
            count = seen.get(key, 0)
            seen[key] = count + 1
            entries.append(bibtex(record, key + (chr(ord("a") + count) if count else "")))
        return "\n".join(entries)
    raise ValueError(f"unknown citation format {fmt!r}")
