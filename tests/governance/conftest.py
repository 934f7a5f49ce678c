"""Governance fixtures: English messages, the seated committee."""
import pytest

from tests.support.governance import seated_committee


@pytest.fixture
def ctx(app, db_session):
    """Governance rules' messages in English."""
    with app.test_request_context("/?lang=en"):
        yield app


@pytest.fixture
def committee(ctx):
    """A director at each member library, NCU's in the chair."""
    return seated_committee()
