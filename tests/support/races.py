"""Races between real database connections (for tests on ``private_app``, which commit).

Each step runs in a thread of its own, with its own app context and session, so it takes ids,
not objects, and loads what it needs (``reload_user``).
"""
import threading

from jala.accounts.models import User
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


def committed(app, step):
    """Run ``step()`` in an app context of its own and commit what it did; returns its result."""
    with app.test_request_context("/?lang=en"):
        try:
            result = step()
            db.session.commit()
            return result
        finally:
            db.session.remove()


def in_thread(app, preload, then):
    """Run ``preload()`` then, once released, ``then(preloaded)`` in a thread of its own;
    returns (loaded, go, thread, outcome).

    The way to pause a request between what its view loads and what its service then locks:
    wait for ``loaded``, commit the other request, set ``go``, join the thread, and read
    ``outcome["value"]`` (the result, or the RuleViolation raised).
    """
    loaded, go, outcome = threading.Event(), threading.Event(), {}

    def run():
        with app.test_request_context("/?lang=en"):
            try:
                preloaded = preload()
                loaded.set()
                go.wait(20)
                outcome["value"] = then(preloaded)
                db.session.commit()
            except RuleViolation as exc:
                db.session.rollback()
                outcome["value"] = exc
            finally:
                loaded.set()
                db.session.remove()

    thread = threading.Thread(target=run)
    thread.start()
    return loaded, go, thread, outcome


def reload_user(user_id):
    """The user with this id, loaded in the current thread's session."""
    return db.session.get(User, user_id)
