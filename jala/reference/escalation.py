"""The escalation timer: a question left unanswered is brought to the whole group, once.

``escalate_at`` (asked + ``reference.escalate_hours``) is picked up by a sweep task that
emails every member of the reference working group, its lead included. With nobody in the
group, the portal admins of the chair library (the management centre) hear of it instead.
"""
from sqlalchemy import select

from jala import clock
from jala.accounts.models import ROLE_PORTAL_ADMIN, RoleGrant, User
from jala.extensions import db
from jala.jobs import sweep_task
from jala.mail import notify
from jala.membership import current_chair_library
from jala.reference.group import reference_group
from jala.reference.models import Question
from jala.urls import external_url


def _escalation_recipients():
    people = [m.user for m in reference_group()]
    if people:
        return people
    # nobody in the group: the management center must hear of it
    chair = current_chair_library()
    if chair is None:
        return []
    return db.session.execute(
        select(User).join(RoleGrant, RoleGrant.user_id == User.id).where(
            RoleGrant.library_id == chair.id, RoleGrant.role == ROLE_PORTAL_ADMIN,
            RoleGrant.revoked_at.is_(None), User.disabled_at.is_(None))
    ).scalars().unique().all()


@sweep_task
def escalate_unanswered_questions():
    """Email the whole reference group (its lead too) once about each question left waiting."""
    now = clock.now()
    rows = db.session.execute(
        select(Question).where(Question.escalate_at <= now)
        .order_by(Question.escalate_at).limit(200)
        .with_for_update(skip_locked=True)
    ).scalars().all()
    if not rows:
        return 0
    recipients = _escalation_recipients()
    lead_ids = {m.user_id for m in reference_group() if m.is_lead}
    escalated = 0
    for question in rows:
        question.escalate_at = None
        if question.status != "open" or question.first_response_at is not None:
            continue  # answered or closed meanwhile: nothing to escalate
        question.escalated_at = now
        escalated += 1
        for person in recipients:
            notify(person, "reference_escalated", kind="reference.escalated",
                   related=("reference_question", question.id),
                   library_id=person.home_library_id, question=question,
                   is_lead=person.id in lead_ids,
                   hours=round((clock.now() - question.created_at).total_seconds() / 3600),
                   link=external_url("reference.question", question_id=question.id),
                   desk=external_url("reference.desk"))
    return escalated
