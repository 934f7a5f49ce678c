"""The MARC editor's rows: read from a form, checked field by field, turned into pymarc.

A row is ``[tag, ind1, ind2, value]``: a control field (001–009) keeps its data in ``value``,
a data field writes its subfields ``$a…$b…``. ``check_rows`` gives every problem as
``(row number or None, message)`` so the form can show them beside the fields. Pure: no
database.
"""
import re

import pymarc
from flask_babel import gettext as _
from stdnum import isbn as stdnum_isbn

from jala.catalog.clc import canonical_code

LEADERS = {"marc21": "00000nam a2200000 i 4500", "cnmarc": "00000nam0 2200000   450 "}
TITLE_TAG = {"marc21": "245", "cnmarc": "200"}
ISBN_TAG = {"marc21": "020", "cnmarc": "010"}
CLC_TAGS = {"marc21": ("084", "093", "690"), "cnmarc": ("690",)}
MAIN_ENTRY_TAGS = ("100", "110", "111", "130")
TAG_RE = re.compile(r"\d{3}")
INDICATOR_RE = re.compile(r"[0-9a-z ]")
CODE_RE = re.compile(r"[0-9a-zA-Z]")
YEAR_RE = re.compile(r"\d{4}")
BLANKS = {"", "#", "_", "\\", "b"}
MAX_ROWS = 200


def is_control(tag):
    """Whether ``tag`` is a control field (001–009): data, no indicators or subfields."""
    return tag.startswith("00")


def rows_from_form(form):
    """The rows a posted editor holds (``tag-N``, ``ind1-N``, ``ind2-N``, ``value-N``).

    Rows without a tag and a value are dropped; the rest keep their order.
    """
    rows = []
    for n in range(MAX_ROWS):
        if f"tag-{n}" not in form:
            continue
        tag = form.get(f"tag-{n}", "").strip()
        value = form.get(f"value-{n}", "").strip()
        if not tag and not value:
            continue
        rows.append([tag, _indicator(form.get(f"ind1-{n}", "")),
                     _indicator(form.get(f"ind2-{n}", "")), value])
    return rows


def _indicator(value):
    value = (value or "").strip()
    return " " if value in BLANKS else value


def parse_subfields(value):
    """``"$a题名$b副题名"`` → ``[("a", "题名"), ("b", "副题名")]`` (None when not written so)."""
    if not value.startswith("$"):
        return None
    out = []
    for chunk in value.split("$")[1:]:
        if not chunk:
            continue
        out.append((chunk[0], chunk[1:].strip()))
    return out


def subfields_text(subfields):
    """The editor's writing of subfields: ``$a…$b…``."""
    return "".join(f"${code}{value}" for code, value in subfields)


def _values(rows, tag, code):
    for row in rows:
        if row[0] == tag:
            for sub_code, value in parse_subfields(row[3]) or ():
                if sub_code == code:
                    yield value


def title_of(rows, flavour):
    """The record's title proper (245 or 200 $a), for lists and pages."""
    return next(_values(rows, TITLE_TAG[flavour], "a"), "").strip(" /:;=.") or _("(no title)")


def check_rows(rows, leader, flavour):
    """Every problem of the record as ``(row number or None, message)``; empty when valid."""
    problems = []
    leader = leader or ""
    if leader and (len(leader) != 24 or not leader[:5].strip("0123456789 ") == ""):
        problems.append((None, _("The leader must be 24 characters (it has %(n)d).",
                                 n=len(leader))))
    elif leader and leader[6] not in "acdefgijkmoprt":
        problems.append((None, _("Leader position 06 (type of record) must be one of "
                                 "a c d e f g i j k m o p r t.")))
    elif leader and leader[7] not in "abcdims":
        problems.append((None, _("Leader position 07 (bibliographic level) must be one of "
                                 "a b c d i m s.")))
    seen = {}
    for n, (tag, ind1, ind2, value) in enumerate(rows, 1):
        problems += [(n, message) for message in _check_field(tag, ind1, ind2, value, flavour)]
        seen.setdefault(tag, []).append(n)
    problems += _check_record(rows, seen, flavour)
    return problems


