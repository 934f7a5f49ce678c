"""Calls to a provider share one deadline: a provider trickling its answer is a 504 in time."""
import time

import pytest

from jala.signon.http import provider_request
from jala.signon.identity import ProviderUnavailable
from tests.support.silent_server import trickling_server


def test_an_answer_trickling_in_is_cut_off_at_the_timeout(app):
    app.config["SIGNON_TIMEOUT_SECONDS"] = 1
    try:
        with trickling_server() as url, app.test_request_context("/"):
            started = time.monotonic()
            with pytest.raises(ProviderUnavailable) as slow:
                provider_request("GET", url + "/.well-known/openid-configuration")
            assert slow.value.status == 504 and time.monotonic() - started < 2.5
    finally:
        app.config["SIGNON_TIMEOUT_SECONDS"] = 10


def test_the_calls_of_one_sign_in_share_one_budget(app, monkeypatch):
    monkeypatch.setattr("jala.signon.http.REQUEST_BUDGET_SECONDS", 1.5)
    with trickling_server(seconds_per_byte=0.05, total_bytes=12) as url, \
            app.test_request_context("/"):
        provider_request("GET", url)           # 0.6 s
        provider_request("GET", url)           # 1.2 s
        with pytest.raises(ProviderUnavailable) as spent:
            provider_request("GET", url)       # the budget runs out on the way
        assert spent.value.status == 504
