"""Sorting by year at scale: the newest of every match, timed per query class.

Sorting by year reads the newest k matches of the whole catalogue (walking the year index from
the newest end for a common term, a GIN bitmap and a sort for a rare one), not the newest of
the best-ranked few. This script times that path on the database a ``bench/search.py --keep``
run left behind, with the same query classes (plain and with filters, each run twice), and
prints p50/p95/p99 per class and the plans of the slowest statements.

Usage:  .venv/bin/python bench/sort_by_year.py [--db jala_bench_search] [--queries 40]
"""
import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402
import _synth  # noqa: E402
import search as S  # noqa: E402

CLASSES = ("rare", "common", "1-char", "2-char", "two-words", "fragment", "pinyin", "latin")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="jala_bench_search",
                        help="a database kept by bench/search.py --keep")
    parser.add_argument("--queries", type=int, default=40, help="queries per class (40)")
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--explain", type=int, default=2)
    args = parser.parse_args(argv)
    if not args.db.startswith("jala_bench_"):
        parser.error("--db must start with jala_bench_")

    records = S.admin(args.db, "SELECT count(*) FROM records")[0][0]
    samples = [t for (t,) in S.admin(args.db, "SELECT title FROM records "
                                              "TABLESAMPLE SYSTEM (1) REPEATABLE (7) LIMIT 5000")]
    vocab = _synth.Vocabulary(S.DATA)
    classes = {name: queries for name, queries in
               S.build_queries(vocab, samples, args.queries, args.seed).items()
               if name in CLASSES}
    queries = [(name, variant, q, dict(filters, sort="year"))
               for name, variant, q, filters in S.expand(classes)]
    app = C.make_app(C.db_url(args.db))
    with app.test_request_context("/"):
        results = S.run_engine(queries)
        plans = S.explain_slowest(results, args.explain) if args.explain else []

    print(f"\nCode: {C.code_version()}")
    print(f"Sort by year on {args.db}: {records:,} records, {len(queries)} queries, each run "
          f"twice (the repeat is timed)\n")
    rows = []
    for name in [*CLASSES, "overall"]:
        subset = [r for r in results if name in (r["class"], "overall")]
        if not subset:
            continue
        ms = [r["ms"][-1] for r in subset]
        gte = sum(1 for r in subset if r["relation"] == "gte")
        rows.append([name, len(ms), f"{C.percentile(ms, 50):.1f}", f"{C.percentile(ms, 95):.1f}",
                     f"{C.percentile(ms, 99):.1f}", f"{max(ms):.1f}", gte])
    print(C.table(["class", "n", "p50 ms", "p95 ms", "p99 ms", "max ms", "counts 10,000+"],
                  rows, title="Server time, sort=year"))
    for r, statements, plan in plans:
        print(f"\nslow: [{r['class']}/{r['variant']}] {r['q']!r} {r['filters']} "
              f"{r['ms'][-1]:.1f} ms")
        for ms, statement in statements:
            print(f"  {ms:7.1f} ms  {statement}")
        for line in plan[:40]:
            print("    " + line)


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    C.log(f"done in {time.perf_counter() - started:.0f} s")
