"""Races between real database connections: double taps on Save, two covers at once.

These commit real rows (each thread has its own session and connection), so they run on a
database of their own.
"""

import pytest
from sqlalchemy import func, select

from jala.accounts.models import User
from jala.extensions import db
from jala.reading import lists, previews
from jala.reading.models import SavedList, SavedListItem
from tests.support.factories import add_record, make_user
from tests.support.files import Upload, png
from tests.support.races import race as _race


@pytest.fixture
def app(private_app):
    """These tests commit, so they get a database of their own."""
    return private_app


def test_a_double_tap_on_save_makes_one_default_list_and_one_item(app):
    with app.test_request_context("/?lang=en"):
        record_id = add_record("race-save", ["NCU"]).id
        reader_id = make_user(library="JXUFE").id
        db.session.commit()

    def save():
        saved, item = lists.save_record(db.session.get(User, reader_id), record_id)
        return saved.id

    outcomes = _race(app, save, save, save)
    assert len(set(outcomes)) == 1 and all(isinstance(o, int) for o in outcomes)
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(SavedList).where(
            SavedList.owner_id == reader_id)).scalar_one() == 1
        assert db.session.execute(select(func.count()).select_from(SavedListItem).where(
            SavedListItem.record_id == record_id)).scalar_one() == 1


def test_two_covers_uploaded_at_once_leave_one(app):
    with app.test_request_context("/?lang=en"):
        record_id = add_record("race-cover", ["NCU", "ECJTU"]).id
        staff = [make_user(library=code, roles=("librarian",)).id for code in ("NCU", "ECJTU")]
        db.session.commit()

    def cover(user_id, number):
        return lambda: previews.upload_preview(db.session.get(User, user_id), record_id,
                                              kind="cover", upload=Upload(png(number))).id

    outcomes = _race(app, cover(staff[0], 1), cover(staff[1], 2))
    assert all(isinstance(o, int) for o in outcomes)
    with app.app_context():
        assert [p.id for p in previews.preview_pages(record_id)] == [max(outcomes)]
