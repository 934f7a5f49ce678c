"""A library's purchase suggestions per month: suggested, ordered, declined, available.

Each figure counts what happened in the month (Beijing time): suggestions made, orders
placed, suggestions declined, titles made available.
"""
from sqlalchemy import text

from jala.extensions import db
from jala.stats import month_sql

STATS_SQL = text(f"""
WITH happened AS (
    SELECT created_at AS at, 'suggested' AS what FROM purchase_suggestions
     WHERE library_id = :library_id
    UNION ALL
    SELECT ordered_at, 'ordered' FROM purchase_suggestions
     WHERE library_id = :library_id AND ordered_at IS NOT NULL
    UNION ALL
    SELECT closed_at, status FROM purchase_suggestions
     WHERE library_id = :library_id AND status IN ('declined', 'available')
)
SELECT {month_sql('at')} AS month,
       count(*) FILTER (WHERE what = 'suggested') AS suggested,
       count(*) FILTER (WHERE what = 'ordered') AS ordered,
       count(*) FILTER (WHERE what = 'declined') AS declined,
       count(*) FILTER (WHERE what = 'available') AS available
FROM happened
WHERE at >= :since AND at < :until
GROUP BY month
ORDER BY month
""")

COLUMNS = ("month", "suggested", "ordered", "declined", "available")


def monthly_stats(library_id, since, until):
    """Rows of ``COLUMNS`` for one library, for what happened in ``[since, until)``."""
    return [dict(row) for row in db.session.execute(
        STATS_SQL, {"library_id": library_id, "since": since, "until": until}).mappings()]
