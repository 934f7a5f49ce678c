"""Reading a library's usage for its COUNTER reports, then applying ``jala.usage.counter``.

Events, searches and the records used; ``jala.usage.counter`` documents the mapping.
"""
from datetime import datetime, time, timedelta

from sqlalchemy import text

from jala import clock
from jala.extensions import db
from jala.stats import month_sql
from jala.usage import counter
from jala.usage.counter import DATA_TYPES, Event


def _span(req):
    since = datetime.combine(req.begin, time.min, tzinfo=clock.SHANGHAI)
    until = datetime.combine(counter.next_month(req.end), time.min, tzinfo=clock.SHANGHAI)
    return since, until


def load_events(library_id, since, until):
    """The library's readers' item events between two instants (oldest first)."""
    rows = db.session.execute(text(
        "SELECT at, kind, record_id, session_key FROM usage_events "
        "WHERE library_id = :library AND at >= :since AND at < :until "
        "AND kind = ANY(:kinds) AND record_id IS NOT NULL ORDER BY at, id"),
        {"library": library_id, "since": since, "until": until,
         "kinds": list(counter.INVESTIGATION_KINDS)})
    return [Event(*row) for row in rows]


def load_searches(library_id, since, until):
    """``{month: searches}`` of the library's readers on the search page (first pages)."""
    rows = db.session.execute(text(
        f"SELECT {month_sql('at')} AS month, count(*) FROM search_log "
        "WHERE library_id = :library AND at >= :since AND at < :until AND channel = 'page' "
        "AND query <> '' AND coalesce(filters->>'page', '1') = '1' GROUP BY 1"),
        {"library": library_id, "since": since, "until": until})
    return {month: n for month, n in rows}


def load_records(record_ids):
    """``{id: record fields}`` the reports need."""
    if not record_ids:
        return {}
    rows = db.session.execute(text(
        "SELECT id, title, publisher, type, year, isbn, issn, doi FROM records "
        "WHERE id = ANY(:ids)"), {"ids": list(record_ids)}).mappings()
    return {row["id"]: dict(row) for row in rows}


def _usage(library, req):
    since, until = _span(req)
    events = counter.filter_double_clicks(load_events(library.id, since, until))
    records = load_records({e.record_id for e in events})

    def tr_type(record_id):
        record = records.get(record_id)
        return DATA_TYPES.get(record["type"], DATA_TYPES["other"])[1] if record else None

    return counter.item_counts(events, tr_type), records, (since, until)


def _header(library, req):
    return counter.report_header(req, library.name_zh, library.code, clock.now())


def platform_report(library, args):
    """The library's PR for the request ``args`` (raises ``counter.SushiError``)."""
    req = counter.parse_report_request("pr", args, clock.local_today())
    counts, records, (since, until) = _usage(library, req)

    def pr_type(record_id):
        record = records.get(record_id)
        return DATA_TYPES.get(record["type"], DATA_TYPES["other"])[0] if record else "Other"

    searches = load_searches(library.id, since, until)
    return counter.build_pr(req, _header(library, req), searches, counts, pr_type)


def title_report(library, args):
    """The library's TR for the request ``args`` (raises ``counter.SushiError``)."""
    req = counter.parse_report_request("tr", args, clock.local_today())
    counts, records, _span_ = _usage(library, req)
    return counter.build_tr(req, _header(library, req), counts, records)


def months_available(library_id):
    """``(first, last)`` months (``YYYY-MM``) a report can cover.

    From the library's first event to the last whole month.
    """
    first = db.session.execute(text(
        "SELECT min(at) FROM usage_events WHERE library_id = :library"),
        {"library": library_id}).scalar()
    last = clock.local_today().replace(day=1)
    last = counter.month_key(last - timedelta(days=1))
    first = counter.local_month(first) if first else last
    return min(first, last), last
