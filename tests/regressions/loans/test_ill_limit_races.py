"""Interlibrary loan: a lender's limit of open requests must hold when readers of different
libraries ask at once (the count was read with no lock that both racers take)."""
import pytest
from sqlalchemy import func, select

from jala.extensions import db
from jala.loans import ill
from jala.loans.models import IllRequest
from tests.support.factories import add_record, copy_at, make_user, set_setting
from tests.support.races import race, reload_user


@pytest.fixture
def app(private_app):
    """These tests commit, so they get a database of their own."""
    return private_app


def test_two_readers_cannot_push_a_lender_past_its_open_ill_limit(app):
    # jala/loans/ill.py request_loan: lock_reader() serialises one *reader*; the
    # 'loans.ill_open_per_library' count (line 89) is read with no lock on the lender, so
    # readers of different libraries asking at once all pass the check.
    with app.test_request_context("/?lang=en"):
        set_setting("loans.ill_open_per_library", 1)
        records = [add_record(f"rlr-limit-{i}", ["NCU"]) for i in range(3)]
        copies = [copy_at(r, "NCU").id for r in records]
        readers = [make_user(library=code).id for code in ("JXUFE", "JXAU", "ECJTU")]
        db.session.commit()
    race(app, *[lambda r=r, c=c: ill.request_loan(reload_user(r), c).id
                for r, c in zip(readers, copies, strict=True)])
    with app.app_context():
        open_at_ncu = db.session.execute(select(func.count()).select_from(IllRequest).where(
            IllRequest.status == "requested")).scalar_one()
    assert open_at_ncu <= 1
