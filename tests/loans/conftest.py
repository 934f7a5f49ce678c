"""Fixtures for loans: English messages, readers and librarians."""
import pytest

from tests.support.factories import make_user


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
