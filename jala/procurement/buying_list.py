"""The buying list (采购需求清单): what readers could not get, one line per title, with demand.

Four sources feed it: purchase suggestions not yet made available (荐购), delivery requests
that ended without the document (unfilled or refused), interlibrary loans the lender refused,
and searches that found nothing or almost nothing (fewer than ``LOW_HITS`` hits) asked at
least ``MIN_SEARCHES`` times — queries that look like an identifier or personal data (an
e-mail, a phone or card number, six digits in a row) never: they are one reader's words, and
the list is shown to the staff of every library. Lines are merged by ISBN (canonical
ISBN-13) else by the title normalised as the catalogue does; a title-only line whose title
matches a line with an ISBN joins that line. Each line counts its demand per source and per
library (the readers' home library; a search counts for the searcher's library once the
search log records it).

Suggestions, delivery and ILL requests are read on demand (small tables, read through their
status): the list is always current — a new suggestion, a pledge, a round or a received title
shows at once. The search log is not: at the alliance's scale (~10 M rows a year) grouping
it takes seconds, so the sweep rebuilds its low-hit demand hourly into
``procurement_search_demand`` (a few thousand rows) and the list reads that. All within
``procurement.demand_days``. Only counts are shown, never readers; a library's count of a
search is shown only from ``MIN_SEARCHES`` searches (smaller counts are the alliance's).

``find_line`` looks one line up by its key (after a pledge) without building the list.
"""
import hashlib
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, insert, or_, select, text
from sqlalchemy.orm import selectinload

from jala import clock
from jala.accounts.models import User
from jala.catalog.models import Record
from jala.delivery.models import DeliveryRequest
from jala.extensions import db
from jala.jobs import sweep_task
from jala.loans.models import IllRequest
from jala.procurement.joint_models import DemandRefresh, Pledge, ProcurementTitle, SearchDemand
from jala.procurement.models import PurchaseSuggestion
from jala.search.normalize import canonical_isbn, normalize_key_part
from jala.settings import declare, get_setting

SOURCES = ("suggestion", "delivery", "ill", "search")
LOW_HITS = 3
MIN_SEARCHES = 5  # a query asked fewer times may be one reader's: never shown
# (on the lower-cased query; POSIX classes, so Python and PostgreSQL read them alike)
PERSONAL_PATTERNS = (
    r"[0-9０-９]{6,}",  # an id card, student, phone or account number
    r"[@＠]",  # an e-mail address or a handle
    r"[0-9]{2,4}[ .-][0-9]{3,4}[ .-][0-9]{3,4}",  # a phone number written in groups
    r"(^|[^a-z])[a-z]{2}[0-9]{4,}",  # a library card number: two letters and digits
)
PERSONAL_RE = "|".join(f"({p})" for p in PERSONAL_PATTERNS)
# an ISBN-13 is a book, not a person: kept although it has 13 digits
ISBN13_RE = r"^(isbn[: ]*)?97[89][0-9 -]{10,16}$"
UNFILLED_DELIVERY = ("unfilled", "refused")
UNFILLED_ILL = ("refused",)
REFRESH_EVERY = timedelta(hours=1)
SEARCH_KEEP = 5000

declare("procurement.demand_days", 365, 7, 3660,
        _l("Days of unmet demand the buying list counts"), _l("days"))


@dataclass
class Demand:
    """One line of the buying list."""

    key: str
    title: str
    isbn: str | None = None
    sources: Counter = field(default_factory=Counter)
    libraries: Counter = field(default_factory=Counter)
    tracked: ProcurementTitle | None = None  # pledged for, or in a round

    @property
    def total(self):
        return sum(self.sources.values())

    @property
    def anchor(self):
        """The line's element id on the page (its key may hold any character)."""
        return "line-" + hashlib.sha1(self.key.encode()).hexdigest()[:12]


def demand_key(isbn, title):
    """The line a request belongs to: ``isbn:<ISBN-13>``, else ``title:<normalised title>``."""
    isbn = canonical_isbn(isbn) if isbn else None
    if isbn:
        return f"isbn:{isbn}"
    title_key = normalize_key_part(title or "")
    return f"title:{title_key}" if title_key else None


def _suggestions(since, *where):
    rows = db.session.execute(
        select(PurchaseSuggestion.title, PurchaseSuggestion.isbn, PurchaseSuggestion.library_id,
               func.count())
        .where(PurchaseSuggestion.status != "available", PurchaseSuggestion.created_at >= since,
               *where)
        .group_by(PurchaseSuggestion.title, PurchaseSuggestion.isbn,
                  PurchaseSuggestion.library_id))
    return [("suggestion", title, isbn, library_id, n) for title, isbn, library_id, n in rows]


