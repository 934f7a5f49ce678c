"""Approved submissions into the union catalogue: the master record, as an import writes it.

An original record is imported like any library's MARC record (``import_stream``, one record,
the submitting library as its source): it becomes a new union record, or joins the one with
the same ISBN. Its source id is always ``JALA-UC{submission id}`` (the 001 the catalogue keeps
it by), never the submitter's own 001: that may equal a control number the library has already
imported (and would overwrite that source record and its union record), or another
submission's. The submitter's 001 is kept in an 035 ``$a(library)number``.

A correction rewrites the union record it corrects, with the index columns the import computes
(``prepare``), so search finds the corrected record at once. Known limit: only the union
record's row is rewritten, not the source records it was built from; when a source library
later re-imports a changed version of a record that is the union record's only source, the
import rewrites the union record from it and the correction is lost. There is no "priority
source" in the catalogue yet (the importer has no notion of a source that wins over the
others), so keeping corrections needs that first; until then the centre re-approves.
"""
import pymarc
from flask_babel import gettext as _
from sqlalchemy import func, or_, select, text

from jala import clock
from jala.catalog.batches import update_union_record
from jala.catalog.importer import import_stream
from jala.catalog.marc import marc_to_dict
from jala.catalog.models import Record, SourceRecord
from jala.catalog.preparation import InvalidRecord, prepare
from jala.catalog.service import get_record
from jala.cataloguing.marc_form import to_pymarc
from jala.errors import RuleViolation
from jala.extensions import db
from jala.membership import library_ids_by_code
from jala.search.normalize import canonical_isbn

IMPORT_FLAVOUR = {"marc21": "marc21", "cnmarc": "unimarc"}


def source_id_for(submission):
    """The control number (001) and source id the catalogue keeps an approved record by."""
    return f"JALA-UC{submission.id}"


def marc_of(submission):
    """The submission as a pymarc record, with the centre's control number as its 001.

    The submitter's own 001 (with its 003, the organisation that gave it, else the library's
    code) moves to an 035 ``$a(…)…``: the library can still find its record by it.
    """
    record = to_pymarc(submission.fields, submission.leader, submission.flavour)
    own = [f.data.strip() for f in record.get_fields("001") if (f.data or "").strip()]
    org = next((f.data.strip() for f in record.get_fields("003") if (f.data or "").strip()),
               submission.library.code)
    record.remove_fields("001", "003")
    record.add_ordered_field(pymarc.Field(tag="001", data=source_id_for(submission)))
    kept = {s for f in record.get_fields("035") for s in f.get_subfields("a")}
    for number in own:
        value = f"({org}){number}"
        if value not in kept:
            record.add_ordered_field(pymarc.Field(
                tag="035", indicators=pymarc.Indicators(" ", " "),
                subfields=[pymarc.Subfield("a", value)]))
    return record


def write_original(submission):
    """Import the approved record as the submitting library's; the union record's id."""
    marc = marc_of(submission)
    flavour = IMPORT_FLAVOUR[submission.flavour]
    db.session.flush()
    stats = import_stream([(1, marc)], submission.library.code, format_name="marc",
                          flavour=flavour, commit=False)
    if stats.skipped:
        raise RuleViolation(_("The catalogue refused the record: %(reason)s",
                              reason=stats.errors[0]["reason"] if stats.errors else "?"))
    # the importer's cursor turns synchronous commit off for the transaction (an interrupted
    # import is run again); an approval is a web request whose commit must be durable
    db.session.execute(text("SET LOCAL synchronous_commit = on"))
    db.session.expire_all()
    return db.session.execute(
        select(SourceRecord.record_id).where(SourceRecord.library_id == submission.library_id,
                                             SourceRecord.source_id == source_id_for(submission))
    ).scalar_one()


def write_correction(submission):
    """Rewrite the corrected union record's fields and index from the approved MARC."""
    record = get_record(submission.record_id)
    marc = marc_of(submission)
    fields = marc_to_dict(marc, IMPORT_FLAVOUR[submission.flavour])
    fields["source_id"] = fields.get("source_id") or str(record.id)
    try:
        prepared = prepare(fields, 1, submission.library_id, library_ids_by_code(),
                           stored=marc.as_dict())
    except InvalidRecord as exc:
        raise RuleViolation(_("The catalogue refused the record: %(reason)s",
                              reason=str(exc))) from exc
    db.session.flush()
    update_union_record(record.id, prepared, clock.now())
    db.session.expire_all()


def duplicates_of(submission, limit=5):
    """Union records the submission may duplicate: one of its ISBNs, or the same title."""
    if submission.kind != "original":
        return []
    fields = marc_to_dict(marc_of(submission), IMPORT_FLAVOUR[submission.flavour])
    isbns = [canonical_isbn(value) for value in fields.get("isbn") or ()]
    isbns = [value for value in isbns if value]
    conditions = [func.lower(Record.title) == submission.title.lower()]
    if isbns:
        conditions.append(Record.isbn.overlap(isbns))
    query = select(Record).where(or_(*conditions)).order_by(Record.id).limit(limit)
    if submission.record_id:
        query = query.where(Record.id != submission.record_id)
    return db.session.execute(query).scalars().all()
