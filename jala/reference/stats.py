"""Reference statistics per month: questions, answers, escalations, first-response time.

A question counts in the month it was asked (Beijing time). Its answering library is the home
library of the librarian who wrote the first answer. For each month there is one row for all
libraries together, one per answering library, and one for questions not answered yet.
"""
from sqlalchemy import text

from jala.extensions import db
from jala.stats import hours, month_sql

STATS_SQL = text(f"""
WITH q AS (
    SELECT {month_sql('q.created_at')} AS month,
           q.created_at, q.first_response_at, q.escalated_at,
           (SELECT m.library_id FROM reference_messages m
             WHERE m.question_id = q.id AND m.library_id IS NOT NULL
             ORDER BY m.id LIMIT 1) AS library_id
    FROM reference_questions q
    WHERE q.created_at >= :since AND q.created_at < :until
)
SELECT q.month, l.code AS library, GROUPING(l.code) AS all_libraries,
       count(*) AS questions,
       count(q.first_response_at) AS answered,
       count(q.escalated_at) AS escalated,
       percentile_cont(0.5) WITHIN GROUP (
           ORDER BY extract(epoch FROM q.first_response_at - q.created_at))
           FILTER (WHERE q.first_response_at IS NOT NULL) AS median_seconds
FROM q LEFT JOIN libraries l ON l.id = q.library_id
GROUP BY GROUPING SETS ((q.month), (q.month, l.code))
ORDER BY q.month, all_libraries DESC, l.code NULLS LAST
""")

ALL = "ALL"
NONE = "-"
COLUMNS = ("month", "library", "questions", "answered", "escalated",
           "median_first_response_hours")


def monthly_stats(since, until, library_code=None):
    """Rows for questions asked in ``[since, until)``.

    ``library`` is ALL, a library code, or '-' (not answered yet). With ``library_code``,
    only that answering library's rows.
    """
    rows = db.session.execute(STATS_SQL, {"since": since, "until": until}).mappings().all()
    result = []
    for row in rows:
        item = dict(row)
        item["library"] = ALL if item.pop("all_libraries") else (item["library"] or NONE)
        if library_code and item["library"] != library_code:
            continue
        item["median_first_response_hours"] = hours(item.pop("median_seconds"))
        result.append(item)
    return result
