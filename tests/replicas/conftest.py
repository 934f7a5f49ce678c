"""A primary and its streaming standby of the tests' own, and portals reading from the standby.

The schema is migrated onto the primary's database; the standby (``pg_basebackup -R``)
replays it. Data is committed on the primary, as a real portal's is, and each test makes
records with words of its own, so the tests share the clusters without stepping on each
other.
"""
import pytest

from jala.extensions import db
from jala.replicas import init_app as init_replicas
from tests.replicas.helpers import DATABASE
from tests.support.app import make_app, migrate
from tests.support.catalog import import_lines
from tests.support.pg_clusters import LocalCluster
from tests.support.search import BOOKS


@pytest.fixture(scope="module")
def clusters():
    """``(primary, standby)``: a migrated primary and its caught-up streaming standby."""
    primary = LocalCluster("primary")
    standby = None
    try:
        primary.init().start()
        primary.create_database(DATABASE)
        migrate(primary.url(DATABASE))
        standby = primary.make_standby()
        primary.wait_caught_up(standby)
        yield primary, standby
    finally:
        if standby is not None:
            standby.remove()
        primary.remove()


@pytest.fixture(scope="module")
def portal_factory(clusters, redis_service, smtp, tmp_path_factory):
    """``make(replicas=[…], **settings)``: an app on the primary reading from ``replicas``."""
    primary, standby = clusters
    made = []

    def make(replicas=None, max_lag=3600.0, check_seconds=0.2):
        app = make_app(primary.url(DATABASE), redis_service, smtp,
                       tmp_path_factory.mktemp("instance"))
        # as DATABASE_REPLICA_URLS, REPLICA_MAX_LAG_SECONDS and REPLICA_CHECK_SECONDS would
        app.config.update(DATABASE_REPLICA_URLS=[r.url(DATABASE) for r in (
                              [standby] if replicas is None else replicas)],
                          REPLICA_MAX_LAG_SECONDS=max_lag, REPLICA_CHECK_SECONDS=check_seconds)
        init_replicas(app)
        made.append(app)
        return app

    yield make
    for app in made:
        with app.app_context():
            db.engine.dispose()
            replicas = app.extensions.get("jala.replicas")
            if replicas is not None:
                replicas.dispose()


@pytest.fixture(scope="module")
def catalogue(clusters, portal_factory):
    """The search tests' little catalogue, committed on the primary and replayed."""
    primary, standby = clusters
    app = portal_factory(replicas=[])
    with app.app_context():
        import_lines(BOOKS)
        db.session.commit()
    primary.wait_caught_up(standby)
    return app


@pytest.fixture
def portal(catalogue, portal_factory):
    """A portal reading from the standby (no lag limit to speak of)."""
    return portal_factory()
