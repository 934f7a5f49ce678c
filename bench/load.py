"""Load test: many readers browsing at once through gunicorn, with the worker running.

Builds a scratch database (``jala_bench_load``) with the demo data, starts gunicorn (the
production entry point, ``wsgi:app``) behind one trusted proxy hop and a ``jala worker``, then
runs two phases of ``--seconds`` each:

1. ``--clients`` readers browse like people: a search, a record, sometimes the next page or a
   signed-in page (我的, loans, delivery requests), with 0.5–2 s between clicks. Each client has
   an address of its own (``X-Forwarded-For``), as readers on a campus network behind the
   portal's proxy do. Expect: 0 errors, no 429.
2. The same, plus one client hammering searches as fast as it can from one address (four
   connections at once). Expect:
   the hammer gets 429s (with ``Retry-After``), the readers' latency barely moves and they
   still get no 429.

Prints requests, errors, 429s and p50/p95/p99 per phase and per kind of page.

Usage:  .venv/bin/python bench/load.py [--clients 50] [--seconds 60] [--web-workers 3]
"""
import argparse
import gzip
import http.client
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote, urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    INSTANCE_PATH,
    REDIS_URL,
    ROOT,
    create_bench_database,
    drop_database,
    log,
    percentile,
    table,
)

DATABASE = "jala_bench_load"
PORT = 5077
QUERIES = ("图书馆", "数字图书馆", "高校", "资源共享", "信息服务", "中国", "发展报告", "经济",
           "zhongguo", "tushuguan", "管理", "研究", "教育", "文献传递", "阅读推广", "知识产权")
PASSWORD = "jala-demo-2026"


