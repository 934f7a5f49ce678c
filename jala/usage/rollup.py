"""The monthly roll-up every statistics page reads: one row per month, library and measure.

The sweeper recomputes the last three months (Beijing time) from each service's own tables;
older months stay as they were unless ``jala usage refresh --from YYYY-MM`` recomputes them
(a backfill, or after a counting rule changed). The sweep also clears the session keys of
usage events older than the previous month: COUNTER's unique counts need them only within the
month, and a kept key could be linked back to a visit.

Each service keeps the meaning of its figures: delivery's received/fulfilled and the
reference desk's questions/answered come from their own ``stats.monthly_stats``; the rest are
counted here:

- searches, zero_hit_searches: the search log, by the searcher's home library (null: visitors);
- record_views, link_clicks, sign_ins: usage events, by the reader's home library;
- registrations: accounts created, by home library (null: public users);
- ill_lent / ill_borrowed: interlibrary loans shipped, by lending / home library;
- union_lent / union_borrowed: union loans (通借通还) lent, by lending / card library.

Queries (``usage_query_monthly``) are kept per month in normalised form (trimmed, lower case):
those asked at least twice, and of them the month's 500 most asked and 500 most often finding
nothing — enough for the pages' top lists, small enough to read at once.
"""
import time
from datetime import timedelta

from sqlalchemy import text

from jala import clock
from jala.delivery.stats import monthly_stats as delivery_stats
from jala.extensions import db
from jala.jobs import sweep_task
from jala.membership import find_library
from jala.reference.stats import NONE as REFERENCE_UNANSWERED
from jala.reference.stats import monthly_stats as reference_stats
from jala.usage.models import UsageRefresh

MEASURES = ("searches", "zero_hit_searches", "record_views", "link_clicks", "sign_ins",
            "registrations", "delivery_received", "delivery_fulfilled", "ill_lent",
            "ill_borrowed", "union_lent", "union_borrowed", "reference_questions",
            "reference_answered")
REFRESH_EVERY = timedelta(minutes=10)
QUERY_KEEP = 2  # a query asked fewer times in a month is not kept (the pages show ≥ 5)
QUERY_TOP = 500  # a month keeps its most asked queries and those most often finding nothing

_MONTH = "date_trunc('month', {0} AT TIME ZONE 'Asia/Shanghai')::date"

COUNTED_SQL = text(f"""
INSERT INTO usage_monthly (month, library_id, measure, n)
SELECT month, library_id, measure, sum(n) FROM (
    SELECT c.month, c.library_id, m.measure, m.n
      FROM (SELECT {_MONTH.format('at')} AS month, library_id, count(*) AS searches,
                   count(*) FILTER (WHERE hits = 0) AS zero_hits
              FROM search_log WHERE at >= :since AND at < :until GROUP BY 1, 2) c
     CROSS JOIN LATERAL (VALUES ('searches', c.searches),
                                ('zero_hit_searches', c.zero_hits)) AS m(measure, n)
     WHERE m.n > 0
    UNION ALL
    SELECT {_MONTH.format('at')}, library_id,
           CASE kind WHEN 'record_view' THEN 'record_views' WHEN 'link_click' THEN 'link_clicks'
                     ELSE 'sign_ins' END, count(*)
      FROM usage_events WHERE at >= :since AND at < :until
       AND kind IN ('record_view', 'link_click', 'sign_in') GROUP BY 1, 2, 3
    UNION ALL
    SELECT {_MONTH.format('created_at')}, home_library_id, 'registrations', count(*)
      FROM users WHERE created_at >= :since AND created_at < :until GROUP BY 1, 2
    UNION ALL
    SELECT {_MONTH.format('e.at')}, r.lending_library_id, 'ill_lent', count(*)
      FROM ill_events e JOIN ill_requests r ON r.id = e.request_id
     WHERE e.to_status = 'shipped' AND e.at >= :since AND e.at < :until GROUP BY 1, 2
    UNION ALL
    SELECT {_MONTH.format('e.at')}, r.home_library_id, 'ill_borrowed', count(*)
      FROM ill_events e JOIN ill_requests r ON r.id = e.request_id
     WHERE e.to_status = 'shipped' AND e.at >= :since AND e.at < :until GROUP BY 1, 2
    UNION ALL
    SELECT {_MONTH.format('borrowed_at')}, lending_library_id, 'union_lent', count(*)
      FROM union_loans WHERE borrowed_at >= :since AND borrowed_at < :until GROUP BY 1, 2
    UNION ALL
    SELECT {_MONTH.format('u.borrowed_at')}, c.library_id, 'union_borrowed', count(*)
      FROM union_loans u JOIN interlibrary_cards c ON c.id = u.card_id
     WHERE u.borrowed_at >= :since AND u.borrowed_at < :until GROUP BY 1, 2
) counted
GROUP BY month, library_id, measure
""")

