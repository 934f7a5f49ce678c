"""The delivery timer: a request nobody answers in time moves on; one left unsent, a reminder.

Every open request has ``respond_by``. The sweeper (``jala.jobs.sweep``) takes the due ones,
skipping rows a librarian holds at that moment: a pending one times out and goes to the next
library of its rota, an accepted one reminds its library's staff, once.
"""
from sqlalchemy import select

from jala import clock
from jala.accounts.models import ROLE_LIBRARIAN, ROLE_LIBRARY_ADMIN, RoleGrant, User
from jala.delivery.lifecycle import add_event
from jala.delivery.models import OPEN_STATUSES, DeliveryRequest
from jala.delivery.routing import move_on
from jala.extensions import db
from jala.jobs import sweep_task
from jala.mail import notify
from jala.urls import external_url


@sweep_task
def reroute_overdue_requests():
    """Move pending requests nobody accepted in time to the next library; remind the others."""
    now = clock.now()
    rows = db.session.execute(
        select(DeliveryRequest)
        .where(DeliveryRequest.status.in_(OPEN_STATUSES), DeliveryRequest.respond_by <= now)
        .order_by(DeliveryRequest.respond_by)
        .limit(200)
        .with_for_update(skip_locked=True)
    ).scalars().all()
    for req in rows:
        if req.status == "pending":
            move_on(req, "timed_out")
        else:
            _remind_library(req)
    return len(rows)


def _remind_library(req):
    """An accepted request is still not fulfilled: remind the library's staff, once."""
    req.respond_by = None
    req.reminded_at = clock.now()
    add_event(req, "reminded")
    staff = db.session.execute(
        select(User).join(RoleGrant, RoleGrant.user_id == User.id).where(
            RoleGrant.library_id == req.library_id, RoleGrant.revoked_at.is_(None),
            RoleGrant.role.in_((ROLE_LIBRARIAN, ROLE_LIBRARY_ADMIN)),
            User.disabled_at.is_(None))
    ).scalars().unique().all()
    link = external_url("delivery.library_queue", code=req.library.code)
    for person in staff:
        notify(person, "delivery_reminder", kind="delivery.reminder",
               related=("delivery_request", req.id), library_id=req.library_id, req=req,
               link=link)
