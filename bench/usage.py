"""The alliance's statistics at the alliance's scale: a year of events, the roll-up, the dashboard.

Fills a scratch database with a year of use, all on the server (INSERT … SELECT over
generate_series, no Python loops): --searches search-log rows (default 10 M), --deliveries
delivery requests with 4 timeline events each and --ills interlibrary loans with 4 events each
(default 150 k + 100 k: 1 M delivery/ILL events), --union union loans and --views usage events
(record views, link clicks, sign-ins). Then times the roll-up: the whole year once, and the
sweeper's refresh (this and last month); then 30 requests of the alliance dashboard (and of a
library's), p50/p95 — the target is ≤ 500 ms p95.

Usage:  .venv/bin/python bench/usage.py [--searches 10000000] [--requests 30]
"""
import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import log, p50_p95_ms, scratch_portal, table  # noqa: E402
from sqlalchemy import text  # noqa: E402

from jala import clock  # noqa: E402
from jala.extensions import db  # noqa: E402
from jala.loans import cards  # noqa: E402
from jala.usage.rollup import refresh  # noqa: E402
from tests.support.factories import add_record, make_user  # noqa: E402
from tests.support.web import login  # noqa: E402

# a moment in the last year, more of them recently (the alliance grows)
AT = "now() - (365 * (1 - sqrt(random()))) * interval '1 day'"
LIBRARY = "(SELECT array_agg(id ORDER BY id) FROM libraries)[1 + (random() * 14)::int]"

FILL = {
    "search_log": f"""
        INSERT INTO search_log (at, query, filters, hits, total_relation, ms, channel, library_id)
        SELECT {AT}, 'q' || (power(random(), 3) * 50000)::int, '{{}}',
               CASE WHEN random() < 0.12 THEN 0 ELSE (random() * 500)::int END, 'eq',
               (random() * 300)::int, 'page',
               CASE WHEN random() < 0.3 THEN NULL ELSE lib[1 + (g % 15)] END
          FROM generate_series(1, :n) g,
               (SELECT array_agg(id ORDER BY id) AS lib FROM libraries) l""",
    "usage_events": f"""
        INSERT INTO usage_events (at, kind, record_id, library_id, session_key)
        SELECT {AT}, (ARRAY['record_view', 'record_view', 'record_view', 'link_click',
                            'sign_in'])[1 + g % 5], :record, lib[1 + (g % 15)], md5(g::text)
          FROM generate_series(1, :n) g,
               (SELECT array_agg(id ORDER BY id) AS lib FROM libraries) l""",
    "delivery_requests": """
        INSERT INTO delivery_requests (reader_id, kind, title, email, status, rota, rota_position,
                                       library_id, routed_at, created_at, finished_at)
        SELECT :reader, 'article', 'Article ' || g, 'r@example.edu.cn',
               CASE WHEN g % 5 = 0 THEN 'unfilled' ELSE 'fulfilled' END,
               ARRAY[lib[1 + g % 15]], 0, lib[1 + g % 15], t, t, t + interval '1 day'
          FROM (SELECT g, now() - (365 * (1 - sqrt(random()))) * interval '1 day' AS t
                  FROM generate_series(1, :n) g) s,
               (SELECT array_agg(id ORDER BY id) AS lib FROM libraries) l""",
    "delivery_events": """
        INSERT INTO delivery_events (request_id, at, kind, library_id)
        SELECT r.id, r.created_at + step.after, step.kind, r.library_id
          FROM delivery_requests r CROSS JOIN (VALUES
               ('submitted', interval '0'), ('routed', interval '1 second'),
               ('accepted', interval '2 hours'),
               ('fulfilled', interval '20 hours')) AS step(kind, after)
         WHERE step.kind <> 'fulfilled' OR r.status = 'fulfilled'""",
    "ill_requests": """
        INSERT INTO ill_requests (reader_id, record_id, holding_id, lending_library_id,
                                  home_library_id, status, renewals, overdue_notices, created_at,
                                  updated_at)
        SELECT :reader, :record, :holding, lib[1 + g % 15], lib[1 + (g + 1 + g % 13) % 15],
               'closed', 0, 0, t, t
          FROM (SELECT g, now() - (365 * (1 - sqrt(random()))) * interval '1 day' AS t
                  FROM generate_series(1, :n) g) s,
               (SELECT array_agg(id ORDER BY id) AS lib FROM libraries) l""",
    "ill_events": """
        INSERT INTO ill_events (request_id, at, from_status, to_status)
        SELECT r.id, r.created_at + step.after, step.before, step.after_status
          FROM ill_requests r CROSS JOIN (VALUES
               (NULL, 'requested', interval '0'), ('requested', 'approved', interval '3 hours'),
               ('approved', 'shipped', interval '1 day'),
               ('shipped', 'received', interval '3 days')) AS step(before, after_status, after)""",
    "union_loans": f"""
        INSERT INTO union_loans (reader_id, card_id, item_barcode, lending_library_id, status,
                                 borrowed_at, due_on, overdue_notices)
        SELECT :reader, :card, 'B' || g, lib[1 + g % 15], 'closed', {AT}, current_date, 0
          FROM generate_series(1, :n) g,
               (SELECT array_agg(id ORDER BY id) AS lib FROM libraries) l""",
}


