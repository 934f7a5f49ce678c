"""Who organises events.

Staff of a member library organise its events; the chair library's portal admins organise the
alliance's (the management centre's, ``library_id`` None).
"""
from flask_babel import gettext as _

from jala.accounts.models import Library
from jala.errors import NotAllowed
from jala.extensions import db
from jala.governance.center import is_center_admin
from jala.membership import is_member, member_libraries
from jala.permissions import can_staff_library, staff_library_ids


def can_organise(user, library_id):
    """Whether ``user`` organises events for ``library_id`` (None: the centre)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if library_id is None:
        return is_center_admin(user)
    return can_staff_library(user, library_id) and is_member(db.session.get(Library,
                                                                              library_id))


def require_organiser(user, event):
    """Raise unless ``user`` organises ``event``."""
    if not can_organise(user, event.library_id):
        raise NotAllowed(_("Only the organisers of this event can do this."))


def organiser_choices(user):
    """The libraries (and None for the centre) ``user`` may organise events for."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    choices = [None] if is_center_admin(user) else []
    ids = staff_library_ids(user)
    return choices + [lib for lib in member_libraries() if lib.id in ids]


def is_organiser(user):
    """Whether ``user`` may organise events for anyone (the pages' 'organise' links)."""
    return bool(organiser_choices(user))
