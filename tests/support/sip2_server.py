"""SIP2 servers on loopback for the live-availability tests.

``Sip2TestServer`` is a real ACS: pysip2's SIP2 2.00 server (login 93/94, SC status 99/98,
item information 17/18 with checksums and sequence numbers), run in a thread of its own and
answering from a dict of items. ``silent_server`` accepts connections and never answers;
``closed_port`` is a port where nothing listens.
"""
import socket
import threading
import time
from contextlib import contextmanager, suppress

import anyio
from pysip2 import (
    ITEM_INFORMATION,
    LOGIN,
    ItemInformationResponse,
    LoginResponse,
    SIP2Server,
)

# SIP2 circulation status codes
AVAILABLE, CHARGED, IN_TRANSIT, MISSING = "03", "04", "10", "13"


class Sip2TestServer:
    """A SIP2 server whose items are ``{barcode: (circulation status, due date or None)}``."""

    def __init__(self, items, *, user="portal", password="s3cret", institution="JXUFE",
                 delay=0.0, encoding="utf-8"):
        self.items = dict(items)
        self.user, self.password, self.institution = user, password, institution
        self.delay = delay
        self.asked = []  # item identifiers asked about, in order
        self.logins = []
        self.port = None
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._thread = None
        self.acs = SIP2Server(institution_id=institution, login_required=bool(user),
                              encoding=encoding, error_detection="required")
        self.acs.route(LOGIN)(self._login)
        self.acs.route(ITEM_INFORMATION)(self._item_information)

    def _login(self, request, ctx):
        self.logins.append(request.login_user_id)
        ok = (request.login_user_id, request.login_password) == (self.user, self.password)
        return LoginResponse(ok="1" if ok else "0")

    async def _item_information(self, request, ctx):
        self.asked.append(request.item_identifier)
        if self.delay:
            await anyio.sleep(self.delay)
        status, due = self.items.get(request.item_identifier, ("01", None))
        known = request.item_identifier in self.items
        return ItemInformationResponse(
            circulation_status=status, security_marker="02", fee_type="01",
            transaction_date=ctx.now_18(), due_date=due,
            item_identifier=request.item_identifier,
            title_identifier="Item" if known else "",
            screen_message=() if known else ("Item not found",))

    async def _serve(self):
        async with self.acs.start() as port:
            self.port = port
            self._ready.set()
            while not self._stop.is_set():
                await anyio.sleep(0.02)

    def __enter__(self):
        self._thread = threading.Thread(target=anyio.run, args=(self._serve,), daemon=True)
        self._thread.start()
        if not self._ready.wait(5):
            raise RuntimeError("the SIP2 test server did not start")
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(5)


@contextmanager
def silent_server():
    """A port that accepts connections and never says a word; yields the port."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.05)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(2)
        for conn in held:
            conn.close()
        listener.close()


def closed_port():
    """A loopback port nothing listens on (bound, then let go)."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    time.sleep(0.01)
    return port


@contextmanager
def answering_server(answer):
    """A port that answers every message with the bytes ``answer`` and a CR; yields the port."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    stop = threading.Event()

    def serve(conn):
        with conn, suppress(OSError):
            while conn.recv(4096):
                conn.sendall(answer + b"\r")

    def accept():
        listener.settimeout(0.05)
        while not stop.is_set():
            try:
                conn = listener.accept()[0]
            except OSError:
                continue
            conn.settimeout(2)
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(2)
        listener.close()
