"""Who sees an event, on the list and by its address alike.

Events for readers of every member library are public. Staff-only events are seen by staff;
an event for one library's readers by that library's readers and by staff. Organisers always
see their own events. To anyone else such an event does not exist (404).
"""
from sqlalchemy import or_, true

from jala.community.events.models import Event
from jala.community.events.organisers import can_organise


def _signed_in(user):
    return user is not None and getattr(user, "is_authenticated", False)


def visible_to(user):
    """The SQL condition on ``Event`` of the events ``user`` (None: anyone) may see."""
    if not _signed_in(user):
        return Event.audience == "members"
    if user.is_staff:
        return true()
    clauses = [Event.audience == "members"]
    if user.home_library_id is not None:
        clauses.append((Event.audience == "library")
                       & (Event.audience_library_id == user.home_library_id))
    return or_(*clauses)


def can_see(user, event):
    """Whether ``user`` may see ``event`` (its organisers always may)."""
    if event.audience == "members" or can_organise(user, event.library_id):
        return True
    if not _signed_in(user):
        return False
    if user.is_staff:
        return True
    return event.audience == "library" and user.home_library_id == event.audience_library_id


def sees_online_link(user, event, registration=None):
    """Whether ``user`` is shown the event's online link (a seat holder or an organiser)."""
    if (registration is not None and registration.status == "confirmed"
            and registration.event_id == event.id):
        return True
    return can_organise(user, event.library_id)
