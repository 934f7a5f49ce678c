"""The sharded catalogue against one node: latency per query class, same answers, sizes, rates.

1. One-node catalogues of ``--small`` (1 M) and ``--records`` (3 M) synthetic records on the
   machine's server (bench/_catalogues.py: the real importer, indexes built after the load;
   the larger is a file copy of the smaller plus the records after it). Load rate and index
   build times are printed.
2. ``--shards`` PostgreSQL clusters made by pg_createcluster on ports 5433 … (bench/_clusters.py).
   The coordinator ``jala_bench_sharded_3m`` on 5432 is a file copy of the large catalogue; then
   ``jala shards add URL`` for each cluster, then ``jala shards init`` (which copies each
   bucket straight to its shard) and ``jala shards rebalance`` (nothing left to move)
   spread its records over them (timed: records placed per second).
3. bench/search.py's query mix (every class plain and filtered; titles sampled from the first
   ``--small`` records, which every catalogue holds) runs on all three catalogues, query by
   query in turn, twice. Prints p50/p95/p99 per class and overall, the sharded catalogue's
   p95 over one node's of the same size (the fan-out's overhead), and whether the sharded
   catalogue answers every query with one node's top 20 (ids and order), total and facets.
4. Sizes of the records' heap, TOAST and each index per million records, on each catalogue and
   each shard.
5. ``--insert`` new records imported (every index in place) into the large one-node catalogue
   and through the coordinator into the sharded one: records/s. They are deleted afterwards,
   so a kept catalogue stays as built.

Usage:  .venv/bin/python bench/shards.py [--records 3000000] [--small 1000000] [--shards 3]
            [--queries 5] [--insert 2000] [--reuse] [--keep] [--skip STEPS] | --clean
``--reuse`` uses catalogues and clusters a ``--keep`` run left; ``--clean`` removes them all.
On 2 shared cores: 1 M records load and index in 10 minutes, 3 M in an hour more; the
sharded copy takes about 30 minutes per million (init + rebalance); the queries 2-15 minutes
per catalogue. Every step is skipped on ``--reuse`` when its catalogue is kept.
"""
import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _catalogues as K  # noqa: E402
import _clusters  # noqa: E402
import _common as C  # noqa: E402
import _shard_queries as Q  # noqa: E402
import _shard_sizes as Z  # noqa: E402
import _synth  # noqa: E402
import search as S  # noqa: E402

SHARDED = "jala_bench_sharded"  # + the size: jala_bench_sharded_3m, on 5432 and every shard
FIRST_PORT = 5433


def _size(n):
    return f"{n // 1_000_000}m" if n % 1_000_000 == 0 else str(n)


def one_name(n):
    return f"jala_bench_one_{_size(n)}"


def sharded_name(n):
    return f"{SHARDED}_{_size(n)}"


def clean():
    names = [row[0] for row in S.admin("postgres", "SELECT datname FROM pg_database WHERE "
                                                   "datname LIKE 'jala_bench_one_%%' OR "
                                                   "datname LIKE %s", (SHARDED + "%",))]
    for name in names:
        C.drop_database(name)
    dropped = _clusters.drop_all()
    C.log(f"dropped databases {names or 'none'}, clusters {dropped or 'none'}")


# --- the sharded catalogue ----------------------------------------------------------------

def jala_cli(dbname, *args, maintenance_work_mem="1GB"):
    """``jala ARGS`` against a benchmark database: ``(output, seconds)``; raises on failure."""
    # PGOPTIONS reaches every libpq connection the command opens, the shards' too: the
    # indexes are built with the memory bench/search.py gives them
    env = {**os.environ, "DATABASE_URL": C.db_url(dbname), "REDIS_URL": C.REDIS_URL,
           "SECRET_KEY": "x" * 40, "JALA_INSTANCE_PATH": C.INSTANCE_PATH,
           "PGOPTIONS": f"-c maintenance_work_mem={maintenance_work_mem}"}
    started = time.perf_counter()
    done = subprocess.run([str(C.ROOT / ".venv/bin/jala"), *args], env=env, cwd=C.ROOT,
                          capture_output=True, text=True)
    seconds = time.perf_counter() - started
    output = (done.stdout + done.stderr).strip()
    if done.returncode:
        raise RuntimeError(f"jala {' '.join(args)} failed ({done.returncode}):\n{output}")
    C.log(f"jala {' '.join(args)}: {seconds:.1f} s")
    return output, seconds


def shard_servers(args, sharded):
    """The shard clusters, started, each with an empty database: ``[(port, conninfo)]``."""
    servers = []
    for index in range(1, args.shards + 1):
        port = FIRST_PORT + index - 1
        _clusters.create(index, port, shared_buffers=args.shard_shared_buffers)
        servers.append((port, _clusters.conninfo(port, sharded)))
    return servers


