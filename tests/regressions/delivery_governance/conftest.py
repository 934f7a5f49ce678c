"""Fixtures for the review's proof tests (each test here FAILS while its defect exists)."""
import pytest

from tests.support.factories import make_user


@pytest.fixture
def ctx(app, db_session):
    """Rule messages in English."""
    with app.test_request_context("/?lang=en"):
        yield app


@pytest.fixture
def reader(ctx):
    return make_user(library="JXUFE")
