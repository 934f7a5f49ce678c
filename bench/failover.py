"""Failovers under load: what a crash (or a planned switchover) of the primary costs the portal.

Starts etcd and a Patroni cluster of its own (two or three nodes, synchronous mode, on free
loopback ports, in temporary folders), makes the ``jala_bench_failover`` database on it with
a small catalogue, and drives the portal on the multi-host ``DATABASE_URL`` with reader
threads (searches) and writer threads (sign-ups, each queueing a confirmation email), with a
real ``jala worker`` sending the outbox to an SMTP sink. Every ``--load-seconds`` the leader is
killed (``--mode crash``: Patroni and PostgreSQL SIGKILLed at once, as a power cut) or handed
over (``--mode switchover``); after the portal serves again and ``--after-seconds`` more, the
old leader's Patroni is started again and rejoins as a standby (pg_rewind), and the next run
begins. At the end the outbox is drained and audited. Prints, per run and over the runs: the
seconds without service for reads and writes (p50/max), the requests that failed, the
successful requests per second before and after, then the lost committed writes and the
emails doubled or never received.

    .venv/bin/python bench/failover.py [--runs 3] [--mode crash|switchover] [--nodes 2]
        [--entry haproxy-pgbouncer|multi-host] [--ttl 20] [--loop-wait 1]
        [--readers 4] [--writers 2]
        [--load-seconds 20] [--after-seconds 10] [--records 2000] [--keep]

A crash costs Patroni's leader TTL (20 s, the least it accepts) before the standby may take
over; a switchover costs a few seconds. ``--keep`` leaves the stopped cluster's folders (data
and logs) in /tmp.
"""
import argparse
import json
import logging
import shutil
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

from _common import log  # noqa: F401  (puts the checkout on sys.path)

from jala.extensions import db  # noqa: E402
from tests.support.app import make_app, migrate  # noqa: E402
from tests.support.catalog import import_lines  # noqa: E402
from tests.support.failover import PortalLoad, audit, pending_outbox, summary  # noqa: E402
from tests.support.patroni import LOOP_WAIT, TTL, PatroniCluster, missing_parts  # noqa: E402
from tests.support.pooling import ENTRIES  # noqa: E402
from tests.support.services import PrivateRedis  # noqa: E402
from tests.support.workers import FaultRig, wait_for  # noqa: E402

DATABASE = "jala_bench_failover"
WORDS = ("history", "economics", "library", "water", "chemistry", "law", "poetry", "江西",
         "physics", "music", "rivers", "porcelain")


def seed_catalogue(app, count):
    lines = [{"source_id": f"bench-{i}", "type": "book",
              "title": f"{WORDS[i % len(WORDS)]} {WORDS[(i * 7) % len(WORDS)]} volume {i}",
              "holdings": [{"library": "JXUFE", "status": "available"}]}
             for i in range(count)]
    with app.test_request_context("/"):
        for start in range(0, count, 500):
            import_lines(lines[start:start + 500], library="JXUFE", batch_size=500)
            db.session.commit()


