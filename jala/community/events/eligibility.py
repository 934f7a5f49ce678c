"""Who an event's audience takes in: shared by signing up and by moving up the waiting list."""
from flask_babel import gettext as _

from jala.errors import NotAllowed, RuleViolation
from jala.membership import check_reader_standing, serves_member_library


def check_audience(user, event):
    """Raise unless ``user`` is in ``event``'s audience and in good standing."""
    if event.audience == "staff":
        if not serves_member_library(user):
            raise NotAllowed(_("This event is for the staff of member libraries."))
        return
    if user.home_library_id is None:
        raise NotAllowed(_("This event is for readers of member libraries."))
    check_reader_standing(user)
    if event.audience == "library" and user.home_library_id != event.audience_library_id:
        raise NotAllowed(_("This event is only for readers of the library that holds it."))


def still_eligible(user, event):
    """Whether ``user`` is active and still in ``event``'s audience (for a seat come free)."""
    if user is None or not user.is_active:
        return False
    try:
        check_audience(user, event)
    except RuleViolation:
        return False
    return True
