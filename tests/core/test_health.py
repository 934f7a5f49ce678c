from jala.embedded.redis_server import free_port


def test_healthz_is_503_when_redis_is_down_but_live_stays_200(client, app):
    saved = app.config["REDIS_URL"]
    app.config["REDIS_URL"] = f"redis://127.0.0.1:{free_port()}/0"
    app.extensions.pop("jala_redis", None)
    try:
        response = client.get("/healthz")
        assert response.status_code == 503
        body = response.get_json()
        assert body["redis"]["ok"] is False and body["postgres"]["ok"] is True
        assert body["status"] == "degraded"
        assert client.get("/healthz/live").status_code == 200
        assert client.get("/libraries").status_code == 200  # pages still serve
    finally:
        app.config["REDIS_URL"] = saved
        app.extensions.pop("jala_redis", None)


def test_default_rate_limit_answers_429_but_never_for_health_checks(client, app):
    saved = app.config["JALA_RATELIMIT_DEFAULT"]
    app.config["JALA_RATELIMIT_DEFAULT"] = "3 per minute"
    try:
        assert {client.get("/healthz").status_code for _ in range(6)} == {200}
        pages = [client.get("/libraries").status_code for _ in range(4)]
        assert pages == [200, 200, 200, 429]
        limited = client.get("/libraries")
        assert "稍" in limited.get_data(as_text=True)
    finally:
        app.config["JALA_RATELIMIT_DEFAULT"] = saved
