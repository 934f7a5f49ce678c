"""中图法 (Chinese Library Classification, CLC): class numbers, their names and their tree.

A record's ``clc`` may hold several class numbers ("TP311.13;G250.7"), in full-width
characters, with auxiliary parts after the class ("F124-62", "K2=6", "G250.7(2)") and a
combination ("G250.7:TP393"). The class is what comes before those: letters, then digits
with a dot after every three. A class's parent is its longest prefix with a name in
``data/clc.tsv`` (G250.7 → G250 → G25 → G2 → G), so that counting and filtering a class by
its code prefix always agree with the tree shown.
"""
import functools
import re
import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from flask_babel import get_locale
from sqlalchemy import text

from jala import clock
from jala.extensions import db
from jala.membership import former_member_ids

CLASSES_FILE = Path(__file__).parent / "data" / "clc.tsv"
SEPARATORS = re.compile(r"[;,、|/\s]+")
CLASS_NUMBER = re.compile(r"([A-Z]{1,2})([0-9.]*)")
# a record is in a class when one of its (normalized, ";"-joined) numbers begins with its code
CLASS_MATCH = "(';' || clc) LIKE :clc_like"
# the browse page's counts read every record with a class: kept this long in each process
COUNTS_KEPT = timedelta(minutes=5)
MAX_COUNTS_KEPT = 4096
_kept_counts = {}  # key of catalogue_counts → (until, counts)


@dataclass(frozen=True)
class ClassName:
    """One named class: its code and its name in Chinese and in English."""

    code: str
    zh: str
    en: str


@functools.cache
def named_classes():
    """Every named class by code, in the order of the file (the classification's order)."""
    classes = {}
    for line in CLASSES_FILE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            code, zh, en = line.split("\t")
            classes[code] = ClassName(code, zh, en)
    return classes


def _with_dots(digits):
    """CLC writes a dot after every three digits: 31113 → 311.13."""
    return ".".join(digits[i:i + 3] for i in range(0, len(digits), 3))


def canonical_code(value):
    """The class number at the start of ``value`` in its written form, or None.

    Full-width characters and lower case are read; what follows the class (an auxiliary
    number, a combination) is left out: "ｔｐ３１１．１３-62" → "TP311.13".
    """
    value = unicodedata.normalize("NFKC", value or "").strip().upper()
    match = CLASS_NUMBER.match(value)
    if not match:
        return None
    letters, digits = match.group(1), match.group(2).replace(".", "")
    if letters not in named_classes():
        return None
    return letters + _with_dots(digits)


def _normalized_number(part):
    code = canonical_code(part)
    if code is None:
        return part
    return code + part[CLASS_NUMBER.match(part).end():]


def normalize_clc(value):
    """A record's ``clc`` as stored: upper case, each class written out, joined by ";".

    "tp31113；g2507-62" → "TP311.13;G250.7-62". Auxiliary parts stay; what is not a class
    number is kept as it came, so nothing a library sent is lost.
    """
    value = unicodedata.normalize("NFKC", value or "").strip().upper()
    parts = [_normalized_number(part) for part in SEPARATORS.split(value) if part]
    return ";".join(parts) or None


def class_codes(value):
    """The distinct class numbers of a record's ``clc``, in their order."""
    codes = (canonical_code(part) for part in SEPARATORS.split(
        unicodedata.normalize("NFKC", value or "")))
    return list(dict.fromkeys(code for code in codes if code))


def prefixes(code):
    """The code and its prefixes, broadest first: TP311.1 → T, TP, TP3, TP31, TP311, TP311.1."""
    match = CLASS_NUMBER.fullmatch(code)
    letters, digits = match.group(1), match.group(2).replace(".", "")
    out = [letters[:n] for n in range(1, len(letters) + 1)]
    return out + [letters + _with_dots(digits[:n]) for n in range(1, len(digits) + 1)]


def class_path(code):
    """The named classes a code sits in, broadest first, the code itself last if named."""
    classes = named_classes()
    return [prefix for prefix in prefixes(code) if prefix in classes]


