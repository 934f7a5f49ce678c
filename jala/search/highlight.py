"""Marking the matched terms on the original text (Traditional, full-width…), and excerpts."""
from markupsafe import Markup, escape

from jala.search.normalize import normalize_text


def _normalized_with_owners(text):
    """``text`` normalised one character at a time, and where each normalised one came from."""
    normalized, owners = [], []
    for index, ch in enumerate(text):
        for piece in normalize_text(ch):
            normalized.append(piece)
            owners.append(index)
    return "".join(normalized), owners


def highlight(text, terms):
    """``text`` with every occurrence of the normalised ``terms`` wrapped in <mark>."""
    if not text:
        return ""
    if not terms:
        return escape(text)
    haystack, owners = _normalized_with_owners(text)
    marked = [False] * len(text)
    for term in {t for t in terms if t}:
        compact = "".join(ch for ch in term if not ch.isspace())
        start = haystack.find(compact)
        while start != -1 and compact:
            for k in range(start, start + len(compact)):
                marked[owners[k]] = True
            start = haystack.find(compact, start + len(compact))
    out, open_mark = [], False
    for ch, is_marked in zip(text, marked, strict=True):
        if is_marked and not open_mark:
            out.append(Markup("<mark>"))
            open_mark = True
        elif not is_marked and open_mark:
            out.append(Markup("</mark>"))
            open_mark = False
        out.append(escape(ch))
    if open_mark:
        out.append(Markup("</mark>"))
    return Markup("").join(out)


def excerpt(text, terms, width):
    """About ``width`` characters of ``text`` around the first matched term, marked up."""
    text = text or ""
    start = 0
    if terms and len(text) > width:
        haystack, owners = _normalized_with_owners(text)
        found = [haystack.find("".join(t.split())) for t in terms if t]
        found = [owners[f] for f in found if f >= 0]
        if found:
            start = max(0, min(found) - width // 4)
    prefix = "…" if start > 0 else ""
    suffix = "…" if start + width < len(text) else ""
    return highlight(prefix + text[start:start + width] + suffix, terms)
