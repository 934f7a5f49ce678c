"""Fixtures for the review's proof tests (English messages, like the domain suites)."""
import pytest

from jala import clock
from jala.extensions import db
from jala.governance.models import WorkingGroupMember


@pytest.fixture
def ctx(app, db_session):
    """Service tests read the rules' messages in English."""
    with app.test_request_context("/?lang=en"):
        yield app


def join_reference_group(user, lead=False):
    member = WorkingGroupMember(group="reference", user_id=user.id, is_lead=lead,
                                added_at=clock.now())
    db.session.add(member)
    db.session.flush()
    return member
