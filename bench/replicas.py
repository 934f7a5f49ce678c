"""Read replicas under load: a primary, its pg_basebackup standby, searches, writes, a crash.

1. Starts a primary cluster of its own (``tests/support/pg_clusters.py``, a free port, data in
   /tmp/jala-jala_bench_replicas_*), migrates a ``jala_bench_replicas`` database on it and
   imports N synthetic records (bench/_synth.py) as ``jala import --bulk`` does, then makes a
   streaming standby with ``pg_basebackup -R``.
2. Runs the same load four times for ``--seconds`` each, through the portal (the Flask test
   client, from threads): ``--threads`` readers searching (the search page, the JSON API and
   record pages), ``--writers`` threads importing new records on the primary, and one reader
   who places a hold and at once opens the record's page, which must say "Your hold"
   (read-your-writes):
   a. primary only (no DATABASE_REPLICA_URLS);
   b. reads from the standby (DATABASE_REPLICA_URLS = the standby), its lag sampled;
   then a again, so that the order of the loads does not decide the comparison;
   c. as b, and the standby is stopped (``pg_ctl stop -m immediate``) halfway.
3. Prints p50/p95/p99 and the rate of each load, the standby's lag, the share of reads it
   served, failed requests (must be 0) and the p95 in the seconds around the stop.

Usage:  .venv/bin/python bench/replicas.py [--records 100000] [--threads 4] [--writers 1]
                                           [--seconds 30] [--keep] [--clean]
"""
import argparse
import itertools
import logging
import random
import shutil
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402
import _synth  # noqa: E402

DATABASE = "jala_bench_replicas"
PREFIX = "jala_bench_replicas"
DATA = Path("/work/shared/data/csl-dev.jsonl")
CLUSTER_SETTINGS = {"shared_buffers": "'1GB'", "max_connections": "200",
                    "work_mem": "'16MB'", "max_wal_size": "'4GB'"}


# --- clusters and the portal ---------------------------------------------------------------------

def clean():
    """Stop and remove clusters a run left behind (``--keep``)."""
    from tests.support.pg_clusters import pg_bin_dir

    for root in Path("/tmp").glob(f"jala-{PREFIX}_*"):
        data = root / "data"
        if (data / "postmaster.pid").exists() and pg_bin_dir():
            import subprocess

            from tests.support.pg_clusters import _as_postgres

            subprocess.run([str(pg_bin_dir() / "pg_ctl"), "-D", str(data), "-m", "immediate",
                            "stop"], capture_output=True, **_as_postgres())
        shutil.rmtree(root, ignore_errors=True)
        C.log(f"removed {root}")


def make_portal(primary_url, replica_urls=(), max_lag=10.0):
    from jala import create_app

    app = create_app({
        "TESTING": True,  # no log line per request on the terminal
        "DATABASE_URL": primary_url, "REDIS_URL": C.REDIS_URL, "SECRET_KEY": "x" * 40,
        "INSTANCE_PATH": C.INSTANCE_PATH, "REDIS_KEY_PREFIX": PREFIX, "RQ_QUEUE": PREFIX,
        "RATELIMIT_ENABLED": False, "PASSWORD_HASH_FAST": True,
        "DATABASE_REPLICA_URLS": list(replica_urls), "REPLICA_MAX_LAG_SECONDS": max_lag,
        "REPLICA_CHECK_SECONDS": 2.0,
    })
    return app


