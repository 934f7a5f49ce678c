"""Memory of a MARC XML import: peak RSS and records/s on a generated ~200 MB file.

1. Writes a MARC21 slim XML file of synthetic records (bench/_synth.py turned into MARC21:
   001, 005, 008, 020, 100/700, 245, 260, 300, 520, 653, 084, AVA) into a temp directory,
   as a plain ``<collection>`` or, with ``--sru``, wrapped as an SRU response (as dp2 exports
   are). The file is deleted at the end.
2. Reads it through ``open_records`` and the MARC → record mapping only (``marc_to_dict``),
   in a child process of its own, so its peak RSS is the reader's alone.
3. Imports it through ``jala.catalog.importer.import_stream`` (one process, as ``jala import``
   does by default) into a fresh ``jala_bench_import_memory`` database, created, migrated and
   dropped by this script (``--keep`` keeps it), in a child process too. ``--no-db`` skips it.

Each step prints the file size, the peak RSS of its process (getrusage ru_maxrss) and
records/s. The target (issue 15): under 300 MB RSS for a 200 MB file.

Usage:  .venv/bin/python bench/import_memory.py [--mb 200] [--sru] [--no-db] [--keep]
"""
import argparse
import multiprocessing
import random
import sys
import tempfile
import time
from pathlib import Path
from xml.sax.saxutils import escape

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402
import _synth  # noqa: E402

DATA = Path("/work/shared/data/csl-dev.jsonl")
TARGET_RSS_MB = 300.0


def _field(tag, subfields, ind1=" ", ind2=" "):
    inner = "".join(f'\n    <subfield code="{code}">{escape(value)}</subfield>'
                    for code, value in subfields if value)
    return f'\n  <datafield tag="{tag}" ind1="{ind1}" ind2="{ind2}">{inner}\n  </datafield>'


def marc21_xml(rec, rng):
    """One synthetic record (the JSON Lines shape) as a MARC21 slim ``<record>``."""
    year = rec.get("year", 2000)
    lang = "chi" if rec.get("language") == "zh" else "eng"
    parts = ['<record>\n  <leader>     nam  22      i 4500</leader>',
             f'\n  <controlfield tag="001">{rec["source_id"]}</controlfield>',
             f'\n  <controlfield tag="005">{year}0624052758.0</controlfield>',
             f'\n  <controlfield tag="008">100622s{year}    cc a          000 0 {lang} d'
             '</controlfield>']
    if rec.get("isbn"):
        parts.append(_field("020", [("a", rec["isbn"]), ("c", f"CNY{rng.randint(10, 99)}.00")]))
    parts.append(_field("035", [("a", f"(aleph){rec['source_id']}BNU03")]))
    if rec.get("category"):
        parts.append(_field("084", [("a", rec["category"]), ("2", "clc")]))
    authors = rec.get("authors") or []
    if authors:
        parts.append(_field("100", [("a", authors[0]), ("e", "著")], "1"))
    parts.append(_field("245", [("a", rec["title"]), ("c", " ".join(authors))], "1", "0"))
    parts.append(_field("260", [("a", "北京"), ("b", rec.get("journal") or "科学出版社"),
                                ("c", str(year))]))
    parts.append(_field("300", [("a", f"{rng.randint(80, 600)}页"), ("c", "26cm")]))
    if rec.get("abstract"):
        parts.append(_field("520", [("a", rec["abstract"])]))
    for keyword in rec.get("keywords") or []:
        parts.append(_field("653", [("a", keyword)]))
    for author in authors[1:]:
        parts.append(_field("700", [("a", author)], "1"))
    for holding in rec.get("holdings") or []:
        parts.append(_field("AVA", [("b", holding["library"]), ("c", "中文图书库"),
                                    ("d", holding["call_number"]), ("e", "available")]))
    parts.append("\n</record>")
    return "".join(parts)


def write_file(path, megabytes, sru, seed, results):
    """Write records until the file reaches ``megabytes``; runs in a child process."""
    gen = _synth.Generator(_synth.Vocabulary(DATA), seed=seed)
    rng = random.Random(seed)
    limit = megabytes * 2**20
    written = 0
    with open(path, "w", encoding="utf-8") as out:
        if sru:
            out.write('<?xml version="1.0" encoding="UTF-8"?>\n<searchRetrieveResponse '
                      'xmlns="http://www.loc.gov/zing/srw/">\n<version>1.2</version>\n'
                      '<records>\n')
        else:
            out.write('<?xml version="1.0" encoding="UTF-8"?>\n'
                      '<collection xmlns="http://www.loc.gov/MARC21/slim">\n')
        # the generator's stream is endless in practice: stop at the size
        for position, rec in gen.records(10**9):
            record = marc21_xml(rec, rng)
            if sru:
                record = ('<record><recordSchema>marcxml</recordSchema><recordPacking>xml'
                          '</recordPacking><recordData>'
                          + record.replace("<record>", '<record xmlns="http://www.loc.gov/'
                                           'MARC21/slim">', 1)
                          + f'</recordData><recordPosition>{position}</recordPosition>'
                          '</record>')
            out.write(record + "\n")
            written = position
            if out.tell() >= limit:
                break
        out.write("</records>\n</searchRetrieveResponse>\n" if sru else "</collection>\n")
    results.put(written)


