"""Citations of catalogue records: GB/T 7714-2015, RIS, BibTeX and CSL-JSON.

GB/T 7714 lives in ``jala.reading.gbt7714``, CSL-JSON in ``jala.reading.csljson``; what they
read from a record (names, dates, places, the ``extra`` keys) in ``jala.reading.bibfields``.
"""
import re
import unicodedata

from pypinyin import lazy_pinyin

from jala.reading.bibfields import (
    CJK_RE,
    accessed_parts,
    authors_of,
    clean_doi,
    container_of,
    corporate_names,
    extra_names,
    extra_text,
    is_cjk,
    issued_parts,
    page_range,
    parse_name,
    place_of,
    publisher_of,
    sortable_name,
    squash,
)
from jala.reading.csljson import csl_json
from jala.reading.gbt7714 import gbt7714

__all__ = ["FORMATS", "bibtex", "clean_doi", "export", "gbt7714", "ris"]

# format key → (label, file extension, content type)
FORMATS = {
    "gbt7714": ("GB/T 7714", "txt", "text/plain; charset=utf-8"),
    "ris": ("RIS", "ris", "application/x-research-info-systems; charset=utf-8"),
    "bibtex": ("BibTeX", "bib", "application/x-bibtex; charset=utf-8"),
    "csl-json": ("CSL-JSON", "json", "application/vnd.citationstyles.csl+json; charset=utf-8"),
}

RIS_TYPES = {"book": "BOOK", "ebook": "EBOOK", "article": "JOUR", "journal": "JFULL",
             "thesis": "THES", "conference": "CONF", "report": "RPRT", "newspaper": "NEWS",
             "standard": "STAND", "patent": "PAT", "map": "MAP", "score": "MUSIC",
             "audio": "SOUND", "video": "VIDEO", "compilation": "EDBOOK",
             "database": "DBASE", "software": "COMP", "other": "ELEC"}
BIBTEX_ESCAPES = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "&": r"\&", "%": r"\%",
                  "$": r"\$", "#": r"\#", "_": r"\_", "~": r"\textasciitilde{}",
                  "^": r"\textasciicircum{}"}
TITLE_STOP_WORDS = {"a", "an", "the", "on", "of", "in", "and", "for", "to"}


# --- RIS ------------------------------------------------------------------------------------

def _ris_type(record):
    if record.type == "conference" and container_of(record):
        return "CPAPER"
    if record.type in ("book", "ebook") and container_of(record):
        return "CHAP"
    if record.type == "other" and not record.url:
        return "GEN"
    return RIS_TYPES.get(record.type, "GEN")


def _ris_date(parts):
    """RIS dates are ``YYYY/MM/DD/``, with the parts the record has."""
    return "/".join(f"{p:02d}" if i else str(p) for i, p in enumerate(parts)) + "/" \
        if parts else ""


def ris(record):
    """One RIS entry (``TY  - …`` to ``ER  - ``), lines ending in a newline."""
    corporate = corporate_names(record)
    lines = [("TY", _ris_type(record))]
    lines += [("AU", sortable_name(a, corporate)) for a in authors_of(record)]
    lines += [("ED", sortable_name(n, corporate)) for n in extra_names(record, "editor")]
    lines += [("A4", sortable_name(n, corporate)) for n in extra_names(record, "translator")]
    lines += [("TI", record.title), ("T2", container_of(record)), ("PY", record.year)]
    issued = issued_parts(record)
    if len(issued) > 1:
        lines.append(("DA", _ris_date(issued)))
    lines += [("VL", record.volume), ("IS", record.issue), ("ET", extra_text(record, "edition"))]
    first, last = page_range(record.pages)
    lines += [("SP", first), ("EP", last)]
    if record.type != "article":
        lines += [("CY", place_of(record)), ("PB", publisher_of(record))]
    numbers = [extra_text(record, "number"), *(record.isbn or []), *(record.issn or [])]
    lines += [("SN", value) for value in numbers]
    lines += [("DO", clean_doi(record.doi)), ("UR", record.url),
              ("Y2", _ris_date(accessed_parts(record))), ("LA", record.language)]
    lines += [("KW", k) for k in record.keywords or []]
    lines.append(("AB", record.abstract))
    text = "".join(f"{tag}  - {squash(value)}\n" for tag, value in lines if squash(value))
    return text + "ER  - \n"


