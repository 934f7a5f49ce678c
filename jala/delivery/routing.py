"""Where a delivery request goes: the rota of holding libraries, and moving on along it.

A request is sent to one library at a time: the members that hold the item (by the union
catalogue's holdings, or for an article by the journals each library covers), the reader's
own library left out, least busy first. When a library passes it on, or does not answer in
time, the next member of the rota is asked; after the last one the request is unfilled.
"""
from flask_babel import gettext as _
from sqlalchemy import func, select

from jala import clock
from jala.catalog.models import Record
from jala.catalog.service import record_by_isbn
from jala.delivery.coverage import embargo_allows
from jala.delivery.lifecycle import add_event, email_reader, finish, response_time
from jala.delivery.models import OPEN_STATUSES, DeliveryRequest, JournalCoverage
from jala.errors import NotFound
from jala.extensions import db
from jala.membership import member_library_ids
from jala.urls import external_url


def find_record(record_id, isbn):
    """The catalogue record asked about: by its id, else by ISBN (None when there is none)."""
    if record_id is not None:
        record = db.session.get(Record, record_id)
        if record is None:
            raise NotFound(_("No such record."))
        return record
    return record_by_isbn(isbn) if isbn else None


def _covering_libraries(issn, year):
    query = select(JournalCoverage.library_id, JournalCoverage.embargo) \
        .where(JournalCoverage.issn == issn)
    if year is not None:
        query = query.where(
            db.or_(JournalCoverage.year_from.is_(None), JournalCoverage.year_from <= year),
            db.or_(JournalCoverage.year_to.is_(None), JournalCoverage.year_to >= year))
    today = clock.local_today()
    return {library_id for library_id, embargo in db.session.execute(query)
            if embargo_allows(embargo, year, today)}


def _open_load(library_ids):
    rows = db.session.execute(
        select(DeliveryRequest.library_id, func.count())
        .where(DeliveryRequest.library_id.in_(library_ids),
               DeliveryRequest.status.in_(OPEN_STATUSES))
        .group_by(DeliveryRequest.library_id)
    ).all()
    return dict(rows)


def build_rota(*, record, issn, year, reader):
    """Member libraries that hold the item, the reader's own excluded, least busy first."""
    holders = set(record.library_ids) if record is not None else set()
    issns = set(record.issn) if record is not None and record.issn else set()
    if issn:
        issns.add(issn)
    for one in issns:
        holders |= _covering_libraries(one, year)
    holders &= member_library_ids()
    holders.discard(reader.home_library_id)
    load = _open_load(holders) if holders else {}
    # least open work first; the library id breaks ties so the order is stable
    return sorted(holders, key=lambda lib_id: (load.get(lib_id, 0), lib_id))


def move_on(req, kind, *, actor=None, detail=None):
    """Pass the request to the next member library of its rota, or end it as unfilled."""
    add_event(req, kind, actor=actor, detail=detail)
    now = clock.now()
    if req.rota_position + 1 < len(req.rota):
        members = member_library_ids()
        for position in range(req.rota_position + 1, len(req.rota)):
            if req.rota[position] in members:
                req.rota_position = position
                req.library_id = req.rota[position]
                req.status = "pending"
                req.routed_at = now
                req.respond_by = now + response_time()
                req.accepted_at = req.accepted_by_id = req.reminded_at = None
                add_event(req, "routed")
                return req
    finish(req, "unfilled")
    email_reader(req, "delivery_unfilled", kind="delivery.unfilled",
                 link=external_url("delivery.request_detail", request_id=req.id))
    return req
