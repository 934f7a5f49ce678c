"""A crash of the primary under Patroni in the middle of reads and writes.

Two Patroni nodes in synchronous mode; the portal reaches the leader either by a multi-host
``DATABASE_URL`` (``target_session_attrs=read-write``) or, as deploy/ has it, through HAProxy
(checking Patroni's ``/primary``) to the leader's PgBouncer. Readers search and writers sign
up (a user and its confirmation email in the outbox, one transaction) from threads, and a real
``jala worker`` sends the outbox to an SMTP sink. The leader's Patroni, PostgreSQL (and
PgBouncer) are killed at once (SIGKILL, as a power cut). The standby must become the leader,
the same app must serve again without a restart, every sign-up the client saw committed must
be there, and every email must arrive once (an email whose send job failed while there was no
primary waits the sweeper's ``REENQUEUE_AFTER``, 2 minutes, which the test moves on in the
database instead of waiting). The seconds without service are printed (``-s``);
``bench/failover.py`` measures them over longer runs. The crash costs Patroni's leader TTL
(20 s, its floor) before the standby takes over, so each case takes about a minute.
"""
import time

import pytest

from jala.backup import backup
from jala.extensions import db
from tests.support.factories import add_record
from tests.support.failover import PortalLoad, audit, pending_outbox, skip_reenqueue_wait
from tests.support.workers import wait_for

pytestmark = pytest.mark.timeout(150)


def seed_catalogue(app, count=20):
    words = ("history", "economics", "library", "water", "chemistry", "law", "poetry", "江西")
    with app.test_request_context("/"):
        for i in range(count):
            add_record(f"ha-{i}", ["JXUFE", "NCU"], title=f"{words[i % len(words)]} volume {i}")
        db.session.commit()


def test_crashed_primary_is_replaced_with_no_committed_write_lost_and_no_email_doubled(
        patroni_cluster, entry, ha_portal, tmp_path):
    app, rig = ha_portal
    cluster = patroni_cluster
    seed_catalogue(app)
    rig.start_worker()
    old_leader = cluster.leader()
    load = PortalLoad(app, readers=2, writers=2).start()
    try:
        wait_for(lambda: len(load.committed_emails()) >= 20 and len(rig.smtp.messages) >= 10,
                 timeout=30, what="sign-ups committed and mailed before the crash",
                 diagnose=rig.worker_logs)
        crash_at = time.monotonic()
        entry.crash(old_leader)
        new_leader = cluster.wait_for_leader(timeout=60, other_than=old_leader)
        wait_for(lambda: load.served_since(crash_at, "write")
                 and load.served_since(crash_at, "read"),
                 timeout=30, what="the portal serving again after the failover")
        time.sleep(2)  # the load goes on against the new primary
    finally:
        load.stop()
    window = load.window(crash_at)

    assert new_leader is not old_leader
    assert new_leader.status()["role"] == "primary"
    conninfo = cluster.conninfo(dbname="jala_ha")
    try:
        wait_for(lambda: not pending_outbox(conninfo, load), timeout=10, what="the outbox")
    except AssertionError:  # emails whose jobs failed while there was no primary
        skip_reenqueue_wait(conninfo)
    wait_for(lambda: not pending_outbox(conninfo, load), timeout=30,
             what="the outbox to drain after the failover",
             diagnose=lambda: f"{pending_outbox(conninfo, load)}\n{rig.worker_logs(10)}")
    result = audit(conninfo, load, rig.smtp.messages)
    counts = {key: value if isinstance(value, int) else len(value)
              for key, value in result.items()}
    print(f"\nfailover: {window}\naudit: {counts}")

    assert result["committed_writes"] >= 20
    assert result["lost_committed_writes"] == []
    assert result["users_without_outbox_email"] == []
    assert result["emails_not_sent"] == []
    assert result["emails_not_received"] == []
    assert result["emails_doubled"] == []
    assert window["writes_unavailable_s"] is not None
    assert window["reads_unavailable_s"] is not None
    # the nightly backup finds the new primary through the same URL
    manifest = backup(app.config["DATABASE_URL"], tmp_path / "files", tmp_path / "backup.tar")
    assert manifest["postgres_major"] >= 15
