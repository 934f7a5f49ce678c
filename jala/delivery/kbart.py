"""KBART (NISO RP-9-2014) files of a library's e-journal holdings, read and written.

A KBART file is tab-separated UTF-8 with a header line of the standard columns. Each title
line becomes a journal on the library's list (``coverage.py``): the print and the online ISSN
each route articles to the library, for the years from ``date_first_issue_online`` to
``date_last_issue_online`` (empty: to the present), less its ``embargo_info`` (R1Y: the latest
year is not online yet; P5Y: only the past five years are), which routing applies on the day
of the request. Lines for the same ISSN (coverage with gaps) are joined into one span. A bad
line is reported with its line number and skipped.
"""
import csv
import io

from flask_babel import gettext as _

from jala import clock
from jala.audit import record_audit
from jala.delivery import coverage
from jala.errors import RuleViolation

COLUMNS = ("publication_title", "print_identifier", "online_identifier",
           "date_first_issue_online", "num_first_vol_online", "num_first_issue_online",
           "date_last_issue_online", "num_last_vol_online", "num_last_issue_online",
           "title_url", "first_author", "title_id", "embargo_info", "coverage_depth", "notes",
           "publisher_name", "publication_type", "date_monograph_published_print",
           "date_monograph_published_online", "monograph_volume", "monograph_edition",
           "first_editor", "parent_publication_title_id", "preceding_publication_title_id",
           "access_type")
REQUIRED = ("publication_title", "print_identifier", "online_identifier",
            "date_first_issue_online", "date_last_issue_online")
NOT_HOLDINGS = {"abstracts", "abstract", "indexed"}  # no article text to deliver from


def looks_like_kbart(raw):
    """Whether an upload's first line is a KBART header (tab-separated, publication_title)."""
    first_line = raw[:2000].split(b"\n", 1)[0].lstrip(b"\xef\xbb\xbf")
    return b"\t" in first_line and first_line.split(b"\t", 1)[0].strip() == b"publication_title"


def _header(line):
    names = [name.strip().lower() for name in line]
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        raise RuleViolation(_("The KBART header lacks the columns: %(names)s.",
                              names=", ".join(missing)))
    return names


def _year(value):
    """The year of a KBART date (YYYY, YYYY-MM or YYYY-MM-DD), as text for coverage's check."""
    return (value or "").strip()[:4]


def _entries(row):
    """The journal entries of one title line: one per valid ISSN, or RuleViolation."""
    depth = (row.get("coverage_depth") or "").strip().lower()
    if depth in NOT_HOLDINGS:
        raise RuleViolation(_("coverage_depth %(depth)s holds no article text.", depth=depth))
    identifiers = [row.get("print_identifier") or "", row.get("online_identifier") or ""]
    issns = [value for value in identifiers if value.strip()]
    if not issns:
        raise RuleViolation(_("Neither print_identifier nor online_identifier is given."))
    return [coverage.parse_coverage(issn, row.get("publication_title"),
                                    _year(row.get("date_first_issue_online")),
                                    _year(row.get("date_last_issue_online")),
                                    row.get("embargo_info"))
            for issn in issns]


def _join(spans, entry):
    """Lines for one ISSN: the earliest first year, the latest last (open beats any).

    Of the embargoes only a moving wall (R…) on the line that runs latest holds for the whole
    span; a P… window on one of several lines would shut the others' years.
    """
    held = spans.get(entry["issn"])
    if held is None:
        spans[entry["issn"]] = entry
        return
    entry_runs_later = entry["year_to"] is None or (
        held["year_to"] is not None and entry["year_to"] >= held["year_to"])
    latest_embargo = (entry if entry_runs_later else held)["embargo"] or ""
    held["embargo"] = latest_embargo if latest_embargo.startswith("R") else None
    firsts = [year for year in (held["year_from"], entry["year_from"])]
    held["year_from"] = None if None in firsts else min(firsts)
    lasts = [held["year_to"], entry["year_to"]]
    held["year_to"] = None if None in lasts else max(lasts)
    held["title"] = held["title"] or entry["title"]


def read_kbart(text):
    """``({issn: entry}, [(line, reason)])`` from a KBART file's text."""
    rows = csv.reader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE)
    names = _header(next(rows, []))
    spans, errors = {}, []
    for number, cells in enumerate(rows, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        row = dict(zip(names, cells, strict=False))  # short lines: trailing columns empty
        try:
            for entry in _entries(row):
                _join(spans, entry)
        except RuleViolation as exc:
            errors.append((number, exc.message))
    return spans, errors


def import_kbart(staff, code, raw):
    """Load a KBART file into a library's journal list; returns ``(saved, [(line, reason)])``."""
    library = coverage.library_for_staff(staff, code)
    spans, errors = read_kbart(coverage.decode_upload(raw))
    for entry in spans.values():
        coverage.upsert_coverage(library, entry)
    record_audit(staff, "coverage.import", "library", library.code, library_id=library.id,
                 details={"saved": len(spans), "errors": len(errors), "format": "kbart"})
    return len(spans), errors


def export_kbart(staff, code):
    """``(file name, text)``: the library's journal list as a KBART file."""
    library, rows = coverage.coverage_of(staff, code)
    out = io.StringIO()
    out.write("\t".join(COLUMNS) + "\n")
    for row in rows:
        # a tab or a line break inside the title would end its cell or its line
        values = {"publication_title": " ".join((row.title or "").split()),
                  "print_identifier": row.issn,
                  "date_first_issue_online": str(row.year_from or ""),
                  "date_last_issue_online": str(row.year_to or ""),
                  "embargo_info": row.embargo or "",
                  "coverage_depth": "fulltext", "publication_type": "serial"}
        out.write("\t".join(values.get(name, "") for name in COLUMNS) + "\n")
    name = f"JALA_{library.code}_journals_{clock.local_today().isoformat()}.txt"
    return name, out.getvalue()
