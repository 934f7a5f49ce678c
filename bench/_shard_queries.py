"""The query side of bench/shards.py: one query mix run against several catalogues at once.

The mix is bench/search.py's (``build_queries`` + ``forgiving_queries`` + ``expand``: every
class plain and filtered), made from titles sampled in the first records of the generator's
stream, so that every catalogue compared (1 M, 3 M, 3 M sharded) holds the records the queries
were made from. Each query runs on every catalogue in turn before the next query, so a minute
in which the shared machine is slow costs every catalogue alike; each is run twice (first run,
repeat). The top 20 ids, the total and the facets are kept to compare the catalogues.
"""
import json
import time
from pathlib import Path

import _common as C
import search as S

TOP = 20


def held_out_samples(gen, first, every, cache_dir="/tmp"):
    """Titles and keywords of records ``every``, ``2 * every`` … up to ``first`` (cached)."""
    cache = Path(cache_dir) / f"jala_bench_shards-samples-{gen.seed}-{first}-{every}.json"
    if cache.exists():
        return json.loads(cache.read_text())
    samples = [{"title": rec["title"], "keywords": rec.get("keywords") or []}
               for position, rec in gen.records(first) if position % every == 0]
    cache.write_text(json.dumps(samples, ensure_ascii=False))
    return samples


def query_mix(vocab, samples, per_class, seed):
    """``(class names, [(class, variant, q, filters)])`` as bench/search.py makes them."""
    classes = S.build_queries(vocab, [s["title"] for s in samples], per_class, seed)
    classes.update(S.forgiving_queries(samples, per_class, seed))
    return list(classes), S.expand(classes)


def _facets_key(facets):
    return json.dumps(facets, sort_keys=True, default=str, ensure_ascii=False)


class _Failed:
    """The answer of a search that raised: no hits, the error's first line."""

    hits, total, total_relation, facets, facets_bounded, fallback = [], -1, "error", {}, 0, None
    relaxed = ()

    def __init__(self, error):
        self.error = error


def run(apps, queries, passes=2):
    """``{catalogue: [per query: ms per pass, top ids, total, relation, facets, fallback]}``.

    ``apps`` maps a catalogue's name to its Flask app.
    """
    from sqlalchemy import event

    from jala.catalog import clc
    from jala.extensions import db
    from jala.search import frequencies
    from jala.search.engine import SearchRequest, search

    out = {name: [] for name in apps}
    timeouts = {name: 0 for name in apps}  # statements a statement_timeout cancelled

    def counter(catalogue):
        def count(context):
            if "statement timeout" in str(context.original_exception):
                timeouts[catalogue] += 1
        return count

    for catalogue, app in apps.items():
        with app.app_context():
            event.listen(db.engine, "handle_error", counter(catalogue))
    # the engine keeps the catalogue's size, lexeme frequencies and class counts per process:
    # each catalogue gets caches of its own
    caches = {name: ({}, {}) for name in apps}
    for run_index in range(passes):
        started = time.perf_counter()
        for index, (name, variant, q, filters) in enumerate(queries):
            for catalogue, app in apps.items():
                frequencies._cache, clc._kept_counts = caches[catalogue]
                with app.test_request_context("/"):
                    cancelled = timeouts[catalogue]
                    t0 = time.perf_counter()
                    try:
                        result = search(SearchRequest(q=q, **filters))
                        ms = (time.perf_counter() - t0) * 1000
                        db.session.commit()
                    except Exception as error:  # a reader would see a 503 or 500: counted
                        db.session.rollback()
                        C.log(f"{catalogue}: {name}/{variant} q={q!r} failed: "
                              f"{str(error).splitlines()[0]}")
                        result, ms = _Failed(str(error).splitlines()[0]), None
                    cancelled = timeouts[catalogue] - cancelled
                    if run_index == 0:
                        out[catalogue].append({
                            "class": name, "variant": variant, "q": q, "filters": filters,
                            "ms": [ms], "ids": [hit.id for hit in result.hits[:TOP]],
                            "total": result.total, "relation": result.total_relation,
                            "facets": _facets_key(result.facets),
                            "bounded": result.facets_bounded, "fallback": result.fallback,
                            "relaxed": bool(result.relaxed),
                            "runs": [[hit.id for hit in result.hits[:TOP]]],
                            "timeouts": cancelled,
                            "errors": [getattr(result, "error", None)]})
                    else:
                        out[catalogue][index]["timeouts"] += cancelled
                        out[catalogue][index]["errors"].append(getattr(result, "error", None))
                        out[catalogue][index]["ms"].append(ms)
                        out[catalogue][index]["runs"].append([hit.id for hit in
                                                              result.hits[:TOP]])
                    db.session.remove()
        C.log(f"pass {run_index + 1}: {len(queries)} queries x {len(apps)} catalogues in "
              f"{time.perf_counter() - started:.0f} s")
    return out


def latency_rows(results, classes):
    """Per class: p50/p95/p99 of the repeat run on each catalogue.

    The last column is the last catalogue's p95 over the one before it's (sharded / one node
    of the same size).
    """
    names = list(results)
    rows = []
    for cls in [*classes, None]:
        row = [cls or "overall"]
        p95s = []
        for name in names:
            warm = [r["ms"][-1] for r in results[name]
                    if (cls is None or r["class"] == cls) and r["ms"][-1] is not None]
            p50, p95, p99 = (C.percentile(warm, p) for p in (50, 95, 99))
            row += [p50, p95, p99]
            p95s.append(p95)
        if len(names) >= 2:
            row.append(f"{p95s[-1] / p95s[-2]:.2f}x")
        rows.append(row)
    return rows


