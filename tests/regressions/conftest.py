"""The regression tests (each guards a defect a review found) read the rules' messages in
English, like the domain suites."""
import pytest


@pytest.fixture
def language():
    """Rule messages in English."""
    return "en"
