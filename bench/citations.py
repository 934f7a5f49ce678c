"""GB/T 7714-2015 agreement: our renderer against citeproc-js with the official CSL style.

    (cd bench/citeproc && npm ci)          # once: citeproc-js, the style and the locales
    .venv/bin/python bench/citations.py [--items FILE] [--show tuned|held-out|all]

Each item of bench/data/citation_items.jsonl (written for this benchmark, in the catalogue's
JSON Lines form: columns plus the record contract's ``extra`` keys) becomes a ``Record``; our
``gbt7714()`` renders it, and our CSL-JSON export of the same record goes through citeproc-js
with china-national-standard-gb-t-7714-2015-numeric (bench/citeproc/render.js). An item agrees
when the two strings are equal after these normalisations, and only these:
  - whitespace runs collapse to one space, ends stripped; citeproc's leading ``[1]`` dropped;
  - ``2 版`` → ``2版``: the style joins the edition number and the term 版 with a space, the
    standard writes none.
Chinese items are rendered in the style's zh-CN locale, the others in en-US (the style's terms
in the item's language: ``等``/``et al.``, ``译``/``trans.``, ``2版``/``2nd ed.``).

Items are split by a hash of their source id: 60 % to tune the renderer on, 40 % held out.
One difference is ours by design, and the last column counts the items that differ by nothing
else: the style has no type for 汇编 [G] or 数据库 [DB] (it writes [M] and [DS]); the issue and the
standard ask for [G] and [DB]. (Organisations are upper-cased as the style writes them,
WORLD HEALTH ORGANIZATION, and apostrophes typographic: those now agree.) citeproc-js 2.4.63
also writes the initials of ``Aalbersberg, I. J.`` as ``Ij J``: counted as a disagreement.
"""
import argparse
import hashlib
import json
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from jala.catalog.models import Record  # noqa: E402
from jala.reading import citations  # noqa: E402
from jala.reading.bibfields import (  # noqa: E402
    is_chinese,
)
from jala.reading.csljson import csl_item  # noqa: E402

ITEMS = ROOT / "bench" / "data" / "citation_items.jsonl"
RENDER = ROOT / "bench" / "citeproc" / "render.js"
COLUMNS = {c.name for c in Record.__table__.columns}
BASE_CODES = {"book": "M", "ebook": "M", "article": "J", "newspaper": "N", "thesis": "D",
              "conference": "C", "compilation": "G", "report": "R", "standard": "S",
              "patent": "P", "other": "EB", "database": "DB", "software": "CP"}
CODE_RE = re.compile(r"\[[A-Z]{1,2}(/OL)?\]")


def load_records(path):
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        raw = json.loads(line)
        columns = {k: v for k, v in raw.items() if k in COLUMNS and k != "id"}
        extra = {k: v for k, v in raw.items() if k not in COLUMNS and k != "source_id"}
        columns.setdefault("authors", [])
        records.append((raw["source_id"], Record(id=number, extra=extra, **columns)))
    return records


def category(record):
    """The GB/T type the item is meant to be: ``M``, ``J/OL``, ``M 析出`` …"""
    code = BASE_CODES.get(record.type, "Z")
    if (record.extra or {}).get("container-title") and code == "M":
        return "M 析出"
    online = record.url or record.doi
    return f"{code}/OL" if online and code not in ("EB", "DB", "CP") else code


def is_held_out(source_id):
    return int(hashlib.sha1(source_id.encode()).hexdigest(), 16) % 5 < 2


def render_with_citeproc(records):
    if not (RENDER.parent / "node_modules").is_dir():
        sys.exit("run `npm ci` in bench/citeproc first")
    items = []
    for _source_id, record in records:
        item = csl_item(record)
        item["_locale"] = "zh-CN" if is_chinese(record) else "en-US"
        items.append(item)
    done = subprocess.run(["node", str(RENDER)], input=json.dumps(items, ensure_ascii=False),
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def differs_only_by_design(ours, expected, record):
    """Whether the only difference is the [G]/[DB] code."""
    if record.type in ("compilation", "database"):
        ours, expected = CODE_RE.sub("[?]", ours), CODE_RE.sub("[?]", expected)
    return ours == expected


def normalise(text):
    text = " ".join(text.split())
    text = re.sub(r"^\[\d+\]\s*", "", text)
    return re.sub(r"(\d) 版", r"\1版", text)


def table(rows):
    """rows: (label, agreed, total, agreed but for the differences by design)."""
    print(f"{'':14}{'agree':>8}{'of':>5}{'%':>8}{'but by design %':>17}")
    for label, agreed, total, blind in rows:
        pct = 100 * agreed / total if total else 0
        print(f"{label:14}{agreed:8}{total:5}{pct:8.1f}{100 * blind / total:17.1f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=Path, default=ITEMS)
    parser.add_argument("--show", choices=("tuned", "held-out", "all"),
                        help="print the items that disagree")
    args = parser.parse_args()
    records = load_records(args.items)
    theirs = render_with_citeproc(records)
    results = []
    for source_id, record in records:
        ours = normalise(citations.gbt7714(record))
        expected = normalise(theirs[str(record.id)])
        blind = differs_only_by_design(ours, expected, record)
        results.append((source_id, category(record), is_held_out(source_id),
                        ours == expected, blind, ours, expected))
    for name, chosen in (("all", results), ("tuned", [r for r in results if not r[2]]),
                         ("held-out", [r for r in results if r[2]])):
        print(f"\n== {name}: {sum(r[3] for r in chosen)}/{len(chosen)} agree")
        by_type = defaultdict(lambda: [0, 0, 0])
        for r in chosen:
            by_type[r[1]][0] += r[3]
            by_type[r[1]][1] += 1
            by_type[r[1]][2] += r[4]
        rows = [(t, *by_type[t]) for t in sorted(by_type)]
        rows.append(("overall", sum(r[3] for r in chosen), len(chosen),
                     sum(r[4] for r in chosen)))
        table(rows)
    if args.show:
        wanted = {"tuned": (False,), "held-out": (True,), "all": (False, True)}[args.show]
        for source_id, kind, held, agreed, _blind, ours, expected in results:
            if held in wanted and not agreed:
                print(f"\n{source_id} [{kind}]\n  ours:     {ours}\n  citeproc: {expected}")


if __name__ == "__main__":
    main()
