"""Document delivery rules: who may ask, what, where it goes, and every step after that.

Each step locks the request row (``FOR UPDATE``), so a librarian's click, a second tab and
the sweeper's timeout can race without two of them both acting. Emails go through the
outbox in the same transaction as the step that causes them.
"""
import re
from datetime import datetime, time, timedelta
from urllib.parse import urlsplit

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select

from jala import clock
from jala.accounts.models import ROLE_LIBRARIAN, ROLE_LIBRARY_ADMIN, RoleGrant, User
from jala.catalog.models import Record, RecordIdentifier
from jala.delivery.models import (
    OPEN_STATUSES,
    DeliveryEvent,
    DeliveryRequest,
    JournalCoverage,
)
from jala.errors import NotAllowed, NotFound, RuleViolation
from jala.extensions import db
from jala.files import create_link, link_token, store_upload
from jala.jobs import queue_email, sweep_task
from jala.mail import user_locale
from jala.membership import check_reader_standing, is_member, library_name, member_library_ids
from jala.permissions import can_staff_library
from jala.search.normalize import canonical_isbn, canonical_issn
from jala.settings import get_setting
from jala.urls import external_url

BOOK_TYPES = ("book", "ebook", "thesis", "report", "conference", "standard")
PAGE_RANGE_RE = re.compile(r"^\s*(\d{1,5})\s*(?:[-–—~至到]\s*(\d{1,5}))?\s*$")
MAX_BULK = 100


# --- who may ask, and how much --------------------------------------------------------------

def check_can_request(user):
    """Raise unless ``user`` may use document delivery now."""
    if user.email_confirmed_at is None:
        raise RuleViolation(_("Confirm your email address first: the document will be sent "
                              "there."))
    check_reader_standing(user)


def _start_of_local_day():
    today = clock.local_today()
    return datetime.combine(today, time.min, tzinfo=clock.SHANGHAI)


def daily_quota(user):
    """Return ``(limit, used today)`` for the user (public users have their own limit)."""
    key = "delivery.public_requests_per_day" if user.is_public_user else \
        "delivery.requests_per_day"
    used = db.session.execute(
        select(func.count()).select_from(DeliveryRequest).where(
            DeliveryRequest.reader_id == user.id,
            DeliveryRequest.created_at >= _start_of_local_day())
    ).scalar_one()
    return get_setting(key), used


def _pages_taken_this_week(user, record_id, isbn, exclude_id=None):
    """Pages of one book the reader asked for in the last 7 days (live or delivered)."""
    same_book = []
    if record_id is not None:
        same_book.append(DeliveryRequest.record_id == record_id)
    if isbn:
        same_book.append(DeliveryRequest.isbn == isbn)
    if not same_book:
        return 0
    query = select(func.coalesce(func.sum(
        DeliveryRequest.page_to - DeliveryRequest.page_from + 1), 0)).where(
        DeliveryRequest.reader_id == user.id,
        DeliveryRequest.kind == "book_part",
        DeliveryRequest.status.in_(("pending", "accepted", "fulfilled")),
        DeliveryRequest.created_at >= clock.now() - timedelta(days=7),
        db.or_(*same_book),
    )
    if exclude_id is not None:
        query = query.where(DeliveryRequest.id != exclude_id)
    return db.session.execute(query).scalar_one()


def check_book_share(user, *, record_id, isbn, page_span, page_count, exclude_id=None):
    """Raise if this request would take more of one book this week than copyright allows."""
    percent = get_setting("delivery.book_share_percent")
    allowed = page_count * percent // 100
    taken = _pages_taken_this_week(user, record_id, isbn, exclude_id=exclude_id)
    if taken + page_span > allowed:
        raise RuleViolation(_(
            "Copyright allows %(percent)d%% of a book (%(allowed)d of its %(total)d pages) per "
            "reader per week. You have %(taken)d pages of it this week; this request asks for "
            "%(span)d more.", percent=percent, allowed=allowed, total=page_count, taken=taken,
            span=page_span))


def parse_page_range(text):
    """``"12-30"`` → ``(12, 30)``; a single page ``"7"`` → ``(7, 7)``."""
    match = PAGE_RANGE_RE.match(text or "")
    if not match:
        raise RuleViolation(_("Give the pages as a range, for example 12-30."))
    first = int(match.group(1))
    last = int(match.group(2) or first)
    if first < 1 or last < first:
        raise RuleViolation(_("The page range must start at 1 or later and not run backwards."))
    return first, last


