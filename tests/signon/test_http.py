"""Calls to a provider share one deadline: a provider trickling its answer is a 504 in time."""
import socket
import threading
import time
from contextlib import contextmanager

import pytest

from jala.signon.http import provider_request
from jala.signon.identity import ProviderUnavailable


@contextmanager
def trickling_server(seconds_per_byte=0.3, total_bytes=200):
    """An HTTP server that answers at once, then sends its body one byte at a time."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    stop = threading.Event()

    def serve():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                continue
            with connection:
                connection.recv(4096)
                connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                   b"Content-Length: %d\r\n\r\n" % total_bytes)
                for _ in range(total_bytes):
                    if stop.is_set():
                        break
                    try:
                        connection.sendall(b" ")
                    except OSError:
                        break
                    time.sleep(seconds_per_byte)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(5)
        listener.close()


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
