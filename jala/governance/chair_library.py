"""The chair library (轮值主任馆): the rotation order of its terms, and the handover.

The committee approves the rotation order (a ``rotation_order`` agenda item: years and
libraries); the outgoing chair library then hands the management center, and with it the
portal-admin roles, to the next one, which accepts the handover.
"""
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from jala import clock
from jala.accounts.models import (
    ROLE_COMMITTEE_MEMBER,
    ROLE_PORTAL_ADMIN,
    ChairTerm,
    Library,
    RoleGrant,
)
from jala.accounts.roles import grant_role
from jala.audit import record_audit
from jala.errors import NotAllowed, NotFound, RuleViolation
from jala.extensions import db
from jala.governance.center import require_center_admin
from jala.governance.committee import committee_members
from jala.governance.models import (
    OPEN_APPLICATION,
    AnnualDocument,
    Handover,
    Meeting,
    MembershipApplication,
    Withdrawal,
)
from jala.mail import notify
from jala.membership import current_chair_term, find_library, is_member, library_name
from jala.urls import external_url

# --- the rotation order -------------------------------------------------------------------------

def parse_rotation(text):
    """``"2027 南昌大学"`` lines → ``[[2027, library_id], ...]`` for years after the current term.

    A library is named as people name it (南昌大学, 南昌大学图书馆, Nanchang University) or by
    its code.
    """
    term = current_chair_term()
    first_year = (term.year if term else clock.local_today().year) + 1
    terms, seen = [], set()
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.replace(",", " ").replace("，", " ").split(maxsplit=1)
        if len(parts) != 2 or not parts[0].isdecimal():
            raise RuleViolation(_("Rotation line %(n)d: write a year and a library, for "
                                  "example 2027 Nanchang University.", n=number))
        year, library = int(parts[0]), library_named(parts[1])
        if library is None or not is_member(library):
            raise RuleViolation(_("Rotation line %(n)d: %(library)s is not a member library.",
                                  n=number, library=parts[1]))
        if year < first_year or year > first_year + 30 or year in seen:
            raise RuleViolation(_("Rotation line %(n)d: years must be %(year)d or later, each "
                                  "only once.", n=number, year=first_year))
        seen.add(year)
        terms.append([year, library.id])
    if not terms:
        raise RuleViolation(_("Give the rotation order: one line per year, like 2027 Nanchang "
                              "University."))
    return sorted(terms)


def library_named(words):
    """The library these words name, or None if none or more than one fits.

    Words are a code, or the Chinese or English name, with or without 图书馆 / "Library".
    """
    words = " ".join(words.split())
    library = find_library(words) if words.isascii() and " " not in words else None
    if library is not None:
        return library
    wanted = {words.casefold(), words.casefold().removesuffix("图书馆"),
              words.casefold().removesuffix(" library")}
    fits = [lib for lib in db.session.execute(select(Library)).scalars()
            if {lib.name_zh.casefold(), lib.name_zh.removesuffix("图书馆").casefold(),
                lib.name_en.casefold(), lib.name_en.casefold().removesuffix(" library")} & wanted]
    return fits[0] if len(fits) == 1 else None


def approve_rotation(actor, item):
    """The committee approved the ``rotation_order`` item: its terms are the plan now."""
    for year, library_id in item.payload["terms"]:
        term = db.session.get(ChairTerm, year)
        if term is None:
            db.session.add(ChairTerm(year=year, library_id=library_id,
                                     approved_by_item_id=item.id))
        elif term.took_office_at is None:  # a term that has begun is history
            term.library_id = library_id
            term.approved_by_item_id = item.id
    record_audit(actor, "rotation.approve", "agenda_item", item.id,
                 details={"terms": item.payload["terms"]})


def next_chair_term():
    """The approved term after the current one, or None."""
    current = current_chair_term()
    query = select(ChairTerm).where(ChairTerm.took_office_at.is_(None)).order_by(ChairTerm.year)
    if current is not None:
        query = query.where(ChairTerm.year > current.year)
    return db.session.execute(query.limit(1)).scalar_one_or_none()


def chair_terms():
    """Every term, past, current and planned, by year."""
    return db.session.execute(select(ChairTerm).order_by(ChairTerm.year)).scalars().all()


# --- the handover -------------------------------------------------------------------------------

def open_handover():
    """The handover in progress, or None."""
    return db.session.execute(select(Handover).where(Handover.status == "open")
                              ).scalar_one_or_none()


def _lock_handover(handover_id):
    return db.session.execute(
        select(Handover).where(Handover.id == handover_id).with_for_update()
    ).scalar_one_or_none()


