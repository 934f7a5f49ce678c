import pytest

from tests.support.catalog import DEMO


@pytest.fixture
def marc_dir():
    """The MARC samples (from shared/data/marc, shipped with the demo data)."""
    return DEMO
