"""MARC21 bibliographic records → the JSON Lines record shape of the import contract.

A field with a vernacular form (an 880 linked to it by $6: the Chinese title beside its pinyin
in 245) is read in the vernacular; the romanised form is kept as a variant.
"""
import re

from jala.catalog.isbd import ends_with, join_title, strip_isbd
from jala.catalog.marc_parts import (
    control_number,
    date_of,
    first,
    first_clean,
    full_date,
    holdings,
    page_count,
    parts_of,
    role_of,
    unique,
    values,
    without_empty,
    year_of,
)
from jala.catalog.vocabulary import language_code

_LINK_RE = re.compile(r"(\d{3})-(\d{2})")
# leader/06 → type for the kinds of record whose type the leader alone says
TYPE_OF_RECORD = {"c": "score", "d": "score", "e": "map", "f": "map", "i": "audio", "j": "audio",
                  "k": "other", "m": "other", "o": "other", "p": "other", "r": "other"}
# 008/24-27 (books: nature of contents) → type
NATURE_OF_CONTENTS = {"m": "thesis", "j": "patent", "t": "report"}
ONLINE_FORMS = ("o", "s", "q")  # 008/23 form of item: online, electronic, direct electronic
PERSON_TAGS, CORPORATE_TAGS, MEETING_TAGS = ("100", "700"), ("110", "710"), ("111", "711")
NAME_TAGS = ("100", "110", "111", "700", "710", "711")
_THESIS_NOTE_RE = re.compile(r"^(?:thesis\s*)?\(?([^)(]*?)\)?\s*-+\s*([^,]+?)\s*,\s*(\d{4})",
                             re.I)


class Vernacular:
    """The 880 fields of a record, by the field each one gives the vernacular form of."""

    def __init__(self, record):
        self.linked, self.unlinked = {}, {}
        for field in record.get_fields("880"):
            match = _LINK_RE.match(field.get("6") or "")
            if not match:
                continue
            tag, occurrence = match.groups()
            if occurrence == "00":
                self.unlinked.setdefault(tag, []).append(field)
            else:
                self.linked[(tag, occurrence)] = field
        self.used = set()

    def of(self, field):
        """The 880 linked to ``field`` ($6 880-01 ↔ 245-01), or None."""
        match = _LINK_RE.match(field.get("6") or "")
        if not match or match.group(1) != "880":
            return None
        found = self.linked.get((field.tag, match.group(2)))
        if found is not None:
            self.used.add(id(found))
        return found

    def pairs(self, record, *tags):
        """``(romanised, vernacular)`` for each of the ``tags`` fields.

        An 880 of those tags that links to no field of the record is ``(None, vernacular)``.
        """
        out = [(field, self.of(field)) for field in record.get_fields(*tags)]
        for (tag, _), field in self.linked.items():
            if tag in tags and id(field) not in self.used:
                out.append((None, field))
        out += [(None, field) for tag in tags for field in self.unlinked.get(tag, [])]
        return out


def _prefer_vernacular(pair, read):
    """``(value, variant)``: what ``read`` finds in the vernacular field, else the romanised.

    The romanised value is the variant when the vernacular one is there and differs.
    """
    romanised, vernacular = pair
    native = read(vernacular) if vernacular is not None else None
    latin = read(romanised) if romanised is not None else None
    if native:
        return native, latin if latin and latin != native else None
    return latin, None


def _title_parts(field):
    """``(title, parallel titles)`` of a 245: $a with its part ($n, $p), then $b after ':'."""
    main, subtitle, parallels = "", "", []
    previous = ""
    for subfield in field.subfields:
        code, value = subfield.code, subfield.value
        text = strip_isbd(value)
        if code == "a" and text:
            main = f"{main} ; {text}" if main else text
        elif code == "n" and text:
            main = f"{main}. {text}"
        elif code == "p" and text:
            main = f"{main}{', ' if ends_with(previous, ',') else '. '}{text}"
        elif code == "b" and text and not ends_with(previous, "/／"):  # (after "/": who)
            if ends_with(previous, "=＝"):
                parallels.append(strip_isbd(text.split(" / ")[0]))
            else:
                subtitle = text
        if code in "abhnp":
            previous = value
    return join_title(main, subtitle) or None, parallels


def _title(record, vernacular):
    """``(title, variants, romanised title)`` from 245 and its 880."""
    pairs = vernacular.pairs(record, "245")  # one 245, and its 880 linked or not
    romanised = next((field for field, _ in pairs if field is not None), None)
    native = next((field for _, field in pairs if field is not None), None)
    latin, latin_parallels = _title_parts(romanised) if romanised is not None else (None, [])
    vernacular_title, parallels = _title_parts(native) if native is not None else (None, [])
    title = vernacular_title or latin
    variants = parallels + latin_parallels
    if vernacular_title and latin and latin != vernacular_title:
        variants.insert(0, latin)
    variants += [strip_isbd(v) for v in values(record, ("246",), "a")]
    return title, unique(variants), latin if vernacular_title else None


