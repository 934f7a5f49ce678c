"""Races between real database connections (for tests on ``private_app``, which commit)."""
import threading

from jala.errors import RuleViolation
from jala.extensions import db


def race(app, *steps):
    """Run each step in its own thread, app context and connection, all released at once.

    Returns what each step returned, or the RuleViolation it raised (its transaction rolled
    back); a step that succeeds is committed.
    """
    barrier = threading.Barrier(len(steps))
    outcomes = [None] * len(steps)

    def run(position, step):
        with app.test_request_context("/?lang=en"):
            barrier.wait()
            try:
                outcomes[position] = step()
                db.session.commit()
            except RuleViolation as exc:
                db.session.rollback()
                outcomes[position] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, s)) for i, s in enumerate(steps)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return outcomes
