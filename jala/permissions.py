"""What a user's staff roles let them do: every domain asks here, accounts.roles grants."""
from flask_babel import gettext as _

from jala.accounts.models import ROLE_LIBRARIAN, ROLE_LIBRARY_ADMIN
from jala.errors import NotAllowed


def require_portal_admin(actor):
    """Raise unless ``actor`` is a portal admin."""
    if actor is None or not actor.is_portal_admin:
        raise NotAllowed(_("Only portal admins may do this."))


def can_manage_library(actor, library_id):
    """Portal admins manage every library; a library admin manages their own."""
    return actor.is_portal_admin or actor.has_role(ROLE_LIBRARY_ADMIN, library_id)


def staff_library_ids(user):
    """The libraries ``user`` works for (as librarian or library admin)."""
    return user.libraries_with_role(ROLE_LIBRARIAN, ROLE_LIBRARY_ADMIN)


def is_library_staff(user):
    """Whether ``user`` is a librarian, a library admin or a portal admin (not a reader)."""
    return bool(user is not None and getattr(user, "is_authenticated", False) and (
        user.is_portal_admin or staff_library_ids(user)))


def can_staff_library(user, library_id):
    """Whether ``user`` works for ``library_id`` (librarian or library admin there)."""
    return library_id in staff_library_ids(user)


def require_staff_of(user, library_id):
    """Raise unless ``user`` works for ``library_id``."""
    if not can_staff_library(user, library_id):
        raise NotAllowed(_("Only librarians of that library can do this."))