def _deliveries(since):
    rows = db.session.execute(
        select(DeliveryRequest.title, DeliveryRequest.isbn, User.home_library_id, func.count())
        .join(User, User.id == DeliveryRequest.reader_id)
        .where(DeliveryRequest.status.in_(UNFILLED_DELIVERY), DeliveryRequest.created_at >= since)
        .group_by(DeliveryRequest.title, DeliveryRequest.isbn, User.home_library_id))
    return [("delivery", title, isbn, library_id, n) for title, isbn, library_id, n in rows]


def _ill(since):
    rows = db.session.execute(
        select(Record.title, Record.isbn, IllRequest.home_library_id, func.count())
        .join(Record, Record.id == IllRequest.record_id)
        .where(IllRequest.status.in_(UNFILLED_ILL), IllRequest.created_at >= since)
        .group_by(Record.id, IllRequest.home_library_id))
    return [("ill", title, isbns[0] if isbns else None, library_id, n)
            for title, isbns, library_id, n in rows]


def _searches(*where):
    """Low-hit searches asked ``MIN_SEARCHES`` times or more (the roll-up the sweep keeps)."""
    rows = db.session.execute(select(SearchDemand.query, SearchDemand.isbn,
                                     SearchDemand.library_id, SearchDemand.searches)
                              .where(*where))
    return [("search", q, isbn, library_id, n) for q, isbn, library_id, n in rows]


def looks_personal(query):
    """Whether a search looks like an identifier or personal data (never on the list)."""
    query = (query or "").strip().lower()
    if re.match(ISBN13_RE, query) and canonical_isbn(query):
        return False
    return re.search(PERSONAL_RE, query) is not None


# the most asked ``SEARCH_KEEP`` queries only: a long tail asked a few times a year is noise.
# A library's count below ``min_searches`` goes to no library (it could be one reader).
REFRESH_SQL = text("""
WITH grouped AS (
    SELECT lower(btrim(query)) AS q, library_id, count(*) AS n
      FROM search_log WHERE at >= :since AND hits < :low GROUP BY 1, 2),
kept AS (
    SELECT q, CASE WHEN n >= :min_searches THEN library_id END AS library_id, n,
           sum(n) OVER (PARTITION BY q) AS asked
      FROM grouped
     WHERE q <> '' AND (q !~ :personal OR q ~ :isbn13))
SELECT q, library_id, n FROM (
    SELECT q, library_id, sum(n) AS n, dense_rank() OVER (ORDER BY max(asked) DESC, q) AS place
      FROM kept WHERE asked >= :min_searches GROUP BY q, library_id) ranked
 WHERE place <= :keep
""")


def refresh_search_demand():
    """Rebuild the low-hit search demand of the window from the search log (the sweep's job)."""
    started = time.perf_counter()
    since = clock.now() - timedelta(days=get_setting("procurement.demand_days"))
    db.session.execute(delete(SearchDemand))
    found = db.session.execute(REFRESH_SQL, {
        "since": since, "low": LOW_HITS, "keep": SEARCH_KEEP, "min_searches": MIN_SEARCHES,
        "personal": PERSONAL_RE, "isbn13": ISBN13_RE}).all()
    # the keys a line is looked up by (the title's normalisation is Python's: t2s, NFKC)
    rows = [{"query": q, "library_id": library_id, "searches": n, "isbn": canonical_isbn(q),
             "title_key": normalize_key_part(q)}
            for q, library_id, n in found if not looks_personal(q)]
    if rows:
        db.session.execute(insert(SearchDemand), rows)
    db.session.add(DemandRefresh(refreshed_at=clock.now(), rows=len(rows),
                                 ms=round((time.perf_counter() - started) * 1000)))
    db.session.flush()
    return len(rows)


def last_refresh():
    """When the search demand was last rebuilt, or None."""
    return db.session.execute(select(func.max(DemandRefresh.refreshed_at))).scalar()


@sweep_task
def refresh_procurement_search_demand():
    """Rebuild the search demand at most every ``REFRESH_EVERY`` (one sweeper at a time)."""
    locked = db.session.execute(text(
        "SELECT pg_try_advisory_xact_lock(hashtext('procurement_search_demand'))")).scalar()
    done = last_refresh() if locked else None
    if not locked or (done is not None and done > clock.now() - REFRESH_EVERY):
        return 0
    rows = refresh_search_demand()
    db.session.execute(delete(DemandRefresh).where(
        DemandRefresh.refreshed_at < clock.now() - timedelta(days=30)))
    return rows