def start_handover(actor, note=None):
    """The outgoing chair library starts handing the management center to the next one."""
    require_center_admin(actor)
    current = current_chair_term()
    nxt = next_chair_term()
    if nxt is None:
        raise RuleViolation(_("No next chair library is approved yet: the committee approves "
                              "the rotation order first."))
    if nxt.library_id == current.library_id:
        raise RuleViolation(_("The next term is the same library's; there is nothing to hand "
                              "over."))
    if not is_member(nxt.library) or nxt.library.left_on is not None:
        # its director has no committee seat to accept with: the handover would block everyone
        raise RuleViolation(_("%(library)s has left the alliance or given notice, so it cannot "
                              "take over as chair library: the committee approves a new "
                              "rotation order first.", library=library_name(nxt.library)))
    handover = Handover(year=nxt.year, from_library_id=current.library_id,
                        to_library_id=nxt.library_id, status="open", started_by_id=actor.id,
                        started_at=clock.now(), note=(note or "").strip()[:2000] or None)
    savepoint = db.session.begin_nested()
    try:
        db.session.add(handover)
        db.session.flush()
        savepoint.commit()
    except IntegrityError as exc:
        savepoint.rollback()
        raise RuleViolation(_("A handover is already in progress."), status=409) from exc
    record_audit(actor, "handover.start", "handover", handover.id,
                 library_id=current.library_id,
                 details={"year": nxt.year, "to": nxt.library.code})
    for user, library in committee_members():
        if library.id == nxt.library_id:
            notify(user, "governance_handover", kind="governance.handover",
                   related=("handover", handover.id), outgoing=current.library, year=nxt.year,
                   link=external_url("governance.handover"))
    return handover


def accept_handover(actor, handover_id):
    """The incoming library's director accepts: the portal-admin roles move in this step."""
    handover = _lock_handover(handover_id)
    if handover is None:
        raise NotFound(_("No such handover."))
    if handover.status != "open":
        raise RuleViolation(_("This handover was already accepted or cancelled."), status=409)
    if not actor.has_role(ROLE_COMMITTEE_MEMBER, handover.to_library_id):
        raise NotAllowed(_("Only the director (committee member) of %(library)s accepts the "
                           "handover.", library=library_name(handover.to_library)))
    now = clock.now()
    outgoing = db.session.execute(
        select(RoleGrant).where(RoleGrant.role == ROLE_PORTAL_ADMIN,
                                RoleGrant.revoked_at.is_(None)).with_for_update()
    ).scalars().all()
    term = db.session.get(ChairTerm, handover.year, with_for_update=True, populate_existing=True)
    term.took_office_at = now
    db.session.flush()
    for grant in outgoing:
        grant.revoked_at = now
        grant.revoked_by_id = actor.id
        record_audit(actor, "role.revoke", "user", grant.user_id, library_id=grant.library_id,
                     details={"role": ROLE_PORTAL_ADMIN, "grant_id": grant.id,
                              "by": "handover"})
        db.session.expire(grant.user, ["grants"])
    db.session.flush()
    grant_role(None, actor.id, ROLE_PORTAL_ADMIN, handover.to_library.code)
    handover.status = "accepted"
    handover.accepted_by_id = actor.id
    handover.accepted_at = now
    record_audit(actor, "handover.accept", "handover", handover.id,
                 library_id=handover.to_library_id,
                 details={"year": handover.year, "from": handover.from_library.code,
                          "to": handover.to_library.code,
                          "revoked": [g.user_id for g in outgoing]})
    return handover


def cancel_handover(actor, handover_id):
    """The outgoing chair library withdraws a handover not yet accepted."""
    require_center_admin(actor)
    handover = _lock_handover(handover_id)
    if handover is None or handover.status != "open":
        raise RuleViolation(_("No handover is in progress."), status=409)
    handover.status = "cancelled"
    record_audit(actor, "handover.cancel", "handover", handover.id)
    return handover


def handover_checklist():
    """Open work the incoming chair library takes over."""
    term = current_chair_term()
    year = term.year if term else clock.local_today().year
    report = db.session.execute(select(AnnualDocument).where(
        AnnualDocument.year == year, AnnualDocument.kind == "report")).scalar_one_or_none()
    return {
        "applications": db.session.execute(select(func.count()).select_from(
            MembershipApplication).where(MembershipApplication.status.in_(OPEN_APPLICATION))
        ).scalar_one(),
        "meetings": db.session.execute(select(func.count()).select_from(Meeting).where(
            Meeting.status.in_(("requested", "convened")))).scalar_one(),
        "withdrawals": db.session.execute(select(func.count()).select_from(Withdrawal).where(
            Withdrawal.reported_item_id.is_(None))).scalar_one(),
        "report_year": year,
        "report_published": bool(report and report.published_at),
    }