def first_run_rows(results):
    rows = []
    for name, res in results.items():
        first = [r["ms"][0] for r in res if r["ms"][0] is not None]
        warm = [r["ms"][-1] for r in res if r["ms"][-1] is not None]
        rows.append([name, len(res), C.percentile(first, 50), C.percentile(first, 95),
                     C.percentile(warm, 50), C.percentile(warm, 95), C.percentile(warm, 99),
                     max(warm)])
    return rows


def _why(a, b):
    """Why two answers to one query may differ without either being wrong."""
    from jala.search.candidates import CANDIDATE_BANDS

    if any(a["errors"]) or any(b["errors"]):
        return "error"  # a search failed (counted on its own)
    if a["timeouts"] or b["timeouts"]:
        return "timeout"  # the forgiving search's last resort gave up (statement_timeout)
    if any(run != a["runs"][0] for run in a["runs"]) or \
            any(run != b["runs"][0] for run in b["runs"]):
        return "unstable"  # one catalogue answered its own two runs differently
    if max(a["total"], b["total"]) > CANDIDATE_BANDS[0] or "gte" in (a["relation"],
                                                                     b["relation"]):
        return "bounded"  # more matches than are ranked: which ones are is the scan's order
    if a["relaxed"] or b["relaxed"]:
        # the forgiving search read its candidates through anchors, up to ANCHORED_ROWS rows
        # in scan order: past that bound, which rows are read is the scan's order too
        return "relaxed"
    return "unexplained"


def compare(one, sharded):
    """How the sharded catalogue's answers differ from one node's, query by query.

    The top 20 of the repeat runs: the same ids in the same order, the same set in another
    order, another set, each difference with the reason it may have (``_why``); totals;
    facets.
    """
    counts = {"queries": len(one), "same_order": 0, "same_set": 0, "other_set": 0,
              "same_total": 0, "bounded_total": 0, "same_facets": 0,
              "timeout": 0, "unstable": 0, "bounded": 0, "relaxed": 0, "unexplained": 0,
              "error": 0,
              "one_node_unstable": 0, "one_node_timeouts": 0, "sharded_timeouts": 0,
              "one_node_errors": 0, "sharded_errors": 0}
    examples = {"same_set": [], "other_set": [], "total": [], "facets": []}
    for a, b in zip(one, sharded, strict=True):
        label = (a["class"], a["variant"], a["q"], a["filters"])
        if any(run != a["runs"][0] for run in a["runs"]):
            counts["one_node_unstable"] += 1
        counts["one_node_timeouts"] += bool(a["timeouts"])
        counts["sharded_timeouts"] += bool(b["timeouts"])
        counts["one_node_errors"] += sum(map(bool, a["errors"]))
        counts["sharded_errors"] += sum(map(bool, b["errors"]))
        if a["ids"] != b["ids"]:
            why = _why(a, b)
            counts[why] += 1
            kind = "same_set" if set(a["ids"]) == set(b["ids"]) else "other_set"
            counts[kind] += 1
            examples[kind].append((label, a["ids"], b["ids"], a["total"], b["total"], why))
        else:
            counts["same_order"] += 1
        if a["total"] == b["total"] and a["relation"] == b["relation"]:
            counts["same_total"] += 1
        else:
            if "gte" in (a["relation"], b["relation"]):
                counts["bounded_total"] += 1
            examples["total"].append((label, a["total"], a["relation"], b["total"],
                                      b["relation"]))
        if a["facets"] == b["facets"]:
            counts["same_facets"] += 1
        else:
            examples["facets"].append((label, a["bounded"], b["bounded"]))
    return counts, examples


def describe_examples(examples, limit=4):
    lines = []
    # the unexplained ones first: they are what a reader would call wrong
    for kind in ("same_set", "other_set"):
        unexplained = [e for e in examples[kind] if e[5] == "unexplained"]
        chosen = unexplained + [e for e in examples[kind] if e[5] != "unexplained"][:limit]
        for (cls, variant, q, filters), a_ids, b_ids, a_total, b_total, why in chosen:
            only_a = [i for i in a_ids if i not in b_ids]
            only_b = [i for i in b_ids if i not in a_ids]
            lines.append(f"  {kind.replace('_', ' ')} ({why}): {cls}/{variant} q={q!r} "
                         f"{filters or ''}: totals {a_total} / {b_total}; one node "
                         f"{a_ids[:5]}…, sharded {b_ids[:5]}…; only on one node "
                         f"{only_a[:4]}, only sharded {only_b[:4]}")
    for (cls, variant, q, filters), a_total, a_rel, b_total, b_rel in examples["total"][:limit]:
        lines.append(f"  total: {cls}/{variant} q={q!r} {filters or ''}: one node {a_total} "
                     f"({a_rel}), sharded {b_total} ({b_rel})")
    for (cls, variant, q, filters), a_bounded, b_bounded in examples["facets"][:limit]:
        lines.append(f"  facets: {cls}/{variant} q={q!r} {filters or ''}: bounded "
                     f"{a_bounded} / {b_bounded}")
    return lines