class Client:
    """One browser: its own address, its cookies, its timings."""

    def __init__(self, address, results):
        self.address, self.results, self.cookies = address, results, {}

    def request(self, kind, method, path, body=None):
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        headers = {"X-Forwarded-For": self.address, "Accept-Encoding": "gzip"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            if response.getheader("Content-Encoding") == "gzip":
                data = gzip.decompress(data)
            status = response.status
            for header, value in response.getheaders():
                if header.lower() == "set-cookie":
                    name, _, rest = value.partition("=")
                    self.cookies[name] = rest.split(";", 1)[0]
        except OSError as exc:
            status, data = f"error: {exc.__class__.__name__}", b""
        finally:
            conn.close()
        self.results.append((kind, status, (time.perf_counter() - started) * 1000))
        return status, data

    def log_in(self):
        _status, page = self.request("login", "GET", "/login")
        token = re.search(rb'name="csrf_token" value="([^"]+)"', page)
        if token:
            status, _page = self.request("login", "POST", "/login", urlencode({
                "csrf_token": token.group(1).decode(), "email": "reader@demo.jala",
                "password": PASSWORD}))
            if status != 303:
                log(f"{self.address} could not log in ({status})")


def browse(client, record_ids, until, signed_in):
    if signed_in:
        client.log_in()
    while time.monotonic() < until:
        query = random.choice(QUERIES)
        client.request("search", "GET", f"/search?q={quote(query)}")
        time.sleep(random.uniform(0.5, 2.0))
        if random.random() < 0.3:
            client.request("search page 2", "GET", f"/search?q={quote(query)}&page=2")
            time.sleep(random.uniform(0.5, 2.0))
        client.request("record", "GET", f"/records/{random.choice(record_ids)}")
        time.sleep(random.uniform(0.5, 2.0))
        if signed_in and random.random() < 0.4:
            client.request("signed in", "GET", random.choice(
                ("/me", "/loans", "/delivery/requests", "/lists")))
            time.sleep(random.uniform(0.5, 2.0))


def hammer(client, until):
    while time.monotonic() < until:
        client.request("hammer", "GET", f"/search?q={quote(random.choice(QUERIES))}")


def run_phase(clients, seconds, record_ids, with_hammer):
    readers = []
    until = time.monotonic() + seconds
    threads = []
    for n in range(clients):
        reader = Client(f"10.{n // 250}.{n % 250}.{random.randint(2, 250)}", [])
        readers.append(reader)
        threads.append(threading.Thread(target=browse, daemon=True,
                                        args=(reader, record_ids, until, n % 5 == 0)))
    hammerer = Client("10.99.99.99", []) if with_hammer else None
    if hammerer:  # four connections at once from one address, as a script would
        threads += [threading.Thread(target=hammer, args=(hammerer, until), daemon=True)
                    for _ in range(4)]
    for thread in threads:
        thread.start()
        time.sleep(0.02)  # readers arrive over a second, not in one instant
    for thread in threads:
        thread.join()
    return [r for reader in readers for r in reader.results], hammerer.results if hammerer else []


def report(title, results, hammer_results):
    rows = []
    kinds = sorted({kind for kind, _, _ in results})
    for kind in kinds + ["all"]:
        mine = [r for r in results if kind in ("all", r[0])]
        ms = [t for _, status, t in mine if status not in (429,)]
        rows.append([kind, len(mine), sum(1 for _, s, _ in mine if not isinstance(s, int)
                                          or s >= 500),
                     sum(1 for _, s, _ in mine if isinstance(s, int) and 300 <= s < 400),
                     sum(1 for _, s, _ in mine if s == 429),
                     f"{percentile(ms, 50):.0f}", f"{percentile(ms, 95):.0f}",
                     f"{percentile(ms, 99):.0f}"])
    if hammer_results:
        ms = [t for _, _, t in hammer_results]
        rows.append(["hammer (one address)", len(hammer_results),
                     sum(1 for _, s, _ in hammer_results if not isinstance(s, int) or s >= 500),
                     sum(1 for _, s, _ in hammer_results if isinstance(s, int) and 300 <= s < 400),
                     sum(1 for _, s, _ in hammer_results if s == 429),
                     f"{percentile(ms, 50):.0f}", f"{percentile(ms, 95):.0f}",
                     f"{percentile(ms, 99):.0f}"])
    print(table(["pages", "requests", "errors", "redirects", "429", "p50 ms", "p95 ms",
                 "p99 ms"], rows,
                title=title))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--web-workers", type=int, default=3)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    url = create_bench_database(DATABASE)
    env = dict(os.environ, DATABASE_URL=url, REDIS_URL=REDIS_URL, JALA_INSTANCE_PATH=INSTANCE_PATH,
               SECRET_KEY="load-test-" + "x" * 32, PROXY_FIX_HOPS="1", REDIS_KEY_PREFIX="jala-load",
               RQ_QUEUE="jala-load", PUBLIC_URL=f"http://127.0.0.1:{PORT}")
    jala = str(ROOT / ".venv" / "bin" / "jala")
    log("loading the demo data")
    subprocess.run([jala, "seed-demo"], env=env, check=True, stdout=subprocess.DEVNULL)
    import psycopg

    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        record_ids = [row[0] for row in conn.execute(
            "SELECT id FROM records ORDER BY random() LIMIT 2000")]
    processes = [
        subprocess.Popen([str(ROOT / ".venv" / "bin" / "gunicorn"), "--workers",
                          str(args.web_workers), "--threads", "4", "--bind",
                          f"127.0.0.1:{PORT}", "wsgi:app"], env=env, cwd=ROOT,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        subprocess.Popen([jala, "worker"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL),
    ]
    try:
        for _ in range(100):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.3)
        log(f"phase 1: {args.clients} readers for {args.seconds} s")
        results, _ = run_phase(args.clients, args.seconds, record_ids, with_hammer=False)
        report(f"{args.clients} readers browsing, {args.seconds} s", results, [])
        log("phase 2: the same, and one client hammering from one address")
        results, hammered = run_phase(args.clients, args.seconds, record_ids, with_hammer=True)
        report(f"{args.clients} readers browsing + one hammering, {args.seconds} s", results,
               hammered)
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        if not args.keep:
            drop_database(DATABASE)


if __name__ == "__main__":
    main()
