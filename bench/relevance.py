"""Known-item relevance benchmark on the real CSL dev records.

Imports /work/shared/data/csl-dev.jsonl (8,999 Chinese article records) into a fresh
``jala_bench_relevance`` database through the real importer, then asks the real search engine
known-item queries built from the records themselves and checks where the record comes back:

  keywords      two keywords of one record (records with >= 2 keywords)
  fragment      a 4-8 character piece of the title, random start (titles >= 6 characters)
  traditional   the same pieces converted to Traditional Chinese (OpenCC s2t)
  pinyin        the title in toneless pinyin, syllables separated by spaces (pypinyin)
  pinyin-joined the same pinyin run together without spaces
  exact         the whole title (is the record at rank 1?)

Usage:  .venv/bin/python bench/relevance.py [--per-class 300] [--keep] [--show-failures 5]
"""
import argparse
import json
import random
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402

DATA = Path("/work/shared/data/csl-dev.jsonl")
CLASSES = ("keywords", "fragment", "traditional", "pinyin", "pinyin-joined", "exact")
TARGETS = {  # class -> (metric, target)
    "keywords": ("R@10", 0.99),
    "fragment": ("R@10", 0.99),
    "traditional": ("R@10", 0.99),
    "pinyin": ("R@10", 0.90),
    "pinyin-joined": ("R@10", 0.90),
    "exact": ("R@1", 0.98),
}
SEEDS = {name: 1000 + i for i, name in enumerate(CLASSES)}
PER_PAGE = 10
CODE_VERSION = "?"
_LATIN_OR_DIGIT = re.compile(r"[A-Za-z0-9]")


def load_records(path):
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def with_holdings(records):
    """Each record held by 1-3 member libraries, spread deterministically over all 15."""
    statuses = ("available", "available", "on_loan", "unknown")
    for i, rec in enumerate(records):
        n = 1 + i % 3
        libs = [C.LIBRARIES[(i * 7 + j * 5) % 15] for j in range(n)]
        yield i + 1, dict(rec, holdings=[
            {"library": lib, "status": statuses[(i + j) % 4], "call_number": f"Z{i}/{j}"}
            for j, lib in enumerate(dict.fromkeys(libs))])


# --- query generation -----------------------------------------------------------------------

def make_queries(records, per_class, seed_offset=0):
    from opencc import OpenCC
    from pypinyin import lazy_pinyin

    s2t = OpenCC("s2t")
    queries = {name: [] for name in CLASSES}

    rng = random.Random(SEEDS["keywords"] + seed_offset)
    with_kw = [r for r in records if len(r.get("keywords") or []) >= 2]
    for rec in rng.sample(with_kw, min(per_class, len(with_kw))):
        a, b = rng.sample(rec["keywords"], 2)
        queries["keywords"].append((f"{a} {b}", rec, {}))

    rng = random.Random(SEEDS["fragment"] + seed_offset)
    long_titles = [r for r in records if len(r["title"]) >= 6]
    for rec in rng.sample(long_titles, min(per_class, len(long_titles))):
        title = rec["title"]
        length = rng.randint(4, min(8, len(title)))
        start = rng.randint(0, len(title) - length)
        fragment = title[start:start + length]
        queries["fragment"].append((fragment, rec, {"latin": bool(_LATIN_OR_DIGIT.search(
            fragment))}))
        queries["traditional"].append((s2t.convert(fragment), rec, {}))

    for name in ("pinyin", "exact"):
        rng = random.Random(SEEDS[name] + seed_offset)
        for rec in rng.sample(records, min(per_class, len(records))):
            title = rec["title"]
            if name == "exact":
                queries["exact"].append((title, rec, {}))
                continue
            # what a reader would type: syllables, Latin words and numbers; no punctuation
            parts = []
            for item in lazy_pinyin(title):
                item = item.strip()
                if item and item.isascii():
                    parts.extend(w for w in re.split(r"[^A-Za-z0-9]+", item) if w)
            latin = bool(_LATIN_OR_DIGIT.search(title))
            info = {"latin": latin, "syllables": len(parts)}
            queries["pinyin"].append((" ".join(parts), rec, info))
            queries["pinyin-joined"].append(("".join(parts), rec, dict(info, chars=len(
                "".join(parts)))))
    return queries