def _linked_tag(field):
    """The tag of a field, or of the field an 880 gives the vernacular form of."""
    return (field.get("6") or "")[:3] if field.tag == "880" else field.tag


def _name(field):
    """A heading as citations write it: a person's $a (and $b), an organisation's units."""
    tag = _linked_tag(field)
    if tag in PERSON_TAGS:
        return " ".join(filter(None, (first_clean(field, "a"), first_clean(field, "b"))))
    units = field.get_subfields(*(("a", "e") if tag in MEETING_TAGS else ("a", "b")))
    return ". ".join(unique(strip_isbd(v) for v in units)) or None


def _role(field):
    relator = "j" if _linked_tag(field) in MEETING_TAGS else "e"
    return role_of(field.get_subfields(relator, "4"))


def _names(record, vernacular):
    """``(names, variants)``: authors, editors, translators and the organisations among them.

    ``variants`` are the romanised forms of the names read in the vernacular.
    """
    found = {"authors": [], "editor": [], "translator": [], "corporate-authors": []}
    variants = []
    for pair in vernacular.pairs(record, *NAME_TAGS):
        field = pair[0] if pair[0] is not None else pair[1]
        tag = _linked_tag(field)
        if tag.startswith("7") and field.get("t"):
            continue  # a name/title entry: a related work, not a contributor
        name, variant = _prefer_vernacular(pair, _name)
        if not name:
            continue
        found[_role(field) or "authors"].append(name)
        if tag in CORPORATE_TAGS + MEETING_TAGS:
            found["corporate-authors"].append(name)
        if variant:
            variants.append(variant)
    return {k: unique(v) for k, v in found.items()}, unique(variants)


def _publication_field(record):
    """The publication statement: 264 second indicator 1, else 260, else another 264."""
    fields = record.get_fields("264")
    published = [f for f in fields if f.indicator2 == "1"]
    others = [f for f in fields if f.indicator2 not in ("1", "4")]
    candidates = published + record.get_fields("260") + others
    return candidates[0] if candidates else None


def _publication(record, vernacular):
    """Place, publisher, year and full date (``issued``), with the romanised variants."""
    field = _publication_field(record)
    out, found_variants = {}, {}
    if field is not None:
        pair = (field, vernacular.of(field))
        for name, code in (("place", "a"), ("publisher", "b")):
            out[name], found_variants[f"{name}-variants"] = _prefer_vernacular(
                pair, lambda f, code=code: first_clean(f, code))
        date = " ".join(field.get_subfields("c"))
        out["year"], out["issued"] = year_of(date), full_date(date)
    fixed = record["008"].data if record.get("008") else ""
    if not out.get("year"):
        out["year"] = year_of(fixed[7:11]) or year_of(first(record, ("264",), "c"))
    if not out.get("issued") and fixed[6:7] == "e":  # a detailed date: 008/07-14 yyyymmdd
        out["issued"] = full_date(fixed[7:15])
    out.update((k, [v]) for k, v in found_variants.items() if v)
    return out


def _fixed(record, position):
    data = record["008"].data if record.get("008") else ""
    return data[position:position + 1]


def _host(record):
    """What 773 (the host item) says: its title, ISSN/ISBN, and where in it the part is."""
    field = record.get("773")
    if field is None:
        return None
    control = (field.get("7") or "    ").ljust(4)
    text = " ".join(field.get_subfields("g"))
    return {"title": first_clean(field, "t") or first_clean(field, "a"),
            "issn": field.get("x"), "isbn": field.get("z"),
            "serial": bool(field.get("x")) or control[3] == "s",
            "parts": parts_of(text, field.get("q")), "year": year_of(text or field.get("d"))}


def record_type(record, host=None):
    """The type a MARC21 record's leader, 008, 502 and 773 say it is."""
    kind, level = record.leader[6:7], record.leader[7:8]
    if kind in ("c", "d", "e", "f", "i", "j"):
        return TYPE_OF_RECORD[kind]
    if kind == "g":
        return "video" if _fixed(record, 33) in ("v", "m") else "other"
    if kind in TYPE_OF_RECORD:
        return TYPE_OF_RECORD[kind]
    if level in ("s", "i") and kind in ("a", "t", " "):
        return "newspaper" if _fixed(record, 21) == "n" else "journal"
    if level == "b" or (host and host["serial"]):
        return "article"
    if record.get_fields("502"):
        return "thesis"
    nature = record["008"].data[24:28] if record.get("008") else ""
    for code, name in NATURE_OF_CONTENTS.items():
        if code in nature:
            return name
    if _fixed(record, 29) == "1":
        return "conference"
    if _fixed(record, 23) in ONLINE_FORMS:
        return "ebook"
    return "book"


