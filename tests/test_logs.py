"""Structured logs: one JSON object a line, and a request id that follows the request's jobs."""
import io
import json
import logging

import pytest

from config import load_config
from jala.jobs import run_worker
from jala.logs import make_handler
from tests.support.factories import make_user
from tests.support.web import post_form


@pytest.fixture
def json_lines():
    """What the portal logs at INFO and above while the test runs, as parsed JSON lines."""
    stream = io.StringIO()
    handler = make_handler("json", stream)
    root, portal = logging.getLogger(), logging.getLogger("jala")
    level = portal.level
    root.addHandler(handler)
    portal.setLevel(logging.INFO)

    def lines():
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    yield lines
    root.removeHandler(handler)
    portal.setLevel(level)


def test_log_format_is_text_in_development_and_json_in_production(tmp_path):
    assert load_config({"JALA_INSTANCE_PATH": str(tmp_path)})["LOG_FORMAT"] == "text"
    production = {"JALA_ENV": "production", "SECRET_KEY": "k" * 40,
                  "DATABASE_URL": "postgresql://db/jala", "REDIS_URL": "redis://r/0",
                  "PUBLIC_URL": "https://portal.example.edu.cn"}
    assert load_config(production)["LOG_FORMAT"] == "json"
    assert load_config(dict(production, LOG_FORMAT="text"))["LOG_FORMAT"] == "text"


def test_a_request_logs_one_json_line_with_its_request_id(client, json_lines):
    response = client.get("/libraries", headers={"X-Request-ID": "lb-7f3a.42"})
    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == "lb-7f3a.42"
    [line] = [entry for entry in json_lines() if entry["logger"] == "jala.request"]
    assert line["request_id"] == "lb-7f3a.42"
    assert (line["method"], line["path"], line["status"], line["level"]) == (
        "GET", "/libraries", 200, "INFO")
    assert line["duration_ms"] >= 0 and line["time"].endswith("+00:00")
    assert line["message"] == "GET /libraries 200"


def test_an_insane_request_id_is_replaced_by_a_new_one(client, json_lines):
    first = client.get("/healthz/live", headers={"X-Request-ID": "a b\tc" + "x" * 200})
    second = client.get("/healthz/live")
    ids = [first.headers["X-Request-ID"], second.headers["X-Request-ID"]]
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids) and ids[0] != ids[1]
    logged = [e["request_id"] for e in json_lines() if e["logger"] == "jala.request"]
    assert logged == ids


def test_the_job_a_request_enqueues_logs_the_same_request_id(client, app, json_lines):
    reader = make_user()
    response = post_form(client, "/password/forgot", {"email": reader.email},
                         token_from="/password/forgot",
                         headers={"X-Request-ID": "reset-req-1"})
    assert response.status_code == 303 and response.headers["X-Request-ID"] == "reset-req-1"
    run_worker(app, burst=True)
    jobs = [e for e in json_lines() if e.get("job") == "jala.jobs.send_outbox_email"]
    assert [e["message"] for e in jobs] == ["job jala.jobs.send_outbox_email started",
                                            "job jala.jobs.send_outbox_email done"]
    assert {e["request_id"] for e in jobs} == {"reset-req-1"}
