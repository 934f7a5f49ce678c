"""Sizes of the records for bench/shards.py: heap, TOAST and each index, per million records.

On one node that is the ``records`` table; on the sharded catalogue the partitions still on the
coordinator and the tables on each shard server whose name starts with ``records``. Indexes of
the partitions are grouped by what they index (the access method and the indexed expression,
from ``pg_get_indexdef``), so ``records_b03``'s GIN on search_vector counts with the others.
"""
import re

import _clusters
import _common as C
import psycopg

_RELATIONS = """
    SELECT c.oid, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind = 'r'
      AND (c.relname = 'records' OR c.relname LIKE 'records\\_%%')"""


def _what(indexdef):
    """``gin (search_vector)``, ``btree (year DESC, id DESC)`` … of an index definition."""
    found = re.search(r" USING (\w+) (.*?)(?: WHERE .*)?$", indexdef)
    text = f"{found.group(1)} {found.group(2)}" if found else indexdef
    return text.replace("public.", "")


def record_sizes(conninfo):
    """``{"rows", "heap", "toast", "indexes": {what: bytes}}`` of the record tables there."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        relations = conn.execute(_RELATIONS).fetchall()
        out = {"rows": 0, "heap": 0, "toast": 0, "indexes": {}, "tables": len(relations)}
        for oid, name in relations:
            table = psycopg.sql.Identifier(name).as_string(conn)
            heap, toast, rows = conn.execute(
                "SELECT pg_relation_size(c.oid), "
                "COALESCE(pg_total_relation_size(NULLIF(c.reltoastrelid, 0)), 0), "
                f"(SELECT count(*) FROM ONLY {table}) FROM pg_class c WHERE c.oid = %s",
                (oid,)).fetchone()
            out["heap"] += heap
            out["toast"] += toast
            out["rows"] += rows
            for indexdef, size in conn.execute(
                    "SELECT pg_get_indexdef(indexrelid), pg_relation_size(indexrelid) "
                    "FROM pg_index WHERE indrelid = %s", (oid,)):
                what = _what(indexdef)
                out["indexes"][what] = out["indexes"].get(what, 0) + size
    return out


def measure_all(catalogues, sharded, shards):
    """``{label: sizes}``: every catalogue (exact row counts), then each of ``shards``."""
    out = {}
    for name in catalogues:
        info = record_sizes(C.conninfo(name))
        if name == sharded:
            label = f"{name} (coordinator)"
        else:
            label = name
        out[label] = info
    for index in range(1, shards + 1):
        port = 5432 + index
        info = record_sizes(_clusters.conninfo(port, sharded))
        out[f"shard {index} (:{port})"] = info
    return out


def mb(n):
    return f"{n / 2**20:,.0f}"


def report_lines(sizes):
    if not sizes:
        return []
    kinds = []
    for info in sizes.values():
        for what in info["indexes"]:
            if what not in kinds:
                kinds.append(what)
    kinds.sort(key=lambda k: -max(info["indexes"].get(k, 0) for info in sizes.values()))
    lines = [C.table(["records of", "tables", "rows", "heap MB", "TOAST MB", "indexes MB",
                      "total MB"],
                     [[label, info["tables"], f"{info['rows']:,}", mb(info["heap"]),
                       mb(info["toast"]), mb(sum(info["indexes"].values())),
                       mb(info["heap"] + info["toast"] + sum(info["indexes"].values()))]
                      for label, info in sizes.items()],
                     title="Sizes of the records"), ""]
    per_million = [label for label, info in sizes.items() if info["rows"] >= 100_000]
    rows = []
    for what in ["heap", "TOAST", *kinds]:
        row = [what[:60]]
        for label in per_million:
            info = sizes[label]
            size = info["heap"] if what == "heap" else info["toast"] if what == "TOAST" else \
                info["indexes"].get(what, 0)
            row.append(mb(size / info["rows"] * 1e6))
        rows.append(row)
    lines.append(C.table(["MB per million records", *per_million], rows))
    return lines


def index_blocks(conninfo):
    """``{what: [blocks hit, blocks read]}`` of the record tables' indexes so far."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_get_indexdef(s.indexrelid), s.idx_blks_hit, s.idx_blks_read "
            "FROM pg_statio_user_indexes s WHERE s.relname = 'records' "
            "OR s.relname LIKE 'records\\_%%'").fetchall()
    out = {}
    for indexdef, hit, read in rows:
        entry = out.setdefault(_what(indexdef), [0, 0])
        entry[0] += hit or 0
        entry[1] += read or 0
    return out


def blocks_between(before, after):
    return {what: [after[what][0] - before.get(what, [0, 0])[0],
                   after[what][1] - before.get(what, [0, 0])[1]] for what in after}


def block_lines(per_catalogue, searches):
    """Index pages (8 kB) each search touched, per index and catalogue.

    'read' is the share of them not found in shared_buffers (from the page cache or the disk).
    """
    if not per_catalogue:
        return []
    kinds = sorted({what for blocks in per_catalogue.values() for what in blocks},
                   key=lambda w: -max(b.get(w, [0, 0])[0] + b.get(w, [0, 0])[1]
                                      for b in per_catalogue.values()))
    rows = []
    for what in kinds[:8]:
        row = [what[:48]]
        for blocks in per_catalogue.values():
            hit, read = blocks.get(what, [0, 0])
            row += [f"{(hit + read) / searches:,.0f}",
                    f"{read / (hit + read):.0%}" if hit + read else "-"]
        rows.append(row)
    headers = ["index"]
    for label in per_catalogue:
        headers += [f"{label} pages/search", "read"]
    return [C.table(headers, rows, title=(
        f"Index pages touched per search ({searches:,} searches; 'read' = the share not found "
        f"in shared_buffers: from the page cache or the disk)"))]