def one_failover(cluster, entry, load, mode, args):
    """Kill or hand over the leader under load; return the run's window report."""
    run_started = time.monotonic()
    time.sleep(args.load_seconds)
    old = cluster.leader()
    at = time.monotonic()
    if mode == "crash":
        entry.crash(old)
    else:
        cluster.switchover()
    new = cluster.wait_for_leader(timeout=120, other_than=old)
    wait_for(lambda: load.served_since(at, "write") and load.served_since(at, "read"),
             timeout=60, what="the portal serving again")
    time.sleep(args.after_seconds)
    report = load.window(at, since=run_started, until=time.monotonic())
    report.update(old=old.name, new=new.name)
    if mode == "crash":
        entry.restart(old)  # it rejoins as a standby, rewound by Patroni
    cluster.wait_healthy(timeout=120)
    return report


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--mode", choices=("crash", "switchover"), default="crash")
    parser.add_argument("--nodes", type=int, default=2)
    parser.add_argument("--entry", choices=sorted(ENTRIES), default="haproxy-pgbouncer",
                        help="how the portal reaches the leader")
    parser.add_argument("--ttl", type=int, default=TTL, help="Patroni's leader key TTL (s)")
    parser.add_argument("--loop-wait", type=int, default=LOOP_WAIT, help="Patroni's loop (s)")
    parser.add_argument("--readers", type=int, default=4)
    parser.add_argument("--writers", type=int, default=2)
    parser.add_argument("--load-seconds", type=float, default=20)
    parser.add_argument("--after-seconds", type=float, default=10)
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--keep", action="store_true",
                        help="leave the stopped cluster's folders (data and logs)")
    args = parser.parse_args()
    missing = missing_parts(ENTRIES[args.entry].programs)
    if missing:
        sys.exit(f"bench/failover.py needs {missing}")

    work = Path(tempfile.mkdtemp(prefix="jala-bench-failover-"))
    cluster = PatroniCluster(size=args.nodes, ttl=args.ttl, loop_wait=args.loop_wait)
    redis = PrivateRedis(work / "redis").start()
    rig = load = entry = None
    try:
        started = time.monotonic()
        cluster.start()
        log(f"cluster of {args.nodes} up in {time.monotonic() - started:.1f} s")
        entry = ENTRIES[args.entry](cluster).start()
        cluster.create_database(DATABASE)
        url = entry.url(DATABASE)
        migrate(url)
        services = SimpleNamespace(url=redis.url, queue="bench-failover", prefix="bench-failover")
        app = make_app(url, services, SimpleNamespace(port=1), work / "instance")
        app.config["TESTING"] = False
        # the failed requests of the window are counted, not logged one traceback each
        logging.disable(logging.CRITICAL)
        seed_catalogue(app, args.records)
        rig = FaultRig(app, work)
        rig.start_worker()
        load = PortalLoad(app, readers=args.readers, writers=args.writers).start()
        runs = []
        for number in range(1, args.runs + 1):
            report = one_failover(cluster, entry, load, args.mode, args)
            runs.append(report)
            log(f"run {number}: {json.dumps(report)}")
        load.stop()
        conninfo = cluster.conninfo(dbname=DATABASE)
        wait_for(lambda: not pending_outbox(conninfo, load), timeout=120,
                 what="the outbox to drain", diagnose=rig.worker_logs)
        result = audit(conninfo, load, rig.smtp.messages)
        print_report(args, runs, result)
    finally:
        if load:
            load.stop()
        if rig:
            rig.close()
        redis.stop()
        if entry:
            entry.stop()
        cluster.remove(keep_files=args.keep)
        if args.keep:
            log(f"kept (stopped): {[str(n.root) for n in cluster.nodes]}, "
                f"{cluster.etcd.root} and {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def print_report(args, runs, result):
    print(f"\n{args.mode} of the primary under load: {args.nodes} Patroni nodes "
          f"(synchronous mode, ttl {args.ttl} s, loop_wait {args.loop_wait} s), "
          f"the portal through {args.entry}, "
          f"{args.readers} readers + {args.writers} writers, "
          f"{args.load_seconds:.0f} s of load before each of {len(runs)} runs\n")
    print(f"{'run':>3} {'old→new':>12} {'reads s':>8} {'writes s':>9} {'failed r':>9} "
          f"{'failed w':>9} {'ok/s before':>12} {'ok/s after':>11}")
    for number, run in enumerate(runs, 1):
        print(f"{number:>3} {run['old'] + '→' + run['new']:>12} {run['reads_unavailable_s']:>8} "
              f"{run['writes_unavailable_s']:>9} {run['reads_failed']:>9} "
              f"{run['writes_failed']:>9} {run['ok_per_s_before']:>12} "
              f"{str(run['ok_per_s_after']):>11}")
    reads = summary([r["reads_unavailable_s"] for r in runs])
    writes = summary([r["writes_unavailable_s"] for r in runs])
    print(f"\nunavailable, reads:  p50 {reads['p50']} s, max {reads['max']} s")
    print(f"unavailable, writes: p50 {writes['p50']} s, max {writes['max']} s")
    print(f"failed requests in the windows: {sum(r['reads_failed'] for r in runs)} reads, "
          f"{sum(r['writes_failed'] for r in runs)} writes")
    print(f"committed writes {result['committed_writes']}, in doubt "
          f"{result['in_doubt_writes']} (of which committed: "
          f"{result['in_doubt_that_committed']})")
    print(f"lost committed writes: {len(result['lost_committed_writes'])}")
    print(f"emails: {result['emails_in_outbox']} in the outbox, "
          f"doubled {len(result['emails_doubled'])}, "
          f"not received {len(result['emails_not_received'])}, "
          f"sign-ups without an email {len(result['users_without_outbox_email'])}")


if __name__ == "__main__":
    main()
