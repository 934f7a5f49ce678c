"""The journals each library holds or subscribes to, kept on a page or loaded from CSV."""
import csv
import io
import re
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from jala import clock
from jala.audit import record_audit
from jala.delivery.models import JournalCoverage
from jala.errors import NotAllowed, NotFound, RuleViolation
from jala.extensions import db
from jala.membership import get_library, library_name
from jala.permissions import can_staff_library
from jala.search.normalize import canonical_issn

CSV_LIMIT = 5 * 1024 * 1024
HEADER = ("issn", "title", "year_from", "year_to")


def library_for_staff(staff, code):
    library = get_library(code)
    if not (can_staff_library(staff, library.id) or staff.is_portal_admin):
        raise NotAllowed(_("Only staff of %(library)s can change its journal list.",
                           library=library_name(library)))
    return library


def coverage_of(staff, code):
    """The library and its journal list, by ISSN."""
    library = library_for_staff(staff, code)
    rows = db.session.execute(
        select(JournalCoverage).where(JournalCoverage.library_id == library.id)
        .order_by(JournalCoverage.issn)
    ).scalars().all()
    return library, rows


def _year(value, what):
    value = (value or "").strip()
    if not value:
        return None
    if not value.isdecimal() or not 1600 <= int(value) <= clock.local_today().year + 5:
        raise RuleViolation(_("%(what)s: %(value)s is not a year.", what=what, value=value))
    return int(value)


EMBARGO_RE = re.compile(r"^([RP])(\d{1,3})([DMY])$")


def parse_embargo(value):
    """A KBART ``embargo_info`` (``R1Y``, ``P6M``…) in its canonical form, None when empty."""
    value = (value or "").strip().upper()
    if not value:
        return None
    if not EMBARGO_RE.match(value):
        raise RuleViolation(_("embargo_info %(value)s is not R or P, a number and D, M or Y "
                              "(R1Y: the latest year is not online yet).", value=value))
    return value


def embargo_wall(embargo, today):
    """``(kind, date)``: R — articles after ``date`` are not online yet; P — only those since."""
    kind, number, unit = EMBARGO_RE.match(embargo).groups()
    number = int(number)
    if unit == "D":
        return kind, today - timedelta(days=number)
    months = number * (12 if unit == "Y" else 1)
    year, month = divmod(today.year * 12 + today.month - 1 - months, 12)
    return kind, date(year, month + 1, min(today.day, 28))


def embargo_allows(embargo, year, today):
    """Whether articles of ``year`` are online under ``embargo`` (a year partly open counts)."""
    if not embargo or year is None:
        return True
    kind, wall = embargo_wall(embargo, today)
    return year <= wall.year if kind == "R" else year >= wall.year


def embargo_words(embargo):
    """The embargo as a reader reads it: 最近 1 年不可用 / 仅近 5 年."""
    if not embargo:
        return ""
    kind, number, unit = EMBARGO_RE.match(embargo).groups()
    units = {"D": _("days"), "M": _("months"), "Y": _("years")}[unit]
    if kind == "R":
        return _("the latest %(number)s %(units)s not yet online", number=number, units=units)
    return _("only the past %(number)s %(units)s online", number=number, units=units)


def parse_coverage(issn, title, year_from, year_to, embargo=None):
    """Check one journal entry; returns a dict of clean values or raises RuleViolation."""
    clean_issn = canonical_issn(issn)
    if clean_issn is None:
        raise RuleViolation(_("%(value)s is not a valid ISSN.", value=(issn or "").strip()))
    first = _year(year_from, _("From year"))
    last = _year(year_to, _("To year"))
    if first and last and last < first:
        raise RuleViolation(_("The years run backwards (%(first)d–%(last)d).", first=first,
                              last=last))
    return {"issn": clean_issn, "title": (title or "").strip()[:500] or None,
            "year_from": first, "year_to": last, "embargo": parse_embargo(embargo)}


def upsert_coverage(library, values):
    """Insert a journal into the library's list, or update its title, years and embargo.

    The embargo changes only when ``values`` has one: the page's form has none and leaves a
    KBART file's embargo alone.
    """
    statement = insert(JournalCoverage).values(library_id=library.id, updated_at=clock.now(),
                                               **values)
    changed = ("title", "year_from", "year_to", "updated_at") + \
        (("embargo",) if "embargo" in values else ())
    db.session.execute(statement.on_conflict_do_update(
        index_elements=["library_id", "issn"],
        set_={k: statement.excluded[k] for k in changed}))


def save_coverage(staff, code, *, issn, title=None, year_from=None, year_to=None):
    """Add a journal to the library's list, or change its years."""
    library = library_for_staff(staff, code)
    values = parse_coverage(issn, title, year_from, year_to)
    del values["embargo"]
    upsert_coverage(library, values)
    record_audit(staff, "coverage.save", "journal_coverage", values["issn"],
                 library_id=library.id, details={k: v for k, v in values.items()})
    return values


def delete_coverage(staff, code, coverage_id):
    """Take a journal off the library's list."""
    library = library_for_staff(staff, code)
    row = db.session.get(JournalCoverage, coverage_id)
    if row is None or row.library_id != library.id:
        raise NotFound(_("No such journal in this library's list."))
    db.session.delete(row)
    record_audit(staff, "coverage.delete", "journal_coverage", row.issn, library_id=library.id)


def decode_upload(raw):
    """An uploaded list's text (UTF-8 or GB18030), refused when too large or neither."""
    if len(raw) > CSV_LIMIT:
        raise RuleViolation(_("The file is larger than %(mb)d MB.", mb=CSV_LIMIT // 1024 // 1024))
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return raw.decode("gb18030")
        except UnicodeDecodeError as exc:
            raise RuleViolation(_("The file is not UTF-8 or GB18030 text.")) from exc


def import_coverage_csv(staff, code, raw):
    """Load ``issn,title,year_from,year_to`` lines; returns ``(saved, [(line, reason)])``.

    A bad line is reported with its number and skipped; the good ones are kept.
    """
    library = library_for_staff(staff, code)
    text = decode_upload(raw)
    saved, errors = 0, []
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or all(not cell.strip() for cell in row):
            continue
        if number == 1 and row[0].strip().lower() == "issn":
            continue
        cells = (row + ["", "", "", ""])[:4]
        try:
            values = parse_coverage(*cells)
        except RuleViolation as exc:
            errors.append((number, exc.message))
            continue
        upsert_coverage(library, values)
        saved += 1
    record_audit(staff, "coverage.import", "library", library.code, library_id=library.id,
                 details={"saved": saved, "errors": len(errors)})
    return saved, errors