QUERIES_SQL = text(f"""
INSERT INTO usage_query_monthly (month, query, searches, zero_hits)
SELECT month, query, searches, zero_hits FROM (
    SELECT month, query, searches, zero_hits,
           rank() OVER (PARTITION BY month ORDER BY searches DESC) AS by_searches,
           rank() OVER (PARTITION BY month ORDER BY zero_hits DESC) AS by_zero_hits
      FROM (SELECT {_MONTH.format('at')} AS month, lower(btrim(query)) AS query,
                   count(*) AS searches, count(*) FILTER (WHERE hits = 0) AS zero_hits
              FROM search_log WHERE at >= :since AND at < :until AND btrim(query) <> ''
             GROUP BY 1, 2 HAVING count(*) >= :keep) asked
) ranked
WHERE by_searches <= :top OR (zero_hits > 0 AND by_zero_hits <= :top)
""")


def month_start(day):
    """The instant a month begins in Beijing."""
    return clock.start_of_day(day.replace(day=1))


def _next_month(day):
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def _by_code(code, cache):
    if code not in cache:
        library = find_library(code)
        cache[code] = library.id if library else None
    return cache[code]


SWEEP_MONTHS = 3  # the sweep recomputes this month and the two before it


def refresh(first=None, months=SWEEP_MONTHS):
    """Recompute ``months`` months from ``first`` (default: the last ``SWEEP_MONTHS`` months).

    Returns the seconds it took. Runs in the caller's transaction.
    """
    started = time.perf_counter()
    first = first or clock.first_of_month_back(months)
    last = first
    for _step in range(months - 1):
        last = _next_month(last)
    since, until = month_start(first), month_start(_next_month(last))
    span = {"first": first, "last": last}
    db.session.execute(text("DELETE FROM usage_monthly WHERE month BETWEEN :first AND :last"),
                       span)
    db.session.execute(text("DELETE FROM usage_query_monthly WHERE month BETWEEN :first AND :last"),
                       span)
    db.session.execute(COUNTED_SQL, {"since": since, "until": until})
    db.session.execute(QUERIES_SQL, {"since": since, "until": until, "keep": QUERY_KEEP,
                                     "top": QUERY_TOP})
    rows, codes = [], {}
    for row in delivery_stats(since, until):
        library_id = _by_code(row["library"], codes)
        rows += [(row["month"], library_id, "delivery_received", row["received"]),
                 (row["month"], library_id, "delivery_fulfilled", row["fulfilled"])]
    for row in reference_stats(since, until):
        if row["library"] == "ALL":
            continue
        library_id = None if row["library"] == REFERENCE_UNANSWERED else _by_code(
            row["library"], codes)
        rows += [(row["month"], library_id, "reference_questions", row["questions"]),
                 (row["month"], library_id, "reference_answered", row["answered"])]
    if rows:
        db.session.execute(text(
            "INSERT INTO usage_monthly (month, library_id, measure, n) "
            "VALUES (to_date(:month, 'YYYY-MM'), :library_id, :measure, :n)"),
            [{"month": m, "library_id": lib, "measure": measure, "n": n}
             for m, lib, measure, n in rows if n])
    seconds = time.perf_counter() - started
    mark = db.session.get(UsageRefresh, 1)
    if mark is None:
        mark = UsageRefresh(id=1, refreshed_at=clock.now(), seconds=seconds)
        db.session.add(mark)
    mark.refreshed_at, mark.seconds = clock.now(), seconds
    db.session.flush()
    return seconds


def months_until_now(first):
    """How many months from the one ``first`` falls in up to this month (at least 1)."""
    today = clock.local_today()
    return max(1, (today.year - first.year) * 12 + today.month - first.month + 1)


def refresh_from(first, progress=None):
    """Recompute every month from the one ``first`` falls in up to this month, month by month.

    ``progress(month)`` is told each month as it is done. Returns the number of months.
    """
    first = first.replace(day=1)
    months = months_until_now(first)
    month = first
    for _step in range(months):
        refresh(month, 1)
        if progress is not None:
            progress(month)
        month = _next_month(month)
    return months


def forget_session_keys():
    """Clear the session keys of events before the previous month; returns how many."""
    before = month_start(clock.first_of_month_back(2))
    return db.session.execute(text(
        "UPDATE usage_events SET session_key = NULL "
        "WHERE at < :before AND session_key IS NOT NULL"), {"before": before}).rowcount


def last_refresh():
    """When the roll-up was last recomputed (or None)."""
    mark = db.session.get(UsageRefresh, 1)
    return mark.refreshed_at if mark else None


@sweep_task
def refresh_usage_rollup():
    """Recompute the last three months' figures and clear past months' session keys.

    At most every ``REFRESH_EVERY``.
    """
    locked = db.session.execute(text(
        "SELECT pg_try_advisory_xact_lock(hashtext('usage_rollup'))")).scalar()
    if not locked:
        return 0
    done = last_refresh()
    if done is not None and done > clock.now() - REFRESH_EVERY:
        return 0
    refresh()
    forget_session_keys()
    return 1
