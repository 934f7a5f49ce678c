"""Health checks of the services the portal depends on."""
import time

from sqlalchemy import text

from jala.extensions import db
from jala.jobs import redis_connection
from jala.replicas import health_report as replica_report

TIMEOUT_SECONDS = 1.0


def _timed(check):
    started = time.perf_counter()
    try:
        check()
        ok = True
    except Exception:  # any failure of the service means "not ok", never a 500
        ok = False
    ms = round((time.perf_counter() - started) * 1000, 1)
    return {"ok": ok and ms <= TIMEOUT_SECONDS * 1000, "ms": ms}


def check_postgres():
    """Ask PostgreSQL a trivial question under a statement timeout."""
    def run():
        with db.engine.connect() as conn:
            conn.execute(text("SET LOCAL statement_timeout = 1000"))
            conn.execute(text("SELECT 1"))
    return _timed(run)


def check_redis():
    """Ping Redis."""
    return _timed(lambda: redis_connection().ping())


def health_report():
    """``(body, status)`` for ``/healthz``: 200 when both answer within a second.

    With read replicas, each is listed with its lag; they do not decide the status.
    """
    postgres, redis_state = check_postgres(), check_redis()
    healthy = postgres["ok"] and redis_state["ok"]
    body = {"status": "ok" if healthy else "degraded", "postgres": postgres, "redis": redis_state}
    replicas = replica_report()
    if replicas is not None:
        # a replica down or behind is reported, but the portal is healthy without it: the
        # reads it would serve go to the primary
        body["replicas"] = replicas
    return body, 200 if healthy else 503
