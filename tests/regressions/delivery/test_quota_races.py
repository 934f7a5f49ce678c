"""Document delivery: the daily quota and the weekly share of a book must hold when one reader
submits twice at once (races between real connections; the rows are committed for real).

submit_request checks the daily quota and the weekly share of a book with a plain COUNT/SUM
and then inserts: nothing serialises two submissions of the same reader.
"""
import time

import pytest
from sqlalchemy import func, select

from jala.delivery import services as delivery
from jala.delivery.models import DeliveryRequest
from jala.errors import RuleViolation
from jala.extensions import db
from jala.settings import get_setting
from tests.support.factories import add_record, make_user
from tests.support.races import race, reload_user


@pytest.fixture
def app(private_app):
    """These tests commit, so they get a database of their own."""
    return private_app


@pytest.fixture
def slow_routing(monkeypatch):
    """Widen the check-then-insert window (as a slow rota query would) so the race is
    deterministic: build_rota runs after the checks and before the INSERT."""
    original = delivery.build_rota

    def slow(**kwargs):
        rota = original(**kwargs)
        time.sleep(0.3)
        return rota

    monkeypatch.setattr(delivery, "build_rota", slow)


def _count(app, reader_id):
    with app.test_request_context("/?lang=en"):
        try:
            return db.session.execute(select(func.count()).select_from(DeliveryRequest).where(
                DeliveryRequest.reader_id == reader_id)).scalar_one()
        finally:
            db.session.remove()


def test_two_submissions_at_once_do_not_exceed_the_daily_quota(app, slow_routing):
    with app.test_request_context("/?lang=en"):
        record = add_record("rv-quota", ["NCU"], page_count=5000)
        reader = make_user(library="JXUFE")
        limit = get_setting("delivery.requests_per_day")
        for n in range(limit - 1):
            delivery.submit_request(reader, kind="book_part", title=record.title,
                                    record_id=record.id, pages=f"{n + 1}")
        db.session.commit()
        reader_id, record_id = reader.id, record.id

    def submit(page):
        return lambda: delivery.submit_request(
            reload_user(reader_id), kind="book_part", title="x",
            record_id=record_id, pages=str(page))

    race(app, submit(100), submit(200))
    assert _count(app, reader_id) <= limit


def test_two_submissions_at_once_do_not_exceed_the_weekly_share_of_a_book(app, slow_routing):
    with app.test_request_context("/?lang=en"):
        record = add_record("rv-share", ["NCU"], page_count=400)  # 20 %: 80 pages a week
        reader = make_user(library="JXUFE")
        db.session.commit()
        reader_id, record_id = reader.id, record.id

    def submit(pages):
        return lambda: delivery.submit_request(
            reload_user(reader_id), kind="book_part", title="x", record_id=record_id,
            pages=pages)

    outcomes = race(app, submit("1-50"), submit("51-100"))
    assert any(isinstance(o, RuleViolation) for o in outcomes), \
        "both requests were saved: 100 pages of a 400-page book in one week"
