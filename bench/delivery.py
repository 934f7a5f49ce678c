"""Document delivery email benchmark: fulfil -> outbox -> RQ -> SMTP, with real worker processes.

1. Creates a fresh ``jala_bench_delivery`` database (migrated with alembic), a private
   redis-server on a free loopback port (the machine's Redis is never touched) and an aiosmtpd
   SMTP sink in this process that records every message's Message-ID, To and arrival time.
2. Setup (timed, not part of the measurement): one librarian at each member library but the
   readers' own (JXUFE), a journal list per library (``save_coverage``; every ISSN is covered
   by three libraries), readers bulk-inserted (10 requests each, the default daily quota), and
   N + U article requests made through the real ``submit_request``, so they are routed by
   journal coverage (least busy library first) exactly as in the portal.
3. Starts W ``python -m jala worker`` processes (RQ SimpleWorker + the sweeper, as in
   production) and waits until they are registered. Then fulfils the N requests one by one
   through ``fulfil_request(staff, id, url=...)`` as the librarian of the request's library,
   committing every ``--batch`` requests (default 1: one transaction per request, like a
   librarian's click; ``--savepoint`` also wraps each step in a SAVEPOINT, as the page
   does). The instant each commit returns from PostgreSQL is recorded (a Session
   ``after_commit`` listener that runs before the outbox relay).
4. Waits until every outbox row is sent and its email has reached the sink (or a timeout),
   then prints: fulfil rate, emails/s (first fulfil commit to last email received), latency
   from a request's fulfil commit to its email's arrival (p50/p95/p99/max, matched by the
   outbox row's Message-ID), lost emails (outbox rows of these requests never received),
   duplicated emails (Message-IDs received more than once), plus RQ job counts, queue depth
   and CPU time per process.
5. Then the same for U further requests fulfilled with a small PDF upload (the file path),
   reported separately.

Exits 1 if any email is lost or duplicated (or a fulfil failed), 2 on a timeout.

Usage:  .venv/bin/python bench/delivery.py [--requests 10000] [--workers 2] [--uploads 500]
                                           [--batch 1] [--savepoint] [--keep]
"""
import argparse
import email.policy
import io
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from email.parser import BytesHeaderParser
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402

HOME_LIBRARY = "JXUFE"
PER_READER = 10  # the default of delivery.requests_per_day
ISSNS = 60
COVERAGE_PER_ISSN = 3
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
QUEUE_NAME = "jala-bench-delivery"

# wall-clock instant of the last PostgreSQL commit of this process (set by a listener that is
# inserted before jala.jobs' relay, so it is the commit itself, not commit + enqueue)
_COMMITTED = {"t": 0.0}


# --- the SMTP sink ---------------------------------------------------------------------------

class SinkHandler:
    """aiosmtpd handler that keeps ``(Message-ID, To, arrival time)`` for every message."""

    def __init__(self):
        self.received = []
        self.lock = threading.Lock()
        self._parser = BytesHeaderParser(policy=email.policy.compat32)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        """Record the message's headers and the instant it arrived; accept it."""
        arrived = time.time()
        headers = self._parser.parsebytes(envelope.original_content or envelope.content)
        entry = ((headers["Message-ID"] or "").strip(), (headers["To"] or "").strip(), arrived)
        with self.lock:
            self.received.append(entry)
        return "250 OK"

    def snapshot(self):
        """A copy of everything received so far."""
        with self.lock:
            return list(self.received)

    def count(self):
        """How many messages arrived so far."""
        with self.lock:
            return len(self.received)


