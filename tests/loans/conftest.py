"""Fixtures for loans: English messages, readers and librarians, records with holdings."""
import pytest
from sqlalchemy import select

from jala.catalog.models import Holding
from jala.extensions import db
from jala.settings import Setting
from tests.delivery.conftest import add_record
from tests.support.factories import make_user

__all__ = ["add_record", "copy_at", "set_setting"]


@pytest.fixture
def ctx(app, db_session):
    """Service tests here read the rules' messages in English."""
    with app.test_request_context("/?lang=en"):
        yield app


@pytest.fixture
def reader(ctx):
    """A verified reader of JXUFE."""
    return make_user(library="JXUFE")


@pytest.fixture
def staff(ctx):
    """One librarian at each of a few libraries, by code."""
    return {code: make_user(library=code, roles=("librarian",))
            for code in ("JXUFE", "NCU", "ECJTU", "JXAU")}


def copy_at(record, code):
    """The record's holding at the library with ``code``."""
    return next(h for h in db.session.execute(
        select(Holding).where(Holding.record_id == record.id)).scalars()
        if h.library.code == code)


def set_setting(key, value):
    """Change a setting inside the test's transaction (no admin, no audit)."""
    row = db.session.get(Setting, key)
    if row is None:
        db.session.add(Setting(key=key, value=value))
    else:
        row.value = value
    db.session.flush()
