"""Suggesting a purchase, without HTTP: who may, the daily limit, duplicates, ISBNs, lists."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from jala import clock
from jala.errors import NotAllowed, NotFound, RuleViolation
from jala.extensions import db
from jala.membership import get_library
from jala.procurement import lifecycle
from jala.procurement import services as procurement
from jala.procurement.models import PurchaseSuggestion
from tests.support.factories import add_record, make_user, set_setting


def suggestions_of(user):
    return db.session.execute(select(func.count()).select_from(PurchaseSuggestion).where(
        PurchaseSuggestion.reader_id == user.id)).scalar_one()


# --- who may suggest --------------------------------------------------------------------------

def test_a_reader_suggests_a_title_to_their_own_library(reader):
    suggestion = procurement.suggest_purchase(
        reader, title="  江西通史 ", authors=" 钟起煌 ", publisher="江西人民出版社", year=2008,
        isbn="", note=" for my course ")
    assert suggestion.status == "suggested" and suggestion.is_open
    assert suggestion.library == get_library("JXUFE")
    assert (suggestion.title, suggestion.authors, suggestion.note) == (
        "江西通史", "钟起煌", "for my course")
    assert suggestion.isbn is None and suggestion.record_id is None
    assert suggestion.title_key == "江西通史"


@pytest.mark.parametrize("who, error, message", [
    ("public", NotAllowed, "for readers of member libraries"),
    ("unverified", RuleViolation, "has not been verified yet"),
    ("unconfirmed", RuleViolation, "Confirm your email address"),
    ("withdrawn", RuleViolation, "has left the alliance"),
])
def test_only_verified_readers_of_member_libraries_may_suggest(ctx, who, error, message):
    if who == "public":
        user = make_user(library=None)
    elif who == "unverified":
        user = make_user(library="JXUFE", verified=False)
    elif who == "unconfirmed":
        user = make_user(library="JXUFE", confirmed=False)
    else:
        user = make_user(library="JXAU")
        get_library("JXAU").left_on = clock.local_today()
        db.session.flush()
    with pytest.raises(error, match=message):
        procurement.suggest_purchase(user, title="江西通史")
    assert suggestions_of(user) == 0


# --- what is suggested ------------------------------------------------------------------------

@pytest.mark.parametrize("title", ["", "   ", "？！…"])
def test_a_title_is_required(reader, title):
    with pytest.raises(RuleViolation, match="Give the title"):
        procurement.suggest_purchase(reader, title=title)


def test_a_title_too_long_is_refused(reader):
    with pytest.raises(RuleViolation, match="At most 500 characters"):
        procurement.suggest_purchase(reader, title="书" * 501)


def test_an_isbn_is_checked_and_kept_as_isbn_13(reader):
    suggestion = procurement.suggest_purchase(reader, title="Some book", isbn="7-04-024765-8")
    assert suggestion.isbn == "9787040247657"
    with pytest.raises(RuleViolation, match="978-7-04-024765-8 is not a valid ISBN"):
        procurement.suggest_purchase(reader, title="Another book", isbn="978-7-04-024765-8")


def test_a_title_the_catalogue_holds_is_linked_not_refused(reader):
    record = add_record("held-1", ["NCU"], title="图书馆学概论", isbn="978-7-04-024765-7")
    suggestion = procurement.suggest_purchase(reader, title="图书馆学概论",
                                              isbn="9787040247657")
    assert suggestion.record_id == record.id and suggestion.status == "suggested"


@pytest.mark.parametrize("year", [999, 2099])
def test_an_impossible_year_is_refused(reader, year):
    with pytest.raises(RuleViolation, match=f"The year {year} is not possible"):
        procurement.suggest_purchase(reader, title="江西通史", year=year)


# --- the daily limit --------------------------------------------------------------------------

def test_five_suggestions_a_day_by_default_then_tomorrow_again(reader):
    for n in range(5):
        procurement.suggest_purchase(reader, title=f"Book {n}")
    assert procurement.daily_quota(reader) == (5, 5)
    with pytest.raises(RuleViolation, match="5 purchase suggestions today, the daily limit"):
        procurement.suggest_purchase(reader, title="Book 6")
    clock.advance(timedelta(days=1))
    assert procurement.daily_quota(reader) == (5, 0)
    procurement.suggest_purchase(reader, title="Book 6")


def test_the_daily_limit_is_a_setting(reader):
    set_setting("procurement.suggestions_per_day", 1)
    procurement.suggest_purchase(reader, title="Book 1")
    with pytest.raises(RuleViolation, match="daily limit"):
        procurement.suggest_purchase(reader, title="Book 2")


# --- duplicates -------------------------------------------------------------------------------

@pytest.mark.parametrize("again", ["江西通史", " 江西通史。", "江西通史!", "江西 通史",
                                   "《江西通史》"])
def test_the_same_title_again_while_open_is_refused(suggestion, reader, again):
    with pytest.raises(RuleViolation) as refused:
        procurement.suggest_purchase(reader, title=again)
    assert refused.value.status == 409
    assert "already suggested “江西通史”" in refused.value.message
    assert "waiting for the library" in refused.value.message


def test_a_title_in_other_script_or_case_is_the_same_title(reader):
    procurement.suggest_purchase(reader, title="Library Science Today")
    with pytest.raises(RuleViolation, match="already suggested"):
        procurement.suggest_purchase(reader, title="ｌｉｂｒａｒｙ science: today")
    procurement.suggest_purchase(reader, title="圖書館學")
    with pytest.raises(RuleViolation, match="already suggested"):
        procurement.suggest_purchase(reader, title="图书馆学")


def test_an_ordered_title_is_still_open(suggestion, reader, staff):
    lifecycle.order(staff["JXUFE"], suggestion.id)
    with pytest.raises(RuleViolation, match="already suggested.*ordered"):
        procurement.suggest_purchase(reader, title="江西通史")


@pytest.mark.parametrize("decide", ["decline", "receive"])
def test_once_decided_the_title_may_be_suggested_again(suggestion, reader, staff, decide):
    lifecycle.step(staff["JXUFE"], suggestion.id, decide, reason="no budget this year")
    again = procurement.suggest_purchase(reader, title="江西通史")
    assert again.id != suggestion.id


def test_another_reader_may_suggest_the_same_title(suggestion):
    other = make_user(library="JXUFE")
    assert procurement.suggest_purchase(other, title="江西通史").reader_id == other.id


def test_the_database_refuses_a_second_open_suggestion_of_a_title(suggestion, reader):
    db.session.add(PurchaseSuggestion(
        reader_id=reader.id, library_id=reader.home_library_id, title="江西通史",
        title_key=suggestion.title_key, status="ordered"))
    with pytest.raises(IntegrityError, match="uq_purchase_suggestions_reader_id_title_key"):
        db.session.flush()


# --- lists ------------------------------------------------------------------------------------

def test_a_reader_sees_only_their_own_suggestions(suggestion, reader):
    other = make_user(library="JXUFE")
    theirs = procurement.suggest_purchase(other, title="赣鄱文化")
    assert procurement.my_suggestions(reader) == [suggestion]
    assert procurement.my_suggestions(other) == [theirs]


def test_the_queue_holds_only_the_librarys_own_suggestions(suggestion, staff):
    elsewhere = procurement.suggest_purchase(make_user(library="NCU"), title="赣鄱文化")
    jxufe, ncu = get_library("JXUFE"), get_library("NCU")
    assert procurement.library_queue(staff["JXUFE"], jxufe) == [suggestion]
    assert procurement.library_queue(staff["NCU"], ncu) == [elsewhere]
    with pytest.raises(NotAllowed):
        procurement.library_queue(staff["NCU"], jxufe)
    assert procurement.get_for_staff(staff["JXUFE"], suggestion.id) is suggestion
    with pytest.raises(NotFound):
        procurement.get_for_staff(staff["NCU"], suggestion.id)


def test_the_queue_tabs(reader, staff):
    first = procurement.suggest_purchase(reader, title="Book 1")
    second = procurement.suggest_purchase(reader, title="Book 2")
    third = procurement.suggest_purchase(reader, title="Book 3")
    lifecycle.order(staff["JXUFE"], second.id)
    lifecycle.decline(staff["JXUFE"], third.id, "out of print")
    library = get_library("JXUFE")

    def tab(name):
        return procurement.library_queue(staff["JXUFE"], library, name)
    assert tab("open") == [first, second]  # oldest first
    assert tab("suggested") == [first]
    assert tab("ordered") == [second]
    assert tab("declined") == [third]
    assert tab("available") == []
    assert tab("all") == [third, second, first]  # newest first
    assert tab("nonsense") == [first, second]
