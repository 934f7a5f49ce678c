import pytest

from tests.support.factories import make_user


@pytest.fixture
def language():
    """Service tests here read the rules' messages in English."""
    return "en"


@pytest.fixture
def librarians(ctx):
    """One librarian at each of a few libraries, by code."""
    return {code: make_user(library=code, roles=("librarian",))
            for code in ("NCU", "ECJTU", "JXAU", "JXUFE")}
