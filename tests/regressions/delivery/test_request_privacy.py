"""Document delivery: staff of a library later in the rota, never asked, must not read the
request (its reader, note and timeline; review finding D2)."""
import pytest

from jala.accounts.models import Library
from jala.delivery import services as delivery
from jala.errors import NotFound
from jala.extensions import db
from tests.support.factories import add_record, make_user


def test_a_library_never_asked_cannot_read_the_request(ctx, reader):
    book = add_record("rv-book-3", ["NCU", "ECJTU", "JXAU"], title="Three holders",
                      page_count=300)
    req = delivery.submit_request(reader, kind="book_part", title=book.title, record_id=book.id,
                                  pages="1-5", note="private note: my thesis on X")
    assert len(req.rota) == 3 and req.rota_position == 0
    later = req.rota[2]  # not asked yet, maybe never
    code = db.session.get(Library, later).code
    outsider = make_user(library=code, roles=("librarian",))
    with pytest.raises(NotFound):
        delivery.get_request_for_staff(outsider, req.id)
