"""Governance: the rules' messages in English."""
import pytest


@pytest.fixture
def language():
    """Governance rules' messages in English."""
    return "en"
