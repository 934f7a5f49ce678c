"""Two test runs, or a run beside a portal, share one Redis without touching each other."""
from rq import Queue

from jala.extensions import db
from jala.jobs import queue_email


def test_rate_limit_counters_are_written_under_the_runs_prefix(client, app, redis_service):
    client.get("/")
    prefix = app.config["REDIS_KEY_PREFIX"]
    assert prefix == redis_service.prefix
    assert list(redis_service.client.scan_iter(match=f"{prefix}:limits*"))


def test_the_runs_emails_go_to_its_own_queue(ctx, app, redis_service):
    assert app.config["RQ_QUEUE"] == redis_service.queue != "jala"
    row = queue_email("someone@example.edu.cn", "s", "b", kind="test")
    db.session.commit()
    mine = Queue(redis_service.queue, connection=redis_service.client)
    assert row.id in [job.args[0] for job in mine.jobs]
    assert row.id not in [job.args[0] for job in Queue("jala", connection=redis_service.client).jobs
                          if job.func_name.endswith("send_outbox_email")]


def test_clearing_the_run_leaves_other_runs_keys_alone(redis_service):
    other = "jala-test-someone-else:limits/x"
    redis_service.client.set(other, "1")
    redis_service.client.set(f"{redis_service.prefix}:mine", "1")
    try:
        redis_service.clear()
        assert redis_service.client.get(other) == b"1"
        assert redis_service.client.get(f"{redis_service.prefix}:mine") is None
    finally:
        redis_service.client.delete(other)
