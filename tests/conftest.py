"""Fixtures: one app and one migrated database per run; a rolled-back transaction per test."""
import re

import pytest
from flask import g, request_started
from sqlalchemy.orm import scoped_session, sessionmaker

from jala import clock, create_app
from jala.extensions import db, limiter
from tests.support.services import CatchingSMTP, ScratchPostgres, ScratchRedis

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"|"X-CSRFToken": "([^"]+)"')


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


def migrate(database_url, revision="head", direction="upgrade"):
    """Run alembic on a database URL."""
    from alembic import command
    from sqlalchemy import create_engine

    from jala.cli import alembic_config

    engine = create_engine(database_url)
    with engine.begin() as conn:
        getattr(command, direction)(alembic_config(conn), revision)
    engine.dispose()


@pytest.fixture(scope="session")
def database(postgres):
    url, name = postgres.create()
    migrate(url)
    yield url
    postgres.drop(name)


def _test_app(database, redis_service, smtp, instance_path):
    app = create_app({
        "TESTING": True,
        "DATABASE_URL": database,
        "REDIS_URL": redis_service.url,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp.port,
        "MAIL_TIMEOUT": 3,
        "PASSWORD_HASH_FAST": True,
        "JALA_RATELIMIT_DEFAULT": "100000 per minute",
        "RATELIMIT_LOGIN": "100000 per minute",
        "RATELIMIT_LOGIN_IP": "100000 per minute",
        "INSTANCE_PATH": str(instance_path),
        "SECRET_KEY": "test-secret-key-" + "x" * 32,
        "RQ_QUEUE": redis_service.queue,
        "REDIS_KEY_PREFIX": redis_service.prefix,
    })
    # Tests keep an app context open around their requests, and Flask then reuses it, so its
    # ``g`` would carry the CSRF token and the logged-in user from one request to the next.
    # A real server gives every request a fresh ``g``; so do we.
    request_started.connect(_fresh_g, app)
    return app


@pytest.fixture(scope="session")
def app(database, redis_service, smtp, tmp_path_factory):
    app = _test_app(database, redis_service, smtp, tmp_path_factory.mktemp("instance"))
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def private_app(postgres, redis_service, smtp, tmp_path):
    """An app on a database of its own, for tests that commit (races between connections)."""
    url, name = postgres.create("jala_private")
    migrate(url)
    app = _test_app(url, redis_service, smtp, tmp_path / "instance")
    yield app
    with app.app_context():
        db.engine.dispose()
    postgres.drop(name)


def _fresh_g(sender, **extra):
    for name in list(g):
        g.pop(name)


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
def ctx(app, db_session):
    """An app context with a request-free transaction (service tests)."""
    with app.test_request_context("/"):
        yield app


@pytest.fixture
def client(app, db_session, redis_service, smtp):
    """A test client whose requests share the test's transaction."""
    redis_service.clear()
    limiter.reset()
    smtp.clear()
    return app.test_client()


def csrf_token(client, path="/"):
    """The CSRF token of the client's current session (from a rendered page)."""
    html = client.get(path).get_data(as_text=True)
    match = CSRF_RE.search(html)
    assert match, "no CSRF token on " + path
    return match.group(1) or match.group(2)


def post_form(client, path, data, *, token_from="/", **kwargs):
    """POST a form the way a browser does: with the session's CSRF token."""
    data = dict(data)
    data.setdefault("csrf_token", csrf_token(client, token_from))
    return client.post(path, data=data, **kwargs)
