"""The kinds of agenda item, walked from the table: what each needs, and what each does."""
from decimal import Decimal
from typing import NamedTuple

import pytest
from sqlalchemy import select

from jala import clock
from jala.accounts.models import ChairTerm
from jala.errors import RuleViolation
from jala.extensions import db
from jala.governance import applications, meetings, resolutions
from jala.governance.committee import office_of
from jala.governance.forms import ItemForm
from jala.governance.models import ITEM_KINDS, CommitteeOffice, Expense, MembershipEvent
from jala.governance.resolutions import KINDS
from jala.membership import current_chair_term, find_library, get_library, is_member
from tests.support.files import Upload
from tests.support.governance import CODES, convened_meeting


def _complete_application():
    application = applications.submit_application(
        name_zh="江西师范大学图书馆", code="JXNU", city="南昌", contact_name="李馆长",
        contact_email="director@jxnu.edu.cn", letter=Upload())
    application.status = "complete"
    return application


def _vice_chair(user):
    db.session.add(CommitteeOffice(office="vice_chair", user_id=user.id,
                                   library_id=user.home_library_id, started_at=clock.now()))
    db.session.flush()
    return user


def _next_year():
    return current_chair_term().year + 1


def _list_an_expense(item):
    """What the management center's expense report puts in its item: the expenses it lists."""
    expense = Expense(year=clock.local_today().year, spent_on=clock.local_today(),
                      description="门户服务器", amount=Decimal("1200.00"),
                      recorded_by_id=item.meeting.requested_by_id, recorded_at=clock.now())
    db.session.add(expense)
    db.session.flush()
    item.payload = {"year": expense.year, "expense_ids": [expense.id]}


class Case(NamedTuple):
    needs: object  # (committee) → the form values the kind needs
    refusal: str  # what adding it without them says
    passed: object  # (item, committee) → whether what it does shows, once passed
    before_close: object = None  # (item): what another step puts in the item first


def _chair_is(code):
    return lambda item, c: office_of(c[code]) == "chair" and office_of(c["NCU"]) is None


CASES = {
    "resolution": Case(lambda c: {"title": "Adopt the 2027 plan"}, "Give the item a title",
                       lambda item, c: item.passed and item.status == "closed"),
    "application": Case(lambda c: {"application_id": _complete_application().id},
                        "Choose an application the management center found complete",
                        lambda item, c: is_member(find_library("JXNU"))
                        and item.application.status == "admitted"),
    "revocation": Case(lambda c: {"target_library_code": "JCU"}, "Choose a member library",
                       lambda item, c: not is_member(get_library("JCU"))),
    "charter_amendment": Case(lambda c: {"title": "Article 7"}, "Give the item a title",
                              lambda item, c: item.passed and item.status == "closed"),
    "elect_chair": Case(lambda c: {"target_user_id": c["JXUFE"].id}, "Choose a committee member",
                        _chair_is("JXUFE")),
    "remove_chair": Case(lambda c: {"target_user_id": c["NCU"].id}, "Choose a committee member",
                         lambda item, c: office_of(c["NCU"]) is None),
    "elect_vice_chair": Case(lambda c: {"target_user_id": c["ECJTU"].id},
                             "Choose a committee member",
                             lambda item, c: office_of(c["ECJTU"]) == "vice_chair"),
    "remove_vice_chair": Case(lambda c: {"target_user_id": _vice_chair(c["JXAU"]).id},
                              "Choose a committee member",
                              lambda item, c: office_of(c["JXAU"]) is None),
    "rotation_order": Case(lambda c: {"rotation": f"{_next_year()} JXAU"},
                           "Give the rotation order",
                           lambda item, c: db.session.get(ChairTerm, _next_year()).library_id
                           == get_library("JXAU").id),
    "budget": Case(lambda c: {"title": "Budget 2027", "amount": "150000"},
                   "Give the item a title",
                   lambda item, c: item.passed and item.amount == Decimal("150000.00")),
    "expense": Case(lambda c: {"title": "Expense report", "amount": "1200"},
                    "Give the item a title",
                    lambda item, c: db.session.execute(select(Expense.approved_by_item_id)
                                                       ).scalar_one() == item.id,
                    before_close=_list_an_expense),
    "commendation": Case(lambda c: {"title": "先进集体：南昌大学图书馆"}, "Give the item a title",
                         lambda item, c: item.passed and item.status == "closed"),
    "information": Case(lambda c: {"title": "Withdrawal notice"}, "Give the item a title",
                        lambda item, c: item.status == "closed" and item.passed is None),
}


def test_the_table_the_database_and_the_form_know_the_same_kinds():
    assert set(KINDS) == set(ITEM_KINDS) == set(CASES)
    # every kind but those put on the agenda by their own page (commendations)
    assert [choice.value for choice in ItemForm.kind.kwargs["choices"]] == [
        kind for kind, rules in KINDS.items() if rules.by_hand]
    assert [kind for kind, rules in KINDS.items() if not rules.by_hand] == ["commendation"]


def test_an_unknown_kind_is_refused(committee):
    meeting = convened_meeting(committee["NCU"])
    with pytest.raises(RuleViolation, match="Choose the kind of item"):
        resolutions.add_agenda_item(committee["NCU"], meeting.id, kind="coup", title="Take over")


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_is_added_with_what_it_needs(committee, kind):
    chair = committee["NCU"]
    meeting = convened_meeting(chair)
    item = resolutions.add_agenda_item(chair, meeting.id, kind=kind, **CASES[kind].needs(committee))
    assert item.kind == kind and item.title and item.status == "open"
    assert item in meeting.items


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_is_refused_without_what_it_needs(committee, kind):
    chair = committee["NCU"]
    meeting = convened_meeting(chair)
    with pytest.raises(RuleViolation, match=CASES[kind].refusal):
        resolutions.add_agenda_item(chair, meeting.id, kind=kind)
    assert meeting.items == []


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_does_what_it_says_once_passed(committee, kind):
    chair = committee["NCU"]
    meeting = convened_meeting(chair)
    case = CASES[kind]
    item = resolutions.add_agenda_item(chair, meeting.id, kind=kind, **case.needs(committee))
    if case.before_close:
        case.before_close(item)
    for code in CODES:
        meetings.check_in(committee[code], meeting.id, "in_person")
        if item.takes_vote:
            meetings.cast_vote(committee[code], item.id, "yes")
    resolutions.close_item(chair, item.id)
    assert case.passed(item, committee)


# kind → whether what it does when the committee does not pass it shows
NOT_PASSED = {
    "application": lambda item: item.application.status == "rejected"
    and find_library("JXNU") is None and db.session.execute(
        select(MembershipEvent.kind).where(MembershipEvent.application_id == item.application_id)
        .order_by(MembershipEvent.id)).scalars().all() == ["applied", "rejected"],
}


def test_every_kind_that_acts_when_not_passed_has_a_case():
    assert set(NOT_PASSED) == {kind for kind, rules in KINDS.items() if rules.failed}


@pytest.mark.parametrize("kind", NOT_PASSED)
def test_every_kind_does_what_it_says_once_not_passed(committee, kind):
    chair = committee["NCU"]
    meeting = convened_meeting(chair)
    item = resolutions.add_agenda_item(chair, meeting.id, kind=kind,
                                       **CASES[kind].needs(committee))
    for code in CODES:
        meetings.check_in(committee[code], meeting.id, "in_person")
        meetings.cast_vote(committee[code], item.id, "no")
    resolutions.close_item(chair, item.id)
    assert item.passed is False and NOT_PASSED[kind](item)
