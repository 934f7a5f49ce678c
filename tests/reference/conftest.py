"""Reference fixtures: English messages, a reader, the reference working group."""
import pytest

from tests.support.factories import make_user
from tests.support.reference import join_group


@pytest.fixture
def language():
    """Service tests here read the rules' messages in English."""
    return "en"


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