# --- BibTeX ---------------------------------------------------------------------------------

def _bibtex_escape(value):
    return "".join(BIBTEX_ESCAPES.get(ch, ch) for ch in squash(value))


def _ascii_word(text):
    text = unicodedata.normalize("NFKD", text)
    return re.sub(r"[^a-z0-9]", "", text.encode("ascii", "ignore").decode().lower())


def _key_title_word(title):
    title = squash(title)
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
    names = authors_of(record)
    if names:
        family, given = parse_name(names[0], corporate_names(record))
        if is_cjk(family):
            author = _ascii_word("".join(lazy_pinyin(CJK_RE.findall(family)[0])))
        else:
            author = _ascii_word(family.split(" ")[0] if given is None else family)
    key = f"{author}{record.year or ''}{_key_title_word(record.title)}"
    return key or f"jala{record.id}"


def _bibtex_type(record):
    if record.type in ("book", "ebook", "compilation"):
        return "incollection" if container_of(record) else "book"
    if record.type in ("article", "newspaper"):
        return "article"
    if record.type == "thesis":
        degree = extra_text(record, "degree").lower()
        return "mastersthesis" if "master" in degree or "硕士" in degree else "phdthesis"
    if record.type == "conference":
        return "inproceedings" if container_of(record) else "proceedings"
    if record.type == "report":
        return "techreport"
    return "misc"


def bibtex_names(names, corporate):
    """``A and B``; an organisation in braces (``{中国科学院}``) so it is never split."""
    written = []
    for name in names:
        family, given = parse_name(name, corporate)
        if given is None and (name in corporate or (" " in family and not is_cjk(family))):
            written.append("{" + _bibtex_escape(family) + "}")
        else:
            written.append(_bibtex_escape(sortable_name(name, corporate)))
    return " and ".join(written)


def _bibtex_container(entry_type):
    return {"article": "journal", "incollection": "booktitle",
            "inproceedings": "booktitle"}.get(entry_type)


def _bibtex_publisher(entry_type):
    return {"phdthesis": "school", "mastersthesis": "school", "techreport": "institution",
            "article": None}.get(entry_type, "publisher")


def bibtex(record, key=None):
    """One BibTeX entry."""
    entry_type = _bibtex_type(record)
    corporate = corporate_names(record)
    fields = [("author", bibtex_names(authors_of(record), corporate)),
              ("editor", bibtex_names(extra_names(record, "editor"), corporate)),
              ("translator", bibtex_names(extra_names(record, "translator"), corporate)),
              ("title", _bibtex_escape(record.title))]
    if _bibtex_container(entry_type):
        fields.append((_bibtex_container(entry_type), _bibtex_escape(container_of(record))))
    if _bibtex_publisher(entry_type):
        fields.append((_bibtex_publisher(entry_type), _bibtex_escape(publisher_of(record))))
    fields += [("address", _bibtex_escape(place_of(record))),
               ("edition", _bibtex_escape(extra_text(record, "edition"))),
               ("year", str(record.year or "")), ("volume", _bibtex_escape(record.volume)),
               ("number", _bibtex_escape(extra_text(record, "number") or record.issue))]
    first, last = page_range(record.pages)
    fields.append(("pages", _bibtex_escape(f"{first}--{last}" if last else first)))
    fields += [("isbn", ", ".join(record.isbn or [])), ("issn", ", ".join(record.issn or [])),
               ("doi", clean_doi(record.doi)), ("url", squash(record.url)),
               ("urldate", "-".join(f"{p:02d}" for p in accessed_parts(record)))]
    body = "".join(f"  {name} = {{{value}}},\n" for name, value in fields if value)
    return f"@{entry_type}{{{key or bibtex_key(record)},\n{body}}}\n"


# --- several records at once ------------------------------------------------------------------

def export(records, fmt):
    """The records in one format: GB/T 7714 numbered ``[1] …``, RIS, BibTeX or CSL-JSON."""
    records = list(records)
    if fmt == "gbt7714":
        if len(records) == 1:
            return gbt7714(records[0]) + "\n"
        return "".join(f"[{n}] {gbt7714(r)}\n" for n, r in enumerate(records, 1))
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
    if fmt == "csl-json":
        return csl_json(records)
    raise ValueError(f"unknown citation format {fmt!r}")
