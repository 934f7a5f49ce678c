"""MARC downloads for copy cataloguing, and each library's credit: submitted, approved, used.

A download is counted twice on purpose: once in the centre's own table (the credit table reads
it) and once as a usage event (``catalogue_download``) for the alliance's statistics.
"""
from flask_babel import gettext as _
from sqlalchemy import extract, func, select

from jala import clock
from jala.catalog.models import SourceRecord
from jala.catalog.service import get_record
from jala.cataloguing.export import marc_for, serialize
from jala.cataloguing.models import (
    DOWNLOAD_FORMATS,
    CataloguingDownload,
    CataloguingSubmission,
)
from jala.errors import NotAllowed, NotFound
from jala.extensions import db
from jala.membership import member_libraries
from jala.permissions import is_library_staff, staff_library_ids
from jala.usage.events import record_usage, session_key

FLAVOUR_OF_FORMAT = {"mrc": "marc21", "xml": "marc21", "cnmarc": "cnmarc"}


def _approved(record_id):
    submission = db.session.execute(
        select(CataloguingSubmission).where(CataloguingSubmission.record_id == record_id,
                                            CataloguingSubmission.status == "approved")
        .order_by(CataloguingSubmission.decided_at.desc(), CataloguingSubmission.id.desc())
        .limit(1)).scalar_one_or_none()
    if submission is None:
        return None
    return submission.fields, submission.leader, submission.flavour


def download_marc(actor, record_id, download_format):
    """A union record as MARC for a member's copy cataloguing: ``(bytes, mimetype, name)``."""
    if not is_library_staff(actor):
        raise NotAllowed(_("MARC records are for the cataloguers of member libraries."))
    if download_format not in DOWNLOAD_FORMATS:
        raise NotFound(_("No such MARC format."))
    record = get_record(record_id)
    sources = db.session.execute(
        select(SourceRecord.raw).where(SourceRecord.record_id == record.id)
        .order_by(SourceRecord.id)).scalars().all()
    marc = marc_for(record, FLAVOUR_OF_FORMAT[download_format], _approved(record.id), sources)
    body, mimetype, extension = serialize(marc, download_format)
    libraries = sorted(staff_library_ids(actor))
    library_id = libraries[0] if libraries else actor.home_library_id
    db.session.add(CataloguingDownload(at=clock.now(), record_id=record.id,
                                       library_id=library_id, format=download_format))
    record_usage("catalogue_download", record_id=record.id, library_id=library_id,
                 session_key=session_key(actor))
    db.session.flush()
    suffix = "-cnmarc" if download_format == "cnmarc" else ""
    return body, mimetype, f"record-{record.id}{suffix}.{extension}"


def _by_library(column, at_column, year, *where):
    query = (select(column, func.count()).where(extract("year", func.timezone(
        "Asia/Shanghai", at_column)) == year, *where).group_by(column))
    return dict(db.session.execute(query).all())


def credit_table(year):
    """Each member library's credit in ``year``, the most approved first.

    Submitted, approved (or merged), downloads it made, downloads of the records it contributed.
    """
    s = CataloguingSubmission
    submitted = _by_library(s.library_id, s.created_at, year)
    approved = _by_library(s.library_id, s.decided_at, year, s.status.in_(("approved",
                                                                             "merged")))
    downloaded = _by_library(CataloguingDownload.library_id, CataloguingDownload.at, year)
    contributed = (select(s.library_id.label("library_id"), s.record_id)
                   .where(s.status == "approved", s.kind == "original").distinct().subquery())
    used = dict(db.session.execute(
        select(contributed.c.library_id, func.count())
        .select_from(CataloguingDownload)
        .join(contributed, contributed.c.record_id == CataloguingDownload.record_id)
        .where(extract("year", func.timezone("Asia/Shanghai", CataloguingDownload.at)) == year)
        .group_by(contributed.c.library_id)).all())
    rows = []
    for library in member_libraries():
        row = {"library": library, "submitted": submitted.get(library.id, 0),
               "approved": approved.get(library.id, 0),
               "downloaded": downloaded.get(library.id, 0), "used": used.get(library.id, 0)}
        rows.append(row)
    rows.sort(key=lambda row: (-row["approved"], -row["submitted"], row["library"].id))
    return rows
