"""A Patroni cluster of the test's own (etcd and two PostgreSQL nodes), and the portal on it."""
import pytest

from jala.extensions import db
from tests.support.app import make_app, migrate
from tests.support.patroni import PatroniCluster, require_ha_parts
from tests.support.pooling import ENTRIES
from tests.support.workers import FaultRig


@pytest.fixture
def patroni_cluster():
    """etcd and two Patroni nodes, a leader with a streaming synchronous standby."""
    require_ha_parts()
    cluster = PatroniCluster(size=2)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


@pytest.fixture(params=sorted(ENTRIES))
def entry(request, patroni_cluster):
    """How the portal reaches the leader: a multi-host URL straight to PostgreSQL, or HAProxy
    to the leader's PgBouncer (the topology of deploy/)."""
    kind = ENTRIES[request.param]
    require_ha_parts(kind.programs)
    entry = kind(patroni_cluster)
    try:  # a start that fails half-way leaves PgBouncers and HAProxy running: stop them too
        yield entry.start()
    finally:
        entry.stop()


@pytest.fixture
def ha_portal(patroni_cluster, entry, redis_service, smtp, tmp_path):
    """``(app, rig)``: the portal on the cluster through ``entry``; a private Redis, an SMTP sink
    and ``jala worker`` processes on demand (``tests.support.workers.FaultRig``)."""
    patroni_cluster.create_database("jala_ha")
    url = entry.url("jala_ha")
    migrate(url)
    app = make_app(url, redis_service, smtp, tmp_path / "instance")
    rig = FaultRig(app, tmp_path)
    try:
        yield app, rig
    finally:
        rig.close()
        with app.app_context():
            db.engine.dispose()
