"""Reading fixtures: English messages, a record with holdings, staff."""
import pytest

from tests.support.factories import add_record, make_portal_admin, make_user


@pytest.fixture
def language():
    """Service tests here read the rules' messages in English."""
    return "en"


@pytest.fixture
def book(ctx):
    """A book held by NCU and ECJTU."""
    return add_record("reading-1", ["NCU", "ECJTU"], title="赣江流域水文志", year=2015,
                      authors=["水文研究组"], publisher="江西人民出版社", place="南昌")


@pytest.fixture
def ncu_librarian(ctx):
    return make_user(library="NCU", roles=("librarian",))


@pytest.fixture
def portal_admin(ctx):
    return make_portal_admin()