def _thesis(record):
    """Degree and institution from 502 ($b, $c, or a note like 'Thesis (Ph.D.)--X, 2004')."""
    field = record.get("502")
    if field is None:
        return {}
    degree, institution = first_clean(field, "b"), first_clean(field, "c")
    match = _THESIS_NOTE_RE.search(field.get("a") or "")
    if match:
        degree = degree or strip_isbd(match.group(1)) or None
        institution = institution or strip_isbd(match.group(2))
    return {"degree": degree, "institution": institution,
            "year": year_of(field.get("d") or (match.group(3) if match else None))}


def _event(record):
    """The conference a record comes from (111, else 711): name, place and date."""
    field = (record.get_fields("111") or record.get_fields("711") or [None])[0]
    if field is None:
        return {}
    place = strip_isbd((field.get("c") or "").strip("() ")) or None
    return {"event": _name(field), "event-place": place, "event-date": date_of(field.get("d"))}


def _identifiers(record):
    """DOI, URL and a standard, report or patent number.

    DOI from 024 with $2 doi (or a doi.org link), URL from 856 $u, number from 024, 088, 013.
    """
    doi, numbers = None, []
    for field in record.get_fields("024"):
        source = (field.get("2") or "").strip().lower()
        if source == "doi":
            doi = doi or (field.get("a") or "").strip() or None
        elif field.indicator1 in ("7", "8") and source not in ("uri", "hdl", "urn"):
            numbers.append(first_clean(field, "a"))
    numbers += [first_clean(f, "a") for f in record.get_fields("088")]
    for field in record.get_fields("013"):
        numbers.append("".join(filter(None, (first_clean(field, "b"), first_clean(field, "a")))))
    links = [f for f in record.get_fields("856") if f.indicator2 in (" ", "0", "1")]
    urls = [u.strip() for f in sorted(links, key=lambda f: f.indicator2 != "0")
            for u in f.get_subfields("u")]
    doi = doi or next((re.sub(r"^https?://(dx\.)?doi\.org/", "", u) for u in urls
                       if re.match(r"https?://(dx\.)?doi\.org/10\.", u)), None)
    return {"doi": doi, "url": urls[0] if urls else None,
            "number": next(iter(unique(numbers)), None)}


def _clc(record):
    for field in record.get_fields("084"):
        if (field.get("2") or "").lower() in ("clc", "cct", "") and field.get("a"):
            return field.get("a").strip()
    return None


def _language(record):
    coded = first(record, ("041",), "a")
    fixed = record["008"].data[35:38] if record.get("008") else ""
    return language_code(coded[:3] if coded else None) or language_code(fixed)


def _series(record, vernacular):
    for pair in vernacular.pairs(record, "490", "440", "830"):
        series, _ = _prefer_vernacular(pair, lambda f: first_clean(f, "a"))
        if series:
            return series
    return None


def _edition(record, vernacular):
    """The edition statement (250 $a, $b): "3rd ed.", "第2版"."""
    def read(field):
        return " ".join(filter(None, (first_clean(field, "a"), first_clean(field, "b"))))
    for pair in vernacular.pairs(record, "250"):
        edition, _ = _prefer_vernacular(pair, read)
        if edition:
            return edition
    return None


def marc21_to_dict(record):
    """MARC21: 245/880 title, 1xx/7xx names by role, 260/264 publication, 773 host, types."""
    vernacular = Vernacular(record)
    title, title_variants, romanised_title = _title(record, vernacular)
    names, name_variants = _names(record, vernacular)
    language = _language(record)
    host = _host(record)
    kind = record_type(record, host)
    publication = _publication(record, vernacular)
    fields = {
        "source_id": control_number(record), "type": kind, "title": title,
        "title-variants": title_variants,
        "title_pinyin": romanised_title if language == "chi" else None,
        **names,
        ("authors_pinyin" if language == "chi" else "authors-variants"): name_variants,
        "subjects": [strip_isbd(v) for v in values(record, ("600", "610", "650", "651"), "a")],
        "keywords": values(record, ("653",), "a"),
        "abstract": first(record, ("520",), "a"),
        **publication,
        "edition": _edition(record, vernacular),
        "isbn": first(record, ("020",), "a"),
        "issn": first(record, ("022",), "a"),
        "clc": _clc(record), "language": language,
        "page_count": page_count(first(record, ("300",), "a")),
        "series": _series(record, vernacular),
        "notes": first(record, ("500",), "a"),
        **_event(record), **_identifiers(record),
        "holdings": holdings(record, first(record, ("050", "090"), "a")),
    }
    if kind == "thesis":
        thesis = _thesis(record)
        fields.update(degree=thesis.get("degree"), institution=thesis.get("institution"))
        fields["year"] = fields["year"] or thesis.get("year")
    if host:
        fields.update(_host_fields(kind, host, fields))
    return without_empty(fields)


def _host_fields(kind, host, fields):
    """An article's journal, or a book part's host book (``container-title``), and its parts."""
    out = dict(host["parts"])
    if kind == "article":
        out.update(journal=host["title"], issn=fields.get("issn") or host["issn"])
    else:
        out["container-title"] = host["title"]
    out["year"] = fields.get("year") or host["year"]
    return out