def build_catalogue(app, n, seed):
    """Import ``n`` synthetic records (bulk, as ``jala import --bulk``); sample titles."""
    import search as S

    from jala.extensions import db

    vocab = _synth.Vocabulary(DATA)
    gen = _synth.Generator(vocab, seed=seed)
    with app.test_request_context("/"):
        stats, seconds, _, samples, _ = S.bulk_import(gen, n, DATABASE, 2000, False,
                                                       max(1, n // 2000), {})
        db.session.remove()
        db.engine.dispose()
        S.rebuild_indexes("512MB")
    return vocab, samples, n / seconds


def readers_and_holdings(app, count):
    """``count`` verified readers of JXUFE and copies of books at JXUFE to place holds on."""
    from sqlalchemy import text

    from jala.extensions import db
    from tests.support.factories import make_user

    with app.test_request_context("/"):
        readers = [make_user(library="JXUFE") for _ in range(count)]
        db.session.commit()
        emails = [r.email for r in readers]
        holdings = db.session.execute(text(
            "SELECT h.id, h.record_id FROM holdings h JOIN libraries l ON l.id = h.library_id "
            "JOIN records r ON r.id = h.record_id "  # articles are not lent: no hold on them
            "WHERE l.code = 'JXUFE' AND r.type = 'book' ORDER BY h.id LIMIT :n"),
            {"n": count * 20}).all()
    return emails, [tuple(h) for h in holdings]


# --- the load ------------------------------------------------------------------------------------

class Load:
    """One run of readers, writers and the read-your-writes probe against one portal."""

    def __init__(self, app, queries, record_ids, readers, holdings, writer_gen, args):
        self.app, self.queries, self.record_ids = app, queries, record_ids
        self.readers, self.holdings = readers, holdings
        self.writer_gen, self.args = writer_gen, args
        self.samples = []  # (started, seconds, status)
        self.errors = []
        self.written = 0
        self.probes = self.misses = 0
        self.lag = []  # (time, seconds, bytes)
        self.stop = threading.Event()
        self.writer_lock = threading.Lock()
        self.stopped_at = None

    def _path(self, rng):
        roll = rng.random()
        q = rng.choice(self.queries)
        if roll < 0.7:
            return f"/search?q={quote(q)}"
        if roll < 0.9:
            return f"/api/v1/search?q={quote(q)}"
        return f"/records/{rng.choice(self.record_ids)}"

    def reader(self, n):
        rng = random.Random(n)
        client = self.app.test_client()
        while not self.stop.is_set():
            path = self._path(rng)
            started = time.perf_counter()
            try:
                status = client.get(path).status_code
            except Exception as exc:  # a failure the reader would see
                status = 599
                self.errors.append(f"{path}: {exc!r}")
            self.samples.append((started, time.perf_counter() - started, status))

    def writer(self, n):
        from jala.catalog.importer import import_stream
        from jala.extensions import db

        with self.app.app_context():
            while not self.stop.is_set():
                with self.writer_lock:
                    batch = list(itertools.islice(self.writer_gen, 20))
                try:
                    import_stream(iter(batch), "JXUFE", format_name="jsonl", commit=False,
                                  batch_size=20)
                    db.session.commit()
                    self.written += len(batch)
                except Exception as exc:
                    db.session.rollback()
                    self.errors.append(f"writer: {exc!r}")
                time.sleep(0.05)

    def probe(self):
        from tests.support.web import login, post_form

        while not self.stop.is_set() and self.readers and self.holdings:
            email = self.readers.pop()
            client = self.app.test_client()
            post_form(client, "/language", {"lang": "en"})
            user = type("Reader", (), {"email": email, "totp_enabled_at": None})
            if login(client, user).status_code != 303:
                self.errors.append(f"probe login failed for {email}")
                continue
            for _ in range(3):  # three holds each, at the limit's distance
                if self.stop.is_set() or not self.holdings:
                    break
                holding_id, record_id = self.holdings.pop()
                placed = post_form(client, "/loans/holds", {"holding_id": holding_id})
                if placed.status_code != 303:
                    continue  # refused (e.g. a copy already held): not a read to check
                page = client.get(f"/records/{record_id}").get_data(as_text=True)
                self.probes += 1
                self.misses += "Your hold:" not in page
                time.sleep(0.2)

    def sample_lag(self, primary, standby):
        while not self.stop.is_set():
            try:
                with primary.connect(DATABASE) as conn:
                    current = conn.execute("SELECT pg_current_wal_flush_lsn()").fetchone()[0]
                with standby.connect(DATABASE) as conn:
                    seconds, behind = conn.execute(
                        "SELECT CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() "
                        "THEN 0 ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) "
                        "END, pg_wal_lsn_diff(%s::pg_lsn, pg_last_wal_replay_lsn())",
                        (current,)).fetchone()
                self.lag.append((time.perf_counter(), float(seconds), max(float(behind), 0)))
            except Exception:  # the standby was stopped
                pass
            time.sleep(0.5)

    def run(self, seconds, primary=None, standby=None, stop_standby_at=None):
        threads = [threading.Thread(target=self.reader, args=(n,))
                   for n in range(self.args.threads)]
        threads += [threading.Thread(target=self.writer, args=(n,))
                    for n in range(self.args.writers)]
        threads.append(threading.Thread(target=self.probe))
        if standby is not None:
            threads.append(threading.Thread(target=self.sample_lag, args=(primary, standby)))
        self.started = time.perf_counter()
        for thread in threads:
            thread.start()
        if stop_standby_at is not None:
            time.sleep(stop_standby_at)
            C.log("stopping the standby (immediate)")
            self.stopped_at = time.perf_counter()
            standby.stop("immediate")
            time.sleep(seconds - stop_standby_at)
        else:
            time.sleep(seconds)
        self.stop.set()
        for thread in threads:
            thread.join(timeout=120)
        self.seconds = time.perf_counter() - self.started
        return self

    # --- figures ---

    def figures(self, window=None):
        chosen = [s for s in self.samples if window is None or window[0] <= s[0] < window[1]]
        ms = [s[1] * 1000 for s in chosen]
        failed = sum(1 for s in chosen if s[2] != 200)
        return {"requests": len(chosen), "failed": failed,
                "p50": C.percentile(ms, 50), "p95": C.percentile(ms, 95),
                "p99": C.percentile(ms, 99)}


def count_checkouts(app):
    """A list that grows by one each time a view (or the check) takes a standby connection."""
    from sqlalchemy import event

    taken = []
    engine = app.extensions["jala.replicas"].replicas[0].engine
    event.listen(engine, "checkout", lambda *_: taken.append(1))
    return taken


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--writers", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=20261205)
    parser.add_argument("--keep", action="store_true", help="keep the clusters afterwards")
    parser.add_argument("--clean", action="store_true",
                        help="remove the clusters a --keep run left, and stop")
    args = parser.parse_args(argv)
    if args.clean:
        clean()
        return
    logging.getLogger("jala.replicas").setLevel(logging.ERROR)

    from tests.support.app import migrate
    from tests.support.pg_clusters import LocalCluster

    primary = LocalCluster(f"{PREFIX}_primary", settings=CLUSTER_SETTINGS)
    standby = None
    try:
        primary.init().start()
        url = primary.create_database(DATABASE)
        migrate(url)
        C.log(f"primary on port {primary.port}; importing {args.records:,} records")
        started = time.perf_counter()
        vocab, samples, rate = build_catalogue(make_portal(url), args.records, args.seed)
        with primary.connect(DATABASE, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
        C.log(f"catalogue ready in {time.perf_counter() - started:.0f} s ({rate:,.0f} rec/s)")
        standby = primary.make_standby(name=f"{PREFIX}_standby", settings=CLUSTER_SETTINGS)
        primary.wait_caught_up(standby, timeout=600)
        C.log(f"standby on port {standby.port}, caught up")

        import search as S

        classes = S.build_queries(vocab, [s["title"] for s in samples], 8, args.seed)
        queries = [q for group in classes.values() for q in group]
        with primary.connect(DATABASE) as conn:
            record_ids = [r[0] for r in conn.execute(
                "SELECT id FROM records ORDER BY random() LIMIT 2000").fetchall()]
        base = make_portal(url)
        readers, holdings = readers_and_holdings(base, 300)
        new_records = _synth.Generator(vocab, seed=args.seed + 1).records(
            10**7, start=args.records)

        def load(app):
            return Load(app, queries, record_ids, readers, holdings, new_records, args)

        C.log(f"load a: primary only, {args.threads} readers, {args.writers} writers")
        plain = load(make_portal(url)).run(args.seconds)
        C.log("load b: reads from the standby")
        replica_url = standby.url(DATABASE)
        portal = make_portal(url, [replica_url])
        served = count_checkouts(portal)
        replicated = load(portal).run(args.seconds, primary, standby)
        C.log("load a again: primary only (the order of the loads does not decide)")
        plain_again = load(make_portal(url)).run(args.seconds)
        primary.wait_caught_up(standby, timeout=120)
        C.log("load c: the standby stopped halfway")
        crash = load(make_portal(url, [replica_url])).run(args.seconds, primary, standby,
                                                          stop_standby_at=args.seconds / 2)
        report(args, rate, plain, replicated, served, crash, plain_again)
    finally:
        if not args.keep:
            if standby is not None:
                standby.remove()
            primary.remove()
        else:
            C.log(f"kept: primary {primary.root}, standby {standby and standby.root}")
        _clear_redis()


def _clear_redis():
    import redis

    client = redis.Redis.from_url(C.REDIS_URL)
    keys = list(client.scan_iter(match=f"*{PREFIX}*", count=1000))
    if keys:
        client.delete(*keys)


def report(args, rate, plain, replicated, served, crash, plain_again):
    rows = []
    for name, run in (("a. primary only", plain), ("b. reads from the standby", replicated),
                      ("a. primary only, again", plain_again),
                      ("c. standby stopped halfway", crash)):
        f = run.figures()
        rows.append([name, f["requests"], f"{f['requests'] / run.seconds:.1f}", f["failed"],
                     f["p50"], f["p95"], f["p99"], f"{run.written / run.seconds:.0f}",
                     f"{run.probes - run.misses}/{run.probes}"])
    print()
    print(f"records {args.records:,} (imported at {rate:,.0f}/s), {args.threads} reader threads, "
          f"{args.writers} writer threads, {args.seconds:.0f} s a load")
    print(C.table(["load", "requests", "req/s", "failed", "p50 ms", "p95 ms", "p99 ms",
                   "writes/s", "own hold seen"], rows))
    lag = replicated.lag
    if lag:
        seconds = [s for _, s, _ in lag]
        behind = [b for _, _, b in lag]
        print(f"standby lag during load b: seconds mean {C.mean(seconds):.3f}, max "
              f"{max(seconds):.3f}; bytes mean {C.mean(behind):,.0f}, max {max(behind):,.0f} "
              f"({len(lag)} samples)")
    requests = replicated.figures()["requests"]
    checks = int(replicated.seconds / 2) + 1
    print(f"standby connections taken in load b: {len(served):,} for {requests:,} requests "
          f"(+ the probe's pages; about {checks} of them are the checks every 2 s)")
    if crash.stopped_at is not None:
        t = crash.stopped_at
        before = crash.figures((crash.started, t))
        around = crash.figures((t - 1, t + 3))
        after = crash.figures((t + 3, t + 10**6))
        print(C.table(["window", "requests", "failed", "p50 ms", "p95 ms", "p99 ms"], [
            [name, f["requests"], f["failed"], f["p50"], f["p95"], f["p99"]]
            for name, f in (("before the stop", before), ("stop -1 s .. +3 s", around),
                            ("after", after))], title="load c around the stop:"))
    errors = plain.errors + replicated.errors + crash.errors
    print(f"errors: {len(errors)}" + (f" (first: {errors[0]})" if errors else ""))


if __name__ == "__main__":
    main()
