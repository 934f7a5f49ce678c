"""Who may ask for document delivery, and how much: the daily quota and a book's share.

Copyright lets a reader have a limited share of one book a week
(``delivery.book_share_percent`` of its pages), so book requests name their pages.
"""
import re
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select

from jala import clock
from jala.delivery.models import DeliveryRequest
from jala.errors import RuleViolation
from jala.extensions import db
from jala.membership import check_reader_standing
from jala.settings import get_setting

PAGE_RANGE_RE = re.compile(r"^\s*(\d{1,5})\s*(?:[-–—~至到]\s*(\d{1,5}))?\s*$")


def check_can_request(user):
    """Raise unless ``user`` may use document delivery now."""
    if user.email_confirmed_at is None:
        raise RuleViolation(_("Confirm your email address first: the document will be sent "
                              "there."))
    check_reader_standing(user)


def daily_quota(user):
    """Return ``(limit, used today)`` for the user (public users have their own limit)."""
    key = "delivery.public_requests_per_day" if user.is_public_user else \
        "delivery.requests_per_day"
    start_of_today = clock.start_of_day()
    used = db.session.execute(
        select(func.count()).select_from(DeliveryRequest).where(
            DeliveryRequest.reader_id == user.id,
            DeliveryRequest.created_at >= start_of_today)
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


def check_pages_per_request(span):
    """Raise if a book request covers more pages than one request may."""
    per_request = get_setting("delivery.pages_per_request")
    if span > per_request:
        raise RuleViolation(_("A book request can cover at most %(n)d pages; this one asks "
                              "for %(span)d. Split it or ask for fewer pages.",
                              n=per_request, span=span))