def _check_field(tag, ind1, ind2, value, flavour):
    if not TAG_RE.fullmatch(tag):
        return [_("Field %(tag)s: the tag must be three digits.", tag=tag or "?")]
    if not value:
        return [_("Field %(tag)s is empty.", tag=tag)]
    if is_control(tag):
        if value.startswith("$"):
            return [_("Field %(tag)s is a control field: write its data without subfields.",
                      tag=tag)]
        if tag == "008" and flavour == "marc21" and len(value) != 40:
            return [_("Field 008 must be 40 characters (it has %(n)d).", n=len(value))]
        if tag == "008" and flavour == "marc21" and not re.fullmatch(r"[\du|]{4}",
                                                                     value[7:11]):
            return [_("Field 008 positions 07–10 must be the year of publication.")]
        return []
    problems = []
    for indicator in (ind1, ind2):
        if len(indicator) != 1 or not INDICATOR_RE.fullmatch(indicator):
            problems.append(_("Field %(tag)s: an indicator is one digit, one letter or "
                              "blank.", tag=tag))
            break
    subfields = parse_subfields(value)
    if subfields is None or not subfields:
        return problems + [_("Field %(tag)s: write its subfields as $a…$b….", tag=tag)]
    for code, text in subfields:
        if not CODE_RE.fullmatch(code):
            problems.append(_("Field %(tag)s: “%(code)s” is not a subfield code.",
                              tag=tag, code=code))
        elif not text:
            problems.append(_("Field %(tag)s: subfield $%(code)s is empty.", tag=tag,
                              code=code))
    return problems + _check_content(tag, dict(subfields), subfields, flavour)


def _check_content(tag, first, subfields, flavour):
    problems = []
    if tag == ISBN_TAG[flavour] and "a" in first:
        number = re.split(r"[\s(（:]", first["a"].strip(), maxsplit=1)[0]
        if not stdnum_isbn.is_valid(number):
            problems.append(_("Field %(tag)s: %(isbn)s is not a valid ISBN.", tag=tag,
                              isbn=number))
    if tag in CLC_TAGS[flavour] and "a" in first and (tag != "084" or first.get("2") == "clc"):
        if canonical_code(first["a"]) is None:
            problems.append(_("Field %(tag)s: %(code)s is not a class number of the Chinese "
                              "Library Classification.", tag=tag, code=first["a"]))
    if tag in ("260", "264", "210") and flavour == ("cnmarc" if tag == "210" else "marc21"):
        date = first.get("d" if tag == "210" else "c")
        if date is not None and not YEAR_RE.search(date):
            problems.append(_("Field %(tag)s: the date of publication must give the year.",
                              tag=tag))
    if (tag in ("300", "215") or tag.startswith("6")) and "a" not in first:
        problems.append(_("Field %(tag)s needs subfield $a.", tag=tag))
    if tag == "100" and flavour == "cnmarc" and len(first.get("a", "")) != 36:
        problems.append(_("Field 100 (general processing data) $a must be 36 characters."))
    return problems


def _check_record(rows, seen, flavour):
    problems = []
    title = TITLE_TAG[flavour]
    if title not in seen:
        problems.append((None, _("The record needs a title: field %(tag)s with $a.", tag=title)))
    elif len(seen[title]) > 1:
        problems.append((seen[title][1], _("Field %(tag)s is not repeatable.", tag=title)))
    elif not any(_values(rows, title, "a")):
        problems.append((seen[title][0], _("Field %(tag)s needs subfield $a (the title "
                                           "proper).", tag=title)))
    for tag in ("001", "005", "008"):
        if len(seen.get(tag, ())) > 1:
            problems.append((seen[tag][1], _("Field %(tag)s is not repeatable.", tag=tag)))
    if flavour == "marc21":
        if "008" not in seen:
            problems.append((None, _("A MARC 21 record needs field 008 (fixed-length data).")))
        main = [n for tag in MAIN_ENTRY_TAGS for n in seen.get(tag, ())]
        if len(main) > 1:
            problems.append((sorted(main)[1], _("A record has at most one main entry "
                                                "(100, 110, 111 or 130).")))
    elif "100" not in seen:
        problems.append((None, _("A CNMARC record needs field 100 (general processing "
                                 "data).")))
    return problems


def to_pymarc(rows, leader, flavour):
    """A pymarc record of the rows (checked beforehand)."""
    record = pymarc.Record(leader=pymarc.Leader(leader or LEADERS[flavour]),
                           force_utf8=True)
    for tag, ind1, ind2, value in rows:
        if is_control(tag):
            record.add_field(pymarc.Field(tag=tag, data=value))
        else:
            record.add_field(pymarc.Field(
                tag=tag, indicators=pymarc.Indicators(ind1, ind2),
                subfields=[pymarc.Subfield(code, text)
                           for code, text in parse_subfields(value) or ()]))
    return record


def from_pymarc(record):
    """The rows of a pymarc record: what the editor shows for a file's record or a correction."""
    rows = []
    for field in record.fields:
        if field.is_control_field():
            rows.append([field.tag, " ", " ", field.data or ""])
        else:
            ind1, ind2 = (list(field.indicators) + [" ", " "])[:2]
            rows.append([field.tag, ind1 or " ", ind2 or " ",
                         subfields_text((s.code, s.value) for s in field.subfields)])
    return rows


def leader_of(record, flavour):
    """The record's leader as 24 characters (the default one when it is broken)."""
    leader = str(record.leader or "")
    return leader if len(leader) == 24 else LEADERS[flavour]


def flavour_of(record):
    """'cnmarc' when the title is in 200 (UNIMARC's place), else 'marc21'."""
    return "cnmarc" if record.get_fields("200") and not record.get_fields("245") else "marc21"
