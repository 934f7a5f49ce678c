"""Fixtures: one app and one migrated database per run; a rolled-back transaction per test."""
import pytest
from sqlalchemy.orm import scoped_session, sessionmaker

from jala import clock
from jala.extensions import db, limiter
from tests.support.app import make_app, migrate
from tests.support.factories import make_user
from tests.support.governance import seated_committee
from tests.support.services import CatchingSMTP, ScratchPostgres, ScratchRedis


@pytest.fixture(scope="session")
def postgres():
    return ScratchPostgres()


@pytest.fixture(scope="session")
def redis_service():
    service = ScratchRedis()
    yield service
    service.close()


@pytest.fixture(scope="session")
def smtp():
    server = CatchingSMTP()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def database(postgres):
    url, name = postgres.create()
    migrate(url)
    yield url
    postgres.drop(name)


@pytest.fixture(scope="session")
def app(database, redis_service, smtp, tmp_path_factory):
    app = make_app(database, redis_service, smtp, tmp_path_factory.mktemp("instance"))
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def private_app(postgres, redis_service, smtp, tmp_path):
    """An app on a database of its own, for tests that commit (races between connections)."""
    url, name = postgres.create("jala_private")
    migrate(url)
    app = make_app(url, redis_service, smtp, tmp_path / "instance")
    yield app
    with app.app_context():
        db.engine.dispose()
    postgres.drop(name)


@pytest.fixture(autouse=True)
def _fresh_clock_and_limits(request):
    clock.reset()
    yield
    clock.reset()


@pytest.fixture
def db_session(app):
    """Each test runs in a transaction that is rolled back at the end."""
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        factory = sessionmaker(bind=connection, join_transaction_mode="create_savepoint")
        session = scoped_session(factory, scopefunc=db.session.registry.scopefunc)
        original = db.session
        db.session = session
        try:
            yield session
        finally:
            session.remove()
            db.session = original
            outer.rollback()
            connection.close()


@pytest.fixture
def language():
    """The UI language ``ctx`` asks for (None: the portal's own, Simplified Chinese).

    A folder's conftest.py overrides it where its service tests read the rules' messages in
    English.
    """
    return None


@pytest.fixture
def ctx(app, db_session, language):
    """An app context with a request-free transaction (service tests)."""
    with app.test_request_context(f"/?lang={language}" if language else "/"):
        yield app


@pytest.fixture
def reader(ctx):
    """A verified reader of JXUFE."""
    return make_user(library="JXUFE")


@pytest.fixture
def committee(ctx):
    """A director at each member library, NCU's in the chair."""
    return seated_committee()


@pytest.fixture
def client(app, db_session, redis_service, smtp):
    """A test client whose requests share the test's transaction."""
    redis_service.clear()
    limiter.reset()
    smtp.clear()
    return app.test_client()