def timed(label, fn, rows):
    started = time.perf_counter()
    fn()
    took = time.perf_counter() - started
    rows.append((label, took))
    log(f"{label}: {took:.1f} s")
    return took


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--searches", type=int, default=10_000_000)
    parser.add_argument("--views", type=int, default=2_000_000)
    parser.add_argument("--deliveries", type=int, default=150_000)
    parser.add_argument("--ills", type=int, default=100_000)
    parser.add_argument("--union", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    with scratch_portal("jala_bench_usage") as (app, _workdir):
        steps = []
        with app.test_request_context("/"):
            director = make_user(library="NCU", roles=("committee_member",))
            librarian = make_user(library="NCU", roles=("librarian",))
            reader = make_user(library="JXUFE")
            record = add_record("bench-usage", ["NCU"], title="统计基准")
            holding = db.session.execute(text(
                "SELECT id FROM holdings WHERE record_id = :r"), {"r": record.id}).scalar()
            card = cards.approve_card(make_user(library="JXUFE", roles=("librarian",)),
                                      cards.apply_for_card(reader).id)
            params = {"reader": reader.id, "record": record.id, "holding": holding,
                      "card": card.id}
            db.session.commit()
            sizes = {"search_log": args.searches, "usage_events": args.views,
                     "delivery_requests": args.deliveries, "ill_requests": args.ills,
                     "union_loans": args.union}
            for name, sql in FILL.items():
                timed(f"fill {name}", lambda sql=sql, name=name: db.session.execute(
                    text(sql), {**params, "n": sizes.get(name, 0)}), steps)
                db.session.commit()
            timed("VACUUM ANALYZE", lambda: _vacuum(app), steps)
            counts = {name: db.session.execute(text(f"SELECT count(*) FROM {name}")).scalar()
                      for name in FILL}
            timed("roll-up: the whole year (13 months)",
                  lambda: refresh(clock.first_of_month_back(13), 13), steps)
            db.session.commit()
            timed("roll-up: the sweeper's refresh (2 months)", refresh, steps)
            db.session.commit()
            rollup_rows = db.session.execute(text("SELECT count(*) FROM usage_monthly")).scalar()
            query_rows = db.session.execute(text(
                "SELECT count(*) FROM usage_query_monthly")).scalar()
            director_id, librarian_id = director.id, librarian.id
        results = []
        with app.app_context():
            from jala.accounts.models import User
            clients = {}
            for user_id in (director_id, librarian_id):
                clients[user_id] = app.test_client()
                response = login(clients[user_id], db.session.get(User, user_id))
                assert response.status_code == 303
            for label, user_id, path in (
                    ("alliance dashboard, 12 months", director_id, "/stats"),
                    ("alliance dashboard, 60 months by year", director_id,
                     "/stats?months=60&by=year"),
                    ("library dashboard (NCU), 12 months", librarian_id, "/libraries/NCU/stats"),
                    ("alliance XLSX export, 12 months", director_id, "/stats.xlsx")):
                client = clients[user_id]
                assert client.get(path).status_code == 200  # warm
                seconds = []
                for _ in range(args.requests):
                    started = time.perf_counter()
                    response = client.get(path)
                    seconds.append(time.perf_counter() - started)
                    assert response.status_code == 200
                p50, p95 = p50_p95_ms(seconds)
                results.append((label, p50, p95))
        print(table(("rows", "count"), [(k, f"{v:,}") for k, v in counts.items()]
                    + [("usage_monthly", f"{rollup_rows:,}"),
                       ("usage_query_monthly", f"{query_rows:,}")], "Filled"))
        print()
        print(table(("step", "seconds"), steps, "Filling and rolling up"))
        print()
        print(table(("request", "p50 ms", "p95 ms"), results,
                    f"{args.requests} requests each (target: alliance p95 ≤ 500 ms)"))


def _vacuum(app):
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))


if __name__ == "__main__":
    main()
