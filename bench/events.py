"""Event sign-up under a rush: seats, the waiting list and cancellations, many readers at once.

Creates an event of --seats seats on a scratch database, then --readers verified readers sign
up at the same time from --threads threads (each its own database session and transaction,
as concurrent requests would be), then --cancel of the seated readers give their seat up at
once (each cancellation moves the first waiting reader up). Checks that exactly --seats
readers hold a seat and that the waiting list kept its order, and prints p50/p95 of one
sign-up and one cancellation (the service call and its commit) and the rate.

Usage:  .venv/bin/python bench/events.py [--readers 400] [--seats 100] [--threads 8]
"""
import argparse
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import p50_p95_ms, scratch_portal  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from jala import clock  # noqa: E402
from jala.accounts.models import User  # noqa: E402
from jala.community.events import services as events  # noqa: E402
from jala.community.events.models import EventRegistration  # noqa: E402
from jala.community.events.signups import cancel_registration, sign_up  # noqa: E402
from jala.extensions import db  # noqa: E402
from tests.support.factories import library_id, make_user  # noqa: E402


def timed(app, step):
    """Run ``step()`` in its own app context and transaction; the seconds it took."""
    with app.app_context():
        started = time.perf_counter()
        step()
        db.session.commit()
        took = time.perf_counter() - started
        db.session.remove()
        return took


def rush(app, steps, threads):
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        seconds = list(pool.map(lambda step: timed(app, step), steps))
    return seconds, time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--readers", type=int, default=400)
    parser.add_argument("--seats", type=int, default=100)
    parser.add_argument("--cancel", type=int, default=50)
    parser.add_argument("--threads", type=int, default=8)  # within the pool's 5 + 10
    args = parser.parse_args()
    with scratch_portal("jala_bench_events") as (app, _workdir):
        with app.app_context():
            organiser = make_user(library="NCU", roles=("librarian",))
            starts = clock.now() + timedelta(days=3)
            event_id = events.create_event(
                organiser, library_id=library_id("NCU"), title="百家讲坛", kind="lecture",
                starts_at=starts, ends_at=starts + timedelta(hours=2), place="报告厅",
                capacity=args.seats, audience="members").id
            readers = [make_user(library="JXUFE").id for _ in range(args.readers)]
            db.session.commit()

        def signing_up(user_id):
            return lambda: sign_up(db.session.get(User, user_id), event_id)
        signed, signed_wall = rush(app, [signing_up(u) for u in readers], args.threads)

        with app.app_context():
            seated = db.session.execute(
                select(EventRegistration.user_id, EventRegistration.id)
                .where(EventRegistration.event_id == event_id,
                       EventRegistration.status == "confirmed")
                .order_by(EventRegistration.id).limit(args.cancel)).all()
            first_waiting = db.session.execute(
                select(EventRegistration.user_id).where(
                    EventRegistration.event_id == event_id,
                    EventRegistration.status == "waiting")
                .order_by(EventRegistration.queued_at, EventRegistration.id)
                .limit(args.cancel)).scalars().all()

        def cancelling(user_id, registration_id):
            return lambda: cancel_registration(db.session.get(User, user_id), registration_id)
        cancelled, cancelled_wall = rush(app, [cancelling(u, r) for u, r in seated],
                                         args.threads)

        with app.app_context():
            counts = dict(db.session.execute(
                select(EventRegistration.status, func.count())
                .where(EventRegistration.event_id == event_id)
                .group_by(EventRegistration.status)).all())
            moved_up = set(db.session.execute(
                select(EventRegistration.user_id).where(
                    EventRegistration.event_id == event_id,
                    EventRegistration.status == "confirmed",
                    EventRegistration.user_id.in_(first_waiting))).scalars())
        print(f"readers {args.readers}, seats {args.seats}, threads {args.threads}")
        for label, seconds, wall in (("sign-up", signed, signed_wall),
                                     ("cancel (moves one up)", cancelled, cancelled_wall)):
            p50, p95 = p50_p95_ms(seconds)
            print(f"{label:24} n={len(seconds):4}  p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  "
                  f"{len(seconds) / wall:6.0f} /s")
        print(f"after: seats taken {counts.get('confirmed', 0)} (of {args.seats}), waiting "
              f"{counts.get('waiting', 0)}, cancelled {counts.get('cancelled', 0)}; "
              f"the first {len(first_waiting)} waiting moved up: "
              f"{'yes' if moved_up == set(first_waiting) else 'NO'}")


if __name__ == "__main__":
    main()
