"""Fixtures of the regression tests (each test guards a defect a review found): the rules'
messages in English, like the domain suites; a reader; the seated committee."""
import pytest

from tests.support.factories import make_user
from tests.support.governance import seated_committee


@pytest.fixture
def ctx(app, db_session):
    """Rule messages in English."""
    with app.test_request_context("/?lang=en"):
        yield app


@pytest.fixture
def reader(ctx):
    return make_user(library="JXUFE")


@pytest.fixture
def committee(ctx):
    """A director at each member library, NCU's in the chair."""
    return seated_committee()