def parent(code):
    """The nearest named class above ``code`` (None for a main class)."""
    path = class_path(code)
    if path and path[-1] == code:
        path = path[:-1]
    return path[-1] if path else None


@functools.cache
def _children():
    children = {}
    for code in named_classes():
        children.setdefault(parent(code), []).append(code)
    return children


def subclasses(code=None):
    """The named classes right below ``code``; below None, the 22 main classes."""
    return _children().get(code, [])


def class_name(code):
    """The name of a named class in the UI language (None for a class without a name)."""
    named = named_classes().get(code)
    if named is None:
        return None
    return named.en if str(get_locale() or "zh").startswith("en") else named.zh


def class_label(code):
    """A code with the name of its nearest named class: "G250.76 图书馆自动化"."""
    path = class_path(code)
    return f"{code} {class_name(path[-1])}" if path else code


def record_classes(value):
    """For a record's ``clc``: each class number with its named path as ``(code, name)``."""
    return [(code, [(step, class_name(step)) for step in class_path(code)])
            for code in class_codes(value)]


def class_like(code):
    """The LIKE pattern for ``CLASS_MATCH``: the records in the class ``code``."""
    return f"%;{code}%"


def count_by_subclass(counted_values, chosen=None):
    """``{subclass: records}`` of the class ``chosen`` (or the main classes).

    ``counted_values`` are ``(clc value, records)`` pairs; a record is counted once in each
    subclass however many of its numbers fall there.
    """
    below = set(subclasses(chosen))
    counts = {}
    for value, records in counted_values:
        found = _classes_of(value) & below
        for subclass in found:
            counts[subclass] = counts.get(subclass, 0) + records
    return counts


@functools.lru_cache(maxsize=65536)
def _classes_of(value):
    # every class a record's clc puts it in (named or not); catalogues repeat their values
    return frozenset(prefix for code in class_codes(value) for prefix in prefixes(code))


def in_class(value, chosen=None):
    """Whether a record's ``clc`` puts it in the class ``chosen`` (None: in any class)."""
    classes = _classes_of(value)
    return bool(classes) if chosen is None else chosen in classes


def catalogue_counts(chosen=None):
    """``(records in the class, {subclass: records})`` over the whole catalogue.

    Without ``chosen``: the records with any class, and the main classes.

    Kept for a few minutes per class. The newest record's id is part of the key, so an
    import shows at once; a changed or removed record may take those minutes.
    """
    withdrawn = former_member_ids()
    newest = db.session.execute(text("SELECT max(id) FROM records")).scalar()
    key = (str(db.engine.url), chosen, newest, tuple(sorted(withdrawn)))
    now = clock.now()
    kept = _kept_counts.get(key)
    if kept is not None and kept[0] > now:
        return kept[1]
    counts = _count_in_database(chosen, withdrawn)
    _keep_counts(key, counts, now)
    return counts


def _keep_counts(key, counts, now):
    if len(_kept_counts) >= MAX_COUNTS_KEPT:
        for old in [old for old, (until, _) in _kept_counts.items() if until <= now]:
            _kept_counts.pop(old, None)
        if len(_kept_counts) >= MAX_COUNTS_KEPT:  # codes nobody browses twice
            _kept_counts.clear()
    _kept_counts[key] = (now + COUNTS_KEPT, counts)


def _count_in_database(chosen, withdrawn):
    """``catalogue_counts`` read from the database.

    Grouped by distinct ``clc`` value (far fewer than the records), then counted up the tree
    here; records held only by libraries that left are not counted, as in the search.
    """
    params = {"clc_like": class_like(chosen or ""), "withdrawn": withdrawn}
    still_held = "NOT (library_ids <@ CAST(:withdrawn AS integer[]))" \
        if params["withdrawn"] else "TRUE"
    rows = db.session.execute(text(
        f"SELECT clc, count(*) FROM records WHERE clc IS NOT NULL AND {CLASS_MATCH} "
        f"AND {still_held} GROUP BY clc"), params).all()
    total = sum(records for value, records in rows if in_class(value, chosen))
    return total, count_by_subclass(rows, chosen)