def _merge(rows):
    # a title seen with an ISBN anywhere takes the title-only rows of that title along
    isbn_of_title = {}
    for _source, title, isbn, _library, _n in rows:
        isbn = canonical_isbn(isbn) if isbn else None
        if isbn and (title_key := normalize_key_part(title or "")):
            isbn_of_title.setdefault(title_key, isbn)
    lines, names = {}, {}
    for source, title, isbn, library_id, n in rows:
        isbn = canonical_isbn(isbn) if isbn else None
        isbn = isbn or isbn_of_title.get(normalize_key_part(title or ""))
        key = demand_key(isbn, title)
        if key is None:
            continue
        line = lines.setdefault(key, Demand(key=key, title=title, isbn=isbn))
        line.sources[source] += n
        if library_id is not None:
            line.libraries[library_id] += n
        # readers' own words name a line better than a search string or an ISBN
        rank = (source != "search", title != isbn, n)
        if rank > names.get(key, (False, False, 0)):
            names[key] = rank
            line.title = title
    return lines


def buying_list(*, source=None, library_id=None, q=None, min_demand=1, include_rounds=False):
    """The buying list, most wanted first, filtered by source, library, words, least demand.

    Titles already in a round are left out (``include_rounds`` keeps them); received ones
    always are: they are in the catalogue now.
    """
    since = clock.now() - timedelta(days=get_setting("procurement.demand_days"))
    lines = _merge(_suggestions(since) + _deliveries(since) + _ill(since) + _searches())
    tracked = db.session.execute(select(ProcurementTitle).options(
        selectinload(ProcurementTitle.pledges).selectinload(Pledge.library))).scalars().all()
    for row in tracked:
        line = lines.get(row.key)
        if line is None and row.active_pledges:
            # pledged for while the demand has since left the window: keep it on the list
            line = lines[row.key] = Demand(key=row.key, title=row.title, isbn=row.isbn)
        if line is not None:
            line.tracked = row
    words = normalize_key_part(q or "")
    chosen = []
    for line in lines.values():
        row = line.tracked
        if row is not None and (row.received_at is not None
                                or (row.round_id is not None and not include_rounds)):
            continue
        if source in SOURCES and not line.sources[source]:
            continue
        if library_id and not line.libraries[library_id]:
            continue
        if words and words not in normalize_key_part(line.title) and words != (line.isbn or ""):
            continue
        if line.total < (min_demand or 1) and not (row and row.active_pledges):
            continue
        chosen.append(line)
    chosen.sort(key=lambda line: (-line.total, line.title))
    return chosen


def _isbn_of(key):
    return key[len("isbn:"):] if key.startswith("isbn:") else None


def _belongs(row, isbns, title_keys):
    _source, title, isbn, _library, _n = row
    isbn = canonical_isbn(isbn) if isbn else None
    return (isbn is not None and isbn in isbns) or normalize_key_part(title or "") in title_keys


def _rows_for(key, since):
    """The source rows that can make up the line ``key``: those with its ISBN or its title.

    Suggestions and searches are read by their keys; the unfilled delivery and ILL requests
    of the window (small, grouped by title) are picked out here.
    """
    isbn = _isbn_of(key)
    others = _deliveries(since) + _ill(since)
    if isbn:
        first = (_suggestions(since, PurchaseSuggestion.isbn == isbn)
                 + [r for r in others if _belongs(r, {isbn}, ())]
                 + _searches(SearchDemand.isbn == isbn))
        title_keys = {normalize_key_part(r[1] or "") for r in first} - {""}
    else:
        title_keys = {key[len("title:"):]}
    if not title_keys:
        return first
    # every row of those titles, whatever its ISBN: ``_merge`` decides which line takes them
    return (_suggestions(since, or_(PurchaseSuggestion.isbn == isbn,
                                    PurchaseSuggestion.title_key.in_(title_keys)))
            + [r for r in others if _belongs(r, {isbn}, title_keys)]
            + _searches(or_(SearchDemand.isbn == isbn, SearchDemand.title_key.in_(title_keys))))


def find_line(key):
    """The buying list's line with ``key`` (whatever the filters), or None.

    Looked up by its key, not by building the list; received titles are not on it.
    """
    if not key or not key.startswith(("isbn:", "title:")):
        return None
    since = clock.now() - timedelta(days=get_setting("procurement.demand_days"))
    line = _merge(_rows_for(key, since)).get(key)
    row = db.session.execute(select(ProcurementTitle).where(ProcurementTitle.key == key)
                             .options(selectinload(ProcurementTitle.pledges)
                                      .selectinload(Pledge.library))).scalar_one_or_none()
    if line is None and row is not None and row.active_pledges:
        line = Demand(key=key, title=row.title, isbn=row.isbn)
    if line is not None:
        line.tracked = row
        if row is not None and row.received_at is not None:
            return None
    return line
