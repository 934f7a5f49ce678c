"""Document delivery (文献传递): the reader's requests and the librarian's steps on them.

A reader asks (``submit_request``); the request goes to one holding library at a time
(``routing.py``), whose librarians accept it, pass it on, decline it or send the document.
Which step may follow which, and who takes it, is the table in ``lifecycle.py``; who may ask
and how much is ``quotas.py``; the timers that re-route and remind are ``timers.py``.
"""
import re
from datetime import timedelta
from urllib.parse import urlsplit

from flask_babel import gettext as _
from sqlalchemy import select

from jala import clock
from jala.accounts.models import User
from jala.delivery.lifecycle import (
    add_event,
    email_reader,
    finish,
    response_time,
    take,
)
from jala.delivery.models import OPEN_STATUSES, DeliveryRequest
from jala.delivery.quotas import (
    check_book_share,
    check_can_request,
    check_pages_per_request,
    daily_quota,
    parse_page_range,
)
from jala.delivery.routing import build_rota, find_record, move_on
from jala.errors import NotFound, RuleViolation
from jala.extensions import db
from jala.files import create_link, link_token, store_upload
from jala.permissions import require_staff_of, staff_library_ids
from jala.search.normalize import canonical_isbn, canonical_issn
from jala.settings import get_setting
from jala.urls import external_url

BOOK_TYPES = ("book", "ebook", "thesis", "report", "conference", "standard")
MAX_BULK = 100


# --- the reader's side ------------------------------------------------------------------------

def _clean(value, limit):
    value = (value or "").strip()
    return value[:limit] or None


def citation_from_record(record):
    """Form values for a request about a catalogue record."""
    kind = "book_part" if record.type in BOOK_TYPES else "article" if record.journal or \
        record.type == "article" else "other"
    return {
        "kind": kind,
        "title": record.title,
        "authors": "; ".join(record.authors or []),
        # the journal an article is in; a book is its own title, and its publisher is no title
        "container_title": record.journal or "",
        "year": record.year,
        "volume": record.volume or "",
        "issue": record.issue or "",
        "pages": record.pages or "" if kind == "article" else "",
        "isbn": (record.isbn or [""])[0],
        "issn": (record.issn or [""])[0],
        "doi": record.doi or "",
    }


def submit_request(reader, *, kind, title, record_id=None, authors=None, container_title=None,
                   year=None, volume=None, issue=None, pages=None, isbn=None, issn=None,
                   doi=None, note=None):
    """Check the rules, route the request to its first holding library, and save it."""
    check_can_request(reader)
    if kind not in ("article", "book_part", "other"):
        raise RuleViolation(_("Choose what you are asking for."))
    # one reader's requests are decided one at a time, so the quota and the share hold
    db.session.execute(select(User.id).where(User.id == reader.id).with_for_update())
    limit, used = daily_quota(reader)
    if used >= limit:
        raise RuleViolation(_("You have made %(used)d requests today, the daily limit. You can "
                              "ask again tomorrow.", used=used))
    isbn_value = canonical_isbn(isbn) if isbn and isbn.strip() else None
    if isbn and isbn.strip() and isbn_value is None:
        raise RuleViolation(_("%(value)s is not a valid ISBN.", value=isbn.strip()))
    issn_value = canonical_issn(issn) if issn and issn.strip() else None
    if issn and issn.strip() and issn_value is None:
        raise RuleViolation(_("%(value)s is not a valid ISSN.", value=issn.strip()))
    record = find_record(record_id, isbn_value)
    if record is not None and record.type in BOOK_TYPES:
        kind = "book_part"  # a book's pages are limited whatever the reader ticked
    title = _clean(title, 1000) or (record.title if record is not None else None)
    if not title:
        raise RuleViolation(_("Give the title of what you need."))
    if year is not None and not 1000 <= year <= clock.local_today().year + 1:
        raise RuleViolation(_("The year %(year)d is not possible.", year=year))

    page_from = page_to = None
    page_count = record.page_count if record is not None else None
    if kind == "book_part":
        page_from, page_to = parse_page_range(pages)
        span = page_to - page_from + 1
        check_pages_per_request(span)
        if page_count is not None:
            if page_to > page_count:
                raise RuleViolation(_("This book has %(n)d pages.", n=page_count))
            check_book_share(reader, record_id=record.id if record else None,
                             isbn=isbn_value, page_span=span, page_count=page_count)

    rota = build_rota(record=record, issn=issn_value, year=year, reader=reader)
    if not rota:
        raise RuleViolation(_("No other member library holds this item, so it cannot be "
                              "delivered. Ask at the reference desk of your library."))
    now = clock.now()
    req = DeliveryRequest(
        reader_id=reader.id,
        record_id=record.id if record is not None else None,
        kind=kind,
        title=title,
        authors=_clean(authors, 1000),
        container_title=_clean(container_title, 1000),
        year=year,
        volume=_clean(volume, 40),
        issue=_clean(issue, 40),
        pages=_clean(pages, 40),
        page_from=page_from,
        page_to=page_to,
        isbn=isbn_value,
        issn=issn_value,
        doi=_clean(doi, 200),
        note=_clean(note, 2000),
        page_count=page_count,
        email=reader.email,
        status="pending",
        rota=rota,
        rota_position=0,
        library_id=rota[0],
        routed_at=now,
        respond_by=now + response_time(),
        created_at=now,
    )
    db.session.add(req)
    db.session.flush()
    add_event(req, "submitted", actor=reader)
    add_event(req, "routed")
    return req


