"""Usage statistics' tests: the shared tables start empty within each test's transaction."""
import pytest
from sqlalchemy import delete

from jala.extensions import db
from jala.search.models import SearchLogEntry
from jala.usage.models import UsageEvent, UsageMonthly, UsageQueryMonthly, UsageRefresh


@pytest.fixture(autouse=True)
def only_this_tests_usage(request):
    """Browser tests and sweeps elsewhere commit usage, searches and a refresh mark; within a test's
    transaction (rolled back after it) the usage tables start empty, as on a new portal."""
    if "ctx" not in request.fixturenames:
        yield
        return
    request.getfixturevalue("ctx")
    for table in (UsageEvent, UsageMonthly, UsageQueryMonthly, UsageRefresh, SearchLogEntry):
        db.session.execute(delete(table))
    yield
