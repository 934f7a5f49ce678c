"""Raw TCP peers on loopback for providers that misbehave: one that hangs, one that trickles."""
import socket
import threading
import time
from contextlib import contextmanager


@contextmanager
def silent_server(answer=None):
    """Yields ``http://127.0.0.1:PORT``: every request waits forever, or, with ``answer``,
    gets what ``answer(connection, stop)`` writes (one thread serves the connections in turn;
    ``stop`` is set when the block ends)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted, stop = [], threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                connection = listener.accept()[0]
            except OSError:
                continue
            accepted.append(connection)
            if answer is not None:
                answer(connection, stop)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(5)
        for connection in accepted:
            connection.close()
        listener.close()


def trickling_server(seconds_per_byte=0.3, total_bytes=200):
    """An HTTP server that answers at once, then sends its body one byte at a time."""
    def trickle(connection, stop):
        connection.recv(4096)
        connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                           b"Content-Length: %d\r\n\r\n" % total_bytes)
        for _ in range(total_bytes):
            if stop.is_set():
                return
            try:
                connection.sendall(b" ")
            except OSError:
                return
            time.sleep(seconds_per_byte)
        connection.close()

    return silent_server(trickle)


def closed_port_url():
    """``http://127.0.0.1:PORT`` where nothing listens: a provider that is down."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return f"http://127.0.0.1:{port}"
