"""Saved lists: a reader's own lists of records, and sharing one read-only by a link.

A saved list belongs to its owner alone: anyone else asking for it by id gets "not found",
and a shared list is reached only through its random token, read-only.
"""
import re
import secrets

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import lazyload

from jala import clock
from jala.accounts.models import User
from jala.catalog.models import Record
from jala.errors import NotFound, RuleViolation
from jala.extensions import db
from jala.reading.models import SavedList, SavedListItem
from jala.settings import declare, get_setting

declare("reading.lists_per_user", 20, 1, 500, _l("Saved lists per user"), _l("lists"))
declare("reading.items_per_list", 500, 10, 10000, _l("Records per saved list"), _l("records"))

SHARE_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")
LIST_NAME_MAX = 200


def _clean_name(name):
    name = " ".join((name or "").split())[:LIST_NAME_MAX]
    if not name:
        raise RuleViolation(_("Give the list a name."))
    return name



def my_lists(user):
    """The user's lists, oldest (the default one) first (their items are not loaded)."""
    return db.session.execute(
        select(SavedList).where(SavedList.owner_id == user.id).order_by(SavedList.id)
        .options(lazyload(SavedList.items))
    ).scalars().all()



def list_sizes(user):
    """``{list id: number of records}`` for the user's lists."""
    return dict(db.session.execute(
        select(SavedListItem.list_id, func.count())
        .join(SavedList, SavedList.id == SavedListItem.list_id)
        .where(SavedList.owner_id == user.id).group_by(SavedListItem.list_id)
    ).all())



def get_own_list(user, list_id, lock=False):
    """A list its owner asks for; anyone else's is 'not found', never 'forbidden'."""
    query = select(SavedList).where(SavedList.id == list_id).options(lazyload(SavedList.items))
    if lock:
        query = query.with_for_update()
    saved = db.session.execute(query).scalar_one_or_none()
    if saved is None or saved.owner_id != user.id:
        raise NotFound(_("No such list."))
    return saved



def _lock_owner(user):
    """Lock the user's row: their list-making takes turns (no two default lists)."""
    db.session.execute(select(User.id).where(User.id == user.id)
                       .with_for_update(key_share=True))



def create_list(user, name):
    """Start a new, private list."""
    name = _clean_name(name)
    _lock_owner(user)
    limit = get_setting("reading.lists_per_user")
    if len(my_lists(user)) >= limit:
        raise RuleViolation(_("You can keep at most %(n)d lists. Delete one first.", n=limit))
    saved = SavedList(owner_id=user.id, name=name, created_at=clock.now())
    db.session.add(saved)
    db.session.flush()
    return saved



def rename_list(user, list_id, name):
    """Give a list a new name."""
    saved = get_own_list(user, list_id, lock=True)
    saved.name = _clean_name(name)
    db.session.flush()
    return saved



def delete_list(user, list_id):
    """Delete a list and what is in it (a shared link stops working)."""
    saved = get_own_list(user, list_id, lock=True)
    db.session.delete(saved)
    db.session.flush()



def default_list(user):
    """The user's first list, made ("My list") on their first save."""
    _lock_owner(user)
    lists = my_lists(user)
    if lists:
        return lists[0]
    saved = SavedList(owner_id=user.id, name=_("My list"), created_at=clock.now())
    db.session.add(saved)
    db.session.flush()
    return saved



def save_record(user, record_id, list_id=None, note=None):
    """Put a record in one of the user's lists (the default one if none is named).

    Returns ``(list, item)``; saving a record already in the list changes nothing.
    """
    record = db.session.get(Record, record_id)
    if record is None:
        raise NotFound(_("No such record."))
    saved = get_own_list(user, list_id, lock=True) if list_id else default_list(user)
    if list_id is None:
        saved = get_own_list(user, saved.id, lock=True)
    item = db.session.execute(
        select(SavedListItem).where(SavedListItem.list_id == saved.id,
                                    SavedListItem.record_id == record.id)
    ).scalar_one_or_none()
    if item is not None:
        return saved, item
    limit = get_setting("reading.items_per_list")
    count = db.session.execute(
        select(func.count()).select_from(SavedListItem).where(SavedListItem.list_id == saved.id)
    ).scalar_one()
    if count >= limit:
        raise RuleViolation(_("“%(name)s” already holds %(n)d records, the most a list can "
                              "hold. Start another list.", name=saved.name, n=limit))
    item = SavedListItem(list_id=saved.id, record_id=record.id,
                         note=(note or "").strip()[:2000] or None, added_at=clock.now())
    db.session.add(item)
    db.session.flush()
    return saved, item



def remove_record(user, list_id, record_id):
    """Take a record out of one of the user's lists (no error if it was not there)."""
    saved = get_own_list(user, list_id, lock=True)
    item = db.session.execute(
        select(SavedListItem).where(SavedListItem.list_id == saved.id,
                                    SavedListItem.record_id == record_id)
    ).scalar_one_or_none()
    if item is not None:
        db.session.delete(item)
        db.session.flush()
    return saved



def lists_with_record(user, record_id):
    """The user's lists that hold the record."""
    return db.session.execute(
        select(SavedList).join(SavedListItem, SavedListItem.list_id == SavedList.id)
        .where(SavedList.owner_id == user.id, SavedListItem.record_id == record_id)
        .order_by(SavedList.id).options(lazyload(SavedList.items))
    ).scalars().all()



def share_list(user, list_id):
    """Make a read-only link to the list (a new token each time sharing starts)."""
    saved = get_own_list(user, list_id, lock=True)
    if saved.share_token is None:
        saved.share_token = secrets.token_urlsafe(32)
        db.session.flush()
    return saved



def stop_sharing(user, list_id):
    """The shared link stops working at once."""
    saved = get_own_list(user, list_id, lock=True)
    saved.share_token = None
    db.session.flush()
    return saved



def shared_list(token):
    """The list a share link names, or 'not found' (unshared, deleted, or a wrong token)."""
    if not isinstance(token, str) or not SHARE_TOKEN_RE.match(token):
        raise NotFound(_("This shared list does not exist or is no longer shared."))
    saved = db.session.execute(
        select(SavedList).where(SavedList.share_token == token)
        .options(lazyload(SavedList.items))
    ).scalar_one_or_none()
    if saved is None:
        raise NotFound(_("This shared list does not exist or is no longer shared."))
    return saved



def list_records(saved):
    """The records of a list, in the order they were saved (one query)."""
    return db.session.execute(
        select(Record).join(SavedListItem, SavedListItem.record_id == Record.id)
        .where(SavedListItem.list_id == saved.id).order_by(SavedListItem.id)
    ).scalars().all()
