"""One-node benchmark catalogues for bench/shards.py: built once, kept, grown by cloning.

A catalogue of N synthetic records (bench/_synth.py, deterministic for a seed) is imported by
bench/search.py's ``bulk_import`` (the real importer, the search indexes dropped during the load
and built after it, as ``jala import --bulk`` does). A larger catalogue is a file copy of the
smaller one (``CREATE DATABASE … TEMPLATE … STRATEGY FILE_COPY``) plus the records after it: the
generator's stream is the same prefix for every size, so the 3 M catalogue holds the 1 M one's
records with the same ids.
"""
import time

import _common as C
import search as S


class _Tail:
    """The generator's records ``start`` .. ``n`` - 1 when ``bulk_import`` asks for ``n``."""

    def __init__(self, gen, start):
        self.gen, self.start = gen, start

    def records(self, n):
        return self.gen.records(n, start=self.start)


def record_count(dbname):
    """Records in a kept catalogue, or None when the database is missing or not built."""
    exists = S.admin("postgres", "SELECT 1 FROM pg_database WHERE datname = %s", (dbname,))
    if not exists:
        return None
    done = S.admin(dbname, "SELECT to_regclass('jala_bench_built') IS NOT NULL")[0][0]
    if not done:
        return None
    return S.admin(dbname, "SELECT count(*) FROM records")[0][0]


def clone(source, target):
    """``target`` as a file copy of ``source`` (no WAL for every page: FILE_COPY)."""
    C.drop_database(target)
    started = time.perf_counter()
    S.admin("postgres", f'CREATE DATABASE "{target}" TEMPLATE "{source}" STRATEGY FILE_COPY')
    return time.perf_counter() - started


def build(gen, n, dbname, args, grow_from=None):
    """Import records ``1 .. n`` into ``dbname`` (or only those after ``grow_from``'s).

    Returns what was measured: records imported, seconds of the load, of each index build,
    of VACUUM ANALYZE, of the clone.
    """
    from jala.extensions import db

    out = {"db": dbname, "records": n}
    start = 0
    if grow_from:
        start = record_count(grow_from)
        out["clone_s"] = clone(grow_from, dbname)
        S.admin(dbname, "DROP TABLE IF EXISTS jala_bench_built")
        C.log(f"{dbname}: copy of {grow_from} ({start:,} records) in {out['clone_s']:.1f} s")
        url = C.db_url(dbname)
    else:
        url = C.create_bench_database(dbname)
    app = C.make_app(url)
    try:
        with app.test_request_context("/"):
            timings = {}
            stats, seconds, checkpoints, _samples, _rss = S.bulk_import(
                _Tail(gen, start), n, dbname, args.batch_size, False, 10**9, timings,
                args.workers)
            out.update(imported=n - start, import_s=seconds, summary=stats.summary(),
                       checkpoints={k: v[0] for k, v in checkpoints.items()})
            db.session.remove()
            db.engine.dispose()
            out["indexes"] = S.rebuild_indexes(args.maintenance_work_mem)
            started = time.perf_counter()
            S.admin(dbname, "VACUUM ANALYZE records")
            S.admin(dbname, "ANALYZE")
            out["analyze_s"] = time.perf_counter() - started
            db.session.remove()
    finally:
        C.close_database(app, dbname, url, keep=True)
    S.admin(dbname, "CREATE TABLE jala_bench_built (measured text)")
    S.admin(dbname, "INSERT INTO jala_bench_built VALUES (%s)", (repr(out),))
    C.log(f"{dbname}: {out['imported']:,} records in {out['import_s']:.0f} s "
          f"({out['imported'] / out['import_s']:,.0f}/s), indexes "
          f"{sum(s for _, s in out['indexes']):.0f} s")
    return out


def measured(dbname):
    """What ``build`` measured for a kept catalogue (stored in the database itself)."""
    import ast

    rows = S.admin(dbname, "SELECT measured FROM jala_bench_built")
    return ast.literal_eval(rows[0][0]) if rows else None