def containing_counts(records, queries):
    """For each text query: how many records contain every part of it (title/keywords/abstract).

    A rough size of the match set: when more than 10 records contain the fragment, a top-10
    miss can be a ranking choice rather than a matching failure.
    """
    from jala.search.normalize import normalize_text

    texts = [normalize_text(" ".join([r["title"], *(r.get("keywords") or []),
                                      r.get("abstract") or ""])) for r in records]
    titles = [normalize_text(r["title"]) for r in records]
    for name in ("keywords", "fragment", "traditional"):
        for q, _rec, info in queries[name]:
            parts = normalize_text(q).split()
            pool = titles if name != "keywords" else texts
            info["containing"] = sum(1 for t in pool if all(p in t for p in parts))


# --- running ---------------------------------------------------------------------------------

def run_queries(queries, target_ids, show_failures):
    from jala.extensions import db
    from jala.search.engine import SearchRequest, search

    results = {}
    failures = {}
    for name in CLASSES:
        rows = []
        for q, rec, info in queries[name]:
            started = time.perf_counter()
            result = search(SearchRequest(q=q, per_page=PER_PAGE))
            elapsed = (time.perf_counter() - started) * 1000
            db.session.commit()  # the search log entry, as the web request would
            ids = [hit.id for hit in result.hits]
            target = target_ids[rec["source_id"]]
            rank = ids.index(target) + 1 if target in ids else None
            rows.append({"q": q, "rank": rank, "ms": elapsed, "total": result.total,
                         "fallback": result.fallback, "info": info, "title": rec["title"],
                         "top": result.hits[0].title if result.hits else None})
        results[name] = rows
        failures[name] = [r for r in rows if r["rank"] is None or
                          (name == "exact" and r["rank"] != 1)][:show_failures]
        C.log(f"{name}: {len(rows)} queries done")
    return results, failures


def summarize(rows):
    n = len(rows)
    if not n:
        return {}
    ranks = [r["rank"] for r in rows]
    ms = [r["ms"] for r in rows]
    return {
        "n": n,
        "R@1": sum(1 for k in ranks if k == 1) / n,
        "R@10": sum(1 for k in ranks if k and k <= 10) / n,
        "MRR": sum(1.0 / k for k in ranks if k) / n,
        "mean_ms": C.mean(ms),
        "p95_ms": C.percentile(ms, 95),
        "fallback": sum(1 for r in rows if r["fallback"]),
        "zero": sum(1 for r in rows if r["total"] == 0),
    }


