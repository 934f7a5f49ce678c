"""The reference working group (参考咨询组): the librarians who answer, and its lead.

Its members are ``WorkingGroupMember`` rows with group ``reference``, and count only while
they are active staff of a member library: a member of a library that has left no longer
answers, claims or sees the desk.
"""
from flask_babel import gettext as _
from sqlalchemy import select

from jala.errors import NotAllowed
from jala.extensions import db
from jala.governance.models import WorkingGroupMember
from jala.membership import serves_member_library

GROUP = "reference"


def _membership(user):
    if not serves_member_library(user):
        return None
    return db.session.execute(
        select(WorkingGroupMember).where(WorkingGroupMember.group == GROUP,
                                         WorkingGroupMember.user_id == user.id)
    ).scalar_one_or_none()


def is_reference_librarian(user):
    """Whether ``user`` is in the reference working group (and staff of a member library)."""
    return _membership(user) is not None


def is_reference_lead(user):
    """Whether ``user`` leads the reference working group."""
    member = _membership(user)
    return member is not None and member.is_lead


def require_reference_librarian(user):
    """Raise unless ``user`` is in the reference working group."""
    if not is_reference_librarian(user):
        raise NotAllowed(_("Only the reference working group can do this."))


def reference_group():
    """The group's members who can act now (active staff of member libraries), lead first."""
    members = db.session.execute(
        select(WorkingGroupMember).where(WorkingGroupMember.group == GROUP)
        .order_by(WorkingGroupMember.is_lead.desc(), WorkingGroupMember.id)
    ).scalars().all()
    return [m for m in members if serves_member_library(m.user)]