# --- where a request goes ---------------------------------------------------------------------

def _covering_libraries(issn, year):
    query = select(JournalCoverage.library_id).where(JournalCoverage.issn == issn)
    if year is not None:
        query = query.where(
            db.or_(JournalCoverage.year_from.is_(None), JournalCoverage.year_from <= year),
            db.or_(JournalCoverage.year_to.is_(None), JournalCoverage.year_to >= year))
    return set(db.session.execute(query).scalars())


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


def _find_record(record_id, isbn):
    if record_id is not None:
        record = db.session.get(Record, record_id)
        if record is None:
            raise NotFound(_("No such record."))
        return record
    if isbn:
        record_id = db.session.execute(
            select(RecordIdentifier.record_id).where(RecordIdentifier.kind == "isbn",
                                                     RecordIdentifier.value == isbn)
        ).scalar_one_or_none()
        if record_id is not None:
            return db.session.get(Record, record_id)
    return None


# --- the reader's side ------------------------------------------------------------------------

def _add_event(req, kind, *, actor=None, library_id=None, detail=None):
    event = DeliveryEvent(request=req, at=clock.now(), kind=kind,
                          library_id=library_id if library_id is not None else req.library_id,
                          actor_id=actor.id if actor else None, detail=detail)
    db.session.add(event)
    return event


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
        "container_title": record.journal or record.publisher or "",
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
    record = _find_record(record_id, isbn_value)
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
        per_request = get_setting("delivery.pages_per_request")
        if span > per_request:
            raise RuleViolation(_("A book request can cover at most %(n)d pages; this one asks "
                                  "for %(span)d. Split it or ask for fewer pages.",
                                  n=per_request, span=span))
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
        respond_by=now + _response_time(),
        created_at=now,
    )
    db.session.add(req)
    db.session.flush()
    _add_event(req, "submitted", actor=reader, library_id=None)
    _add_event(req, "routed", library_id=rota[0])
    return req


def _response_time():
    return timedelta(hours=get_setting("delivery.response_hours"))


def my_requests(reader):
    """The reader's requests, newest first."""
    return db.session.execute(
        select(DeliveryRequest).where(DeliveryRequest.reader_id == reader.id)
        .order_by(DeliveryRequest.id.desc()).limit(200)
    ).scalars().all()


def _lock(request_id):
    req = db.session.execute(
        select(DeliveryRequest).where(DeliveryRequest.id == request_id).with_for_update()
    ).scalar_one_or_none()
    if req is None:
        raise NotFound(_("No such request."))
    return req


def get_request_for_reader(reader, request_id):
    """A request its reader may see (another reader's is 'not found', never 'forbidden')."""
    req = db.session.get(DeliveryRequest, request_id)
    if req is None or req.reader_id != reader.id:
        raise NotFound(_("No such request."))
    return req


def cancel_request(reader, request_id):
    """The reader withdraws a request that no library has accepted yet."""
    req = _lock(request_id)
    if req.reader_id != reader.id:
        raise NotFound(_("No such request."))
    if req.status != "pending":
        raise RuleViolation(_("This request can no longer be cancelled: a library has already "
                              "accepted it, or it is finished."), status=409)
    req.status = "cancelled"
    req.finished_at = clock.now()
    req.respond_by = None
    _add_event(req, "cancelled", actor=reader)
    return req


# --- the library's side -----------------------------------------------------------------------

def staff_library_ids(staff):
    """The libraries whose delivery queue ``staff`` works."""
    return staff.libraries_with_role(ROLE_LIBRARIAN, ROLE_LIBRARY_ADMIN)


def require_staff_of(staff, library_id):
    """Raise unless ``staff`` works at ``library_id``."""
    if not can_staff_library(staff, library_id):
        raise NotAllowed(_("Only librarians of that library can do this."))


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


