"""The campus sign-on tests' CAS servers (django-cas-server, started once per run)."""
import pytest

from tests.support.cas_server import running_cas_server


@pytest.fixture(scope="session")
def cas_server(tmp_path_factory):
    """django-cas-server for the whole run; tickets valid 60 s as in production."""
    with running_cas_server(tmp_path_factory.mktemp("cas")) as server:
        yield server


@pytest.fixture(scope="session")
def short_ticket_cas_server(tmp_path_factory):
    """A second django-cas-server whose tickets are valid for one second."""
    with running_cas_server(tmp_path_factory.mktemp("cas_short"), ticket_validity=1) as server:
        yield server
