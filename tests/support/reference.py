"""The reference working group (the librarians who answer readers' questions)."""
from jala import clock
from jala.extensions import db
from jala.governance.models import WorkingGroupMember


def join_group(user, lead=False):
    """Put ``user`` into the reference working group."""
    member = WorkingGroupMember(group="reference", user_id=user.id, is_lead=lead,
                                added_at=clock.now())
    db.session.add(member)
    db.session.flush()
    return member
