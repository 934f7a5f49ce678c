import pytest

from tests.support.factories import make_portal_admin, make_user


@pytest.fixture
def language():
    """The rules' messages in English."""
    return "en"


@pytest.fixture
def cataloguer(ctx):
    """A librarian of JXUFE."""
    return make_user(library="JXUFE", roles=("librarian",))


@pytest.fixture
def centre(ctx):
    """A portal admin at the chair library: the union cataloguing centre."""
    return make_portal_admin()


def book_rows(title="联合编目测试图书", isbn="9787302511847", clc="TP311.13"):
    """A valid MARC 21 book record as editor rows."""
    return [["008", " ", " ", "261201s2026    cc            000 0 chi d"],
            ["020", " ", " ", f"$a{isbn}"],
            ["100", "1", " ", "$a王五"],
            ["245", "1", "0", f"$a{title}$c王五著"],
            ["264", " ", "1", "$a北京$b清华大学出版社$c2026"],
            ["300", " ", " ", "$a320页"],
            ["650", " ", "7", "$a软件工程$2cct"],
            ["084", " ", " ", f"$a{clc}$2clc"]]
