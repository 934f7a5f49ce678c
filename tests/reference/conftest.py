import io

import pytest

from jala import clock
from jala.extensions import db
from jala.governance.models import WorkingGroupMember
from tests.support.factories import make_user

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
# an 8×8 PNG, blue
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000080000000808020000004b6d29dc0000001149444154789c"
    "63e08eedc78a188696040000303dc17023a97b0000000049454e44ae426082")


class Upload:
    """What Flask hands a view for an uploaded file (a stream and a name)."""

    def __init__(self, data, filename="question.pdf"):
        self.stream = io.BytesIO(data)
        self.filename = filename


def join_group(user, lead=False):
    """Put ``user`` into the reference working group."""
    member = WorkingGroupMember(group="reference", user_id=user.id, is_lead=lead,
                                added_at=clock.now())
    db.session.add(member)
    db.session.flush()
    return member


@pytest.fixture
def ctx(app, db_session):
    """Service tests here read the rules' messages in English."""
    with app.test_request_context("/?lang=en"):
        yield app


@pytest.fixture
def reader(ctx):
    return make_user(library="JXUFE", name="李小红")


@pytest.fixture
def group(ctx):
    """Reference librarians at NCU (two, one the lead) and ECJTU, and a librarian outside."""
    ncu = make_user(library="NCU", roles=("librarian",), name="NCU Librarian")
    ecjtu = make_user(library="ECJTU", roles=("librarian",), name="ECJTU Librarian")
    lead = make_user(library="NCU", roles=("librarian",), name="Group Lead")
    join_group(ncu)
    join_group(ecjtu)
    join_group(lead, lead=True)
    outsider = make_user(library="JXAU", roles=("librarian",), name="Not In The Group")
    return {"ncu": ncu, "ecjtu": ecjtu, "lead": lead, "outsider": outsider}