class Sink:
    """The SMTP sink on a free loopback port."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        from jala.embedded.redis_server import free_port

        self.handler = SinkHandler()
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        """Stop the SMTP server thread."""
        self.controller.stop()


class Upload:
    """What Flask hands a view for an uploaded file (a stream and a name)."""

    def __init__(self, data, filename="scan.pdf"):
        self.stream = io.BytesIO(data)
        self.filename = filename


# --- processes -------------------------------------------------------------------------------

class Services:
    """The private redis-server, the SMTP sink and the worker processes; stopped at the end."""

    def __init__(self, workdir):
        self.workdir = Path(workdir)
        self.redis_proc = None
        self.redis_url = None
        self.sink = None
        self.workers = []
        self.worker_logs = []

    def start_redis(self):
        """Start a private redis-server (no persistence) on a free port."""
        from jala.embedded.redis_server import start_redis_server

        self.redis_proc, url = start_redis_server(self.workdir / "redis", persist=False)
        self.redis_url = url
        return url

    def start_sink(self):
        """Start the SMTP sink in this process."""
        self.sink = Sink()
        return self.sink

    def start_workers(self, n, database_url, sweep_interval, secret_key):
        """Start ``n`` ``python -m jala worker`` processes (own session: Ctrl-C is ours)."""
        env = dict(os.environ, DATABASE_URL=database_url, REDIS_URL=self.redis_url,
                   MAIL_SERVER="127.0.0.1", MAIL_PORT=str(self.sink.port), RQ_QUEUE=QUEUE_NAME,
                   SWEEP_INTERVAL_SECONDS=str(sweep_interval),
                   JALA_INSTANCE_PATH=str(self.workdir / "worker-instance"),
                   SECRET_KEY=secret_key)
        for i in range(n):
            log_path = self.workdir / f"worker-{i + 1}.log"
            handle = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
            proc = subprocess.Popen([sys.executable, "-m", "jala", "worker"], env=env,
                                    cwd=str(C.ROOT), stdout=handle, stderr=subprocess.STDOUT,
                                    start_new_session=True)
            self.workers.append(proc)
            self.worker_logs.append((log_path, handle))

    def check_workers(self):
        """Raise if a worker process has exited."""
        for proc, (log_path, _handle) in zip(self.workers, self.worker_logs, strict=True):
            if proc.poll() is not None:
                tail = log_path.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"worker {proc.pid} exited with {proc.returncode}:\n{tail}")

    def stop(self):
        """Stop the workers (warm shutdown, then kill), the sink and redis-server."""
        from jala.embedded.redis_server import stop_redis_server

        for proc in self.workers:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.workers:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for _path, handle in self.worker_logs:
            handle.close()
        if self.sink is not None:
            self.sink.stop()
        if self.redis_proc is not None:
            stop_redis_server(self.redis_proc)


class QueueSampler(threading.Thread):
    """Samples the RQ queue length every 0.25 s (how far the workers lag behind)."""

    def __init__(self, redis_url):
        super().__init__(name="queue-sampler", daemon=True)
        import redis
        from rq import Queue

        self.queue = Queue(QUEUE_NAME, connection=redis.Redis.from_url(redis_url))
        self.samples = []
        self.halt = threading.Event()

    def run(self):
        """Sample until stopped."""
        while not self.halt.is_set():
            try:
                self.samples.append((time.time(), self.queue.count))
            except Exception:  # noqa: BLE001 - a missed sample is harmless
                pass
            self.halt.wait(0.25)

    def between(self, start, end):
        """Queue lengths sampled in ``[start, end]``."""
        return [n for t, n in self.samples if start <= t <= end]


def cpu_seconds(services, dbname):
    """CPU seconds so far of each process of the benchmark, and of the whole machine.

    The processes: this one, each worker, redis-server, the PostgreSQL backends serving our
    database; the machine: busy time of all CPUs (so other load shows up).
    """
    import psutil

    def of(proc):
        try:
            t = proc.cpu_times()
            return t.user + t.system
        except psutil.Error:
            return 0.0

    out = {"bench": of(psutil.Process())}
    for i, proc in enumerate(services.workers):
        out[f"worker {i + 1}"] = of(psutil.Process(proc.pid))
    out["redis-server"] = of(psutil.Process(services.redis_proc.pid))
    backends = 0.0
    for proc in psutil.process_iter(["name", "cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if (proc.info["name"] or "").startswith("postgres") and f" {dbname} " in cmdline:
            backends += of(proc)
    out["postgres backends"] = backends
    machine = psutil.cpu_times()
    out["machine"] = (machine.user + machine.nice + machine.system
                      + getattr(machine, "irq", 0.0) + getattr(machine, "softirq", 0.0))
    out["wall"] = time.time()
    return out


def rq_worker_stats(redis_url):
    """``(finished jobs, failed jobs, seconds in jobs)`` summed over the registered workers."""
    import redis
    from rq import Queue, Worker

    conn = redis.Redis.from_url(redis_url)
    workers = Worker.all(connection=conn, queue=Queue(QUEUE_NAME, connection=conn))
    return (sum(w.successful_job_count for w in workers),
            sum(w.failed_job_count for w in workers),
            sum(w.total_working_time for w in workers))


def wait_for_workers(redis_url, n, services, timeout=60):
    """Block until ``n`` workers listen on the queue."""
    import redis
    from rq import Queue, Worker

    conn = redis.Redis.from_url(redis_url)
    queue = Queue(QUEUE_NAME, connection=conn)
    deadline = time.monotonic() + timeout
    while Worker.count(connection=conn, queue=queue) < n:
        services.check_workers()
        if time.monotonic() > deadline:
            raise RuntimeError(f"{n} workers did not register within {timeout} s")
        time.sleep(0.1)


# --- setup -----------------------------------------------------------------------------------

def issn_list(n):
    """``n`` valid, distinct ISSNs (NNNN-NNNC)."""
    from stdnum import issn

    out = []
    for i in range(n):
        body = f"{2049 + i:04d}{(i * 37) % 1000:03d}"
        out.append(f"{body[:4]}-{body[4:]}{issn.calc_check_digit(body)}")
    return out


def setup(app, total, timings):
    """Librarians, journal coverage, readers and ``total`` routed requests (committed).

    Returns ``(request ids in order, {request id: library id}, {library id: librarian id})``.
    """
    from sqlalchemy import insert, select

    from jala import clock
    from jala.accounts.models import Library, User
    from jala.accounts.passwords import hash_password
    from jala.delivery import coverage
    from jala.delivery import services as delivery
    from jala.delivery.models import DeliveryRequest
    from jala.extensions import db
    from jala.membership import get_library, is_member
    from tests.support.factories import make_user

    with app.test_request_context("/"):
        started = time.perf_counter()
        today = clock.local_today()
        libraries = db.session.execute(select(Library).order_by(Library.id)).scalars().all()
        holders = [lib.code for lib in libraries
                   if lib.code != HOME_LIBRARY and is_member(lib, today)]
        librarians = {code: make_user(library=code, roles=("librarian",),
                                      email=f"librarian-{code.lower()}@example.edu.cn")
                      for code in holders}
        issns = issn_list(ISSNS)
        for k, value in enumerate(issns):
            for j in range(COVERAGE_PER_ISSN):
                code = holders[(k + j) % len(holders)]
                coverage.save_coverage(librarians[code], code, issn=value,
                                       title=f"Journal {value}", year_from="1990")
        db.session.commit()
        staff = {get_library(code).id: user.id for code, user in librarians.items()}
        timings["setup: librarians + coverage"] = time.perf_counter() - started

        started = time.perf_counter()
        home = get_library(HOME_LIBRARY)
        n_readers = -(-total // PER_READER)
        password_hash = hash_password(f"bench-{time.time()}")
        now = clock.now()
        db.session.execute(insert(User), [
            {"email": f"reader{i:05d}@example.edu.cn", "email_confirmed_at": now,
             "password_hash": password_hash, "display_name": f"读者{i:05d}",
             "home_library_id": home.id, "card_number": f"B{i:06d}", "verified_at": now,
             "created_at": now}
            for i in range(n_readers)])
        db.session.commit()
        reader_ids = db.session.execute(
            select(User.id).where(User.home_library_id == home.id).order_by(User.id)
        ).scalars().all()
        timings["setup: readers (bulk insert)"] = time.perf_counter() - started

        started = time.perf_counter()
        for chunk_start in range(0, total, 250):
            for i in range(chunk_start, min(total, chunk_start + 250)):
                reader = db.session.get(User, reader_ids[i // PER_READER])
                delivery.submit_request(
                    reader, kind="article", title=f"基准测试论文 {i}：文献传递吞吐量",
                    authors=f"作者{i % 97}; Author {i % 31}", container_title="基准期刊",
                    issn=issns[i % len(issns)], year=2000 + i % 25, volume=str(1 + i % 40),
                    issue=str(1 + i % 12), pages=f"{1 + i % 200}-{10 + i % 200}")
            db.session.commit()
            db.session.expunge_all()
            if chunk_start and chunk_start % 2000 == 0:
                C.log(f"  {chunk_start:,} requests submitted")
        timings["setup: requests (submit_request)"] = time.perf_counter() - started

        rows = db.session.execute(
            select(DeliveryRequest.id, DeliveryRequest.library_id).order_by(DeliveryRequest.id)
        ).all()
        db.session.remove()
    return [r.id for r in rows], {r.id: r.library_id for r in rows}, staff


def analyze(dbname):
    """VACUUM ANALYZE the fresh tables, so the measured phase runs with real statistics."""
    import psycopg

    with psycopg.connect(C.conninfo(dbname), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


# --- the measured phase ----------------------------------------------------------------------

def fulfil_all(app, ids, library_of, staff_of, batch, mode, savepoint=False):
    """Fulfil ``ids`` in order; returns ``(commit time by id, call seconds by id, errors)``.

    ``savepoint``: wrap each step in a SAVEPOINT, as the librarian's page does
    (``jala.delivery.routes._staff_step``, through ``jala.web.attempt``), before the
    transaction commits.
    """
    from jala.accounts.models import User
    from jala.delivery.services import fulfil_request
    from jala.extensions import db

    committed, call_s, errors = {}, {}, []
    with app.test_request_context("/"):
        staff = {lib_id: db.session.get(User, user_id) for lib_id, user_id in staff_of.items()}
        for start in range(0, len(ids), batch):
            chunk = ids[start:start + batch]
            t0 = time.perf_counter()
            try:
                for rid in chunk:
                    nested = db.session.begin_nested() if savepoint else None
                    if mode == "url":
                        fulfil_request(staff[library_of[rid]], rid,
                                       url=f"https://example.org/doc/{rid}.pdf")
                    else:
                        fulfil_request(staff[library_of[rid]], rid, upload=Upload(PDF))
                    if nested is not None:
                        nested.commit()
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 - counted and reported
                db.session.rollback()
                errors.append((chunk[0], f"{type(exc).__name__}: {exc}"))
                continue
            per = (time.perf_counter() - t0) / len(chunk)
            for rid in chunk:
                committed[rid] = _COMMITTED["t"]
                call_s[rid] = per
            if start and start % 2000 < batch:
                C.log(f"  {mode}: {start:,} fulfilled")
        db.session.remove()
    return committed, call_s, errors


def outbox_rows(app, ids):
    """``{request id: (message_id, to_addr, status, attempts, enqueued_at)}`` of fulfil mail."""
    from sqlalchemy import select

    from jala.extensions import db
    from jala.jobs import OutboxEmail

    wanted = {str(i) for i in ids}
    out, extra = {}, 0
    with app.app_context():
        rows = db.session.execute(
            select(OutboxEmail.object_id, OutboxEmail.message_id, OutboxEmail.to_addr,
                   OutboxEmail.status, OutboxEmail.attempts, OutboxEmail.enqueued_at)
            .where(OutboxEmail.kind == "delivery.fulfilled",
                   OutboxEmail.object_type == "delivery_request")
        ).all()
        db.session.remove()
    for r in rows:
        if r.object_id in wanted:
            if int(r.object_id) in out:
                extra += 1
            out[int(r.object_id)] = (r.message_id, r.to_addr, r.status, r.attempts,
                                     r.enqueued_at)
    return out, extra


def pending_count(app, message_ids):
    """How many of these outbox rows are not ``sent`` yet."""
    from sqlalchemy import func, select

    from jala.extensions import db
    from jala.jobs import OutboxEmail

    with app.app_context():
        n = db.session.execute(
            select(func.count()).select_from(OutboxEmail).where(
                OutboxEmail.message_id.in_(message_ids), OutboxEmail.status != "sent")
        ).scalar_one()
        db.session.remove()
    return n


def wait_for_delivery(app, services, message_ids, timeout):
    """Wait until every Message-ID reached the sink and every row is ``sent``.

    Returns True, or False on a timeout (``timeout`` seconds without any new email).
    """
    wanted = set(message_ids)
    last_progress, last_seen = time.monotonic(), -1
    while True:
        services.check_workers()
        received = {m for m, _to, _t in services.sink.handler.snapshot()}
        missing = len(wanted - received)
        if missing == 0 and pending_count(app, list(wanted)) == 0:
            return True
        if len(received) != last_seen:
            last_seen, last_progress = len(received), time.monotonic()
        elif time.monotonic() - last_progress > timeout:
            C.log(f"timeout: {missing} emails missing, no progress for {timeout} s")
            return False
        time.sleep(0.2)


def measure(app, services, sampler, ids, library_of, staff_of, args, mode):
    """Fulfil ``ids``, wait for their emails, and return the numbers of the phase."""
    rq_before = rq_worker_stats(services.redis_url)
    cpu_before = cpu_seconds(services, args.db)
    sink_before = services.sink.handler.count()
    load_before = os.getloadavg()[0]
    C.log(f"{mode}: fulfilling {len(ids):,} requests (commit every {args.batch})")
    t_start = time.time()
    committed, call_s, errors = fulfil_all(app, ids, library_of, staff_of, args.batch, mode,
                                           args.savepoint)
    t_fulfilled = time.time()
    C.log(f"{mode}: fulfilled in {t_fulfilled - t_start:.1f} s; waiting for the emails")
    rows, extra_rows = outbox_rows(app, committed)
    ok = wait_for_delivery(app, services, [r[0] for r in rows.values()], args.timeout)
    t_drained = time.time()
    time.sleep(args.grace)  # a duplicate would show up now
    cpu_after = cpu_seconds(services, args.db)
    rq_after = rq_worker_stats(services.redis_url)
    rows, extra_rows = outbox_rows(app, committed)  # statuses after the wait

    received = services.sink.handler.snapshot()[sink_before:]
    arrivals = {}
    for message_id, to_addr, t in received:
        arrivals.setdefault(message_id, []).append((t, to_addr))
    ours = {r[0] for r in rows.values()}
    latencies, lost, wrong_to = [], [], 0
    for rid, (message_id, to_addr, *_rest) in rows.items():
        got = arrivals.get(message_id)
        if not got:
            lost.append(rid)
            continue
        first_t, first_to = min(got)
        latencies.append(first_t - committed[rid])
        if first_to != to_addr:
            wrong_to += 1
    duplicated = sum(1 for m, got in arrivals.items() if len(got) > 1)
    duplicate_copies = sum(len(got) - 1 for got in arrivals.values() if len(got) > 1)
    unknown = sum(1 for m in arrivals if m not in ours)
    statuses = {}
    for _m, _to, status, _att, _enq in rows.values():
        statuses[status] = statuses.get(status, 0) + 1
    times = sorted(committed.values())
    first_commit = times[0] if times else t_start
    last_commit = times[-1] if times else t_fulfilled
    last_arrival = max((t for _m, _to, t in received), default=float("nan"))
    queue_depths = sampler.between(t_start, t_drained)
    return {
        "mode": mode, "n": len(ids), "fulfilled": len(committed), "errors": errors,
        "fulfil_s": last_commit - t_start, "first_commit": first_commit,
        "last_commit": last_commit, "call_ms": [v * 1000 for v in call_s.values()],
        "outbox_rows": len(rows), "extra_rows": extra_rows, "no_outbox": len(committed) - len(rows),
        "received": len(received), "distinct": len(arrivals), "latencies": latencies,
        "lost": lost, "duplicated": duplicated, "duplicate_copies": duplicate_copies,
        "unknown": unknown, "wrong_to": wrong_to, "statuses": statuses,
        "retried": sum(1 for r in rows.values() if r[3] > 1),
        "swept": sum(1 for r in rows.values() if r[4] is not None),
        "last_arrival": last_arrival, "drained": ok,
        "jobs": (rq_after[0] - rq_before[0], rq_after[1] - rq_before[1],
                 rq_after[2] - rq_before[2]),
        "queue_max": max(queue_depths, default=0), "queue_samples": queue_depths,
        "cpu": {k: cpu_after[k] - cpu_before.get(k, 0.0) for k in cpu_after},
        "cpu_wall": cpu_after["wall"] - cpu_before["wall"],
        "load": (load_before, os.getloadavg()[0]),
        "wall": t_drained - t_start,
    }


# --- report ----------------------------------------------------------------------------------

def phase_lines(r, args):
    """The printed lines of one phase."""
    out = []
    w = out.append
    label = "URL fulfilment" if r["mode"] == "url" else "PDF upload fulfilment"
    n = r["fulfilled"]
    w(f"{label}: {r['n']:,} requests, {args.workers} workers, commit every {args.batch}"
      + (", each fulfil in a SAVEPOINT" if args.savepoint else ""))
    rate = n / r["fulfil_s"] if r["fulfil_s"] > 0 else float("nan")
    calls = r["call_ms"]
    w(f"  fulfil:      {n:,} fulfilled in {r['fulfil_s']:.1f} s = {rate:,.1f} requests/s "
      f"(fulfil_request + commit per request: p50 {C.percentile(calls, 50):.1f}  p95 "
      f"{C.percentile(calls, 95):.1f}  p99 {C.percentile(calls, 99):.1f} ms); "
      f"errors {len(r['errors'])}")
    for rid, message in r["errors"][:5]:
        w(f"      request {rid}: {message}")
    span = r["last_arrival"] - r["first_commit"]
    received = r["distinct"]
    throughput = received / span if span > 0 else float("nan")
    w(f"  throughput:  {received:,} emails in {span:.1f} s (first fulfil commit -> last email "
      f"received) = {throughput:,.1f} emails/s")
    drain = r["last_arrival"] - r["last_commit"]
    w(f"               last email {drain:.1f} s after the last fulfil commit; RQ queue depth "
      f"max {r['queue_max']:,}, mean {C.mean(r['queue_samples']):,.0f}")
    lat = r["latencies"]
    w(f"  latency:     fulfil commit -> email at the sink (n={len(lat):,}): p50 "
      f"{C.percentile(lat, 50):.3f}  p95 {C.percentile(lat, 95):.3f}  p99 "
      f"{C.percentile(lat, 99):.3f}  max {max(lat, default=float('nan')):.3f} s")
    w(f"  lost:        {len(r['lost'])}  (outbox rows of these requests never received"
      + (f"; e.g. requests {r['lost'][:5]}" if r["lost"] else "") + ")")
    w(f"  duplicated:  {r['duplicated']}  (Message-IDs received more than once; "
      f"{r['duplicate_copies']} extra copies)")
    w(f"  checks:      outbox rows {r['outbox_rows']:,} for {n:,} fulfilled requests "
      f"(missing {r['no_outbox']}, extra {r['extra_rows']}); statuses "
      + ", ".join(f"{k} {v:,}" for k, v in sorted(r["statuses"].items()))
      + f"; sent after a retry {r['retried']}; re-enqueued by the sweeper {r['swept']}; "
      f"wrong To {r['wrong_to']}; unknown Message-IDs {r['unknown']}")
    jobs_ok, jobs_failed, job_s = r["jobs"]
    per_email = job_s / jobs_ok * 1000 if jobs_ok else float("nan")
    w(f"  RQ jobs:     {jobs_ok:,} finished, {jobs_failed} failed "
      f"({jobs_ok / max(1, received):.2f} jobs per email); {job_s:.1f} s inside jobs = "
      f"{per_email:.1f} ms per job")
    w(f"               if kept busy at that per-job time, {args.workers} workers could send "
      f"{args.workers * jobs_ok / job_s if job_s else float('nan'):,.0f} emails/s")
    cpu = dict(r["cpu"])
    machine = cpu.pop("machine")
    cpu.pop("wall")
    ours = sum(cpu.values())
    wall = r["cpu_wall"]
    w(f"  CPU seconds over {wall:.1f} s wall, fulfil start to end of the wait for duplicates "
      f"({os.cpu_count()} CPUs = {os.cpu_count() * wall:.0f} CPU s): " + ", ".join(f"{k} {v:.1f}"
                                                             for k, v in cpu.items()))
    w(f"               the whole machine {machine:.1f}, of which other processes (PostgreSQL "
      f"background work, anything else running) {machine - ours:.1f}; load average "
      f"{r['load'][0]:.1f} -> {r['load'][1]:.1f}")
    return out


def report(args, timings, phases, ok):
    """Print the benchmark's results."""
    out = []
    w = out.append
    w("")
    w(f"JALA document delivery email benchmark: {args.requests:,} URL + {args.uploads:,} upload "
      f"fulfilments, {args.workers} x `python -m jala worker` (RQ SimpleWorker), private "
      f"redis-server, aiosmtpd sink in the benchmark process; sweep interval "
      f"{args.sweep_interval} s; {os.cpu_count()} CPUs")
    w(f"Code: {args.code_version}")
    w("")
    w("Setup (not measured):")
    for label, seconds in timings.items():
        w(f"  {label:<36} {seconds:8.1f} s")
    w("")
    for phase in phases:
        out.extend(phase_lines(phase, args))
        w("")
    url = phases[0] if phases else None
    if url is not None:
        lat = url["latencies"]
        span = url["last_arrival"] - url["first_commit"]
        w("Summary (URL phase): "
          f"{url['distinct'] / span if span > 0 else float('nan'):,.1f} emails/s; p95 fulfil -> "
          f"email {C.percentile(lat, 95):.3f} s; lost {len(url['lost'])}; duplicated "
          f"{url['duplicated']}; fulfil rate "
          f"{url['fulfilled'] / url['fulfil_s'] if url['fulfil_s'] > 0 else 0:,.1f} requests/s")
    w("Result: " + ("OK" if ok else "FAIL"))
    print("\n".join(out), flush=True)


