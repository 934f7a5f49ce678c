from jala import web
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


def _pages(client, address, paths, **headers):
    return [client.get(path, environ_base={"REMOTE_ADDR": address}, headers=headers)
            for path in paths]


def test_the_default_limit_is_one_budget_per_client_across_pages(client, app):
    saved = app.config["JALA_RATELIMIT_DEFAULT"]
    app.config["JALA_RATELIMIT_DEFAULT"] = "6 per minute"
    try:
        pages = ["/", "/libraries", "/search", "/login", "/register"]
        noisy = _pages(client, "192.0.2.1", pages * 2)
        assert [r.status_code for r in noisy[:6]] == [200] * 6
        assert noisy[0].headers["X-RateLimit-Limit"] == "6"
        assert {r.status_code for r in noisy[6:]} == {429}
        assert all(int(r.headers["Retry-After"]) > 0 for r in noisy[6:])
        quiet = _pages(client, "192.0.2.2", ["/", "/libraries", "/search"])
        assert [r.status_code for r in quiet] == [200] * 3
        assert _pages(client, "192.0.2.1", ["/healthz"])[0].status_code == 200
    finally:
        app.config["JALA_RATELIMIT_DEFAULT"] = saved


def test_behind_a_proxy_the_forwarded_address_is_the_client(client, app):
    saved = (app.config["JALA_RATELIMIT_DEFAULT"], app.config["PROXY_FIX_HOPS"], app.wsgi_app)
    app.config["JALA_RATELIMIT_DEFAULT"], app.config["PROXY_FIX_HOPS"] = "3 per minute", 1
    web._trust_proxies(app)
    try:
        noisy = _pages(client, "10.0.0.1", ["/libraries"] * 4, **{"X-Forwarded-For": "192.0.2.7"})
        assert [r.status_code for r in noisy] == [200, 200, 200, 429]
        quiet = _pages(client, "10.0.0.1", ["/libraries"] * 2, **{"X-Forwarded-For": "192.0.2.8"})
        assert [r.status_code for r in quiet] == [200, 200]  # the same proxy, another client
    finally:
        app.config["JALA_RATELIMIT_DEFAULT"], app.config["PROXY_FIX_HOPS"], app.wsgi_app = saved


def test_searches_have_a_tighter_budget_of_their_own_per_client(client, app):
    saved = app.config["RATELIMIT_SEARCH"]
    app.config["RATELIMIT_SEARCH"] = "3 per minute"
    try:
        noisy = _pages(client, "192.0.2.31", ["/search?q=图书馆", "/api/v1/search?q=图书馆"] * 2)
        assert [r.status_code for r in noisy] == [200, 200, 200, 429]
        assert int(noisy[3].headers["Retry-After"]) > 0
        others = _pages(client, "192.0.2.31", ["/libraries", "/"])
        assert [r.status_code for r in others] == [200, 200]  # other pages still open to it
        quiet = _pages(client, "192.0.2.32", ["/search?q=图书馆"])
        assert quiet[0].status_code == 200
    finally:
        app.config["RATELIMIT_SEARCH"] = saved
