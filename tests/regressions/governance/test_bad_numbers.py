"""Governance: numbers that are not numbers (an amount of "NaN", a year in superscript digits)
are refused, not a crash (review finding G4)."""
import pytest

from jala.errors import RuleViolation
from jala.governance import resolutions
from jala.governance.chair_library import parse_rotation
from tests.support.governance import convened_meeting, make_chair, seat_committee
from tests.support.web import as_user, post_form


def test_an_amount_of_nan_is_refused_not_a_crash(committee):
    chair = committee["NCU"]
    meeting = convened_meeting(chair)
    with pytest.raises(RuleViolation):
        resolutions.add_agenda_item(chair, meeting.id, kind="budget", title="Budget", amount="NaN")


def test_superscript_years_in_a_rotation_are_refused_not_a_crash(committee):
    with pytest.raises(RuleViolation):
        parse_rotation("\u00b2\u2070\u00b2\u2077 NCU")


def test_nan_amount_over_http_is_not_a_500(client):
    members = seat_committee(("NCU", "JXUFE"))
    make_chair(members["NCU"])
    as_user(client, members["NCU"])
    meeting = convened_meeting(members["NCU"])
    page = f"/committee/meetings/{meeting.id}"
    response = post_form(client, f"{page}/items", {
        "kind": "budget", "title": "Budget 2027", "body": "", "application_id": "",
        "target_library": "", "target_user": "", "rotation": "", "amount": "NaN"},
        token_from=page)
    assert response.status_code < 500
