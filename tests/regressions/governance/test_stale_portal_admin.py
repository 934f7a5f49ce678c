"""Governance: a portal-admin grant left at a library that is no longer the chair library must
not run the management center's work (center.py refuses it; so must governance; review finding
G8)."""
from jala.accounts.models import ChairTerm
from jala.errors import NotAllowed, RuleViolation
from jala.extensions import db
from jala.governance import applications
from jala.governance.chair_library import cancel_handover, start_handover
from jala.membership import current_chair_library, current_chair_term, get_library
from tests.support.factories import make_user
from tests.support.governance import stale_portal_admin


def test_a_portal_admin_grant_outside_the_chair_library_cannot_run_the_center(committee):
    chair_library = current_chair_library()
    stale_code = "JXAU" if chair_library.code != "JXAU" else "ECJTU"
    admin = make_user(library=chair_library.code, roles=("portal_admin",))
    stale = stale_portal_admin(stale_code)
    year = current_chair_term().year + 1
    db.session.add(ChairTerm(year=year, library_id=get_library("ECUT").id))
    db.session.flush()
    handover = start_handover(admin)
    refused = []
    for step in (lambda: cancel_handover(stale, handover.id),
                 lambda: applications.review_application(stale, 0, True),
                 lambda: applications.applications(stale)):
        savepoint = db.session.begin_nested()
        try:
            step()
        except NotAllowed:
            refused.append(True)
        except RuleViolation:
            refused.append(False)
        else:
            refused.append(False)
        savepoint.rollback()
    assert all(refused), refused
