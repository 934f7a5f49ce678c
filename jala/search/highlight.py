"""Marking the matched terms in a title, on the original text (Traditional, full-width…)."""
from markupsafe import Markup, escape

from jala.search.normalize import normalize_text


def normalized_with_owners(text):
    """``(normalised text, owners)``, ``owners[k]`` the index in ``text`` its k-th came from.

    The text is normalised character by character, so that a match found in the normalised
    text can be shown on the original.
    """
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
    haystack, owners = normalized_with_owners(text)
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