def _lock_for_staff(staff, request_id, statuses):
    req = _lock(request_id)
    if req.library_id is None or not can_staff_library(staff, req.library_id):
        # not at this librarian's library (any more): the same answer as a missing request
        raise NotFound(_("Request %(id)d is not in your library's queue.", id=request_id))
    if not is_member(req.library):
        raise NotAllowed(_("Your library has left the alliance: it takes no more delivery "
                           "requests."))
    if req.status not in statuses:
        raise RuleViolation(_("Request %(id)d is already %(status)s.", id=req.id,
                              status=status_label(req.status)), status=409)
    return req


def accept_request(staff, request_id, page_count=None):
    """A librarian takes the request on; for a book of unknown length, the page count first."""
    req = _lock_for_staff(staff, request_id, ("pending",))
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
        _add_event(req, "page_count", actor=staff, detail=str(page_count))
        check_book_share(req.reader, record_id=req.record_id, isbn=req.isbn,
                         page_span=req.page_span, page_count=page_count, exclude_id=req.id)
    now = clock.now()
    req.status = "accepted"
    req.accepted_at = now
    req.accepted_by_id = staff.id
    req.respond_by = now + _response_time()  # now the reminder timer
    _add_event(req, "accepted", actor=staff)
    return req


def _move_on(req, kind, *, actor=None, detail=None):
    """Pass the request to the next library of its rota, or end it as unfilled."""
    _add_event(req, kind, actor=actor, detail=detail)
    now = clock.now()
    if req.rota_position + 1 < len(req.rota):
        members = member_library_ids()
        for position in range(req.rota_position + 1, len(req.rota)):
            if req.rota[position] in members:
                req.rota_position = position
                req.library_id = req.rota[position]
                req.status = "pending"
                req.routed_at = now
                req.respond_by = now + _response_time()
                req.accepted_at = req.accepted_by_id = req.reminded_at = None
                _add_event(req, "routed")
                return req
    req.status = "unfilled"
    req.finished_at = now
    req.respond_by = None
    _add_event(req, "unfilled", library_id=None)
    _email_reader(req, "delivery.unfilled",
                  lambda: _("Your document delivery request could not be filled"),
                  lambda: _("Dear %(name)s,\n\nNo member library was able to supply:\n\n"
                            "%(citation)s\n\nYou can look at the request here and ask again "
                            "later, or ask a librarian for help:\n%(link)s\n\n"
                            "Jiangxi Academic Library Alliance",
                            name=req.reader.display_name, citation=citation_text(req),
                            link=external_url("delivery.request_detail", request_id=req.id)))
    return req


def reject_request(staff, request_id, reason, final=False):
    """A librarian cannot fill it (pass it on), or refuses it for good (the reader is told)."""
    reason = (reason or "").strip()[:1000]
    if not reason:
        raise RuleViolation(_("Request %(id)d: give a reason.", id=request_id))
    req = _lock_for_staff(staff, request_id, OPEN_STATUSES)
    if not final:
        return _move_on(req, "passed", actor=staff, detail=reason)
    req.status = "refused"
    req.finished_at = clock.now()
    req.respond_by = None
    req.finish_reason = reason
    _add_event(req, "refused", actor=staff, detail=reason)
    _email_reader(req, "delivery.refused",
                  lambda: _("Your document delivery request was declined"),
                  lambda: _("Dear %(name)s,\n\nThe library could not accept your request for:"
                            "\n\n%(citation)s\n\nReason: %(reason)s\n\nDetails:\n%(link)s\n\n"
                            "Jiangxi Academic Library Alliance",
                            name=req.reader.display_name, citation=citation_text(req),
                            reason=reason,
                            link=external_url("delivery.request_detail", request_id=req.id)))
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
    req = _lock_for_staff(staff, request_id, OPEN_STATUSES)
    if req.status == "pending":
        accept_request(staff, req.id)
    now = clock.now()
    if upload is not None:
        days = get_setting("files.link_days")
        stored = store_upload(upload.stream, upload.filename or "document.pdf",
                              allowed_kinds=("pdf",),
                              max_bytes=get_setting("delivery.max_upload_mb") * 1024 * 1024,
                              owner=staff, delete_after=now + timedelta(days=days))
        stored.original_name = download_name(req)
        link, _url = create_link(stored, valid_for=timedelta(days=days),
                                 max_downloads=get_setting("files.link_downloads"))
        stored.delete_after = link.expires_at  # the file goes when its link does
        req.file_id, req.link_id = stored.id, link.id
        where = external_url("delivery.download_page", token=link_token(link))

        def how():
            return _("The link works for %(days)d days and %(n)d downloads:",
                     days=days, n=link.max_downloads)
    else:
        req.url = where = _check_url(url)

        def how():
            return _("The document is available at:")
    req.status = "fulfilled"
    req.fulfilled_by_id = staff.id
    req.finished_at = now
    req.respond_by = None
    _add_event(req, "fulfilled", actor=staff)
    _email_reader(req, "delivery.fulfilled", lambda: _("Your document is ready"), lambda: _(
        "Dear %(name)s,\n\n%(library)s has sent the document you asked for:\n\n%(citation)s"
        "\n\n%(how)s\n%(where)s\n\nFor your own study and research only.\n\n"
        "Jiangxi Academic Library Alliance",
        name=req.reader.display_name, library=library_name(req.library),
        citation=citation_text(req), how=how(), where=where))
    return req


