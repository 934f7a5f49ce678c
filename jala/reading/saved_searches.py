"""Saved searches: a reader keeps a results page (its query and filters) to run it again."""
from urllib.parse import parse_qsl, urlencode

from flask_babel import gettext as _
from sqlalchemy import select

from jala.errors import NotFound, RuleViolation
from jala.extensions import db
from jala.reading.models import SavedSearch

MAX_SAVED = 50
# What a saved search keeps of the results page's URL: the query and the reader's filters,
# not the page number or the page size.
KEPT = ("q", "type", "library", "language", "category", "discipline", "year_from", "year_to",
        "sort", "strict")


def normalised(query_string):
    """The query string with only the kept parameters, in a stable order ('' if no query)."""
    pairs = [(k, v.strip()) for k, v in parse_qsl(query_string or "", keep_blank_values=False)
             if k in KEPT and v.strip()]
    if not any(k == "q" for k, _v in pairs):
        return ""
    return urlencode(sorted(pairs))


def save_search(user, query_string):
    """Keep the search (again saving the same one keeps one); returns the saved search."""
    kept = normalised(query_string)
    if not kept or len(kept) > 1000:
        raise RuleViolation(_("Only a search with words can be saved."))
    existing = db.session.execute(select(SavedSearch).where(
        SavedSearch.owner_id == user.id, SavedSearch.query_string == kept)).scalar_one_or_none()
    if existing:
        return existing
    if len(my_saved_searches(user)) >= MAX_SAVED:
        raise RuleViolation(_("You can keep up to %(n)d searches. Delete one first.",
                              n=MAX_SAVED))
    label = dict(parse_qsl(kept)).get("q", "")[:500]
    saved = SavedSearch(owner_id=user.id, query_string=kept, label=label)
    db.session.add(saved)
    db.session.flush()
    return saved


def is_saved(user, query_string):
    """Whether the user keeps this search already."""
    kept = normalised(query_string)
    return bool(kept) and db.session.execute(select(SavedSearch.id).where(
        SavedSearch.owner_id == user.id, SavedSearch.query_string == kept)).first() is not None


def my_saved_searches(user):
    """The user's saved searches, newest first."""
    return db.session.execute(select(SavedSearch).where(SavedSearch.owner_id == user.id)
                              .order_by(SavedSearch.id.desc())).scalars().all()


def delete_saved_search(user, search_id):
    """Forget one of the user's saved searches (another's is 'not found')."""
    saved = db.session.get(SavedSearch, search_id)
    if saved is None or saved.owner_id != user.id:
        raise NotFound(_("This saved search does not exist."))
    db.session.delete(saved)
    db.session.flush()
