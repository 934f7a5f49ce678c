"""The decisions table: every step it allows is taken by the right party, every other refused."""
import pytest
from sqlalchemy import func, select

from jala.audit import AuditEntry
from jala.errors import NotFound, RuleViolation
from jala.extensions import db
from jala.jobs import OutboxEmail
from jala.procurement import lifecycle
from jala.procurement.models import STATUSES, PurchaseSuggestion
from tests.support.factories import add_record, make_user
from tests.support.mail import emails_to


def count(model, *where):
    return db.session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def snapshot(suggestion):
    db.session.expire_all()
    row = db.session.get(PurchaseSuggestion, suggestion.id)
    return (row.status, row.reason, row.record_id, row.ordered_at, row.closed_at,
            count(AuditEntry), count(OutboxEmail))


def test_the_table_knows_its_statuses_and_one_party_per_action():
    for (status, action), (target, party) in lifecycle.TRANSITIONS.items():
        assert status in STATUSES and target in STATUSES
        assert lifecycle.ACTION_PARTY[action] == party == lifecycle.LIBRARY
    assert set(lifecycle.ACTIONS) == {"order", "decline", "receive"}
    assert set(lifecycle.EMAILS) == set(lifecycle.ACTIONS)


LEGAL = list(lifecycle.TRANSITIONS)
ILLEGAL = [(status, action) for status in STATUSES for action in lifecycle.ACTIONS
           if (status, action) not in lifecycle.TRANSITIONS]


@pytest.mark.parametrize("status, action", LEGAL, ids=[f"{s}-{a}" for s, a in LEGAL])
def test_every_step_in_the_table_is_taken_audited_and_emailed(suggestion, reader, staff,
                                                             status, action):
    suggestion.status = status
    db.session.flush()
    done = lifecycle.step(staff["JXUFE"], suggestion.id, action, reason="out of print")
    assert done.status == lifecycle.TRANSITIONS[(status, action)][0]
    [entry] = db.session.execute(select(AuditEntry).where(
        AuditEntry.object_type == "purchase_suggestion",
        AuditEntry.object_id == str(suggestion.id))).scalars().all()
    assert entry.action == f"procurement.{action}" and entry.actor_id == staff["JXUFE"].id
    assert entry.library_id == suggestion.library_id
    assert (entry.details["from"], entry.details["to"]) == (status, done.status)
    [email] = emails_to(reader.email)
    assert email.kind == f"procurement.{lifecycle.EMAILS[action]}"
    assert (email.object_type, email.object_id) == ("purchase_suggestion", str(suggestion.id))


@pytest.mark.parametrize("status, action", ILLEGAL, ids=[f"{s}-{a}" for s, a in ILLEGAL])
def test_every_step_not_in_the_table_is_refused_and_changes_nothing(suggestion, staff, status,
                                                                   action):
    suggestion.status = status
    suggestion.reason = "earlier reason" if status == "declined" else None
    db.session.flush()
    before = snapshot(suggestion)
    with pytest.raises(RuleViolation) as refused:
        lifecycle.step(staff["JXUFE"], suggestion.id, action, reason="a reason")
    assert refused.value.status == 409 and "not possible now" in refused.value.message
    assert snapshot(suggestion) == before


@pytest.mark.parametrize("status, action", LEGAL, ids=[f"{s}-{a}" for s, a in LEGAL])
def test_only_staff_of_the_readers_library_take_a_step(suggestion, reader, staff, status,
                                                      action):
    suggestion.status = status
    db.session.flush()
    before = snapshot(suggestion)
    for outsider in (staff["NCU"], make_user(library="JXUFE")):  # another library, reader
        with pytest.raises(NotFound):
            lifecycle.step(outsider, suggestion.id, action, reason="a reason")
    with pytest.raises(NotFound):  # the reader who suggested it is no party to the decision
        lifecycle.step(reader, suggestion.id, action, reason="a reason")
    assert snapshot(suggestion) == before


def test_an_unknown_action_or_suggestion_is_not_found(suggestion, staff):
    with pytest.raises(NotFound):
        lifecycle.step(staff["JXUFE"], suggestion.id, "teleport")
    with pytest.raises(NotFound):
        lifecycle.step(staff["JXUFE"], suggestion.id + 1000, "order")


def test_the_page_offers_the_steps_the_table_allows(suggestion, reader, staff):
    assert lifecycle.available_actions(staff["JXUFE"], suggestion) == [
        "order", "decline", "receive"]
    assert lifecycle.available_actions(staff["NCU"], suggestion) == []
    assert lifecycle.available_actions(reader, suggestion) == []
    lifecycle.order(staff["JXUFE"], suggestion.id)
    assert lifecycle.available_actions(staff["JXUFE"], suggestion) == ["decline", "receive"]
    lifecycle.receive(staff["JXUFE"], suggestion.id)
    assert lifecycle.available_actions(staff["JXUFE"], suggestion) == []


def test_a_library_admin_decides_too(suggestion):
    admin = make_user(library="JXUFE", roles=("library_admin",))
    assert lifecycle.order(admin, suggestion.id).status == "ordered"


# --- each step's own rule ---------------------------------------------------------------------

def test_ordering_dates_it(suggestion, staff):
    ordered = lifecycle.order(staff["JXUFE"], suggestion.id)
    assert ordered.ordered_at is not None and ordered.closed_at is None


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_declining_needs_a_reason(suggestion, staff, reason):
    before = snapshot(suggestion)
    with pytest.raises(RuleViolation, match="give a reason"):
        lifecycle.decline(staff["JXUFE"], suggestion.id, reason)
    assert snapshot(suggestion) == before


def test_declining_keeps_the_reason(suggestion, staff):
    declined = lifecycle.decline(staff["JXUFE"], suggestion.id, "  Out of print.  ")
    assert declined.reason == "Out of print." and declined.closed_at is not None


def test_a_received_title_may_name_its_record_by_id_or_address(reader, staff):
    from jala.procurement import services as procurement

    record = add_record("arrived-1", ["JXUFE"], title="赣鄱文化")
    for n, given in enumerate([str(record.id), f"https://jala.example/records/{record.id}",
                               f" /records/{record.id}/ "]):
        suggestion = procurement.suggest_purchase(reader, title=f"赣鄱文化 {n}")
        done = lifecycle.receive(staff["JXUFE"], suggestion.id, given)
        assert done.status == "available" and done.record_id == record.id


@pytest.mark.parametrize("given", ["999999999999", "not a record", "/records/"])
def test_an_unknown_record_is_refused(suggestion, staff, given):
    before = snapshot(suggestion)
    with pytest.raises(RuleViolation, match="No record in the union catalogue") as refused:
        lifecycle.receive(staff["JXUFE"], suggestion.id, given)
    assert refused.value.status == 400
    assert snapshot(suggestion) == before


def test_a_received_title_needs_no_record(suggestion, staff):
    done = lifecycle.receive(staff["JXUFE"], suggestion.id)
    assert done.status == "available" and done.record_id is None and done.closed_at


def test_the_lock_reads_the_row_fresh(suggestion, staff):
    # another connection's decision is seen by the next step (populate_existing on FOR UPDATE)
    db.session.execute(PurchaseSuggestion.__table__.update().where(
        PurchaseSuggestion.id == suggestion.id).values(status="available"))
    with pytest.raises(RuleViolation, match="is available"):
        lifecycle.order(staff["JXUFE"], suggestion.id)