def my_requests(reader):
    """The reader's requests, newest first."""
    return db.session.execute(
        select(DeliveryRequest).where(DeliveryRequest.reader_id == reader.id)
        .order_by(DeliveryRequest.id.desc()).limit(200)
    ).scalars().all()


def get_request_for_reader(reader, request_id):
    """A request its reader may see (another reader's is 'not found', never 'forbidden')."""
    req = db.session.get(DeliveryRequest, request_id)
    if req is None or req.reader_id != reader.id:
        raise NotFound(_("No such request."))
    return req


def cancel_request(reader, request_id):
    """The reader withdraws a request that no library has accepted yet."""
    req, status = take(reader, request_id, "cancel")
    finish(req, status, actor=reader)
    return req


# --- the library's side -----------------------------------------------------------------------

def library_queue(staff, library, status=None, limit=200):
    """Requests now at ``library`` (open ones by default), oldest first."""
    require_staff_of(staff, library.id)
    query = select(DeliveryRequest).where(DeliveryRequest.library_id == library.id)
    if status in (None, "", "open"):
        query = query.where(DeliveryRequest.status.in_(OPEN_STATUSES))
    elif status == "all":
        pass
    else:
        query = query.where(DeliveryRequest.status == status)
    order = DeliveryRequest.id.asc() if status in (None, "", "open", "pending", "accepted") \
        else DeliveryRequest.id.desc()
    return db.session.execute(query.order_by(order).limit(limit)).scalars().all()


def get_request_for_staff(staff, request_id):
    """A request a librarian may see: one now at, or once routed to, their library."""
    req = db.session.get(DeliveryRequest, request_id)
    # only libraries already asked see it (the rest of the rota has not been sent anything)
    if req is None or not (set(req.rota[:req.rota_position + 1]) & staff_library_ids(staff)):
        raise NotFound(_("No such request."))
    return req


def accept_request(staff, request_id, page_count=None):
    """A librarian takes the request on; for a book of unknown length, the page count first."""
    req, status = take(staff, request_id, "accept")
    if req.kind == "book_part" and req.page_count is None:
        if not page_count:
            raise RuleViolation(_("Request %(id)d: the book's page count is unknown. Enter it "
                                  "before accepting, so the copyright share can be checked.",
                                  id=req.id))
        if not 1 <= page_count <= 100000 or page_count < req.page_to:
            raise RuleViolation(_("Request %(id)d: %(n)d pages cannot be right for a request "
                                  "up to page %(last)d.", id=req.id, n=page_count,
                                  last=req.page_to))
        req.page_count = page_count
        add_event(req, "page_count", actor=staff, detail=str(page_count))
        check_book_share(req.reader, record_id=req.record_id, isbn=req.isbn,
                         page_span=req.page_span, page_count=page_count, exclude_id=req.id)
    now = clock.now()
    req.status = status
    req.accepted_at = now
    req.accepted_by_id = staff.id
    req.respond_by = now + response_time()  # now the reminder timer
    add_event(req, "accepted", actor=staff)
    return req