def report(results, failures, import_seconds, n_records, per_class):
    print()
    print(f"Code: {CODE_VERSION}")
    print(f"JALA relevance benchmark: {n_records} CSL records "
          f"(import {import_seconds:.1f} s, {n_records / import_seconds:.0f} records/s), "
          f"{per_class} queries per class, top {PER_PAGE} requested")
    print()
    rows = []
    summaries = {name: summarize(results[name]) for name in CLASSES}
    for name in CLASSES:
        s = summaries[name]
        metric, target = TARGETS[name]
        value = s[metric]
        rows.append([name, s["n"], f"{s['R@1']:.3f}", f"{s['R@10']:.3f}", f"{s['MRR']:.3f}",
                     f"{s['mean_ms']:.1f}", f"{s['p95_ms']:.1f}", s["zero"], s["fallback"],
                     f"{metric} >= {target:.2f}", C.mark(value >= target)])
    print(C.table(["class", "n", "R@1", "R@10", "MRR@10", "mean ms", "p95 ms", "0 hits",
                   "LIKE fb", "target", ""], rows, title="Known-item results"))
    print()

    # breakdowns that explain misses
    rows = []
    for name in ("keywords", "fragment", "traditional"):
        specific = [r for r in results[name] if r["info"].get("containing", 0) <= 10]
        broad = [r for r in results[name] if r["info"].get("containing", 0) > 10]
        for label, subset in (("<= 10 records contain it", specific),
                              ("> 10 records contain it", broad)):
            if subset:
                s = summarize(subset)
                rows.append([name, label, s["n"], f"{s['R@10']:.3f}", f"{s['MRR']:.3f}"])
    frag_latin = [r for r in results["fragment"] if r["info"].get("latin")]
    frag_cjk = [r for r in results["fragment"] if not r["info"].get("latin")]
    frag_minus = [r for r in results["fragment"] if r["q"].startswith("-")]
    for label, subset in (("fragment has Latin/digits", frag_latin),
                          ("fragment CJK only", frag_cjk),
                          ("starts with '-' (= exclusion)", frag_minus)):
        if subset:
            s = summarize(subset)
            rows.append(["fragment", label, s["n"], f"{s['R@10']:.3f}", f"{s['MRR']:.3f}"])
    for name in ("pinyin", "pinyin-joined"):
        subsets = [
            ("title CJK only", [r for r in results[name] if not r["info"]["latin"]]),
            ("title has Latin/digits", [r for r in results[name] if r["info"]["latin"]]),
            ("<= 12 pinyin words", [r for r in results[name] if r["info"]["syllables"] <= 12]),
            ("> 12 pinyin words", [r for r in results[name] if r["info"]["syllables"] > 12]),
        ]
        if name == "pinyin-joined":
            subsets += [
                ("<= 120 letters", [r for r in results[name] if r["info"]["chars"] <= 120]),
                ("> 120 letters", [r for r in results[name] if r["info"]["chars"] > 120]),
            ]
        for label, subset in subsets:
            if subset:
                s = summarize(subset)
                rows.append([name, label, s["n"], f"{s['R@10']:.3f}", f"{s['MRR']:.3f}"])
    print(C.table(["class", "subset", "n", "R@10", "MRR@10"], rows,
                  title="Breakdown (where the misses are)"))
    print()

    all_ms = [r["ms"] for name in CLASSES for r in results[name]]
    print(f"All queries: n={len(all_ms)}  mean {C.mean(all_ms):.1f} ms  "
          f"p50 {C.percentile(all_ms, 50):.1f}  p95 {C.percentile(all_ms, 95):.1f}  "
          f"p99 {C.percentile(all_ms, 99):.1f}  max {max(all_ms):.1f} ms")

    if any(failures.values()):
        print()
        print("Examples of misses (query | expected title | rank | top hit):")
        for name in CLASSES:
            for r in failures[name]:
                print(f"  [{name}] {r['q']!r} | {r['title']} | rank {r['rank']} | "
                      f"hits {r['total']} | top: {r['top']}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-class", type=int, default=300, help="queries per class (300)")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--db", default="jala_bench_relevance", help="database name")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--show-failures", type=int, default=5,
                        help="print this many misses per class (5)")
    parser.add_argument("--seed-offset", type=int, default=0,
                        help="shift every class's fixed seed (0 = the reference query set)")
    parser.add_argument("--json", type=Path, help="also write per-query results here")
    args = parser.parse_args(argv)
    if not args.db.startswith("jala_bench_"):
        parser.error("--db must start with jala_bench_")

    global CODE_VERSION
    import jala.search.engine  # noqa: F401 - loaded now, so the version below is what runs
    CODE_VERSION = C.code_version()
    records = load_records(args.data)
    queries = make_queries(records, args.per_class, args.seed_offset)
    containing_counts(records, queries)
    C.log(f"{len(records)} records, {sum(len(v) for v in queries.values())} queries")

    url = C.create_bench_database(args.db)
    C.log(f"database {args.db} created and migrated")
    app = C.make_app(url)
    try:
        from jala.catalog.importer import import_stream
        from jala.extensions import db

        with app.test_request_context("/"):
            started = time.perf_counter()
            stats = import_stream(with_holdings(records), "JXUFE", format_name="jsonl",
                                  commit=True, batch_size=1000)
            import_seconds = time.perf_counter() - started
            C.log(f"import: {stats.summary()} in {import_seconds:.1f} s")
            db.session.execute(db.text("ANALYZE"))
            db.session.commit()
            target_ids = dict(db.session.execute(db.text(
                "SELECT source_id, record_id FROM source_records")).all())
            # a few untimed queries so the first class does not pay for cold caches
            from jala.search.engine import SearchRequest, search
            for q in ("研究", "图书馆", "zhongguo"):
                search(SearchRequest(q=q))
            db.session.commit()
            results, failures = run_queries(queries, target_ids, args.show_failures)
        report(results, failures, import_seconds, len(records), args.per_class)
        if args.json:
            args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1,
                                            default=str))
    finally:
        C.close_database(app, args.db, url, args.keep)


if __name__ == "__main__":
    main()