# --- main ------------------------------------------------------------------------------------

def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv=None):
    """Run the benchmark; returns the process exit status."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=10_000,
                        help="requests fulfilled by URL, the measured phase (10000)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (2)")
    parser.add_argument("--uploads", type=int, default=500,
                        help="further requests fulfilled with a small PDF upload (500; 0: none)")
    parser.add_argument("--batch", type=int, default=1,
                        help="requests fulfilled per transaction (1: one commit per request)")
    parser.add_argument("--savepoint", action="store_true",
                        help="wrap each fulfil in a SAVEPOINT, as the librarian's page does")
    parser.add_argument("--sweep-interval", type=int, default=30,
                        help="SWEEP_INTERVAL_SECONDS of the workers (30, the default)")
    parser.add_argument("--timeout", type=float, default=180,
                        help="give up after this many seconds without a new email (180)")
    parser.add_argument("--grace", type=float, default=2.0,
                        help="seconds to wait for duplicates after the last email (2)")
    parser.add_argument("--db", default="jala_bench_delivery")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args(argv)
    if not args.db.startswith("jala_bench_"):
        parser.error("--db must start with jala_bench_")
    if args.requests < 1 or args.workers < 1 or args.batch < 1 or args.uploads < 0:
        parser.error("--requests, --workers and --batch must be >= 1, --uploads >= 0")

    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    t_all = time.perf_counter()
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    import jala.delivery.services  # noqa: F401 - loaded now, so the version below is what runs
    import jala.jobs  # noqa: F401 - its relay listener is registered before ours is inserted
    from jala import create_app

    @event.listens_for(Session, "after_commit", insert=True)
    def _stamp_commit(session):
        if not session.in_nested_transaction():  # not a SAVEPOINT release
            _COMMITTED["t"] = time.time()

    args.code_version = C.code_version()
    workdir = Path(tempfile.mkdtemp(prefix="jala-bench-delivery-"))
    services = Services(workdir)
    app = None
    url = None
    timings = {}
    status = 0
    try:
        started = time.perf_counter()
        url = C.create_bench_database(args.db)
        timings["create + migrate database"] = time.perf_counter() - started
        C.log(f"database {args.db} created and migrated")
        services.start_redis()
        services.start_sink()
        C.log(f"redis-server {services.redis_url}, SMTP sink on 127.0.0.1:{services.sink.port}")
        secret = "bench-delivery-" + "x" * 32
        app = create_app({"DATABASE_URL": url, "REDIS_URL": services.redis_url,
                          "SECRET_KEY": secret, "INSTANCE_PATH": str(workdir / "instance"),
                          "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": services.sink.port,
                          "RQ_QUEUE": QUEUE_NAME, "PASSWORD_HASH_FAST": True})

        total = args.requests + args.uploads
        ids, library_of, staff_of = setup(app, total, timings)
        C.log(f"setup: {len(ids):,} requests at {len(set(library_of.values()))} libraries "
              f"({sum(timings.values()):.1f} s)")
        started = time.perf_counter()
        analyze(args.db)
        timings["VACUUM ANALYZE"] = time.perf_counter() - started

        started = time.perf_counter()
        services.start_workers(args.workers, url, args.sweep_interval, secret)
        wait_for_workers(services.redis_url, args.workers, services)
        timings["start workers (until registered)"] = time.perf_counter() - started
        sampler = QueueSampler(services.redis_url)
        sampler.start()

        phases = []
        phase = measure(app, services, sampler, ids[:args.requests], library_of, staff_of,
                        args, "url")
        phases.append(phase)
        if phase["drained"] and args.uploads:
            phases.append(measure(app, services, sampler, ids[args.requests:], library_of,
                                  staff_of, args, "upload"))
        sampler.halt.set()
        ok = all(p["drained"] and not p["lost"] and not p["duplicated"] and not p["errors"]
                 and not p["no_outbox"] for p in phases)
        report(args, timings, phases, ok)
        print(f"\nTotal benchmark time {time.perf_counter() - t_all:,.0f} s", flush=True)
        if not all(p["drained"] for p in phases):
            status = 2
        elif not ok:
            status = 1
    except KeyboardInterrupt:
        C.log("interrupted; cleaning up")
        status = 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not skip cleanup
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        services.stop()
        if app is not None:
            C.close_database(app, args.db, url, args.keep)
        elif url is not None and not args.keep:
            C.drop_database(args.db)
        shutil.rmtree(workdir, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