def reject_request(staff, request_id, reason, final=False):
    """A librarian cannot fill it (pass it on), or refuses it for good (the reader is told)."""
    reason = (reason or "").strip()[:1000]
    if not reason:
        raise RuleViolation(_("Request %(id)d: give a reason.", id=request_id))
    if not final:
        req, _next = take(staff, request_id, "pass")
        return move_on(req, "passed", actor=staff, detail=reason)
    req, status = take(staff, request_id, "refuse")
    req.finish_reason = reason
    finish(req, status, actor=staff, detail=reason)
    email_reader(req, "delivery_refused", kind="delivery.refused", reason=reason,
                 link=external_url("delivery.request_detail", request_id=req.id))
    return req


def _check_url(url):
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > 2000:
        raise RuleViolation(_("Give a full web address starting with https:// or http://."))
    return url


def fulfil_request(staff, request_id, *, upload=None, url=None):
    """Send the document: a PDF (checked by content) or a URL; the reader gets an email."""
    if (upload is None) == (not url):
        raise RuleViolation(_("Upload a PDF or give a URL (one of the two)."))
    req, status = take(staff, request_id, "fulfil")
    if req.status == "pending":
        accept_request(staff, req.id)
    if upload is not None:
        days = get_setting("files.link_days")
        stored = store_upload(upload.stream, upload.filename or "document.pdf",
                              allowed_kinds=("pdf",),
                              max_bytes=get_setting("delivery.max_upload_mb") * 1024 * 1024,
                              owner=staff, delete_after=clock.now() + timedelta(days=days))
        stored.original_name = download_name(req)
        link, _url = create_link(stored, valid_for=timedelta(days=days),
                                 max_downloads=get_setting("files.link_downloads"))
        stored.delete_after = link.expires_at  # the file goes when its link does
        req.file_id, req.link_id = stored.id, link.id
        where = external_url("delivery.download_page", token=link_token(link))
        link_lasts = {"days": days, "downloads": link.max_downloads}
    else:
        req.url = where = _check_url(url)
        link_lasts = None
    req.fulfilled_by_id = staff.id
    finish(req, status, actor=staff)
    email_reader(req, "delivery_fulfilled", kind="delivery.fulfilled", where=where,
                 link_lasts=link_lasts)
    return req


def download_name(req):
    """A readable file name for the delivered PDF."""
    stem = re.sub(r"[^\w\u4e00-\u9fff-]+", "_", req.title)[:60].strip("_") or "document"
    return f"JALA-{req.id}-{stem}.pdf"


def bulk_action(staff, action, request_ids, *, reason=None, final=False):
    """Accept or pass on several requests; returns ``(done, [(id, message)])``."""
    if action not in ("accept", "reject"):
        raise RuleViolation(_("Choose an action."))
    if not request_ids:
        raise RuleViolation(_("Tick at least one request."))
    if len(request_ids) > MAX_BULK:
        raise RuleViolation(_("At most %(n)d requests at once.", n=MAX_BULK))
    if action == "reject" and not (reason or "").strip():
        raise RuleViolation(_("Give a reason."))
    done, failed = [], []
    for request_id in sorted(set(request_ids)):
        savepoint = db.session.begin_nested()
        try:
            if action == "accept":
                done.append(accept_request(staff, request_id))
            else:
                done.append(reject_request(staff, request_id, reason, final=final))
            savepoint.commit()
        except RuleViolation as exc:
            savepoint.rollback()
            failed.append((request_id, exc.message))
    return done, failed
