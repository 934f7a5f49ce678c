"""Prometheus metrics: requests and latency counted per process; work waiting read at scrape.

Counters and histograms live in this process. Under gunicorn's several workers set
``PROMETHEUS_MULTIPROC_DIR`` to an empty folder (emptied at every start) before the workers
start: prometheus_client then keeps each worker's counts in files there, and a scrape adds
up every worker's. The gauges of work waiting (RQ queue length, failed jobs, the outbox
backlog, import runs by status) are asked of Redis and PostgreSQL at each scrape, so any
process answers them right. Domains add such gauges with ``@scrape_gauge``.
"""
import hmac
import ipaddress
import logging
import os

import redis
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import multiprocess as prometheus_multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from rq.registry import FailedJobRegistry
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from jala.extensions import db
from jala.jobs import OutboxEmail, queue

log = logging.getLogger(__name__)

CONTENT_TYPE = CONTENT_TYPE_LATEST
_REGISTRY = CollectorRegistry()
REQUESTS = Counter("jala_http_requests", "HTTP requests answered, by endpoint and status.",
                   ["endpoint", "method", "status"], registry=_REGISTRY)
LATENCY = Histogram("jala_http_request_duration_seconds",
                    "Time to answer an HTTP request, by endpoint.", ["endpoint"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
                    registry=_REGISTRY)
_scrape_gauges = []


def observe_request(endpoint, method, status, seconds):
    """Count one answered request and its latency."""
    endpoint = endpoint or "none"  # a 404 has no endpoint: never label by the raw path
    REQUESTS.labels(endpoint, method, str(status)).inc()
    LATENCY.labels(endpoint).observe(seconds)


def scrape_gauge(fn):
    """Register ``fn()`` → iterable of metric families, read at every scrape."""
    _scrape_gauges.append(fn)
    return fn


def may_scrape(config, remote_addr, authorization):
    """Whether a request may read ``/metrics``: the bearer token, or loopback in development."""
    token = config.get("METRICS_TOKEN")
    if token and hmac.compare_digest((authorization or "").encode(),
                                     f"Bearer {token}".encode()):
        return True
    if config.get("JALA_PRODUCTION"):
        return False
    try:
        return ipaddress.ip_address(remote_addr or "").is_loopback
    except ValueError:
        return False


def exposition():
    """The metrics in Prometheus' text format."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        prometheus_multiprocess.MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry()
        registry.register(_ProcessCounts())
    registry.register(_WorkWaiting())
    return generate_latest(registry)


class _ProcessCounts:
    """The request counts of the one process there is (no multiprocess folder)."""

    def collect(self):
        """Yield the counters and histograms of this process."""
        return _REGISTRY.collect()


class _WorkWaiting:
    """Gauges read from Redis and PostgreSQL when scraped."""

    def collect(self):
        """Yield the queue, failed-job, outbox and registered gauges (those that answer)."""
        try:
            work = queue()
            length = GaugeMetricFamily("jala_rq_queue_length", "Jobs waiting in the RQ queue.",
                                       labels=["queue"])
            length.add_metric([work.name], len(work))
            failed = GaugeMetricFamily("jala_rq_failed_jobs",
                                       "Jobs in RQ's failed job registry.", labels=["queue"])
            failed.add_metric([work.name], FailedJobRegistry(queue=work).count)
            yield length
            yield failed
        except redis.RedisError as exc:
            log.warning("metrics: Redis did not answer: %s", exc)
        try:
            yield from outbox_gauges()
            for gauge in _scrape_gauges:
                yield from gauge()
        except SQLAlchemyError as exc:
            db.session.rollback()
            log.warning("metrics: PostgreSQL did not answer: %s", exc)


def outbox_gauges():
    """The outbox's backlog (pending: unsent) and its emails failed for good."""
    counts = dict(db.session.execute(
        select(OutboxEmail.status, func.count()).where(OutboxEmail.status != "sent")
        .group_by(OutboxEmail.status)).all())
    backlog = GaugeMetricFamily("jala_outbox_backlog", "Emails in the outbox not yet sent.")
    backlog.add_metric([], counts.get("pending", 0))
    failed = GaugeMetricFamily("jala_outbox_failed",
                               "Emails that failed for good (waiting for a retry by hand).")
    failed.add_metric([], counts.get("failed", 0))
    return [backlog, failed]
