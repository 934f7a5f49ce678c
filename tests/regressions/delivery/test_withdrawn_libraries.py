"""Document delivery: a library that has left must not keep taking and filling requests
(review finding D4)."""
import pytest

from jala import clock
from jala.accounts.models import Library
from jala.delivery import services as delivery
from jala.errors import RuleViolation
from jala.extensions import db
from jala.membership import get_library, is_member
from tests.support.factories import add_record, make_user


def test_a_library_that_has_left_cannot_accept_a_request_waiting_there(ctx, reader):
    book = add_record("rv-book-5", ["NCU", "ECJTU"], title="Left", page_count=300)
    req = delivery.submit_request(reader, kind="book_part", title=book.title, record_id=book.id,
                                  pages="1-5")
    library = db.session.get(Library, req.library_id)
    staff = make_user(library=library.code, roles=("librarian",))
    library.left_on = clock.local_today()  # revoked by the committee today (or withdrew)
    db.session.flush()
    assert not is_member(get_library(library.code))
    with pytest.raises(RuleViolation):
        delivery.accept_request(staff, req.id)
