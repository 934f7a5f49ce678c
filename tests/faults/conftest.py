"""The fault-test rig (``tests.support.workers.FaultRig``), one per test."""
import pytest

from tests.support.workers import FaultRig


@pytest.fixture
def faults(app, tmp_path):
    """A private Redis, an SMTP server on a fixed port, and worker processes on demand."""
    rig = FaultRig(app, tmp_path)
    yield rig
    rig.close()
