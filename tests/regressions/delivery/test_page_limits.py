"""Document delivery: the kind is the reader's choice, so a book must not escape the page and
share limits by being asked for as another kind (review finding D1)."""
import pytest

from jala.delivery import services as delivery
from jala.errors import RuleViolation
from tests.support.factories import add_record


@pytest.mark.parametrize("kind", ["other", "article"])
def test_a_book_record_asked_for_as_another_kind_escapes_the_page_limits(ctx, reader, kind):
    book = add_record("rv-book-1", ["NCU"], title="A whole book", page_count=400)
    # as book_part this is refused: 400 pages > 50 per request, > 20 % of the book
    with pytest.raises(RuleViolation):
        delivery.submit_request(reader, kind="book_part", title=book.title,
                                record_id=book.id, pages="1-400")
    # the same record, the whole book, with kind=other (or article): nothing is checked
    with pytest.raises(RuleViolation):
        delivery.submit_request(reader, kind=kind, title=book.title, record_id=book.id,
                                pages="1-400")


def test_whole_book_requests_as_other_are_unlimited_per_week(ctx, reader):
    book = add_record("rv-book-2", ["NCU"], title="Another book", page_count=100)
    accepted = 0
    for _ in range(3):
        try:
            delivery.submit_request(reader, kind="other", title=book.title, record_id=book.id,
                                    pages="1-100")
            accepted += 1
        except RuleViolation:
            pass
    # copyright allows 20 pages of this book per reader per week
    assert accepted == 0
