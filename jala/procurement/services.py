"""Purchase suggestions (荐购): who may suggest, how many, and the lists each side sees.

A verified reader of a member library suggests a title for their home library to buy
(public users may not: they have no library to buy for). A reader has a daily limit
(``procurement.suggestions_per_day``), and one open suggestion per title (the same title,
normalised as the catalogue does, while the library has not decided): the database backs
this with a partial unique index. An ISBN, when given, must be valid; if the union catalogue
already has a record with it, the suggestion still goes, with the record linked. The
library's decisions on it (order, decline, available) are the table in ``lifecycle.py``.
"""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from jala import clock
from jala.accounts.models import User
from jala.catalog.service import record_by_isbn
from jala.errors import NotAllowed, NotFound, RuleViolation
from jala.extensions import db
from jala.membership import check_reader_standing
from jala.permissions import require_staff_of
from jala.procurement.lifecycle import parties_of, status_label
from jala.procurement.models import OPEN_STATUSES, STATUSES, PurchaseSuggestion
from jala.search.normalize import canonical_isbn, normalize_key_part
from jala.settings import declare, get_setting

TITLE_MAX, AUTHORS_MAX, PUBLISHER_MAX, NOTE_MAX = 500, 500, 300, 2000
QUEUE_TABS = ("open", *STATUSES, "all")

declare("procurement.suggestions_per_day", 5, 0, 100,
        _l("Purchase suggestions per reader per day"))


# --- who may suggest ---------------------------------------------------------------------------

def check_can_suggest(user):
    """Raise unless ``user`` may suggest a purchase to their library now."""
    if user.is_public_user:
        raise NotAllowed(_("Purchase suggestions are for readers of member libraries: your "
                           "account has no home library."))
    if user.email_confirmed_at is None:
        raise RuleViolation(_("Confirm your email address first: we tell you there what your "
                              "library decides."))
    check_reader_standing(user)


def daily_quota(user):
    """Return ``(limit, suggestions made today)``."""
    used = db.session.execute(
        select(func.count()).select_from(PurchaseSuggestion).where(
            PurchaseSuggestion.reader_id == user.id,
            PurchaseSuggestion.created_at >= clock.start_of_day())
    ).scalar_one()
    return get_setting("procurement.suggestions_per_day"), used


# --- suggesting -------------------------------------------------------------------------------

def _clean(value, limit):
    value = (value or "").strip()
    return value[:limit] or None


def _open_duplicate(reader, title_key):
    return db.session.execute(
        select(PurchaseSuggestion).where(PurchaseSuggestion.reader_id == reader.id,
                                         PurchaseSuggestion.title_key == title_key,
                                         PurchaseSuggestion.status.in_(OPEN_STATUSES))
    ).scalars().first()


def suggest_purchase(reader, *, title, authors=None, publisher=None, year=None, isbn=None,
                     note=None):
    """The reader suggests a title for their home library to buy."""
    check_can_suggest(reader)
    title = (title or "").strip()
    title_key = normalize_key_part(title)
    if not title_key:
        raise RuleViolation(_("Give the title of the book you suggest."))
    if len(title) > TITLE_MAX:
        raise RuleViolation(_("At most %(n)d characters, please.", n=TITLE_MAX))
    isbn_value = canonical_isbn(isbn) if isbn and isbn.strip() else None
    if isbn and isbn.strip() and isbn_value is None:
        raise RuleViolation(_("%(value)s is not a valid ISBN.", value=isbn.strip()))
    if year is not None and not 1000 <= year <= clock.local_today().year + 1:
        raise RuleViolation(_("The year %(year)d is not possible.", year=year))
    # one reader's suggestions are decided one at a time, so the quota and duplicates hold
    db.session.execute(select(User.id).where(User.id == reader.id).with_for_update())
    limit, used = daily_quota(reader)
    if used >= limit:
        raise RuleViolation(_("You have made %(used)d purchase suggestions today, the daily "
                              "limit. You can suggest more tomorrow.", used=used))
    duplicate = _open_duplicate(reader, title_key)
    if duplicate is not None:
        raise RuleViolation(_("You have already suggested “%(title)s”; your library has not "
                              "finished with it yet (%(status)s).", title=duplicate.title,
                              status=status_label(duplicate.status)), status=409)
    record = record_by_isbn(isbn_value) if isbn_value else None
    suggestion = PurchaseSuggestion(
        reader_id=reader.id, library_id=reader.home_library_id, title=title,
        title_key=title_key, authors=_clean(authors, AUTHORS_MAX),
        publisher=_clean(publisher, PUBLISHER_MAX), year=year, isbn=isbn_value,
        note=_clean(note, NOTE_MAX), status="suggested",
        record_id=record.id if record is not None else None, created_at=clock.now())
    db.session.add(suggestion)
    db.session.flush()
    return suggestion


# --- lists ------------------------------------------------------------------------------------

def my_suggestions(reader, limit=200):
    """The reader's own suggestions, newest first."""
    return db.session.execute(
        select(PurchaseSuggestion).where(PurchaseSuggestion.reader_id == reader.id)
        .order_by(PurchaseSuggestion.id.desc()).limit(limit)
    ).scalars().all()


def library_queue(staff, library, tab="open", limit=200):
    """Suggestions to ``library`` by tab: open ones oldest first, decided ones newest first."""
    require_staff_of(staff, library.id)
    query = select(PurchaseSuggestion).where(PurchaseSuggestion.library_id == library.id)
    if tab in STATUSES:
        query = query.where(PurchaseSuggestion.status == tab)
    elif tab != "all":
        query = query.where(PurchaseSuggestion.status.in_(OPEN_STATUSES))
    waiting = tab in (None, "open", *OPEN_STATUSES) or tab not in QUEUE_TABS
    order = PurchaseSuggestion.id.asc() if waiting else PurchaseSuggestion.id.desc()
    return db.session.execute(query.order_by(order).limit(limit)).scalars().all()


def get_for_staff(staff, suggestion_id):
    """A suggestion to one of ``staff``'s libraries; any other is 'not found'."""
    suggestion = db.session.get(PurchaseSuggestion, suggestion_id)
    if suggestion is None or not parties_of(staff, suggestion):
        raise NotFound(_("No such purchase suggestion."))
    return suggestion
