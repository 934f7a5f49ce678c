import io
from datetime import timedelta

import pytest

from jala import clock
from jala.extensions import db
from jala.governance import meetings
from jala.governance.models import CommitteeOffice
from tests.support.factories import make_user

PDF = b"%PDF-1.4\n% signed and sealed\n%%EOF\n"
CODES = ("JXUFE", "ECJTU", "JXAU", "NCHU", "ECUT", "JXUTCM", "JXSTNU", "NCU", "JJU", "NIT",
         "SRNU", "JDZU", "YCU", "JXEMC", "JCU")


class Upload:
    def __init__(self, data=PDF, filename="letter.pdf"):
        self.stream = io.BytesIO(data)
        self.filename = filename


@pytest.fixture
def ctx(app, db_session):
    """Governance rules' messages in English."""
    with app.test_request_context("/?lang=en"):
        yield app


def seat_committee(codes=CODES):
    """A committee member (director) at each library, by code."""
    return {code: make_user(library=code, roles=("committee_member",), name=f"Director {code}")
            for code in codes}


def make_chair(user):
    db.session.add(CommitteeOffice(office="chair", user_id=user.id,
                                   library_id=user.home_library_id, started_at=clock.now()))
    db.session.flush()


def convened_meeting(chair, **kwargs):
    return meetings.convene_meeting(chair, title=kwargs.get("title", "Annual meeting"),
                                    starts_at=clock.now() + timedelta(minutes=30),
                                    place=kwargs.get("place", "南昌大学图书馆"))


@pytest.fixture
def committee(ctx):
    members = seat_committee()
    make_chair(members["NCU"])
    return members
