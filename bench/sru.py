"""SRU latency: p50/p95 of a few searchRetrieve queries against a running portal.

Run: python bench/sru.py http://127.0.0.1:5000 [rounds]
"""
import statistics
import sys
import time

import requests

QUERIES = ['dc.title = "图书馆"', "cql.anywhere all \"研究 方法\"",
           'dc.title any "控制 优化" and dc.date >= 2010',
           "(dc.creator = 吴慰慈 or dc.creator = 李明) not dc.subject = 服务",
           "bath.isbn = 9787040247657"]


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main(base, rounds=30):
    session = requests.Session()
    for query in QUERIES:
        for schema in ("dc", "marcxml"):
            times = []
            for _ in range(rounds):
                started = time.perf_counter()
                response = session.get(f"{base}/sru", params={
                    "query": query, "maximumRecords": 10, "recordSchema": schema}, timeout=10)
                response.raise_for_status()
                times.append((time.perf_counter() - started) * 1000)
            print(f"{schema:8} p50 {statistics.median(times):6.1f} ms  "
                  f"p95 {percentile(times, 0.95):6.1f} ms  {query}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 30)