def build_sharded(args, big, sharded):
    """Coordinator = copy of the large catalogue; records spread over the shard clusters."""
    import psycopg

    out = {"clone_s": K.clone(big, sharded)}
    S.admin(sharded, "DROP TABLE IF EXISTS jala_bench_built")
    jala_cli(sharded, "db", "upgrade")  # the copy may predate the shards migration
    servers = shard_servers(args, sharded)
    for port, _url in servers:
        with psycopg.connect(_clusters.conninfo(port), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{sharded}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{sharded}"')
    memory = args.maintenance_work_mem
    # shards registered first: init copies each bucket straight to its shard (the shards in
    # parallel) instead of partitioning on the coordinator and moving every row again
    out["add"] = [jala_cli(sharded, "shards", "add", url) for _port, url in servers]
    out["init"] = jala_cli(sharded, "shards", "init", maintenance_work_mem=memory)
    out["rebalance"] = jala_cli(sharded, "shards", "rebalance", maintenance_work_mem=memory)
    out["list"] = jala_cli(sharded, "shards", "list")[0]
    started = time.perf_counter()
    S.admin(sharded, "ANALYZE")
    out["analyze_s"] = time.perf_counter() - started
    S.admin(sharded, "CREATE TABLE jala_bench_built (measured text)")
    S.admin(sharded, "INSERT INTO jala_bench_built VALUES (%s)", (repr(out),))
    return out


def block_places(catalogues, sharded, shards):
    """``{label: conninfo}`` whose index page counters are read around the query runs."""
    places = {name.replace("jala_bench_", ""): C.conninfo(name) for name in catalogues
              if name != sharded}
    if sharded in catalogues:
        for index in range(1, shards + 1):
            places[f"shard {index}"] = _clusters.conninfo(FIRST_PORT + index - 1, sharded)
    return places


def reusable(name, n):
    """Whether ``--reuse`` may search a kept catalogue: one a whole build finished.

    A count that differs from ``n`` is said, not mended: rebuilding a kept catalogue costs
    up to an hour, which ``--reuse`` must never spend unasked.
    """
    count = K.record_count(name)
    if count is None:
        return False
    C.log(f"{name}: kept catalogue of {count:,} records"
          + (f" (NOT the {n:,} asked for)" if count != n else ""))
    return True


def ensure_shard_clusters_up(args):
    for index in range(1, args.shards + 1):
        _clusters.create(index, FIRST_PORT + index - 1, shared_buffers=args.shard_shared_buffers)


# --- inserting through the coordinator ----------------------------------------------------

def insert_rate(gen, n, dbname, args):
    """Seconds to import ``n`` new records with every index in place; then they go again.

    Each new title carries a tag of its own, so the importer never joins a new record to a
    kept one (which deleting it again would take with it): afterwards the catalogue holds
    exactly the records it held before.
    """
    from sqlalchemy import text

    from jala.catalog.importer import import_stream
    from jala.extensions import db

    def tagged():
        for position, rec in gen.records(n):
            rec["source_id"] = "ins-" + rec["source_id"]
            rec["title"] = f"{rec['title']} INS{position:07d}"
            yield position, rec

    app = C.make_app(C.db_url(dbname))
    with app.test_request_context("/"):
        last_id = db.session.execute(text("SELECT max(id) FROM records")).scalar()
        db.session.commit()
        started = time.perf_counter()
        stats = import_stream(tagged(), "NCU", format_name="jsonl", commit=True,
                              batch_size=args.batch_size, **S.import_kwargs(args.workers))
        seconds = time.perf_counter() - started
        # the new records are the ones after the last id; a bare = ANY prunes the buckets
        new_ids = db.session.execute(text("SELECT id FROM records WHERE id > :last"),
                                     {"last": last_id}).scalars().all()
        db.session.execute(text("DELETE FROM records WHERE id = ANY(:ids)"), {"ids": new_ids})
        db.session.execute(text("DELETE FROM source_records WHERE source_id LIKE 'ins-%'"))
        db.session.commit()
        if stats.created != n or len(new_ids) != n:
            C.log(f"{dbname}: {stats.summary()}; {len(new_ids):,} new records deleted again")
        db.session.remove()
        db.engine.dispose()
    C.log(f"{dbname}: {n:,} records imported in {seconds:.1f} s ({n / seconds:,.0f}/s)")
    return seconds


# --- report -------------------------------------------------------------------------------

def build_lines(title, built):
    lines = [title]
    if not built:
        return lines + ["  (not measured in this run)"]
    if built.get("clone_s"):
        lines.append(f"  file copy of the smaller catalogue: {built['clone_s']:.1f} s")
    lines.append(f"  {built['imported']:,} records loaded in {built['import_s']:,.1f} s = "
                 f"{built['imported'] / built['import_s']:,.0f} records/s ({built['summary']})")
    total = sum(s for _name, s in built["indexes"])
    for name, seconds in built["indexes"]:
        lines.append(f"  CREATE INDEX {name:<32} {seconds:8.1f} s")
    lines.append(f"  index build {total:,.1f} s ({total / built['records'] * 1e6:,.0f} s per "
                 f"million records); VACUUM ANALYZE {built['analyze_s']:.1f} s")
    return lines


def sharded_lines(built, big_n):
    lines = ["The sharded catalogue (jala shards …)"]
    if not built:
        return lines + ["  (not measured in this run)"]
    lines.append(f"  file copy of the large catalogue for the coordinator: "
                 f"{built['clone_s']:.1f} s")
    for label, key in (("init", "init"), ("rebalance", "rebalance")):
        output, seconds = built[key]
        lines.append(f"  jala shards {label}: {seconds:,.1f} s")
        lines += ["    " + line for line in output.splitlines()[-6:]]
    for output, seconds in built["add"]:
        lines.append(f"  jala shards add: {seconds:.1f} s  {output.splitlines()[-1:]}")
    seconds = built["init"][1] + built["rebalance"][1]
    lines.append(f"  init + rebalance placed {big_n:,} records on the shards: "
                 f"{big_n / seconds:,.0f} records/s (copied, indexed and checked)")
    lines.append(f"  ANALYZE on the coordinator afterwards: {built['analyze_s']:.1f} s")
    lines.append("  jala shards list:")
    lines += ["    " + line for line in built["list"].splitlines()]
    return lines


def report(args, classes, results, built, sizes, inserts):
    w = print
    names = list(results)
    w("")
    queries = (f"{len(results[names[0]])} queries ({args.queries} per class, plain and "
               f"filtered), each run twice on every catalogue in turn" if names
               else "no queries run")
    w(f"JALA sharded catalogue benchmark: {', '.join(built)}; {queries}; seed {args.seed}")
    w(f"Code: {C.code_version()}")
    w(f"PostgreSQL: the machine's server (one node, coordinator) shared_buffers "
      f"{args.pg_settings[0]}, work_mem {args.pg_settings[1]}; {args.shards} shard clusters, "
      f"shared_buffers {args.shard_shared_buffers} each; one machine, 2 cores")
    w("")
    for name, info in built.items():
        if name == args.sharded:
            w("\n".join(sharded_lines(info, args.records)))
        else:
            w("\n".join(build_lines(f"One node, {name}", info)))
        w("")
    if names:
        headers = ["class"]
        for name in names:
            short = name.replace("jala_bench_", "")
            headers += [f"{short} p50", "p95", "p99"]
        if len(names) >= 2:
            headers.append(f"p95 {names[-1].replace('jala_bench_', '')}/"
                           f"{names[-2].replace('jala_bench_', '')}")
        w(C.table(headers, Q.latency_rows(results, classes),
                  title="Repeat-run latency in ms per class (plain and filtered together)"))
        w("")
        w(C.table(["catalogue", "n", "1st p50", "1st p95", "p50", "p95", "p99", "max"],
                  Q.first_run_rows(results), title="Overall, first run and repeat run (ms)"))
        w("")
    if args.sharded in results and len(names) >= 2:
        one = names[-2]
        counts, examples = Q.compare(results[one], results[args.sharded])
        n = counts["queries"]
        w(f"Same answers, sharded vs {one} ({n} queries, top {Q.TOP}):")
        w(f"  top {Q.TOP} identical ids in identical order: {counts['same_order']} / {n}; "
          f"same ids in another order: {counts['same_set']}; other ids: {counts['other_set']}")
        w(f"  of the {n - counts['same_order']} that differ: {counts['timeout']} where the "
          f"forgiving search's last resort gave up at its statement_timeout (queries with a "
          f"cancelled statement: one node {counts['one_node_timeouts']}, sharded "
          f"{counts['sharded_timeouts']}), {counts['unstable']} answered their "
          f"own two runs differently on one node or sharded (a common term: the candidates "
          f"are the first matches a parallel scan returns), {counts['bounded']} have more "
          f"matches than are ranked (which are ranked is the scan's order), "
          f"{counts['relaxed']} answered by the forgiving search (its anchored reads stop "
          f"after a bound in scan order), {counts['error']} where a search failed, "
          f"{counts['unexplained']} unexplained; "
          f"on one node alone "
          f"{counts['one_node_unstable']} / {n} queries differ between their two runs")
        w(f"  searches that failed (a reader's 503/500), over both runs: one node "
          f"{counts['one_node_errors']}, sharded {counts['sharded_errors']}")
        w(f"  totals identical: {counts['same_total']} / {n} "
          f"(differing where one side is a lower bound: {counts['bounded_total']}); "
          f"facets identical: {counts['same_facets']} / {n}")
        for line in Q.describe_examples(examples):
            w(line)
        w("")
    for line in Z.report_lines(sizes):
        w(line)
    if getattr(args, "blocks", None):
        w("")
        for line in Z.block_lines(args.blocks, args.searches):
            w(line)
    if inserts:
        w("")
        w(f"Import of {args.insert:,} new records with every index in place "
          f"(import_stream, workers={args.workers}):")
        for name, seconds in inserts.items():
            w(f"  {name}: {seconds:,.1f} s = {args.insert / seconds:,.0f} records/s")


# --- main ---------------------------------------------------------------------------------

def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=3_000_000, help="the large catalogue, "
                        "one node and sharded (3,000,000)")
    parser.add_argument("--small", type=int, default=1_000_000,
                        help="the small one-node catalogue (1,000,000; 0: none)")
    parser.add_argument("--shards", type=int, default=3)
    parser.add_argument("--queries", type=int, default=5, help="queries per class (5); each "
                        "runs plain and filtered, twice, on every catalogue")
    # small: through the coordinator the importer manages 20 records/s at 1 M (docs/capacity.md)
    parser.add_argument("--insert", type=int, default=2000,
                        help="new records imported into the large catalogues (2000; 0: none)")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--maintenance-work-mem", default="1GB")
    parser.add_argument("--shard-shared-buffers", default="2GB")
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--reuse", action="store_true",
                        help="use the catalogues and clusters a --keep run left")
    parser.add_argument("--keep", action="store_true",
                        help="keep the databases and shard clusters afterwards")
    parser.add_argument("--clean", action="store_true",
                        help="remove every database and cluster of this benchmark, and stop")
    parser.add_argument("--save", help="write every query's answers and times to this JSON file")
    parser.add_argument("--skip", default="", help="comma-separated steps to leave out: "
                        "sharded, queries, sizes, insert")
    args = parser.parse_args(argv)
    if args.clean:
        clean()
        return
    skip = set(filter(None, args.skip.split(",")))
    t_all = time.perf_counter()
    vocab = _synth.Vocabulary(S.DATA)
    gen = _synth.Generator(vocab, seed=args.seed)
    small = one_name(args.small) if args.small else None
    big, sharded = one_name(args.records), sharded_name(args.records)
    args.sharded = sharded
    built = {}
    try:
        for n, name, grow_from in ((args.small, small, None), (args.records, big, small)):
            if not n:
                continue
            if args.reuse and reusable(name, n):
                built[name] = K.measured(name)
            else:
                built[name] = K.build(gen, n, name, args, grow_from=grow_from)
        if "sharded" not in skip:
            if args.reuse and reusable(sharded, args.records):
                ensure_shard_clusters_up(args)
                built[sharded] = K.measured(sharded)
            else:
                built[sharded] = build_sharded(args, big, sharded)
        args.pg_settings = S.admin(big, "SELECT current_setting('shared_buffers'), "
                                          "current_setting('work_mem')")[0]
        catalogues = [name for name in (small, big) if name] + (
            [sharded] if "sharded" not in skip else [])
        results, classes = {}, []
        if "queries" not in skip:
            first = args.small or args.records
            samples = Q.held_out_samples(gen, first, max(1, first // 5000))
            classes, queries = Q.query_mix(vocab, samples, args.queries, args.seed)
            apps = {name: C.make_app(C.db_url(name)) for name in catalogues}
            C.log(f"running {len(queries)} queries x 2 on {', '.join(catalogues)}")
            places = block_places(catalogues, sharded, args.shards)
            before = {label: Z.index_blocks(info) for label, info in places.items()}
            results = Q.run(apps, queries)
            if args.save:
                Path(args.save).write_text(json.dumps(results, ensure_ascii=False, default=str))
            args.blocks = {label: Z.blocks_between(before[label], Z.index_blocks(info))
                           for label, info in places.items()}
            args.searches = 2 * len(queries)
        sizes = {} if "sizes" in skip else Z.measure_all(
            catalogues, sharded, args.shards if sharded in catalogues else 0)
        inserts = {}
        if args.insert and "insert" not in skip:
            extra = _synth.Generator(vocab, seed=args.seed + 11)
            for name in (big, sharded):
                if name in catalogues:
                    inserts[name] = insert_rate(extra, args.insert, name, args)
        report(args, classes, results, built, sizes, inserts)
        print(f"\nTotal benchmark time {time.perf_counter() - t_all:,.0f} s")
    finally:
        if not args.keep:
            clean()
        else:
            C.log("kept the catalogues and the shard clusters (--clean removes them)")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
