"""ISBD punctuation in catalogue data: what separates the elements, taken off the values.

MARC21 records carry the punctuation that separates the elements of a description at the end
of each subfield ("Title /", "Publisher,", "2004."); a value shown or cited on its own must
lose it, but not the full stop of an abbreviation ("Inc.", "3rd ed.", "Herndon, Va.").
"""
import re

# the marks that end an element before the next one: " /", " :", " ;", " =", ",", and their
# full-width forms in Chinese records
_SEPARATOR_RE = re.compile(r"[\s/:;=,／：；＝，]+$")
_LEADING_SEPARATOR_RE = re.compile(r"^[\s/:;=,／：；＝，]+")
_TERMINAL_STOP_RE = re.compile(r"(?<!\.)[.。]$")
# the marks around the words a title files without ("The", "L'"): no text of their own
_NON_SORTING_RE = re.compile("[\x88\x89\x98\x9c]")
# words whose full stop is their own (lower case, without it)
ABBREVIATIONS = {
    "inc", "ltd", "co", "corp", "bros", "dept", "univ", "assn", "assoc", "govt", "soc", "inst",
    "ed", "eds", "rev", "enl", "rpt", "repr", "vol", "vols", "no", "nos", "p", "pp", "etc",
    "al", "jr", "sr", "st", "ste", "mt", "ft", "dr", "pub", "publ", "comp", "trans", "tr",
    "ca", "approx", "illus", "ill", "cie", "gmbh",
    # states as American imprints abbreviate them
    "mass", "calif", "conn", "fla", "ga", "kan", "md", "mich", "minn", "neb", "nev", "okla",
    "pa", "tenn", "tex", "va", "vt", "wash", "wis", "wyo", "colo", "ariz", "ky",
}


def _ends_with_abbreviation(text):
    word = re.split(r"[\s(\[]", text[:-1])[-1]
    return (len(word) == 1 and word.isalpha()  # an initial: "Arnold, Paul A."
            or "." in word  # "D.C.", "U.S.", "e.g."
            or word.lower() in ABBREVIATIONS)


def strip_isbd(value):
    """A value without the ISBD punctuation after it: "Title /" → "Title", "2004." → "2004".

    A full stop after a separator was taken off is the data's own ("Herndon, Va. :"), and so
    is one that ends an abbreviation or an initial. A separator before the value (UNIMARC
    puts some there: "$b, Isaac") goes too, and so do the marks around non-filing words.
    """
    if value is None:
        return None
    text = _LEADING_SEPARATOR_RE.sub("", _NON_SORTING_RE.sub("", value)).strip()
    without_separator = _SEPARATOR_RE.sub("", text)
    if without_separator != text:
        return without_separator.strip()
    if _TERMINAL_STOP_RE.search(text) and not _ends_with_abbreviation(text):
        text = text[:-1].rstrip()
    return text


def ends_with(value, marks):
    """Whether ``value`` ends with one of the ISBD ``marks`` (spaces aside)."""
    return (value or "").rstrip()[-1:] in marks


def join_title(title, subtitle):
    """A title and its other title information as GB/T 7714 writes them: "题名: 副题名"."""
    if not subtitle:
        return title
    if not title:
        return subtitle
    return f"{title}: {subtitle}"