def _email_reader(req, kind, subject, body):
    with force_locale(user_locale(req.reader)):
        queue_email(req.email, subject(), body(), kind=kind,
                    related=("delivery_request", req.id), library_id=req.library_id)


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


def get_request_for_staff(staff, request_id):
    """A request a librarian may see: one now at, or once routed to, their library."""
    req = db.session.get(DeliveryRequest, request_id)
    # only libraries already asked see it (the rest of the rota has not been sent anything)
    if req is None or not (set(req.rota[:req.rota_position + 1]) & staff_library_ids(staff)):
        raise NotFound(_("No such request."))
    return req


# --- timers -------------------------------------------------------------------------------------

@sweep_task
def reroute_overdue_requests():
    """Move pending requests nobody accepted in time to the next library; remind the others."""
    now = clock.now()
    rows = db.session.execute(
        select(DeliveryRequest)
        .where(DeliveryRequest.status.in_(OPEN_STATUSES), DeliveryRequest.respond_by <= now)
        .order_by(DeliveryRequest.respond_by)
        .limit(200)
        .with_for_update(skip_locked=True)
    ).scalars().all()
    for req in rows:
        if req.status == "pending":
            _move_on(req, "timed_out")
        else:
            _remind_library(req)
    return len(rows)


def _remind_library(req):
    """An accepted request is still not fulfilled: remind the library's staff, once."""
    req.respond_by = None
    req.reminded_at = clock.now()
    _add_event(req, "reminded")
    staff = db.session.execute(
        select(User).join(RoleGrant, RoleGrant.user_id == User.id).where(
            RoleGrant.library_id == req.library_id, RoleGrant.revoked_at.is_(None),
            RoleGrant.role.in_((ROLE_LIBRARIAN, ROLE_LIBRARY_ADMIN)),
            User.disabled_at.is_(None))
    ).scalars().unique().all()
    link = external_url("delivery.library_queue", code=req.library.code)
    for person in staff:
        with force_locale(user_locale(person)):
            queue_email(person.email, _("Reminder: delivery request %(id)d is waiting", id=req.id),
                        _("Request %(id)d (%(citation)s) was accepted on %(date)s and has not "
                          "been sent yet.\n\nQueue: %(link)s", id=req.id,
                          citation=citation_text(req),
                          date=req.accepted_at.astimezone(clock.SHANGHAI).strftime(
                              "%Y-%m-%d %H:%M"), link=link),
                        kind="delivery.reminder", related=("delivery_request", req.id),
                        library_id=req.library_id)


# --- words ----------------------------------------------------------------------------------------

def status_label(status):
    """The status in the user's language."""
    return {
        "pending": _("waiting for a library"),
        "accepted": _("accepted"),
        "fulfilled": _("sent"),
        "unfilled": _("unfilled"),
        "refused": _("declined"),
        "cancelled": _("cancelled"),
    }.get(status, status)


def citation_text(req):
    """One line naming what was asked for."""
    parts = [req.title]
    if req.authors:
        parts.append(req.authors)
    if req.container_title:
        parts.append(req.container_title)
    numbers = ", ".join(str(p) for p in (
        req.year, req.volume and _("vol. %(volume)s", volume=req.volume),
        req.issue and f"({req.issue})") if p)
    if numbers:
        parts.append(numbers)
    if req.pages:
        parts.append(_("pp. %(pages)s", pages=req.pages))
    return ". ".join(parts)

