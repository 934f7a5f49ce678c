"""The lifecycle table: every step the table allows is taken, every other one is refused."""
import pytest

from jala.delivery import services as delivery
from jala.delivery.lifecycle import ACTION_PARTY, LIBRARY, READER, TRANSITIONS, take
from jala.delivery.models import STATUSES
from jala.errors import NotFound, RuleViolation
from jala.extensions import db
from tests.support.factories import add_record

# the steps people take (the timer's are tested in test_services.py)
ACTIONS = sorted(action for action, party in ACTION_PARTY.items() if party in (READER, LIBRARY))


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("action", ACTIONS)
def test_a_step_is_taken_exactly_when_the_table_has_it(reader, librarians, status, action):
    record = add_record(f"t-{status}-{action}", ["NCU"], page_count=100)
    req = delivery.submit_request(reader, kind="book_part", title=record.title,
                                  record_id=record.id, pages="1-10")
    req.status = status
    db.session.flush()
    actor = reader if ACTION_PARTY[action] == READER else librarians["NCU"]
    if (status, action) in TRANSITIONS:
        taken, new_status = take(actor, req.id, action)
        assert taken is req and new_status == TRANSITIONS[(status, action)][0]
    else:
        with pytest.raises(RuleViolation) as refused:
            take(actor, req.id, action)
        assert refused.value.status == 409


@pytest.mark.parametrize("action", ACTIONS)
def test_only_the_party_of_a_step_may_take_it(reader, librarians, action):
    record = add_record(f"p-{action}", ["NCU"], page_count=100)
    req = delivery.submit_request(reader, kind="book_part", title=record.title,
                                  record_id=record.id, pages="1-10")
    wrong = librarians["NCU"] if ACTION_PARTY[action] == READER else reader
    with pytest.raises(NotFound):
        take(wrong, req.id, action)