def read_only(path, results):
    """Read and map every record (no database); runs in a child process."""
    from jala.catalog.marc import marc_to_dict
    from jala.catalog.readers import BadRecord, open_records

    started = time.perf_counter()
    count = bad = 0
    with open(path, "rb") as raw:
        _, items, _ = open_records(raw, str(path))
        for _, item in items:
            if isinstance(item, BadRecord):
                bad += 1
                continue
            marc_to_dict(item)
            item.as_dict()
            count += 1
    results.put({"records": count, "bad": bad, "seconds": time.perf_counter() - started,
                 "peak_rss": C.peak_rss_mb()})


def full_import(path, url, results):
    """Import the file into the scratch database; runs in a child process."""
    from jala.catalog.importer import import_stream
    from jala.catalog.readers import open_records

    app = C.make_app(url)
    rss = {}

    def progress(stats):
        rss[stats.read] = C.current_rss_mb()

    with app.app_context():
        started = time.perf_counter()
        with open(path, "rb") as raw:
            _, items, fmt = open_records(raw, str(path))
            stats = import_stream(items, "JXUFE", format_name=fmt, commit=True,
                                  progress=progress)
        results.put({"records": stats.read, "summary": stats.summary(), "rss": rss,
                     "seconds": time.perf_counter() - started, "peak_rss": C.peak_rss_mb()})


def in_child(target, *args):
    # each step in a process of its own, forked from this small one: its ru_maxrss is its own
    # (the generator's vocabulary never enters the reading processes)
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    child = context.Process(target=target, args=(*args, results))
    child.start()
    out = results.get()
    child.join()
    return out


def report(label, size_mb, out):
    rate = out["records"] / out["seconds"]
    verdict = "OK" if out["peak_rss"] < TARGET_RSS_MB else "MISS"
    print(f"{label}: {size_mb:.0f} MB, {out['records']:,} records in {out['seconds']:.1f} s "
          f"= {rate:,.0f} records/s, peak RSS {out['peak_rss']:.0f} MB "
          f"({verdict}: target < {TARGET_RSS_MB:.0f} MB for a 200 MB file)", flush=True)
    if out.get("summary"):
        print(f"  {out['summary']}", flush=True)
    if out.get("rss"):
        read = sorted(out["rss"])
        marks = [read[len(read) * q // 4 - 1] for q in (1, 2, 3, 4)]
        print("  RSS after " + ", ".join(f"{n:,} records {out['rss'][n]:.0f} MB" for n in marks),
              flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=int, default=200, help="size of the file (200 MB)")
    parser.add_argument("--sru", action="store_true", help="wrap the records as dp2's SRU "
                        "exports are")
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--no-db", action="store_true", help="read only, no import")
    parser.add_argument("--db", default="jala_bench_import_memory")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args(argv)
    if not args.db.startswith("jala_bench_"):
        parser.error("--db must start with jala_bench_")

    print(C.code_version())
    with tempfile.TemporaryDirectory(prefix="jala-bench-xml-") as tmp:
        path = Path(tmp) / "records.xml"
        with C.timed("writing the file"):
            count = in_child(write_file, path, args.mb, args.sru, args.seed)
        size_mb = path.stat().st_size / 2**20
        C.log(f"{path}: {size_mb:.0f} MB, {count:,} records"
              f"{' (SRU-wrapped)' if args.sru else ''}")
        report("read + map (no database)", size_mb, in_child(read_only, path))
        if args.no_db:
            return
        url = C.create_bench_database(args.db)
        C.log(f"database {args.db} created and migrated")
        try:
            report("import_stream into PostgreSQL", size_mb, in_child(full_import, path, url))
        finally:
            if args.keep:
                C.log(f"kept database {args.db} ({url})")
            else:
                C.drop_database(args.db)
                C.log(f"dropped database {args.db}")


if __name__ == "__main__":
    main()
