"""/metrics: Prometheus text for the bearer of METRICS_TOKEN (or loopback in development)."""
import os
import re
import subprocess
import sys
import textwrap

import pytest

from config import PROJECT_ROOT
from jala.jobs import queue_email

ELSEWHERE = {"REMOTE_ADDR": "10.1.2.3"}


def value(text, name, **labels):
    """The value of one sample in the exposition (0 when it is absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = re.escape(name) + (r"\{" + re.escape(wanted) + r"\}" if labels else "") + r" (\S+)"
    found = re.search(r"^" + pattern + "$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def scrape(client, **kwargs):
    response = client.get("/metrics", **kwargs)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    return response.get_data(as_text=True)


def test_requests_are_counted_by_endpoint_and_status_with_latency(client):
    before = scrape(client)
    client.get("/libraries")
    client.get("/no-such-page")
    after = scrape(client)
    ok = {"endpoint": "core.libraries", "method": "GET", "status": "200"}
    missing = {"endpoint": "none", "method": "GET", "status": "404"}
    assert value(after, "jala_http_requests_total", **ok) == value(
        before, "jala_http_requests_total", **ok) + 1
    assert value(after, "jala_http_requests_total", **missing) == value(
        before, "jala_http_requests_total", **missing) + 1
    assert "/no-such-page" not in after  # never labelled by the raw path
    buckets = re.findall(r'^jala_http_request_duration_seconds_bucket\{endpoint="core.libraries"'
                         r',le="[^"]+"\} \S+$', after, re.MULTILINE)
    assert len(buckets) >= 10
    assert value(after, "jala_http_request_duration_seconds_count",
                 endpoint="core.libraries") >= 1


def test_the_outbox_backlog_and_queue_length_are_read_when_scraped(client, app):
    name = app.config["RQ_QUEUE"]
    before = scrape(client)
    queue_email("metrics@example.com", "Subject", "Body", kind="test")
    during = scrape(client)  # the row is written, not yet committed and relayed
    assert value(during, "jala_outbox_backlog") == value(before, "jala_outbox_backlog") + 1
    after = scrape(client)  # the last scrape's commit relayed it to RQ
    assert value(after, "jala_rq_queue_length", queue=name) == value(
        during, "jala_rq_queue_length", queue=name) + 1
    assert f'jala_rq_failed_jobs{{queue="{name}"}}' in after
    assert "jala_outbox_failed " in after
    for status in ("queued", "running", "done", "failed"):
        assert f'jala_import_runs{{status="{status}"}}' in after


def test_metrics_are_not_public(client, app, monkeypatch):
    assert client.get("/metrics", environ_base=ELSEWHERE).status_code == 404
    monkeypatch.setitem(app.config, "METRICS_TOKEN", "s3cret-token")
    assert client.get("/metrics", environ_base=ELSEWHERE).status_code == 404
    wrong = {"Authorization": "Bearer not-it"}
    assert client.get("/metrics", environ_base=ELSEWHERE, headers=wrong).status_code == 404
    right = {"Authorization": "Bearer s3cret-token"}
    assert "jala_http_requests_total" in scrape(client, environ_base=ELSEWHERE, headers=right)
    # production: loopback is no key, only the token opens it
    monkeypatch.setitem(app.config, "JALA_PRODUCTION", True)
    assert client.get("/metrics").status_code == 404
    scrape(client, environ_base=ELSEWHERE, headers=right)
    monkeypatch.setitem(app.config, "METRICS_TOKEN", None)
    assert client.get("/metrics", headers=right).status_code == 404


@pytest.mark.timeout(120)
def test_several_processes_add_up_their_counts(app, tmp_path):
    """Like gunicorn's workers: each counts in PROMETHEUS_MULTIPROC_DIR, a scrape sums them."""
    folder = tmp_path / "prometheus"
    folder.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder),
           "DATABASE_URL": app.config["DATABASE_URL"], "REDIS_URL": app.config["REDIS_URL"],
           "RQ_QUEUE": app.config["RQ_QUEUE"], "REDIS_KEY_PREFIX": app.config["REDIS_KEY_PREFIX"],
           "JALA_INSTANCE_PATH": str(tmp_path / "instance"), "SECRET_KEY": "x" * 40,
           "LOG_FORMAT": "json"}
    env.pop("JALA_ENV", None)

    def run(path):
        code = textwrap.dedent(f"""
            from jala import create_app
            response = create_app().test_client().get({path!r})
            print(response.get_data(as_text=True))
        """)
        done = subprocess.run([sys.executable, "-c", code], env=env, cwd=PROJECT_ROOT,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout

    run("/healthz/live")
    run("/healthz/live")
    text = run("/metrics")
    assert value(text, "jala_http_requests_total", endpoint="core.healthz_live", method="GET",
                 status="200") == 2
