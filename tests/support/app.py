"""The portal under test: the schema migrated onto a scratch database, the app configured for
the test services (PostgreSQL, Redis, SMTP of ``tests.support.services``)."""
from flask import g, request_started

from jala import create_app


def migrate(database_url, revision="head", direction="upgrade"):
    """Run alembic on a database URL."""
    from alembic import command
    from sqlalchemy import create_engine

    from jala.cli import alembic_config

    engine = create_engine(database_url)
    with engine.begin() as conn:
        getattr(command, direction)(alembic_config(conn), revision)
    engine.dispose()


def make_app(database, redis_service, smtp, instance_path):
    """The app on ``database``, this run's Redis corner and the catching SMTP server."""
    app = create_app({
        "TESTING": True,
        "DATABASE_URL": database,
        "REDIS_URL": redis_service.url,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp.port,
        "MAIL_TIMEOUT": 3,
        "PASSWORD_HASH_FAST": True,
        "JALA_RATELIMIT_DEFAULT": "100000 per minute",
        "RATELIMIT_SEARCH": "100000 per minute",
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


def _fresh_g(sender, **extra):
    for name in list(g):
        g.pop(name)
