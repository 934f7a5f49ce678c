"""One normalisation for index and query: NFKC, case-fold, Traditional → Simplified, identifiers.

Whatever goes into the index and whatever a reader types pass through ``normalize_text`` so
that 圖書館, 图书馆 and full-width ＩＳＢＮ meet the same lexemes.
"""
import re
import unicodedata
from functools import lru_cache

import opencc
from stdnum import isbn as stdnum_isbn
from stdnum import issn as stdnum_issn
from stdnum.exceptions import ValidationError

_t2s = opencc.OpenCC("t2s")

# CJK unified ideographs (basic, extension A, compatibility, extensions B+)
CJK_CLASS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
CJK_RE = re.compile(f"[{CJK_CLASS}]")
_IDENT_CHARS_RE = re.compile(r"[\s\-‐‑–—]")
_NOT_ALNUM_RE = re.compile(r"[\W_]+")  # [^\W_] is exactly str.isalnum()


def normalize_text(text):
    """NFKC (full-width → half-width), Traditional → Simplified, case-folded."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text)
    if CJK_RE.search(text):
        text = _t2s.convert(text)
    return text.casefold()


def canonical_isbn(value):
    """ISBN-13 digits of a valid ISBN-10 or ISBN-13 (with or without hyphens), else None."""
    if not value:
        return None
    compact = _IDENT_CHARS_RE.sub("", unicodedata.normalize("NFKC", str(value))).upper()
    compact = re.sub(r"^ISBN(?:-1[03])?:?", "", compact)
    match = re.match(r"^(97[89]\d{10}|\d{9}[\dX])", compact)
    if not match:
        return None
    try:
        return stdnum_isbn.to_isbn13(stdnum_isbn.validate(match.group(1)))
    except ValidationError:
        return None


def canonical_issn(value):
    """ISSN as ``NNNN-NNNC`` when valid, else None."""
    if not value:
        return None
    compact = _IDENT_CHARS_RE.sub("", unicodedata.normalize("NFKC", str(value))).upper()
    try:
        return stdnum_issn.format(stdnum_issn.validate(compact[:8]))
    except ValidationError:
        return None


_SCRIPT_BOUNDARY_RE = re.compile(
    f"(?<=[{CJK_CLASS}])(?=[^\\W_{CJK_CLASS}])|(?<=[^\\W_{CJK_CLASS}])(?=[{CJK_CLASS}])")


def trigram_text(normalized):
    """Normalised text with a space where CJK meets Latin or digits, so pg_trgm sees words."""
    return _SCRIPT_BOUNDARY_RE.sub(" ", normalized)


def alnum_only(normalized):
    """Letters and digits only, of text that is already normalised (for keys)."""
    return _NOT_ALNUM_RE.sub("", normalized)


@lru_cache(maxsize=4096)
def normalize_key_part(text):
    """Letters and digits only, normalised: for match keys (title + author + year)."""
    return alnum_only(normalize_text(text))
