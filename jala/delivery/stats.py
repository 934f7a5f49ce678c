"""Delivery statistics per library and month, from the request timelines."""
from sqlalchemy import text

from jala.extensions import db
from jala.stats import hours, month_sql

# Received: routed to the library. Fulfilled / passed on / refused / timed out: what the
# library did with them. Turnaround: from routing to that library until it sent the document.
STATS_SQL = text(f"""
WITH routed AS (
    SELECT e.request_id, e.library_id, e.at,
           lead(e.at) OVER (PARTITION BY e.request_id ORDER BY e.id) AS next_routed_at
    FROM delivery_events e WHERE e.kind = 'routed'
),
outcome AS (
    SELECT r.library_id, r.at AS routed_at,
           (SELECT o.kind FROM delivery_events o
             WHERE o.request_id = r.request_id AND o.library_id = r.library_id
               AND o.kind IN ('fulfilled', 'passed', 'refused', 'timed_out')
               AND o.at >= r.at AND (r.next_routed_at IS NULL OR o.at <= r.next_routed_at)
             ORDER BY o.id LIMIT 1) AS kind,
           (SELECT o.at FROM delivery_events o
             WHERE o.request_id = r.request_id AND o.library_id = r.library_id
               AND o.kind = 'fulfilled' AND o.at >= r.at
             ORDER BY o.id LIMIT 1) AS fulfilled_at
    FROM routed r
    WHERE r.at >= :since AND r.at < :until
      AND (CAST(:library_id AS integer) IS NULL OR r.library_id = :library_id)
)
SELECT l.code AS library,
       {month_sql('o.routed_at')} AS month,
       count(*) AS received,
       count(*) FILTER (WHERE o.kind = 'fulfilled') AS fulfilled,
       count(*) FILTER (WHERE o.kind IN ('passed', 'refused')) AS rejected,
       count(*) FILTER (WHERE o.kind = 'timed_out') AS timed_out,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM o.fulfilled_at - o.routed_at))
           FILTER (WHERE o.kind = 'fulfilled') AS median_seconds
FROM outcome o JOIN libraries l ON l.id = o.library_id
GROUP BY l.code, month
ORDER BY month, l.code
""")


def monthly_stats(since, until, library_id=None):
    """Per library and month, for requests routed in ``[since, until)``.

    Rows: library, month, received, fulfilled, rejected, timed_out, fill_rate, median_hours.
    """
    rows = db.session.execute(STATS_SQL, {"since": since, "until": until,
                                          "library_id": library_id}).mappings().all()
    result = []
    for row in rows:
        item = dict(row)
        item["fill_rate"] = round(item["fulfilled"] / item["received"], 3) if item["received"] \
            else None
        item["median_hours"] = hours(item.pop("median_seconds"))
        result.append(item)
    return result


COLUMNS = ("library", "month", "received", "fulfilled", "rejected", "timed_out", "fill_rate",
           "median_hours")
