"""What a member library tells its readers: address, opening hours, contact."""
from flask_babel import gettext as _

from jala.audit import record_audit
from jala.errors import NotAllowed, RuleViolation
from jala.extensions import db
from jala.membership import get_library
from jala.permissions import can_manage_library

# field: the longest value the column takes
DETAILS = {"address": 300, "opening_hours": 300, "phone": 50, "email": 254, "website": 200}


def update_library_details(actor, code, **values):
    """Change a library's public details; ``actor`` None is the command line.

    Only the fields given change; an empty value clears one. Its own library admin (or a
    portal admin) may; every change is in the audit log.
    """
    library = get_library(code)
    if actor is not None and not can_manage_library(actor, library.id):
        raise NotAllowed(_("Only the library's admins can change its details."))
    changes = {}
    for name, value in values.items():
        if name not in DETAILS:
            raise RuleViolation(_("Unknown library detail: %(name)s.", name=name))
        value = (value or "").strip() or None
        if value is not None and len(value) > DETAILS[name]:
            raise RuleViolation(_("At most %(n)d characters.", n=DETAILS[name]))
        if name == "email" and value is not None and "@" not in value:
            raise RuleViolation(_("%(value)s is not an email address.", value=value))
        if name == "website" and value is not None and not value.startswith(("http://",
                                                                              "https://")):
            raise RuleViolation(_("A website address starts with https:// or http://."))
        if getattr(library, name) != value:
            changes[name] = value
            setattr(library, name, value)
    if changes:
        db.session.flush()
        record_audit(actor, "library.details", "library", library.id, library_id=library.id,
                     details=changes)
    return library
