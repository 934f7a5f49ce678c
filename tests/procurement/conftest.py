"""Purchase suggestion fixtures: English messages, a JXUFE reader and librarians."""
import pytest

from jala.procurement import services as procurement
from tests.support.factories import make_user


@pytest.fixture
def language():
    """Service tests here read the rules' messages in English."""
    return "en"


@pytest.fixture
def reader(ctx):
    return make_user(library="JXUFE", name="李小红", email="li.xiaohong@example.edu.cn")


@pytest.fixture
def staff(ctx):
    """A librarian of the reader's library (JXUFE), and one of another library (NCU)."""
    return {code: make_user(library=code, roles=("librarian",), name=f"Librarian {code}")
            for code in ("JXUFE", "NCU")}


@pytest.fixture
def suggestion(reader):
    """An open suggestion of the JXUFE reader."""
    return procurement.suggest_purchase(reader, title="江西通史", authors="钟起煌",
                                        publisher="江西人民出版社", year=2008,
                                        note="for my course on Jiangxi history")
